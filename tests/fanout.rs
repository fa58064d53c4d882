//! Fan-out in the server toolkit: non-blocking broadcast past slow clients, the overflow
//! policies, terminate, shutdown with a deadline, topics, and messages framed once for
//! clients with and without compression.
#![cfg(feature = "tokio")]

use std::time::{Duration, Instant};

use bytes::Bytes;
use ferrosocket::deflate::{DeflateConfig, Memory};
use ferrosocket::server::{Client, Clients, Delivery, Overflow, Server, ServerBuilder};
use ferrosocket::{tokio as tws, ClientRequest, CloseCode, Config, Message};
use tokio::net::TcpStream;

type Ws = tws::WebSocketStream<tws::MaybeTlsStream<TcpStream>>;

/// A server whose accepted clients are kept (readers drained on their own tasks); returns
/// its URL, its client set and the clients as they arrive.
async fn start(builder: ServerBuilder) -> (String, Clients, tokio::sync::mpsc::UnboundedReceiver<Client>) {
    let mut server = builder.bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", server.local_addr().unwrap());
    let clients = server.clients().clone();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(mut incoming) = server.accept().await {
            let _ = tx.send(incoming.client.clone());
            tokio::spawn(async move { while let Some(Ok(_)) = incoming.reader.next().await {} });
        }
    });
    (url, clients, rx)
}

async fn connect(url: &str, config: Config) -> Ws {
    tws::connect_with(ClientRequest::new(url).unwrap(), config, None)
        .await
        .unwrap()
        .0
}

/// Connects `n` clients and waits until the server tracks them.
async fn connect_all(url: &str, clients: &Clients, n: usize, config: Config) -> Vec<Ws> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(connect(url, config.clone()).await);
    }
    wait_for(|| clients.len() == n).await;
    out
}

async fn wait_for(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn next_data(ws: &mut Ws) -> Message {
    loop {
        match ws.next().await.expect("a message").expect("no error") {
            message if message.is_data() => return message,
            _ => continue,
        }
    }
}

/// A client that never reads fills its own queue; broadcasts to the others go on at full
/// speed, the slow one's excess is dropped and counted, and broadcast never waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_does_not_slow_the_others() {
    let builder = Server::builder().send_queue_limit(256 * 1024);
    let (url, clients, mut accepted) = start(builder).await;
    let mut fast = connect_all(&url, &clients, 3, Config::default()).await;
    let _slow = connect(&url, Config::default()).await; // never read
    wait_for(|| clients.len() == 4).await;
    let mut handles = Vec::new();
    for _ in 0..4 {
        handles.push(accepted.recv().await.unwrap());
    }
    let payload = Bytes::from(vec![b'x'; 64 * 1024]);
    let rounds = 400; // 25 MiB per client: far past what the slow one's socket buffers hold
    let readers: Vec<_> = fast
        .drain(..)
        .map(|mut ws| {
            tokio::spawn(async move {
                for round in 0..rounds {
                    let message = next_data(&mut ws).await;
                    assert_eq!(message.len(), 64 * 1024 + 8, "round {round}");
                }
                ws
            })
        })
        .collect();
    let started = Instant::now();
    let mut slowest_broadcast = Duration::ZERO;
    for round in 0..rounds {
        let mut data = format!("{round:08}").into_bytes();
        data.extend_from_slice(&payload);
        let t = Instant::now();
        clients.broadcast(&Message::binary(data));
        slowest_broadcast = slowest_broadcast.max(t.elapsed());
        // Pace the feed to the fast readers: wait while more than one client (the slow
        // one is always behind) has something queued.
        while handles.iter().filter(|c| c.buffered_amount() > 0).count() > 1 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "fast clients fell behind"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    for reader in readers {
        tokio::time::timeout(Duration::from_secs(20), reader)
            .await
            .expect("fast clients got everything")
            .unwrap();
    }
    let slow = handles.iter().max_by_key(|c| c.dropped()).unwrap();
    assert!(slow.dropped() > 0, "the slow client's excess was dropped");
    assert!(slow.buffered_amount() <= 256 * 1024 + 64 * 1024 + 64);
    assert_eq!(
        handles.iter().filter(|c| c.dropped() > 0).count(),
        1,
        "only the slow one dropped anything"
    );
    assert!(
        slowest_broadcast < Duration::from_millis(200),
        "broadcast waited: {slowest_broadcast:?}"
    );
}

/// `Overflow::Close(1008)`: the slow client's backlog goes and it gets a Close with 1008,
/// which it reads once it reads again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overflow_close_drops_the_slow_consumer_with_its_code() {
    let builder = Server::builder()
        .send_queue_limit(128 * 1024)
        .on_overflow(Overflow::Close(CloseCode::POLICY_VIOLATION));
    let (url, clients, mut accepted) = start(builder).await;
    let mut slow = connect(&url, Config::default()).await;
    let client = accepted.recv().await.unwrap();
    let chunk = Message::binary(vec![1u8; 64 * 1024]);
    let mut outcome = Delivery::Queued;
    for _ in 0..2000 {
        outcome = client.send(chunk.clone()).unwrap();
        if outcome != Delivery::Queued {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(outcome, Delivery::Closed);
    assert!(client.is_closed());
    assert!(client.send(Message::text("late")).is_err());
    // Reading again, the client drains what was in flight and then reads the Close.
    let code = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match slow.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => continue,
                other => panic!("{other:?}"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(code, Some(CloseCode::POLICY_VIOLATION));
    wait_for(|| clients.is_empty()).await;
}

/// `terminate` ends the connection at once: the peer sees the end of the stream (1006),
/// the server's reader ends, and the client leaves the set.
#[tokio::test]
async fn terminate_ends_the_connection_without_a_handshake() {
    let (url, clients, mut accepted) = start(Server::builder()).await;
    let mut ws = connect(&url, Config::default()).await;
    let client = accepted.recv().await.unwrap();
    client.send(Message::text("before")).unwrap();
    assert_eq!(next_data(&mut ws).await, Message::text("before"));
    client.terminate();
    assert!(client.is_closed());
    match tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
    {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::ABNORMAL),
        None | Some(Err(_)) => {}
        other => panic!("{other:?}"),
    }
    wait_for(|| clients.is_empty()).await;
}

/// `close(true)` finishes within its deadline although one client never reads: the others
/// get their 1001, the slow one is terminated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_bounded_by_its_deadline_despite_a_slow_client() {
    let mut server = Server::builder()
        .send_queue_limit(64 << 20)
        .shutdown_timeout(Duration::from_millis(500))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("ws://{}", server.local_addr().unwrap());
    let mut good = connect(&url, Config::default()).await;
    let mut slow_incoming = None;
    let good_incoming = server.accept().await.unwrap();
    let mut slow_socket = connect(&url, Config::default()).await;
    slow_incoming.get_or_insert(server.accept().await.unwrap());
    let slow = slow_incoming.as_ref().unwrap().client.clone();
    // Stuff the slow client's socket and queue: its Close sits behind 32 MiB.
    for _ in 0..512 {
        slow.send(Message::binary(vec![0u8; 64 * 1024])).unwrap();
    }
    let started = Instant::now();
    server.close(true).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "close took {took:?}");
    assert!(slow.is_closed());
    // The slow client's connection really ends: it reads what was in flight, then the end.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(_)) = slow_socket.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the terminated client's stream ended");
    match good.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
        other => panic!("{other:?}"),
    }
    drop(good_incoming);
}

/// Topics: exact and prefix subscriptions, publish to subscribers only (each once), except
/// the publisher, unsubscribe, and clean-up when a client leaves.
#[tokio::test]
async fn topics_reach_their_subscribers_once() {
    let (url, clients, mut accepted) = start(Server::builder()).await;
    let mut sockets = connect_all(&url, &clients, 3, Config::default()).await;
    let mut handles = Vec::new();
    for _ in 0..3 {
        handles.push(accepted.recv().await.unwrap());
    }
    // Order the handles as the sockets connected (ids grow with accept order).
    handles.sort_by_key(Client::id);
    let (a, b, c) = (&handles[0], &handles[1], &handles[2]);
    assert!(a.subscribe("prices.EUR"));
    assert!(!a.subscribe("prices.EUR"), "already subscribed");
    assert!(a.subscribe("prices.*")); // matches prices.EUR too: still delivered once
    assert!(b.subscribe("prices.USD"));
    assert!(c.subscribe("news"));
    assert_eq!(a.topics(), ["prices.*", "prices.EUR"]);
    assert_eq!(clients.subscribers("prices.EUR"), 1);
    assert_eq!(clients.subscribers("prices.USD"), 2);

    assert_eq!(clients.publish("prices.EUR", &Message::text("eur 1.08")), 1);
    assert_eq!(clients.publish("prices.USD", &Message::text("usd 1.00")), 2);
    assert_eq!(
        clients.publish_except("news", c.id(), &Message::text("nobody")),
        0
    );
    assert_eq!(clients.publish("news", &Message::text("headline")), 1);
    assert_eq!(next_data(&mut sockets[0]).await, Message::text("eur 1.08"));
    assert_eq!(next_data(&mut sockets[0]).await, Message::text("usd 1.00"));
    assert_eq!(next_data(&mut sockets[1]).await, Message::text("usd 1.00"));
    assert_eq!(next_data(&mut sockets[2]).await, Message::text("headline"));

    assert!(a.unsubscribe("prices.*"));
    assert!(!a.unsubscribe("prices.*"));
    assert_eq!(clients.subscribers("prices.USD"), 1);
    // A client that leaves takes its subscriptions with it.
    sockets[1].close(1000, "").await.unwrap();
    while sockets[1].next().await.is_some() {}
    wait_for(|| clients.len() == 2).await;
    assert_eq!(clients.subscribers("prices.USD"), 0);
    assert!(
        !b.subscribe("prices.USD"),
        "a closed client subscribes to nothing"
    );
    assert_eq!(clients.publish("prices.EUR", &Message::text("eur 1.09")), 1);
    assert_eq!(next_data(&mut sockets[0]).await, Message::text("eur 1.09"));
}

/// One broadcast reaches clients that negotiated different compression: none, with context
/// takeover (compressed per connection), and without (the shared compressed frame).
#[tokio::test]
async fn a_broadcast_reaches_every_compression_setting() {
    let server_deflate = DeflateConfig::default().memory(Memory::Dedicated).threshold(32);
    let (url, clients, _accepted) =
        start(Server::builder().config(Config::default().permessage_deflate(server_deflate))).await;
    let plain = connect(&url, Config::default()).await;
    let takeover = connect(
        &url,
        Config::default().permessage_deflate(DeflateConfig::default()),
    )
    .await;
    let fresh = connect(
        &url,
        Config::default().permessage_deflate(DeflateConfig::default().server_no_context_takeover(true)),
    )
    .await;
    let fresh_2 = connect(
        &url,
        Config::default().permessage_deflate(DeflateConfig::default().server_no_context_takeover(true)),
    )
    .await;
    wait_for(|| clients.len() == 4).await;
    let mut sockets = [plain, takeover, fresh, fresh_2];
    assert!(sockets[0].connection().permessage_deflate().is_none());
    assert!(
        !sockets[1]
            .connection()
            .permessage_deflate()
            .unwrap()
            .server_no_context_takeover
    );
    assert!(
        sockets[2]
            .connection()
            .permessage_deflate()
            .unwrap()
            .server_no_context_takeover
    );
    let json = format!(
        "{{\"items\":[{}]}}",
        (0..200)
            .map(|i| format!("{{\"n\":{i}}}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    for round in 0..3 {
        let text = format!("{round}{json}");
        assert_eq!(clients.broadcast(&Message::text(text.clone())), 4);
        for ws in &mut sockets {
            assert_eq!(next_data(ws).await, Message::text(text.clone()));
        }
    }
}

/// `ready()` paces a long stream to one client: no message is dropped.
#[tokio::test]
async fn ready_paces_a_stream_without_drops() {
    let (url, _clients, mut accepted) = start(Server::builder().send_queue_limit(64 * 1024)).await;
    let mut ws = connect(&url, Config::default()).await;
    let client = accepted.recv().await.unwrap();
    let writer = tokio::spawn(async move {
        for n in 0..2000u32 {
            client.ready().await;
            assert_eq!(
                client.send(Message::binary(vec![n as u8; 4096])).unwrap(),
                Delivery::Queued
            );
        }
        client
    });
    for n in 0..2000u32 {
        assert_eq!(next_data(&mut ws).await, Message::binary(vec![n as u8; 4096]));
    }
    let client = writer.await.unwrap();
    assert_eq!(client.dropped(), 0);
}

/// Sends of every size to one client, queued behind a backlog while the client does not
/// read: every message arrives once, whole and in order, and the queue drains to nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_keep_their_order_through_a_backlog() {
    let (url, _clients, mut accepted) = start(Server::builder().send_queue_limit(64 << 20)).await;
    let mut ws = connect(&url, Config::default()).await;
    let client = accepted.recv().await.unwrap();
    // Message n: its number, then filler, 4 B to 300 KiB.
    let numbered = |n: usize| {
        let mut data = (n as u32).to_be_bytes().to_vec();
        data.resize([4, 100, 4096, 70_000, 300_000][n % 5] + n, n as u8);
        Message::binary(data)
    };
    let count = 400;
    for n in 0..count {
        assert_eq!(client.send(numbered(n)).unwrap(), Delivery::Queued);
        if n == count / 2 {
            // Nothing read yet: the socket is full and the rest waits in the queue.
            assert!(client.buffered_amount() > 0, "a backlog formed");
        }
    }
    for n in 0..count {
        assert_eq!(next_data(&mut ws).await, numbered(n), "message {n}");
    }
    wait_for(|| client.buffered_amount() == 0).await;
    assert_eq!(client.dropped(), 0);
}

/// A client gone without a close: its writer's write fails, the client counts as closed
/// and later sends are refused, not queued for ever.
#[tokio::test]
async fn a_send_to_a_vanished_client_closes_it() {
    let (url, _clients, mut accepted) = start(Server::builder()).await;
    let ws = connect(&url, Config::default()).await;
    let client = accepted.recv().await.unwrap();
    drop(ws); // the TCP connection goes, no Close
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match client.send(Message::binary(vec![0u8; 1024])) {
            Ok(_) => {}
            Err(error) => {
                assert!(matches!(error, ferrosocket::Error::AlreadyClosed), "{error:?}");
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "sends to a vanished client still accepted"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(client.is_closed());
}

/// Sends to one client in a burst (many to many: every message of a burst to every client)
/// are left to the client's writer, which writes them together: writing each at once from
/// the sending task made many-to-many fan-out 20× slower.
#[tokio::test]
async fn a_burst_to_one_client_is_left_to_its_writer() {
    let (url, _clients, mut accepted) = start(Server::builder()).await;
    let mut ws = connect(&url, Config::default()).await;
    let client = accepted.recv().await.unwrap();
    // One thread, no await: the writer cannot run until the burst is over.
    for n in 0..50 {
        client.send(Message::text(format!("burst {n}"))).unwrap();
    }
    assert!(client.buffered_amount() > 0, "the burst waits for the writer");
    for n in 0..50 {
        assert_eq!(next_data(&mut ws).await, Message::text(format!("burst {n}")));
    }
    wait_for(|| client.buffered_amount() == 0).await;
}

/// The operator's knobs: a hook for each message dropped on overflow (counted like
/// `Client::dropped`), and a drain hook once a paused reader catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_drain_hooks_hear_a_slow_client() {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::Arc;
    let (dropped, dropped_bytes, drained) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let builder = {
        let (dropped, dropped_bytes, drained) = (dropped.clone(), dropped_bytes.clone(), drained.clone());
        Server::builder()
            .send_queue_limit(256 * 1024)
            .on_dropped(move |_client, bytes| {
                dropped.fetch_add(1, Ordering::Relaxed);
                dropped_bytes.fetch_add(bytes, Ordering::Relaxed);
            })
            .on_drain(64 * 1024, move |_client| {
                drained.fetch_add(1, Ordering::Relaxed);
            })
    };
    let (url, clients, mut accepted) = start(builder).await;
    let mut slow = connect_all(&url, &clients, 1, Config::default()).await;
    let client = accepted.recv().await.unwrap();

    // The socket does not read: the kernel's buffers fill, then the queue, then drops.
    let chunk = Message::binary(vec![7u8; 16 * 1024]);
    let mut deliveries = Vec::new();
    for _ in 0..2_000 {
        deliveries.push(client.send(chunk.clone()).unwrap());
        if deliveries.len() % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let refused = deliveries.iter().filter(|d| **d == Delivery::Dropped).count() as u64;
    assert!(refused > 0, "the queue never filled");
    assert_eq!(dropped.load(Ordering::Relaxed), refused);
    assert_eq!(client.dropped(), refused);
    assert_eq!(
        dropped_bytes.load(Ordering::Relaxed) as u64,
        refused * (16 * 1024 + 14)
    );
    // (The writer may have drained below the mark already while the kernel took bytes.)
    wait_for(|| client.buffered_amount() > 64 * 1024).await;
    let drained_while_filling = drained.load(Ordering::Relaxed);

    // The reader catches up: the queue falls below the mark once.
    let received = deliveries.len() as u64 - refused;
    for _ in 0..received {
        next_data(&mut slow[0]).await;
    }
    wait_for(|| client.buffered_amount() == 0).await;
    assert_eq!(drained.load(Ordering::Relaxed), drained_while_filling + 1);
}

/// The topic hook hears a topic's first subscriber and its last one leaving, whether by
/// unsubscribing or by disconnecting; counts are readable at any time.
#[tokio::test]
async fn the_topic_hook_hears_first_and_last_subscribers() {
    use ferrosocket::server::TopicChange;
    use std::sync::{Arc, Mutex};
    let log = Arc::new(Mutex::new(Vec::new()));
    let builder = {
        let log = log.clone();
        Server::builder().on_topic(move |topic, change| log.lock().unwrap().push((topic.to_owned(), change)))
    };
    let (url, clients, mut accepted) = start(builder).await;
    let mut sockets = connect_all(&url, &clients, 2, Config::default()).await;
    let mut handles = [accepted.recv().await.unwrap(), accepted.recv().await.unwrap()];
    handles.sort_by_key(Client::id);
    let (a, b) = (&handles[0], &handles[1]);
    assert!(a.subscribe("news"));
    assert!(b.subscribe("news"));
    assert!(b.subscribe("prices.*"));
    assert_eq!(clients.subscribers("news"), 2);
    assert!(a.unsubscribe("news"), "b still listens: no change");
    // b leaves: news and prices.* lose their last subscriber.
    sockets[1].close(1000, "").await.unwrap();
    while sockets[1].next().await.is_some() {}
    wait_for(|| clients.len() == 1).await;
    assert_eq!(clients.subscribers("news"), 0);
    let mut log = log.lock().unwrap().clone();
    // The two topics b left go in either order.
    log[2..].sort_by(|x, y| x.0.cmp(&y.0));
    use TopicChange::*;
    assert_eq!(
        log,
        [
            ("news".to_owned(), FirstSubscriber),
            ("prices.*".to_owned(), FirstSubscriber),
            ("news".to_owned(), NoSubscribers),
            ("prices.*".to_owned(), NoSubscribers),
        ][..]
    );
    drop(sockets);
}

/// The engine's watches run under the toolkit too: a client whose maximum lifetime passed
/// gets a 1001 Close, and a silent one is ended by the idle timeout.
#[tokio::test]
async fn the_toolkit_applies_the_idle_timeout_and_the_lifetime() {
    let config = Config::default().max_lifetime(Duration::from_millis(150));
    let (url, clients, _accepted) = start(Server::builder().config(config)).await;
    let mut ws = connect_all(&url, &clients, 1, Config::default()).await.remove(0);
    match ws.next().await.unwrap().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
        other => panic!("{other:?}"),
    }
    wait_for(|| clients.is_empty()).await;

    // A client that stops reading (so answers no ping) is ended by the idle timeout.
    let config = Config::default().idle_timeout(Duration::from_millis(100));
    let (url, clients, _accepted) = start(Server::builder().config(config)).await;
    let _silent = connect_all(&url, &clients, 1, Config::default()).await;
    wait_for(|| clients.is_empty()).await;
}

/// A client the engine failed (it sent an unmasked frame): its reader reports the fault,
/// and a later send names it — the Close the server sent, 1002 — rather than "already
/// closed".
#[tokio::test]
async fn a_send_to_a_failed_client_names_the_failure() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut server = Server::builder().bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let peer = tokio::spawn(async move {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(
                b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            )
            .await
            .unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(socket.read_u8().await.unwrap());
        }
        socket.write_all(&[0x81, 0x02, b'h', b'i']).await.unwrap(); // unmasked
                                                                    // Read the server's Close, answer it (masked), and wait for the end.
        let mut close = [0u8; 2];
        socket.read_exact(&mut close).await.unwrap();
        let mut rest = vec![0u8; usize::from(close[1])];
        socket.read_exact(&mut rest).await.unwrap();
        socket
            .write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xEA])
            .await
            .unwrap();
        let _ = socket.read_to_end(&mut Vec::new()).await;
        (close, rest)
    });
    let mut incoming = server.accept().await.unwrap();
    match incoming.reader.next().await {
        Some(Err(ferrosocket::Error::Protocol(_))) => {}
        other => panic!("{other:?}"),
    }
    assert!(incoming.reader.next().await.is_none());
    match incoming.client.send(Message::text("late")) {
        Err(ferrosocket::Error::Failed(frame)) => assert_eq!(frame.code, CloseCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
    let (close, rest) = peer.await.unwrap();
    assert_eq!(
        (close[0], &rest[..2]),
        (0x88, &[0x03, 0xEA][..]),
        "the peer read 1002"
    );
}

/// An echo server over the toolkit, and a client that sends a burst and its Close in one
/// write: every echo queued before the server read the Close arrives before the close reply
/// (RFC 6455 lets an endpoint finish what it is sending first; `ws` does), with compression
/// on and off; a send after the Close was read is refused.
async fn echoes_then_the_close_reply() {
    for compression in [None, Some(DeflateConfig::default())] {
        let mut config = Config::default();
        config.permessage_deflate = compression.clone();
        let mut server = Server::builder()
            .config(config.clone())
            .bind("127.0.0.1:0")
            .await
            .unwrap();
        let url = format!("ws://{}", server.local_addr().unwrap());
        let (after_close, mut refused) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(mut incoming) = server.accept().await {
                let after_close = after_close.clone();
                tokio::spawn(async move {
                    while let Some(Ok(message)) = incoming.reader.next().await {
                        if message.is_data() {
                            assert_eq!(incoming.client.send(message).unwrap(), Delivery::Queued);
                        }
                    }
                    let _ = after_close.send(incoming.client.send(Message::text("late")));
                });
            }
        });
        let mut ws = connect(&url, config).await;
        let sizes = [3, 70_000, 10, 200_000, 1];
        for (n, size) in sizes.iter().enumerate() {
            futures_util::SinkExt::feed(&mut ws, Message::binary(vec![n as u8; *size]))
                .await
                .unwrap();
        }
        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        for (n, size) in sizes.iter().enumerate() {
            let echo = ws.next().await.expect("an echo").expect("no error");
            assert_eq!(echo, Message::binary(vec![n as u8; *size]), "echo {n}");
        }
        match ws.next().await {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::NORMAL),
            other => panic!("expected the close reply, got {other:?}"),
        }
        assert!(ws.next().await.is_none());
        let late = refused.recv().await.unwrap();
        assert!(matches!(late, Err(ferrosocket::Error::AlreadyClosed)), "{late:?}");
    }
}

#[tokio::test]
async fn echoes_queued_before_the_peers_close_go_out_before_the_reply() {
    for _ in 0..10 {
        echoes_then_the_close_reply().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoes_queued_before_the_peers_close_go_out_before_the_reply_on_two_threads() {
    for _ in 0..10 {
        echoes_then_the_close_reply().await;
    }
}
