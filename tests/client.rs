//! The client toolkit's `Connector` on the runtimes other than tokio (tokio's is covered in
//! `async_adapters.rs`): through an HTTP `CONNECT` proxy (with credentials, and one that
//! refuses) and across redirects, with the blocking and the smol connectors.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ferrosocket::client::Connector;
use ferrosocket::{blocking, ClientRequest, Error, HandshakeError, Message};

/// An echo server on its own threads, one per connection; its `ws://` URL.
fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            thread::spawn(move || {
                let Ok(mut ws) = blocking::accept(stream) else {
                    return;
                };
                while let Ok(message) = ws.read() {
                    if message.is_data() && ws.send(message).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// Reads an HTTP head byte by byte.
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A `CONNECT` proxy for one connection: it sends each request head it gets to `heads`,
/// answers `answer`, and, for a 200, relays bytes both ways. Its address.
fn proxy(answer: &'static str, heads: mpsc::Sender<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let head = read_head(&mut client);
        let target = head.split(' ').nth(1).unwrap().to_owned();
        heads.send(head).unwrap();
        if !answer.starts_with("HTTP/1.1 200") {
            client.write_all(answer.as_bytes()).unwrap();
            return;
        }
        let upstream = TcpStream::connect(target).unwrap();
        client.write_all(answer.as_bytes()).unwrap();
        let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
        let (mut down_read, mut down_write) = (client.try_clone().unwrap(), client);
        thread::spawn(move || std::io::copy(&mut down_read, &mut up_write));
        let _ = std::io::copy(&mut up_read, &mut down_write);
    });
    address
}

/// A server that answers every upgrade request with a 302 to `to`; its `ws://` URL.
fn redirector(to: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/old", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            read_head(&mut stream);
            let answer = format!("HTTP/1.1 302 Found\r\nLocation: {to}/new\r\nContent-Length: 0\r\n\r\n");
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    url
}

fn request(url: &str) -> ClientRequest {
    ClientRequest::new(url).unwrap()
}

fn assert_refused(result: Result<impl std::fmt::Debug, Error>, status: u16) {
    match result {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => assert_eq!(response.status, status),
        other => panic!("expected a {status}: {other:?}"),
    }
}

const OPEN: &str = "HTTP/1.1 200 Connection established\r\n\r\n";
const REFUSED: &str = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n";

#[test]
fn blocking_connector_tunnels_through_a_proxy() {
    let url = echo_server();
    let (heads, seen) = mpsc::channel();
    let connector = Connector::new(request(&url)).proxy(proxy(OPEN, heads), Some("Basic dTpw"));
    let (mut ws, _) = connector.connect_blocking().unwrap();
    let head = seen.recv().unwrap();
    assert!(
        head.starts_with(&format!("CONNECT {} HTTP/1.1\r\n", &url[5..])),
        "{head}"
    );
    assert!(head.contains("Proxy-Authorization: Basic dTpw\r\n"), "{head}");
    ws.send(Message::text("through the tunnel")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("through the tunnel"));
    ws.close(1000, "").unwrap();

    let (heads, _seen) = mpsc::channel();
    let refused = Connector::new(request(&url)).proxy(proxy(REFUSED, heads), None);
    assert_refused(refused.connect_blocking(), 407);
}

#[test]
fn blocking_connector_follows_redirects_when_asked() {
    let url = redirector(echo_server());
    assert_refused(Connector::new(request(&url)).connect_blocking(), 302);
    let (mut ws, _) = Connector::new(request(&url))
        .follow_redirects(2)
        .timeout(Some(Duration::from_secs(5)))
        .connect_blocking()
        .unwrap();
    ws.send(Message::text("moved")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("moved"));
    // A redirect loop gives up after the allowed count.
    let looping = redirector(String::new()); // Location: /new, on itself
    assert_refused(
        Connector::new(request(&looping))
            .follow_redirects(3)
            .connect_blocking(),
        302,
    );
}

#[test]
fn smol_connector_tunnels_and_follows_redirects() {
    let url = echo_server();
    smol::block_on(async {
        let (heads, seen) = mpsc::channel();
        let connector = Connector::new(request(&url)).proxy(proxy(OPEN, heads), Some("Basic dTpw"));
        let (mut ws, _) = connector.connect_smol().await.unwrap();
        assert!(seen
            .recv()
            .unwrap()
            .contains("Proxy-Authorization: Basic dTpw\r\n"));
        ws.send(Message::text("smol, tunnelled")).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text("smol, tunnelled")
        );
        ws.close(1000, "").await.unwrap();

        let (heads, _seen) = mpsc::channel();
        let refused = Connector::new(request(&url)).proxy(proxy(REFUSED, heads), None);
        assert_refused(refused.connect_smol().await, 407);

        let moved = redirector(url.clone());
        assert_refused(Connector::new(request(&moved)).connect_smol().await, 302);
        let (mut ws, _) = Connector::new(request(&moved))
            .follow_redirects(1)
            .connect_smol()
            .await
            .unwrap();
        ws.send(Message::text("moved")).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("moved"));
    });
}

#[test]
fn async_std_connector_follows_a_redirect() {
    let url = redirector(echo_server());
    async_std::task::block_on(async {
        let (mut ws, _) = Connector::new(request(&url))
            .follow_redirects(1)
            .connect_async_std()
            .await
            .unwrap();
        ws.send(Message::text("moved")).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("moved"));
    });
}
