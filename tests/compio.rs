//! The compio adapter (completion-based I/O: io_uring here) over real loopback sockets,
//! against tungstenite (an independent implementation), the blocking adapter, and raw
//! sockets for what no polite peer does.
#![cfg(feature = "compio")]

use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use compio::net::TcpStream as CompioStream;
use ferrosocket::compio::{self as ws, WebSocket};
use ferrosocket::deflate::DeflateConfig;
use ferrosocket::{Accept, ClientRequest, CloseCode, Config, Connection, Error, Event, Message, Timeout};

/// Runs `serve` on the first connection, on a compio runtime of its own thread; returns the
/// server's URL and what `serve` returned.
fn server<F, Fut, T>(serve: F) -> (String, thread::JoinHandle<T>)
where
    F: FnOnce(CompioStream) -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        compio::runtime::Runtime::new().unwrap().block_on(async move {
            let listener = compio::net::TcpListener::from_std(listener).unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            serve(stream).await
        })
    });
    (url, handle)
}

/// Echoes data messages until the peer's Close; returns how the connection ended.
async fn echo(mut ws: WebSocket<CompioStream>) -> Result<(), Error> {
    loop {
        match ws.read().await? {
            m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).await?,
            Message::Close(_) => return Ok(()),
            _ => {}
        }
    }
}

fn deflate_config() -> Config {
    Config::default().permessage_deflate(DeflateConfig::default())
}

#[test]
fn echoes_tungstenite_small_and_large_messages_then_closes_cleanly() {
    let (url, handle) = server(|stream| async move {
        let ws = ws::accept_with(stream, Config::default(), |request| {
            Ok(Accept::new().protocol(request.protocols().next().unwrap_or("none")))
        })
        .await
        .unwrap();
        echo(ws).await
    });
    let request = tungstenite::client::IntoClientRequest::into_client_request(&url).unwrap();
    let mut request = request;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "chat".parse().unwrap());
    let (mut client, response) = tungstenite::connect(request).unwrap();
    assert_eq!(response.headers()["Sec-WebSocket-Protocol"], "chat");
    // Sizes around the first read's room, the read growth and the engine's sharing size.
    let large: Vec<u8> = (0..3 << 20).map(|i| (i * 7 % 251) as u8).collect();
    for size in [0, 1, 125, 1023, 1024, 1025, 16 << 10, 64 << 10, 3 << 20] {
        client
            .send(tungstenite::Message::binary(large[..size].to_vec()))
            .unwrap();
        match client.read().unwrap() {
            tungstenite::Message::Binary(echoed) => assert_eq!(&echoed[..], &large[..size], "{size}"),
            other => panic!("{other:?}"),
        }
    }
    client.send(tungstenite::Message::text("héllo")).unwrap();
    assert_eq!(client.read().unwrap(), tungstenite::Message::text("héllo"));
    client.close(None).unwrap();
    loop {
        match client.read() {
            Ok(tungstenite::Message::Close(_)) => continue,
            Err(tungstenite::Error::ConnectionClosed) => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(handle.join().unwrap().is_ok());
}

#[test]
fn the_client_connects_to_the_blocking_server_with_deflate() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/path", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws =
            ferrosocket::blocking::accept_with(stream, deflate_config(), |_| Ok(Accept::new())).unwrap();
        assert!(ws.connection().permessage_deflate().is_some());
        loop {
            match ws.read() {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => ws.send(m).unwrap(),
                Ok(Message::Close(_)) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    compio::runtime::Runtime::new().unwrap().block_on(async {
        let request = ClientRequest::new(&url).unwrap();
        let connector = ferrosocket::client::Connector::new(request).config(deflate_config());
        let (mut ws, response) = connector.connect_compio().await.unwrap();
        assert!(response.headers.get("sec-websocket-extensions").is_some());
        assert!(ws.connection().permessage_deflate().is_some());
        let text = "compressible ".repeat(100_000);
        for _ in 0..3 {
            ws.send(Message::text(text.clone())).await.unwrap();
            assert_eq!(ws.read().await.unwrap(), Message::text(text.clone()));
        }
        ws.close(1000, "bye").await.unwrap();
        match ws.read().await.unwrap() {
            Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
            other => panic!("{other:?}"),
        }
        assert!(matches!(ws.read().await, Err(Error::ConnectionClosed)));
        assert!(matches!(ws.read().await, Err(Error::AlreadyClosed)));
    });
    handle.join().unwrap();
}

/// A raw peer that completes the client handshake with the engine over a blocking socket
/// and then does only what the test tells it: no automatic pongs.
fn raw_client(url: &str) -> (TcpStream, Connection) {
    let request = ClientRequest::new(url).unwrap();
    let mut tcp = TcpStream::connect((request.host(), request.port())).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut conn = Connection::client(request, Config::default().auto_pong(false));
    tcp.write_all(&conn.take_outgoing()).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        let n = tcp.read(&mut buf).unwrap();
        conn.receive(&buf[..n]);
        if let Some(Event::Open(_)) = conn.next_event().unwrap() {
            return (tcp, conn);
        }
    }
}

/// Everything the raw peer reads until the server shuts its write side: the events.
fn read_to_end(tcp: &mut TcpStream, conn: &mut Connection) -> Vec<Event> {
    let mut events = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tcp.read(&mut buf).unwrap_or(0);
        if n == 0 {
            conn.receive_eof();
        } else {
            conn.receive(&buf[..n]);
        }
        while let Ok(Some(event)) = conn.next_event() {
            events.push(event);
        }
        if n == 0 {
            return events;
        }
    }
}

#[test]
fn heartbeat_ends_a_silent_peer_with_a_typed_timeout() {
    let (url, handle) = server(|stream| async move {
        let mut ws = ws::accept(stream).await.unwrap();
        ws.set_heartbeat(Duration::from_millis(50), Duration::from_millis(100));
        let started = Instant::now();
        let ended = ws.read().await;
        (ended, started.elapsed(), ws.read().await)
    });
    let (mut tcp, mut conn) = raw_client(&url);
    let events = read_to_end(&mut tcp, &mut conn);
    let pings = events.iter().filter(|e| matches!(e, Event::Ping(_))).count();
    assert_eq!(pings, 1, "one ping, then the pong deadline: {events:?}");
    let (ended, took, after) = handle.join().unwrap();
    assert!(matches!(ended, Err(Error::TimedOut(Timeout::Pong))), "{ended:?}");
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(matches!(after, Err(Error::ConnectionClosed)), "{after:?}");
}

#[test]
fn heartbeat_pings_go_out_while_a_read_waits_and_a_live_peer_stays() {
    let (url, handle) = server(|stream| async move {
        let mut ws = ws::accept(stream).await.unwrap();
        ws.set_heartbeat(Duration::from_millis(20), Duration::from_millis(500));
        echo(ws).await
    });
    let (mut client, _) = ferrosocket::blocking::connect(&url).unwrap();
    let mut pings = 0;
    for n in 0..5 {
        thread::sleep(Duration::from_millis(60));
        client.send(Message::text(format!("{n}"))).unwrap();
        let reply = loop {
            match client.read().unwrap() {
                Message::Ping(_) => pings += 1, // answered for us
                other => break other,
            }
        };
        assert_eq!(reply, Message::text(format!("{n}")));
    }
    assert!(pings >= 3, "the server pinged while it waited: {pings}");
    client.close(1000, "").unwrap();
    while !matches!(client.read(), Ok(Message::Close(_)) | Err(_)) {}
    assert!(handle.join().unwrap().is_ok());
}

#[test]
fn the_handshake_deadline_ends_a_client_that_sends_nothing() {
    let (url, handle) = server(|stream| async move {
        let config = Config::default().handshake_timeout(Duration::from_millis(100));
        let started = Instant::now();
        let result = ws::accept_with(stream, config, |_| Ok(Accept::new())).await;
        (result.map(|_| ()), started.elapsed())
    });
    let request = ClientRequest::new(&url).unwrap();
    let mut silent = TcpStream::connect((request.host(), request.port())).unwrap();
    silent.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (result, took) = handle.join().unwrap();
    assert!(
        matches!(result, Err(Error::TimedOut(Timeout::Handshake))),
        "{result:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    // The server let go of the socket: the silent client reads the end.
    assert_eq!(silent.read(&mut [0u8; 16]).unwrap_or(0), 0);
}

#[test]
fn a_protocol_error_reaches_the_peer_as_1002_before_the_error_is_reported() {
    let (url, handle) = server(|stream| async move {
        let mut ws = ws::accept(stream).await.unwrap();
        ws.read().await
    });
    let (mut tcp, mut conn) = raw_client(&url);
    // An unmasked frame from a client: a protocol error (1002).
    tcp.write_all(&[0x81, 0x02, b'h', b'i']).unwrap();
    let events = read_until_close(&mut tcp, &mut conn);
    match events.last() {
        Some(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
    // Our raw peer answers the Close: the server reports its error.
    tcp.write_all(&conn.take_outgoing()).unwrap();
    let result = handle.join().unwrap();
    assert_eq!(result.unwrap_err().close_code(), Some(CloseCode::PROTOCOL_ERROR));
}

fn read_until_close(tcp: &mut TcpStream, conn: &mut Connection) -> Vec<Event> {
    let mut events = Vec::new();
    let mut buf = [0u8; 4096];
    while !matches!(events.last(), Some(Event::Close(_))) {
        let n = tcp.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended before the Close: {events:?}");
        conn.receive(&buf[..n]);
        while let Ok(Some(event)) = conn.next_event() {
            events.push(event);
        }
    }
    events
}

#[test]
fn an_oversized_message_fails_with_1009_on_both_ends() {
    let (url, handle) = server(|stream| async move {
        let config = Config::default().max_message_size(1024);
        let mut ws = ws::accept_with(stream, config, |_| Ok(Accept::new()))
            .await
            .unwrap();
        ws.read().await
    });
    let (mut client, _) = ferrosocket::blocking::connect(&url).unwrap();
    client.send(Message::binary(vec![0u8; 2048])).unwrap();
    match client.read().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::MESSAGE_TOO_BIG),
        other => panic!("{other:?}"),
    }
    let result = handle.join().unwrap();
    assert_eq!(result.unwrap_err().close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
}

#[test]
fn the_close_deadline_releases_a_peer_that_never_answers_our_close() {
    let (url, handle) = server(|stream| async move {
        let config = Config::default().close_timeout(Duration::from_millis(100));
        let mut ws = ws::accept_with(stream, config, |_| Ok(Accept::new()))
            .await
            .unwrap();
        ws.close(1000, "bye").await.unwrap();
        let started = Instant::now();
        let ended = ws.read().await;
        (ended, started.elapsed())
    });
    let (mut tcp, mut conn) = raw_client(&url);
    // The raw peer reads the Close and stays silent: the server gives up on its answer.
    let events = read_to_end(&mut tcp, &mut conn);
    assert!(matches!(events.first(), Some(Event::Close(_))), "{events:?}");
    let (ended, took) = handle.join().unwrap();
    assert!(matches!(ended, Err(Error::TimedOut(Timeout::Close))), "{ended:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_refusal_reaches_the_client_with_its_status() {
    let (url, handle) = server(|stream| async move {
        let refused = ws::accept_with(stream, Config::default(), |_| {
            Err(ferrosocket::Response::new(401).body("who are you?"))
        })
        .await;
        refused.map(|_| ())
    });
    let refused = compio::runtime::Runtime::new()
        .unwrap()
        .block_on(ws::connect(&url));
    match refused {
        Err(Error::Handshake(ferrosocket::HandshakeError::Rejected(response))) => {
            assert_eq!(response.status, 401);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        handle.join().unwrap(),
        Err(Error::Handshake(ferrosocket::HandshakeError::Rejected(_)))
    ));
}

#[test]
fn a_frame_fed_one_byte_per_read_is_answered() {
    // Each byte arrives in a read of its own (Autobahn 2.6): the lent room must not grow
    // with each partial read.
    let (url, handle) = server(|stream| async move { echo(ws::accept(stream).await.unwrap()).await });
    let (mut tcp, mut conn) = raw_client(&url);
    tcp.set_nodelay(true).unwrap();
    let payload: Vec<u8> = (0..125).collect();
    conn.ping(&payload).unwrap();
    for byte in conn.take_outgoing().iter() {
        tcp.write_all(&[*byte]).unwrap();
        thread::sleep(Duration::from_millis(1));
    }
    let mut buf = [0u8; 256];
    let pong = loop {
        let n = tcp.read(&mut buf).unwrap();
        assert!(n > 0, "the server hung up");
        conn.receive(&buf[..n]);
        if let Some(event) = conn.next_event().unwrap() {
            break event;
        }
    };
    assert!(
        matches!(&pong, Event::Pong(p) if p[..] == payload[..]),
        "{pong:?}"
    );
    conn.close(1000, "").unwrap();
    tcp.write_all(&conn.take_outgoing()).unwrap();
    assert!(handle.join().unwrap().is_ok());
}
