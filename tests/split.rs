//! `WebSocketStream::into_split`: owned halves on separate tasks, over real loopback sockets.
#![cfg(all(feature = "tokio", feature = "smol"))]

use std::time::Duration;

use bytes::Bytes;
use ferrosocket::deflate::DeflateConfig;
use ferrosocket::{tokio as tws, CloseCode, CloseFrame, Config, Connection, Error, Event, Message, Role};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A server that splits each connection: its receiver task forwards data messages over a
/// channel to its sender task, which echoes them.
async fn split_echo_server(config: Config) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let ws = tws::accept_with(stream, config, |_| Ok(ferrosocket::Accept::new()))
            .await
            .unwrap();
        let (mut sender, mut receiver) = ws.into_split();
        let (tx, mut rx) = mpsc::channel::<Message>(64);
        let echo = tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                if sender.send(message).await.is_err() {
                    break;
                }
            }
            sender
        });
        while let Some(Ok(message)) = receiver.next().await {
            if message.is_data() && tx.send(message).await.is_err() {
                break;
            }
        }
        drop(tx);
        let sender = echo.await.unwrap();
        let _ = receiver.reunite(sender).expect("the halves of one stream");
    });
    url
}

fn load(count: usize) -> Vec<Message> {
    (0..count)
        .map(|i| match i % 3 {
            0 => Message::text(format!("message {i} {}", "x".repeat(i % 2000))),
            1 => Message::binary(vec![i as u8; (i * 7919) % 40_000]),
            _ => Message::text("é".repeat(i % 300)),
        })
        .collect()
}

/// Both ends split, a writer and a reader task on each, thousands of messages in flight in
/// both directions at once; with and without permessage-deflate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_on_separate_tasks_carry_a_load_in_order() {
    for deflate in [false, true] {
        let config = || {
            let config = Config::default();
            if deflate {
                config.permessage_deflate(DeflateConfig::default())
            } else {
                config
            }
        };
        let url = split_echo_server(config()).await;
        let (ws, _) = tws::connect_with(ferrosocket::ClientRequest::new(&url).unwrap(), config(), None)
            .await
            .unwrap();
        assert_eq!(ws.connection().permessage_deflate().is_some(), deflate);
        let (mut sender, mut receiver) = ws.into_split();
        let messages = load(3000);
        let to_send = messages.clone();
        let writer = tokio::spawn(async move {
            for message in to_send {
                sender.feed(message).await.unwrap();
                if sender.buffered_amount() > 256 * 1024 {
                    sender.flush().await.unwrap();
                }
            }
            sender.flush().await.unwrap();
            sender
        });
        let mut received = Vec::with_capacity(messages.len());
        while received.len() < messages.len() {
            received.push(receiver.next().await.unwrap().unwrap());
        }
        assert!(
            received == messages,
            "every echo whole and in order (deflate: {deflate})"
        );
        let mut sender = writer.await.unwrap();
        SinkExt::close(&mut sender).await.unwrap();
        assert!(sender.is_closed());
        // The server echoes our Close; the receiver's stream ends with it.
        assert_eq!(
            receiver.next().await.unwrap().unwrap(),
            Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "")))
        );
        assert!(receiver.next().await.is_none());
    }
}

/// Pings are answered and the peer's Close is echoed while only the receiver is polled: the
/// sender sits idle on another task the whole time.
#[tokio::test]
async fn the_receiver_alone_answers_pings_and_the_close() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = tws::accept(stream).await.unwrap();
        let mut pongs = Vec::new();
        for n in 0..5u8 {
            ws.send(Message::Ping(Bytes::from(vec![n]))).await.unwrap();
            match ws.next_event().await.unwrap().unwrap() {
                Event::Pong(payload) => pongs.push(payload[0]),
                other => panic!("expected a pong, got {other:?}"),
            }
        }
        let frame = ws
            .close_within(4000, "done", tokio::time::sleep(Duration::from_secs(5)))
            .await;
        (pongs, frame.unwrap())
    });
    let (ws, _) = tws::connect(&url).await.unwrap();
    let (sender, mut receiver) = ws.into_split();
    let idle = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(30)).await; // never polled in time
        drop(sender);
    });
    let mut events = Vec::new();
    while let Some(event) = receiver.next_event().await {
        events.push(event.unwrap());
    }
    let (pongs, echoed) = server.await.unwrap();
    assert_eq!(pongs, [0, 1, 2, 3, 4]);
    assert_eq!(echoed, CloseFrame::new(4000, "done"));
    assert!(matches!(events.last(), Some(Event::Close(frame)) if frame.code == CloseCode(4000)));
    assert_eq!(events.iter().filter(|e| matches!(e, Event::Ping(_))).count(), 5);
    idle.abort();
}

/// Sends after the peer closed fail with `ConnectionClosed`; after our own close, with
/// `AlreadyClosed`.
#[tokio::test]
async fn the_sender_tells_who_closed_first() {
    let url = split_echo_server(Config::default()).await;
    let (ws, _) = tws::connect(&url).await.unwrap();
    let (mut sender, mut receiver) = ws.into_split();
    sender.close(1000, "bye").await.unwrap();
    assert!(matches!(
        sender.send(Message::text("late")).await,
        Err(Error::AlreadyClosed)
    ));
    assert!(matches!(receiver.next().await, Some(Ok(Message::Close(_)))));

    // A server that closes first.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = tws::accept(stream).await.unwrap();
        ws.close(1001, "going").await.unwrap();
        while ws.next().await.is_some() {}
    });
    let (ws, _) = tws::connect(&url).await.unwrap();
    let (mut sender, mut receiver) = ws.into_split();
    assert_eq!(
        receiver.next().await.unwrap().unwrap(),
        Message::Close(Some(CloseFrame::new(1001, "going")))
    );
    assert!(receiver.next().await.is_none());
    assert!(matches!(
        sender.send(Message::text("late")).await,
        Err(Error::ConnectionClosed)
    ));
}

/// Halves of different streams do not reunite (and come back intact); a stream's own halves
/// do, and the stream goes on working.
#[tokio::test]
async fn reunite_takes_only_the_matching_half() {
    let url = split_echo_server(Config::default()).await;
    let (first, _) = tws::connect(&url).await.unwrap();
    let url = split_echo_server(Config::default()).await;
    let (second, _) = tws::connect(&url).await.unwrap();
    let (sender_1, receiver_1) = first.into_split();
    let (sender_2, receiver_2) = second.into_split();
    let ferrosocket::stream::ReuniteError(sender_2, receiver_1) = receiver_1.reunite(sender_2).unwrap_err();
    assert!(!sender_2.is_pair_of(&receiver_1) && sender_1.is_pair_of(&receiver_1));
    let mut first = receiver_1.reunite(sender_1).unwrap();
    let _second = receiver_2.reunite(sender_2).unwrap();
    first.send(Message::text("together again")).await.unwrap();
    assert_eq!(
        first.next().await.unwrap().unwrap(),
        Message::text("together again")
    );
}

/// The sender waits while its buffer is over the high-water mark and the peer is not reading;
/// `buffered_amount` shows the backlog.
#[tokio::test]
async fn the_sender_applies_backpressure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _peer = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await; // never reads
        drop(stream);
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let ws = tws::from_connection(tcp, Connection::open(Role::Client, Config::default(), None));
    let (mut sender, _receiver) = ws.into_split();
    sender.set_high_water(64 * 1024);
    let chunk = Bytes::from(vec![7u8; 64 * 1024]);
    let mut sent = 0usize;
    let stalled = loop {
        match tokio::time::timeout(
            Duration::from_millis(300),
            sender.send(Message::Binary(chunk.clone())),
        )
        .await
        {
            Ok(result) => {
                result.unwrap();
                sent += 1;
                assert!(sent < 10_000, "the kernel buffers cannot hold {sent} × 64 KiB");
            }
            Err(_) => break true,
        }
    };
    assert!(stalled);
    assert!(sender.buffered_amount() > 0);
}

/// The receiver's `next()` is cancel-safe: dropped thousands of times mid-message, it still
/// yields every message whole and in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receivers_next_loses_nothing_when_cancelled() {
    use tokio::io::AsyncWriteExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let expected: Vec<Message> = (0..200usize)
        .map(|i| Message::binary(vec![i as u8; (i * 7919) % 70_000 + 1]))
        .collect();
    let to_send = expected.clone();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut conn = Connection::open(Role::Server, Config::default(), None);
        for message in &to_send {
            conn.send(message).unwrap();
        }
        for piece in conn.take_outgoing().chunks(1024) {
            tcp.write_all(piece).await.unwrap();
            tokio::task::yield_now().await;
        }
        tcp
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    let ws = tws::from_connection(tcp, Connection::open(Role::Client, Config::default(), None));
    let (_sender, mut receiver) = ws.into_split();
    let (mut received, mut cancelled) = (Vec::new(), 0u32);
    while received.len() < expected.len() {
        match receiver.next().now_or_never() {
            Some(message) => received.push(message.unwrap().unwrap()),
            None => {
                cancelled += 1;
                tokio::task::yield_now().await;
            }
        }
    }
    assert!(received == expected, "every message whole and in order");
    assert!(cancelled >= 1000, "only {cancelled} cancellations");
    drop(server.await.unwrap());
}

/// The halves work over the futures-io adapter too (smol), each on its own thread.
#[test]
fn halves_work_over_smol() {
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = smol::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = ferrosocket::futures_io::accept(stream).await.unwrap();
            while let Some(Ok(message)) = ws.next().await {
                if message.is_data() {
                    ws.send(message).await.unwrap();
                }
            }
        });
        let (ws, _) = ferrosocket::smol::connect(&format!("ws://{addr}")).await.unwrap();
        let (mut sender, mut receiver) = ws.into_split();
        let writer = std::thread::spawn(move || {
            smol::block_on(async move {
                for n in 0..500 {
                    sender.send(Message::text(format!("n{n}"))).await.unwrap();
                }
                sender.close(1000, "").await.unwrap();
            })
        });
        // The receiver is a futures Stream: StreamExt's adapters apply.
        let echoed: Vec<Message> = StreamExt::by_ref(&mut receiver)
            .take(500)
            .map(|message| message.unwrap())
            .collect()
            .await;
        assert_eq!(
            echoed,
            (0..500)
                .map(|n| Message::text(format!("n{n}")))
                .collect::<Vec<_>>()
        );
        assert!(matches!(receiver.next().await, Some(Ok(Message::Close(_)))));
        assert!(receiver.next().await.is_none());
        writer.join().unwrap();
        server.await;
    });
}
