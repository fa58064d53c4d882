//! A server that fails a connection while the peer is still sending must keep reading (and
//! discarding) until the peer answers, so the peer reads the Close frame and its code instead
//! of a reset. Each adapter is driven by a raw client that floods megabytes after the fault.
#![cfg(all(feature = "tokio", feature = "async-std", feature = "blocking"))]

mod util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ferrosocket::{
    Accept, CapacityError, ClientRequest, CloseCode, Config, Connection, Error, Event, ProtocolError,
};
use util::client_frame;

/// What the flooding client sends first: the fault, and the close code it must read back.
struct Fault {
    bytes: Vec<u8>,
    code: CloseCode,
}

/// A header announcing a binary frame as long as the flood that follows (8 MiB, over the
/// servers' 1 MiB limit): the flood is its payload.
fn oversized() -> Fault {
    let mut bytes = vec![0x82, 0x80 | 127];
    bytes.extend_from_slice(&(flood().len() as u64).to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 0]); // a zero mask key: payload bytes go as they are
    Fault {
        bytes,
        code: CloseCode::MESSAGE_TOO_BIG,
    }
}

/// A text message that is not UTF-8.
fn bad_utf8() -> Fault {
    Fault {
        bytes: client_frame(0x81, &[b'o', b'k', 0xff, 0xfe]),
        code: CloseCode::INVALID_PAYLOAD,
    }
}

/// A continuation frame with no message to continue.
fn protocol_error() -> Fault {
    Fault {
        bytes: client_frame(0x80, b"orphan"),
        code: CloseCode::PROTOCOL_ERROR,
    }
}

fn server_config() -> Config {
    Config::default()
        .max_message_size(1 << 20)
        .close_timeout(Duration::from_secs(10))
}

/// The bytes a client floods with after its fault: 8 MiB of masked binary messages.
fn flood() -> Vec<u8> {
    let message = client_frame(0x82, &[0x5a; 64 << 10]);
    message.repeat(128)
}

/// Connects, upgrades, sends the fault, then floods: all of it in one blocking write before
/// it reads anything, as a peer that hands one large message to the kernel does (Node's
/// `ws` with a 64 MiB send). Like `ws`, it gives up on the connection when that write fails:
/// a server that closed with the flood unread made its kernel answer with a reset, and its
/// Close frame is lost. Returns the code of the Close frame the server sent, after answering
/// it.
fn flooding_client(addr: SocketAddr, fault: &Fault) -> Option<CloseCode> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut conn = Connection::client(
        ClientRequest::new(&format!("ws://{addr}/")).unwrap(),
        Config::default(),
    );
    stream.write_all(&conn.take_outgoing()).unwrap();
    let mut buf = vec![0u8; 64 << 10];
    while conn.state() == ferrosocket::State::Connecting {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the server hung up during the handshake");
        conn.receive(&buf[..n]);
        while let Some(event) = conn.next_event().unwrap() {
            assert!(matches!(event, Event::Open(_)));
        }
    }
    let mut bytes = fault.bytes.clone();
    bytes.extend_from_slice(&flood());
    stream.write_all(&bytes).ok()?;
    let code = loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => n,
        };
        conn.receive(&buf[..n]);
        if let Ok(Some(Event::Close(frame))) = conn.next_event() {
            break frame.code;
        }
    };
    // Answer the server's Close (the engine queued the reply), then read to the end.
    let _ = stream.write_all(&conn.take_outgoing());
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
    Some(code)
}

/// Runs one fault against a server; `serve` accepts one connection on the listener and
/// returns the error the server reported.
fn check(fault: Fault, serve: impl FnOnce(std::net::TcpListener) -> Error + Send + 'static) -> Error {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done, server_error) = mpsc::channel();
    thread::spawn(move || done.send(serve(listener)).unwrap());
    let code = flooding_client(addr, &fault);
    assert_eq!(
        code,
        Some(fault.code),
        "the client must read the server's close code"
    );
    server_error.recv_timeout(Duration::from_secs(30)).unwrap()
}

fn tokio_server(listener: std::net::TcpListener) -> Error {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let ws = ferrosocket::tokio::accept_with(stream, server_config(), |_| Ok(Accept::new()))
            .await
            .unwrap();
        first_error(ws).await
    })
}

fn async_std_server(listener: std::net::TcpListener) -> Error {
    async_std::task::block_on(async move {
        let listener = async_std::net::TcpListener::from(listener);
        let (stream, _) = listener.accept().await.unwrap();
        let ws = ferrosocket::futures_io::accept_with(stream, server_config(), |_| Ok(Accept::new()))
            .await
            .unwrap();
        first_error(ws).await
    })
}

/// Reads messages until the stream reports its failure.
async fn first_error(
    mut ws: impl futures_util::Stream<Item = ferrosocket::Result<ferrosocket::Message>> + Unpin,
) -> Error {
    use futures_util::StreamExt;
    loop {
        match ws.next().await {
            Some(Ok(_)) => continue,
            Some(Err(e)) => return e,
            None => panic!("the stream ended without reporting the failure"),
        }
    }
}

fn blocking_server(listener: std::net::TcpListener) -> Error {
    let (stream, _) = listener.accept().unwrap();
    let mut ws = ferrosocket::blocking::accept_with(stream, server_config(), |_| Ok(Accept::new())).unwrap();
    loop {
        if let Err(e) = ws.read() {
            return e;
        }
    }
}

fn is_too_big(error: &Error) -> bool {
    matches!(error, Error::Capacity(CapacityError::FrameTooLarge { .. }))
}

fn is_orphan(error: &Error) -> bool {
    matches!(error, Error::Protocol(ProtocolError::UnexpectedContinuation))
}

#[test]
fn tokio_server_fails_and_the_flooding_peer_reads_the_code() {
    assert!(is_too_big(&check(oversized(), tokio_server)));
    assert!(matches!(check(bad_utf8(), tokio_server), Error::InvalidUtf8));
    assert!(is_orphan(&check(protocol_error(), tokio_server)));
}

#[test]
fn async_std_server_fails_and_the_flooding_peer_reads_the_code() {
    assert!(is_too_big(&check(oversized(), async_std_server)));
    assert!(matches!(check(bad_utf8(), async_std_server), Error::InvalidUtf8));
    assert!(is_orphan(&check(protocol_error(), async_std_server)));
}

#[test]
fn blocking_server_fails_and_the_flooding_peer_reads_the_code() {
    assert!(is_too_big(&check(oversized(), blocking_server)));
    assert!(matches!(check(bad_utf8(), blocking_server), Error::InvalidUtf8));
    assert!(is_orphan(&check(protocol_error(), blocking_server)));
}

/// A peer that never answers the Close is let go after the close timeout.
#[test]
fn a_silent_peer_is_dropped_after_the_close_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            listener.set_nonblocking(true).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            let config = server_config().close_timeout(Duration::from_millis(300));
            let mut ws = ferrosocket::tokio::accept_with(stream, config, |_| Ok(Accept::new()))
                .await
                .unwrap();
            let started = std::time::Instant::now();
            let error = loop {
                match ws.next().await {
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => break e,
                    None => panic!("the failure was not reported"),
                }
            };
            (error, started.elapsed())
        })
    });
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut conn = Connection::client(
        ClientRequest::new(&format!("ws://{addr}/")).unwrap(),
        Config::default(),
    );
    stream.write_all(&conn.take_outgoing()).unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    conn.receive(&buf[..n]);
    assert!(matches!(conn.next_event(), Ok(Some(Event::Open(_)))));
    // The fault, then silence: no Close answer, no end of stream.
    stream.write_all(&protocol_error().bytes).unwrap();
    let (error, elapsed) = server.join().unwrap();
    assert!(is_orphan(&error));
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}
