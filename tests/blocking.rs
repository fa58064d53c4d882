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
