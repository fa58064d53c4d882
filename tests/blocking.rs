//! The blocking adapter over real loopback sockets.
#![cfg(feature = "blocking")]

use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use ferrosocket::blocking::{self, WebSocket};
use ferrosocket::{Accept, ClientRequest, CloseCode, Config, Error, HandshakeError, Message, Response};

/// Starts a one-connection server running `serve` and returns its URL.
fn server<F>(serve: F) -> (String, thread::JoinHandle<()>)
where
    F: FnOnce(TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        serve(stream);
    });
    (url, handle)
}

fn echo(mut ws: WebSocket<TcpStream>) {
    loop {
        match ws.read() {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => ws.send(m).unwrap(),
            Ok(Message::Close(_)) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[test]
fn echo_with_subprotocol_large_messages_ping_and_close() {
    let (url, handle) = server(|stream| {
        let ws = blocking::accept_with(stream, Config::default(), |req| {
            assert_eq!(req.path(), "/echo");
            Ok(Accept::new().protocol("v2").header("X-Server", "ferrosocket"))
        })
        .unwrap();
        echo(ws);
    });
    let request = ClientRequest::new(&format!("{url}/echo"))
        .unwrap()
        .protocol("v1")
        .protocol("v2");
    let (mut ws, response) =
        blocking::connect_request(request, Config::default(), Some(Duration::from_secs(5))).unwrap();
    assert_eq!(response.protocol(), Some("v2"));
    assert_eq!(response.headers.get("x-server"), Some("ferrosocket"));

    for size in [0usize, 125, 126, 65535, 65536, 3 << 20] {
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        ws.send(Message::binary(data.clone())).unwrap();
        assert_eq!(
            ws.read().unwrap(),
            Message::Binary(Bytes::from(data)),
            "size {size}"
        );
    }
    ws.send(Message::text("héllo wörld")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("héllo wörld"));
    ws.send(Message::Ping(Bytes::from_static(b"are you there")))
        .unwrap();
    assert_eq!(
        ws.read().unwrap(),
        Message::Pong(Bytes::from_static(b"are you there"))
    );

    ws.close(CloseCode::NORMAL, "done").unwrap();
    match ws.read().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("{other:?}"),
    }
    // The end is reported once, then reading on is a use after close.
    assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    assert!(matches!(ws.read(), Err(Error::AlreadyClosed)));
    assert!(matches!(
        ws.send(Message::text("late")),
        Err(Error::AlreadyClosed)
    ));
    handle.join().unwrap();
}

#[test]
fn rejection_reaches_the_client_with_status_and_body() {
    let (url, handle) = server(|stream| {
        let err = blocking::accept_with(stream, Config::default(), |req| {
            match req.headers.get("authorization") {
                Some("Bearer good") => Ok(Accept::new()),
                _ => Err(Response::new(401)
                    .header("WWW-Authenticate", "Bearer")
                    .body("bad token")),
            }
        })
        .unwrap_err();
        assert!(matches!(err, Error::Handshake(HandshakeError::Rejected(_))));
    });
    let request = ClientRequest::new(&url)
        .unwrap()
        .header("Authorization", "Bearer bad");
    match blocking::connect_request(request, Config::default(), Some(Duration::from_secs(5))) {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => {
            assert_eq!(response.status, 401);
            assert_eq!(response.headers.get("www-authenticate"), Some("Bearer"));
            assert_eq!(&response.body[..], b"bad token");
        }
        other => panic!("{other:?}"),
    }
    handle.join().unwrap();
}

#[test]
fn a_dropped_transport_reads_as_1006() {
    let (url, handle) = server(|stream| {
        let ws = blocking::accept(stream).unwrap();
        drop(ws);
    });
    let (mut ws, _) = blocking::connect(&url).unwrap();
    match ws.read().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::ABNORMAL),
        other => panic!("{other:?}"),
    }
    handle.join().unwrap();
}

#[test]
fn oversized_message_fails_with_1009_on_both_ends() {
    let (url, handle) = server(|stream| {
        let mut ws = blocking::accept_with(stream, Config::default().max_message_size(1024), |_| {
            Ok(Accept::new())
        })
        .unwrap();
        // The client's 2 KiB message is over our limit: 1009.
        match ws.read() {
            Err(e) => assert_eq!(e.close_code(), Some(CloseCode::MESSAGE_TOO_BIG)),
            other => panic!("{other:?}"),
        }
    });
    let (mut ws, _) = blocking::connect(&url).unwrap();
    ws.send(Message::binary(vec![0u8; 2048])).unwrap();
    match ws.read().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::MESSAGE_TOO_BIG),
        other => panic!("{other:?}"),
    }
    handle.join().unwrap();
}

#[test]
fn wss_urls_connect_over_tls() {
    // With the `rustls` feature a wss:// URL is dialled (here: nothing listens), not refused
    // as a URL; without it, `TlsError::NotEnabled` (unit-tested in the adapter).
    match blocking::connect("wss://127.0.0.1:1/") {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
        other => panic!("expected the refused TCP connect, got {other:?}"),
    }
}

/// A client of the engine's own over a blocking socket that never answers pings
/// (`auto_pong` off): the shape of a peer whose network went away.
fn silent_client(url: &str) -> (TcpStream, ferrosocket::Connection) {
    use std::io::{Read, Write};
    let request = ClientRequest::new(url).unwrap();
    let mut tcp = TcpStream::connect((request.host(), request.port())).unwrap();
    let mut conn = ferrosocket::Connection::client(request, Config::default().auto_pong(false));
    tcp.write_all(&conn.take_outgoing()).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        let n = tcp.read(&mut buf).unwrap();
        conn.receive(&buf[..n]);
        if let Some(ferrosocket::Event::Open(_)) = conn.next_event().unwrap() {
            return (tcp, conn);
        }
    }
}

#[test]
fn heartbeat_ends_a_silent_peer_and_keeps_a_live_one() {
    use std::io::Read;
    use std::time::Instant;
    // A silent peer: pinged, no pong, ended with a typed timeout and the write side shut.
    let (url, handle) = server(|stream| {
        let mut ws = blocking::accept(stream).unwrap();
        ws.set_heartbeat(Duration::from_millis(50), Duration::from_millis(100));
        let started = Instant::now();
        match ws.read() {
            Err(Error::TimedOut(ferrosocket::Timeout::Pong)) => {}
            other => panic!("{other:?}"),
        }
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(150) && took < Duration::from_secs(5),
            "{took:?}"
        );
        assert!(matches!(ws.read(), Err(Error::ConnectionClosed)));
    });
    let (mut tcp, mut conn) = silent_client(&url);
    let mut pings = 0;
    let mut buf = [0u8; 64];
    loop {
        let n = tcp.read(&mut buf).unwrap();
        if n == 0 {
            break; // the server shut its write side down
        }
        conn.receive(&buf[..n]);
        while let Ok(Some(event)) = conn.next_event() {
            pings += matches!(event, ferrosocket::Event::Ping(_)) as usize;
        }
    }
    assert_eq!(pings, 1, "one ping, then the pong deadline");
    handle.join().unwrap();

    // A live peer answers from within its reads: nothing ends.
    let (url, handle) = server(|stream| {
        let mut ws = blocking::accept(stream).unwrap();
        ws.set_heartbeat(Duration::from_millis(20), Duration::from_millis(200));
        echo_until_close(&mut ws);
    });
    let (mut ws, _) = blocking::connect(&url).unwrap();
    for n in 0..10 {
        thread::sleep(Duration::from_millis(30));
        ws.send(Message::text(format!("{n}"))).unwrap();
        // The server's pings come between; they are answered for us.
        let reply = loop {
            match ws.read().unwrap() {
                Message::Ping(_) => continue,
                other => break other,
            }
        };
        assert_eq!(reply, Message::text(format!("{n}")));
    }
    ws.close(1000, "").unwrap();
    loop {
        match ws.read() {
            Ok(Message::Ping(_)) => continue, // a ping that crossed our Close
            other => break assert!(matches!(other, Ok(Message::Close(_))), "{other:?}"),
        }
    }
    handle.join().unwrap();
}

fn echo_until_close(ws: &mut WebSocket<TcpStream>) {
    loop {
        match ws.read().unwrap() {
            m @ (Message::Text(_) | Message::Binary(_)) => ws.send(m).unwrap(),
            Message::Close(_) => return,
            _ => {}
        }
    }
}

#[test]
fn the_handshake_deadline_ends_a_client_that_sends_nothing() {
    use std::io::Read;
    use std::time::Instant;
    let (url, handle) = server(|stream| {
        let started = Instant::now();
        let config = Config::default().handshake_timeout(Duration::from_millis(200));
        match blocking::accept_with(stream, config, |_| Ok(Accept::new())) {
            Err(Error::TimedOut(ferrosocket::Timeout::Handshake)) => {}
            other => panic!("{:?}", other.map(|_| ())),
        }
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(200) && took < Duration::from_secs(5),
            "{took:?}"
        );
    });
    let request = ClientRequest::new(&url).unwrap();
    let mut tcp = TcpStream::connect((request.host(), request.port())).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // Half a request, then silence.
    std::io::Write::write_all(&mut tcp, b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    assert_eq!(tcp.read(&mut [0u8; 16]).unwrap(), 0, "the server let go");
    handle.join().unwrap();
}
