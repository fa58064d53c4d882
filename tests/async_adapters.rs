//! The async adapters over real loopback sockets, against each other and the blocking adapter.
#![cfg(all(feature = "tokio", feature = "async-std", feature = "blocking"))]

use std::time::Duration;

use bytes::Bytes;
use ferrosocket::{
    blocking, tokio as tws, Accept, ClientRequest, CloseCode, Config, Error, HandshakeError, Message,
    Response,
};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;

/// A tokio echo server for one connection; returns its URL.
async fn tokio_echo_server(config: Config) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = tws::accept_with(stream, config, |req| {
            Ok(match req.protocols().next() {
                Some(p) => Accept::new().protocol(p),
                None => Accept::new(),
            })
        })
        .await
        .unwrap();
        while let Some(Ok(message)) = ws.next().await {
            if message.is_data() {
                ws.send(message).await.unwrap();
            }
        }
    });
    url
}

/// A server for one connection whose engine reads but never answers pings; its URL.
async fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = tws::accept_with(stream, Config::default().auto_pong(false), |_| Ok(Accept::new()))
            .await
            .unwrap();
        while let Some(Ok(_)) = ws.next().await {}
    });
    url
}

fn payloads() -> Vec<Message> {
    let mut out = vec![Message::text("héllo"), Message::binary(Bytes::new())];
    for size in [125usize, 126, 65535, 65536, 2 << 20] {
        out.push(Message::binary(
            (0..size).map(|i| (i % 253) as u8).collect::<Vec<u8>>(),
        ));
    }
    out.push(Message::text("json ".repeat(10_000)));
    out
}

#[tokio::test]
async fn tokio_client_and_tokio_server() {
    let url = tokio_echo_server(Config::default()).await;
    let request = ClientRequest::new(&url).unwrap().protocol("chat");
    let (mut ws, response) = tws::connect_with(request, Config::default(), Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(response.protocol(), Some("chat"));
    for message in payloads() {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), message);
    }
    ws.send(Message::Ping(Bytes::from_static(b"p"))).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::Pong(Bytes::from_static(b"p"))
    );
    let frame = tws::close(&mut ws, 4000, "done", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!((frame.code, frame.reason.as_str()), (CloseCode(4000), "done"));
    assert!(ws.next().await.is_none(), "the stream ends after the close");
}

#[tokio::test]
async fn compressed_over_tokio() {
    let deflate = Config::default().permessage_deflate(Default::default());
    let url = tokio_echo_server(deflate.clone()).await;
    let (mut ws, _) = tws::connect_with(ClientRequest::new(&url).unwrap(), deflate, None)
        .await
        .unwrap();
    assert!(ws.connection().permessage_deflate().is_some());
    for message in payloads() {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), message);
    }
}

#[tokio::test]
async fn async_std_client_and_tokio_server() {
    let url = tokio_echo_server(Config::default()).await;
    // async-std runs on its own executor thread; the tokio server keeps running here.
    let client = tokio::task::spawn_blocking(move || {
        async_std::task::block_on(async move {
            let (mut ws, _) = ferrosocket::async_std::connect(&url).await.unwrap();
            for message in payloads() {
                ws.send(message.clone()).await.unwrap();
                assert_eq!(ws.next().await.unwrap().unwrap(), message);
            }
            let frame = ferrosocket::async_std::close(&mut ws, 1000, "", Duration::from_secs(5))
                .await
                .unwrap();
            assert_eq!(frame.code, CloseCode::NORMAL);
        })
    });
    client.await.unwrap();
}

/// smol end to end over `smol::net`: its server and client, compression, a heartbeat that
/// keeps an answering peer, the handshake timeout, and a graceful close.
#[test]
fn smol_server_and_client_over_smol_net() {
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/smol", listener.local_addr().unwrap());
        let config = Config::default().permessage_deflate(ferrosocket::deflate::DeflateConfig::default());
        let server_config = config.clone();
        let server = smol::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ferrosocket::smol::accept_with(tcp, server_config, |request| {
                assert_eq!(request.path(), "/smol");
                Ok(ferrosocket::Accept::new())
            })
            .await
            .unwrap();
            ferrosocket::smol::heartbeat(&mut ws, Duration::from_millis(20), Duration::from_secs(5));
            while let Some(Ok(message)) = ws.next().await {
                if message.is_data() {
                    ws.send(message).await.unwrap();
                }
            }
        });
        let request = ClientRequest::new(&url).unwrap();
        let (mut ws, _) = ferrosocket::smol::connect_with(request, config, Some(Duration::from_secs(5)))
            .await
            .unwrap();
        assert!(ws.connection().permessage_deflate().is_some());
        for message in payloads() {
            ws.send(message.clone()).await.unwrap();
            // Pings from the server's heartbeat may come between; they are answered for us.
            loop {
                match ws.next().await.unwrap().unwrap() {
                    Message::Ping(_) => continue,
                    echoed => {
                        assert_eq!(echoed, message);
                        break;
                    }
                }
            }
        }
        let frame = ferrosocket::smol::close(&mut ws, 4000, "done", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(frame.code, CloseCode::from(4000));
        server.await;
        // A server that never answers: the handshake timeout covers it.
        let silent = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", silent.local_addr().unwrap());
        let started = std::time::Instant::now();
        let request = ClientRequest::new(&url).unwrap();
        match ferrosocket::smol::connect_with(request, Config::default(), Some(Duration::from_millis(200)))
            .await
        {
            Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::TimedOut),
            other => panic!("{:?}", other.map(|(_, r)| r)),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    });
}

#[tokio::test]
async fn tokio_client_and_blocking_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = blocking::accept(stream).unwrap();
        loop {
            match ws.read() {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => ws.send(m).unwrap(),
                Ok(Message::Close(_)) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    let (mut ws, _) = tws::connect(&url).await.unwrap();
    for message in payloads() {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), message);
    }
    ws.close(1000, "").await.unwrap();
    assert!(matches!(ws.next().await, Some(Ok(Message::Close(_)))));
    tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn blocking_client_and_tokio_server() {
    let url = tokio_echo_server(Config::default()).await;
    tokio::task::spawn_blocking(move || {
        let (mut ws, _) = blocking::connect(&url).unwrap();
        for message in payloads() {
            ws.send(message.clone()).unwrap();
            assert_eq!(ws.read().unwrap(), message);
        }
        ws.close(1000, "").unwrap();
        assert!(matches!(ws.read(), Ok(Message::Close(_))));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn split_halves_send_and_receive_concurrently() {
    let url = tokio_echo_server(Config::default()).await;
    let (ws, _) = tws::connect(&url).await.unwrap();
    let (mut sink, mut stream) = ws.split();
    let writer = tokio::spawn(async move {
        for i in 0..500u32 {
            sink.send(Message::binary(i.to_be_bytes().to_vec()))
                .await
                .unwrap();
        }
        sink.close().await.unwrap();
    });
    let reader = tokio::spawn(async move {
        let mut next = 0u32;
        while let Some(message) = stream.next().await {
            match message.unwrap() {
                Message::Binary(b) => {
                    assert_eq!(b[..], next.to_be_bytes());
                    next += 1;
                }
                Message::Close(_) => break,
                other => panic!("{other:?}"),
            }
        }
        next
    });
    writer.await.unwrap();
    assert_eq!(reader.await.unwrap(), 500);
}

#[tokio::test]
async fn backpressure_bounds_the_outgoing_buffer() {
    // A server that never reads: the client's sends must stop at the high-water mark.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let ws = tws::accept(stream).await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(ws);
    });
    let (mut ws, _) = tws::connect(&url).await.unwrap();
    ws.set_high_water(256 << 10);
    let chunk = Message::binary(vec![0u8; 64 << 10]);
    let mut sent = 0usize;
    let result = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            ws.send(chunk.clone()).await.unwrap();
            sent += 1;
        }
    })
    .await;
    assert!(result.is_err(), "sending must block on a peer that does not read");
    assert!(
        ws.buffered_amount() <= (256 << 10) + (64 << 10) + 64,
        "buffered {}",
        ws.buffered_amount()
    );
    assert!(
        sent > 4,
        "some messages went out before the socket buffers filled"
    );
    server.abort();
}

#[tokio::test]
async fn rejection_and_close_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        // First connection: refused with 401.
        let (stream, _) = listener.accept().await.unwrap();
        let refused =
            tws::accept_with(stream, Config::default(), |_| Err(Response::new(401).body("no"))).await;
        assert!(matches!(
            refused,
            Err(Error::Handshake(HandshakeError::Rejected(_)))
        ));
        // Second: accepted, then never answers the close.
        let (stream, _) = listener.accept().await.unwrap();
        let ws = tws::accept(stream).await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(ws);
    });
    match tws::connect(&url).await {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => {
            assert_eq!((response.status, &response.body[..]), (401, &b"no"[..]));
        }
        other => panic!("{other:?}"),
    }
    let (mut ws, _) = tws::connect(&url).await.unwrap();
    let frame = tws::close(&mut ws, 1000, "", Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(frame.code, CloseCode::ABNORMAL, "no answer within the timeout");
}

#[tokio::test]
async fn heartbeat_keeps_live_peers_and_terminates_silent_ones() {
    // A live peer: pongs come back, the heartbeat keeps quiet.
    let url = tokio_echo_server(Config::default()).await;
    let (mut ws, _) = tws::connect(&url).await.unwrap();
    tws::heartbeat(&mut ws, Duration::from_millis(50), Duration::from_secs(5));
    let mut pongs = 0;
    while pongs < 3 {
        match ws.next().await.unwrap().unwrap() {
            Message::Pong(_) => pongs += 1,
            other => panic!("{other:?}"),
        }
    }

    // A silent peer: the server's engine does not answer pings.
    let url = silent_server().await;
    let (mut ws, _) = tws::connect(&url).await.unwrap();
    tws::heartbeat(&mut ws, Duration::from_millis(50), Duration::from_millis(100));
    match ws.next().await {
        Some(Err(Error::TimedOut(ferrosocket::Timeout::Pong))) => {}
        other => panic!("{other:?}"),
    }
    assert!(ws.next().await.is_none(), "terminated");
    assert_eq!(ws.connection().state(), ferrosocket::State::Closed);
}

#[tokio::test]
async fn the_idle_timeout_keeps_a_quiet_live_peer_and_ends_a_silent_one() {
    // A live peer that says nothing: the server's idle pings get pongs, and it stays.
    let idle = Config::default().idle_timeout(Duration::from_millis(100));
    let url = tokio_echo_server(idle.clone()).await;
    let (mut ws, _) = tws::connect(&url).await.unwrap();
    let quiet_until = tokio::time::Instant::now() + Duration::from_millis(400);
    let mut pings = 0;
    while let Ok(message) = tokio::time::timeout_at(quiet_until, ws.next()).await {
        match message.unwrap().unwrap() {
            Message::Ping(_) => pings += 1, // answered by the engine as it reads
            other => panic!("{other:?}"),
        }
    }
    assert!(pings >= 2, "{pings} idle pings in 400 ms");
    ws.send(Message::text("still here")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("still here"));

    // A peer that stops answering: the client's own idle timeout ends it.
    let url = silent_server().await;
    let request = ClientRequest::new(&url).unwrap();
    let (mut ws, _) = tws::connect_with(request, idle, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    match ws.next().await {
        Some(Err(Error::TimedOut(ferrosocket::Timeout::Idle))) => {}
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
    assert!(ws.next().await.is_none(), "terminated");
}

#[tokio::test]
async fn the_maximum_lifetime_closes_with_1001() {
    let url = tokio_echo_server(Config::default().max_lifetime(Duration::from_millis(100))).await;
    let (mut ws, _) = tws::connect(&url).await.unwrap();
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello"));
    match ws.next().await.unwrap().unwrap() {
        Message::Close(Some(frame)) => {
            assert_eq!(frame.code, CloseCode::GOING_AWAY);
            assert_eq!(frame.reason.as_str(), "maximum lifetime reached");
        }
        other => panic!("{other:?}"),
    }
    assert!(ws.next().await.is_none());
}

/// Reads an HTTP head from `stream`.
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    String::from_utf8(head).unwrap()
}

#[tokio::test]
async fn connects_through_an_http_connect_proxy() {
    let url = tokio_echo_server(Config::default()).await;
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = proxy.local_addr().unwrap();
    let proxy_task = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (mut client, _) = proxy.accept().await.unwrap();
        let head = read_head(&mut client).await;
        let target = head.split(' ').nth(1).unwrap().to_owned();
        assert!(head.contains("Proxy-Authorization: Basic dTpw\r\n"), "{head}");
        let mut upstream = tokio::net::TcpStream::connect(&target).await.unwrap();
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .unwrap();
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        target
    });
    let (mut ws, _) = tws::Connector::new(ClientRequest::new(&url).unwrap())
        .proxy(proxy_addr.to_string(), Some("Basic dTpw"))
        .connect()
        .await
        .unwrap();
    ws.send(Message::text("through the tunnel")).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::text("through the tunnel")
    );
    ws.close(1000, "").await.unwrap();
    while ws.next().await.is_some() {}
    drop(ws);
    assert_eq!(format!("ws://{}", proxy_task.await.unwrap()), url);

    // A proxy that refuses.
    let refusing = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refusing_addr = refusing.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (mut client, _) = refusing.accept().await.unwrap();
        read_head(&mut client).await;
        client
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            .await
            .unwrap();
    });
    let result = tws::Connector::new(ClientRequest::new(&url).unwrap())
        .proxy(refusing_addr.to_string(), None)
        .connect()
        .await;
    match result {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => assert_eq!(response.status, 407),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn redirects_are_followed_only_when_asked() {
    let echo_url = tokio_echo_server(Config::default()).await;
    let redirector = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/old", redirector.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        loop {
            let (mut client, _) = redirector.accept().await.unwrap();
            read_head(&mut client).await;
            let answer =
                format!("HTTP/1.1 302 Found\r\nLocation: {echo_url}/new\r\nContent-Length: 0\r\n\r\n");
            client.write_all(answer.as_bytes()).await.unwrap();
        }
    });
    match tws::Connector::new(ClientRequest::new(&url).unwrap())
        .connect()
        .await
    {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => assert_eq!(response.status, 302),
        other => panic!("redirects are off by default: {other:?}"),
    }
    let (mut ws, _) = tws::Connector::new(ClientRequest::new(&url).unwrap())
        .follow_redirects(2)
        .connect()
        .await
        .unwrap();
    ws.send(Message::text("moved")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("moved"));
}

#[tokio::test]
async fn byte_stream_pipes_bytes_through_messages() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = tokio_echo_server(Config::default()).await;
    let (ws, _) = tws::connect(&url).await.unwrap();
    let mut bytes = ferrosocket::byte_stream::ByteStream::new(ws);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for chunk in data.chunks(7000) {
        bytes.write_all(chunk).await.unwrap(); // one binary message per write
    }
    bytes.flush().await.unwrap();
    let mut echoed = vec![0u8; data.len()];
    bytes.read_exact(&mut echoed).await.unwrap();
    assert_eq!(echoed, data);
    bytes.shutdown().await.unwrap(); // Close 1000
    let mut rest = Vec::new();
    assert_eq!(
        bytes.read_to_end(&mut rest).await.unwrap(),
        0,
        "EOF after the close"
    );
}

#[tokio::test]
async fn reconnecting_client_comes_back_after_each_disconnect() {
    use ferrosocket::tokio::{Backoff, Connector, Reconnect, Reconnecting};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        // First connection breaks; the second closes cleanly; the third stays.
        for (i, how) in ["drop", "close", "stay"].into_iter().enumerate() {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = tws::accept(stream).await.unwrap();
            ws.send(Message::text(format!("connection {i}"))).await.unwrap();
            match how {
                "drop" => drop(ws),
                "close" => {
                    tws::close(&mut ws, 1001, "restart", Duration::from_secs(5))
                        .await
                        .unwrap();
                }
                _ => {
                    tokio::spawn(async move { while ws.next().await.is_some() {} });
                }
            }
        }
    });
    let backoff = Backoff {
        initial: Duration::from_millis(10),
        ..Backoff::default()
    };
    assert_eq!(backoff.delay(1), Duration::from_millis(10));
    assert_eq!(backoff.delay(3), Duration::from_millis(40));
    assert_eq!(Backoff::default().delay(30), Duration::from_secs(30), "capped");
    let mut client = Reconnecting::new(Connector::new(ClientRequest::new(&url).unwrap()), backoff);
    let mut log = Vec::new();
    while log.len() < 8 {
        match client.next().await.unwrap().unwrap() {
            Reconnect::Connected(_) => log.push("connected".to_owned()),
            Reconnect::Message(Message::Text(t)) => log.push(t.as_str().to_owned()),
            Reconnect::Message(_) => {}
            Reconnect::Disconnected(frame) => log.push(format!("disconnected {:?}", frame.map(|f| f.code.0))),
        }
    }
    assert_eq!(
        log,
        [
            "connected",
            "connection 0",
            "disconnected Some(1006)",
            "connected",
            "connection 1",
            "disconnected Some(1001)",
            "connected",
            "connection 2"
        ]
    );
    assert!(client.is_connected());
    client.close(1000, "").await.unwrap();
    assert!(client.next().await.is_none());
}

#[tokio::test]
async fn an_idle_connection_holds_no_receive_buffer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let client = tokio::spawn(async move {
        let (mut ws, _) = tws::connect(&url).await.unwrap();
        wait.await.unwrap();
        ws.send(Message::text("after a while")).await.unwrap();
        ws
    });
    let (stream, _) = listener.accept().await.unwrap();
    let handshake = tws::accept(stream);
    // The handshake future is most of what a waiting connection's task weighs.
    assert!(
        std::mem::size_of_val(&handshake) <= 1024,
        "handshake future: {} bytes",
        std::mem::size_of_val(&handshake)
    );
    let mut ws = handshake.await.unwrap();
    assert_eq!(
        ws.connection().receive_capacity(),
        0,
        "the handshake's buffer is gone"
    );
    go.send(()).unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("after a while"));
    drop(client.await.unwrap());
}

/// `next()` is cancel-safe: a reader that drops its `next()` future thousands of times, in
/// the middle of messages that arrive a kilobyte at a time, still gets every message whole
/// and in order.
// One thread and an in-memory pipe: the writer and the reader take turns, so every run
// cancels as often (a socket's readiness comes in bursts, and made the count vary).
#[tokio::test(flavor = "current_thread")]
async fn next_loses_nothing_when_cancelled_mid_message() {
    use futures_util::FutureExt;
    use tokio::io::AsyncWriteExt;
    let (mut server_end, client_end) = tokio::io::duplex(64 * 1024);
    let sizes: Vec<usize> = (0..200).map(|i| (i * 7919) % 70_000 + 1).collect();
    let expected: Vec<Message> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| match i % 2 {
            0 => Message::binary(vec![i as u8; size]),
            _ => Message::text("é".repeat(size / 2 + 1)),
        })
        .collect();
    let to_send = expected.clone();
    let server = tokio::spawn(async move {
        // The frames, encoded by the engine and written in 1 KiB pieces with pauses between.
        let mut conn = ferrosocket::Connection::open(ferrosocket::Role::Server, Config::default(), None);
        for message in &to_send {
            conn.send(message).unwrap();
        }
        let bytes = conn.take_outgoing();
        for piece in bytes.chunks(1024) {
            server_end.write_all(piece).await.unwrap();
            tokio::task::yield_now().await;
        }
        server_end
    });
    let conn = ferrosocket::Connection::open(ferrosocket::Role::Client, Config::default(), None);
    let mut ws = ferrosocket::tokio::from_connection(client_end, conn);
    let (mut received, mut cancelled) = (Vec::new(), 0u32);
    while received.len() < expected.len() {
        // Poll once and drop the future if it is not ready: a cancellation.
        match ws.next().now_or_never() {
            Some(message) => received.push(message.unwrap().unwrap()),
            None => {
                cancelled += 1;
                tokio::task::yield_now().await;
            }
        }
        // And the usual shape: a select! whose other branch wins now and then.
        if cancelled % 100 == 0 {
            tokio::select! {
                biased;
                _ = tokio::task::yield_now() => cancelled += 1,
                message = ws.next() => received.push(message.unwrap().unwrap()),
            }
        }
    }
    assert!(received == expected, "every message whole and in order");
    assert!(cancelled >= 1000, "only {cancelled} cancellations");
    drop(server.await.unwrap());
}

/// The engine's handshake deadline (`Config::handshake_timeout`) bounds a server's accept on
/// tokio and on smol (futures-io) without anything else set: a request that stops halfway
/// ends in `TimedOut(Handshake)`.
#[test]
fn the_handshake_deadline_bounds_accept_on_tokio_and_smol() {
    let config = Config::default().handshake_timeout(Duration::from_millis(150));
    let stall = |addr: std::net::SocketAddr| {
        std::thread::spawn(move || {
            use std::io::Write;
            let mut tcp = std::net::TcpStream::connect(addr).unwrap();
            tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgr").unwrap();
            std::thread::sleep(Duration::from_secs(3));
        })
    };
    let expect_deadline = |result: ferrosocket::Result<()>, started: std::time::Instant| {
        match result {
            Err(Error::TimedOut(ferrosocket::Timeout::Handshake)) => {}
            other => panic!("{other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = stall(listener.local_addr().unwrap());
        let (stream, _) = listener.accept().await.unwrap();
        let started = std::time::Instant::now();
        let accepted = tws::accept_with(stream, config.clone(), |_| Ok(Accept::new())).await;
        expect_deadline(accepted.map(drop), started);
        drop(client);
    });

    smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = stall(listener.local_addr().unwrap());
        let (stream, _) = listener.accept().await.unwrap();
        let started = std::time::Instant::now();
        let accepted = ferrosocket::smol::accept_with(stream, config.clone(), |_| Ok(Accept::new())).await;
        expect_deadline(accepted.map(drop), started);
        drop(client);
    });
}
