//! The axum extractor: an axum 0.8 app served by `axum::serve` answers WebSocket upgrades
//! over HTTP/1.1 and HTTP/2 extended CONNECT (RFC 8441, cleartext prior knowledge) on one
//! port, with and without permessage-deflate and subprotocols; what is not a valid upgrade
//! is refused with the status RFC 6455 asks for.
#![cfg(feature = "axum")]

use std::net::SocketAddr;

use axum::response::Response;
use axum::routing::any;
use axum::Router;
use bytes::Bytes;
use ferrosocket::axum::{WebSocket, WebSocketUpgrade};
use ferrosocket::deflate::DeflateConfig;
use ferrosocket::{ClientRequest, Config, Error, HandshakeError, Message};
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn deflate() -> Config {
    Config::default().permessage_deflate(DeflateConfig::default())
}

async fn chat(upgrade: WebSocketUpgrade) -> Response {
    let http2 = upgrade.is_extended_connect();
    upgrade
        .protocols(["superchat", "chat"])
        .header("x-served-over", if http2 { "h2" } else { "http/1.1" })
        .config(deflate())
        .on_upgrade(echo)
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.next().await {
        if message.is_data() && socket.send(message).await.is_err() {
            break;
        }
    }
}

async fn serve() -> SocketAddr {
    let app = Router::new().route("/chat", any(chat));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Each case: what the client offers, and what the server must have chosen.
const CASES: [(&[&str], Option<&str>, bool); 4] = [
    (&[], None, false),
    (&["chat", "superchat"], Some("chat"), false), // the client's order decides
    (&["other"], None, true),
    (&["superchat"], Some("superchat"), true),
];

fn messages() -> [Message; 3] {
    [
        Message::text("κόσμε through axum"),
        Message::binary(vec![7u8; 300_000]),
        Message::text("x".repeat(70_000)),
    ]
}

async fn exchange<S>(ws: &mut ferrosocket::tokio::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for message in messages() {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), message);
    }
    ws.close(1000, "done").await.unwrap();
    assert!(matches!(ws.next().await, Some(Ok(Message::Close(_))) | None));
}

fn request(addr: SocketAddr, offered: &[&str]) -> ClientRequest {
    offered.iter().fold(
        ClientRequest::new(&format!("ws://{addr}/chat")).unwrap(),
        |request, protocol| request.protocol(*protocol),
    )
}

#[tokio::test]
async fn http1_upgrades_with_and_without_compression_and_subprotocols() {
    let addr = serve().await;
    for (offered, chosen, compress) in CASES {
        let config = if compress { deflate() } else { Config::default() };
        let (mut ws, response) = ferrosocket::tokio::connect_with(request(addr, offered), config, None)
            .await
            .unwrap();
        assert_eq!(response.status, 101);
        assert_eq!(response.protocol(), chosen, "offered {offered:?}");
        assert_eq!(response.headers.get("x-served-over"), Some("http/1.1"));
        assert_eq!(ws.connection().permessage_deflate().is_some(), compress);
        exchange(&mut ws).await;
    }
}

/// A hyper HTTP/2 client connection (cleartext, prior knowledge) to `addr`.
async fn http2_client(addr: SocketAddr) -> hyper::client::conn::http2::SendRequest<Empty<Bytes>> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender
}

#[tokio::test]
async fn http2_extended_connect_on_the_same_port() {
    let addr = serve().await;
    // One HTTP/2 connection (prior knowledge) carries every WebSocket in turn.
    let mut sender = http2_client(addr).await;
    for (offered, chosen, compress) in CASES {
        let config = if compress { deflate() } else { Config::default() };
        let (mut ws, response) =
            ferrosocket::hyper::connect_http2(&mut sender, &request(addr, offered), config)
                .await
                .unwrap();
        assert_eq!(response.status, 200);
        assert!(!response.headers.contains("sec-websocket-accept"));
        assert_eq!(response.protocol(), chosen, "offered {offered:?}");
        assert_eq!(response.headers.get("x-served-over"), Some("h2"));
        assert_eq!(ws.connection().permessage_deflate().is_some(), compress);
        exchange(&mut ws).await;
    }
    // Two at once on the same connection.
    let (mut a, _) = ferrosocket::hyper::connect_http2(&mut sender, &request(addr, &[]), deflate())
        .await
        .unwrap();
    let (mut b, _) = ferrosocket::hyper::connect_http2(&mut sender, &request(addr, &[]), Config::default())
        .await
        .unwrap();
    a.send(Message::text("a")).await.unwrap();
    b.send(Message::text("b")).await.unwrap();
    assert_eq!(b.next().await.unwrap().unwrap(), Message::text("b"));
    assert_eq!(a.next().await.unwrap().unwrap(), Message::text("a"));
}

#[tokio::test]
async fn http2_refusal_reaches_the_client_typed() {
    let addr = serve().await;
    let mut sender = http2_client(addr).await;
    let wrong_path = ClientRequest::new(&format!("ws://{addr}/elsewhere")).unwrap();
    match ferrosocket::hyper::connect_http2(&mut sender, &wrong_path, Config::default()).await {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => assert_eq!(response.status, 404),
        other => panic!("expected a 404 refusal, got {:?}", other.map(|(_, r)| r)),
    }
}

/// Sends a raw HTTP/1.1 request and returns the status line and head.
async fn raw(addr: SocketAddr, request: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tcp.read(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn invalid_upgrades_are_refused_before_the_handler_runs() {
    let addr = serve().await;
    let head = "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    let plain = raw(addr, "GET /chat HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(plain.starts_with("HTTP/1.1 400"), "{plain}");
    let post = raw(
        addr,
        &format!("POST /chat HTTP/1.1\r\n{head}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0\r\n\r\n"),
    )
    .await;
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    let no_key = raw(
        addr,
        &format!("GET /chat HTTP/1.1\r\n{head}Sec-WebSocket-Version: 13\r\n\r\n"),
    )
    .await;
    assert!(no_key.starts_with("HTTP/1.1 400"), "{no_key}");
    let old = raw(
        addr,
        &format!("GET /chat HTTP/1.1\r\n{head}Sec-WebSocket-Version: 7\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
    )
    .await;
    assert!(old.starts_with("HTTP/1.1 426"), "{old}");
    assert!(
        old.to_ascii_lowercase().contains("sec-websocket-version: 13"),
        "{old}"
    );
}

#[tokio::test]
async fn failed_upgrade_reaches_the_hook() {
    // A handler that answers 101 but whose connection cannot be handed over: the request is
    // served by a hyper connection without upgrades, so hyper fails the upgrade.
    let (sender, mut failures) = tokio::sync::mpsc::unbounded_channel();
    let app = Router::new().route(
        "/chat",
        any(move |upgrade: WebSocketUpgrade| {
            let sender = sender.clone();
            async move {
                upgrade
                    .on_failed_upgrade(move |error: Error| sender.send(error.to_string()).unwrap())
                    .on_upgrade(|_| async { panic!("no WebSocket can arrive") })
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let service = hyper_util::service::TowerToHyperService::new(app);
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(tcp), service)
            .await; // no .with_upgrades()
    });
    let head = raw(
        addr,
        "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let error = tokio::time::timeout(std::time::Duration::from_secs(10), failures.recv())
        .await
        .expect("the hook is called")
        .unwrap();
    assert!(!error.is_empty());
}
