//! The hyper integration: upgrades answered from a hyper service over HTTP/1.1 (101) and over
//! HTTP/2 extended CONNECT (RFC 8441, 200), echoing through the engine.
#![cfg(feature = "hyper")]

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use ferrosocket::deflate::{DeflateConfig, DeflateParams};
use ferrosocket::{
    Accept, ClientRequest, Config, Connection, Error, HandshakeError, Message, Response, Role,
};
use http_body_util::{Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

fn server_config() -> Config {
    Config::default().permessage_deflate(DeflateConfig::default())
}

/// Echoes on every upgrade; refuses `/private` with 401; chooses the first offered subprotocol.
async fn service(
    mut request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    if !ferrosocket::hyper::is_upgrade_request(&request) {
        return Ok(hyper::Response::new(Full::new(Bytes::from("plain HTTP"))));
    }
    let (response, socket) = ferrosocket::hyper::upgrade(&mut request, server_config(), |head| {
        if head.path() == "/private" {
            return Err(Response::new(401).body("token required"));
        }
        let mut accept = Accept::new();
        if let Some(first) = head.protocols().next() {
            accept = accept.protocol(first);
        }
        Ok(accept)
    });
    if let Some(socket) = socket {
        tokio::spawn(async move {
            let mut ws = socket.await.expect("hyper hands the connection over");
            while let Some(Ok(message)) = ws.next().await {
                if message.is_data() && ws.send(message).await.is_err() {
                    break;
                }
            }
        });
    }
    Ok(response)
}

/// Serves `service` with HTTP/1.1 (upgrades on) or HTTP/2 (extended CONNECT on).
async fn serve(http2: bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let io = TokioIo::new(tcp);
                let service = hyper::service::service_fn(service);
                if http2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .enable_connect_protocol()
                        .serve_connection(io, service)
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .with_upgrades()
                        .await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn http1_upgrade_with_subprotocol_and_compression() {
    let addr = serve(false).await;
    let request = ClientRequest::new(&format!("ws://{addr}/echo"))
        .unwrap()
        .protocol("v2")
        .protocol("v1");
    let (mut ws, response) = ferrosocket::tokio::connect_with(request, server_config(), None)
        .await
        .unwrap();
    assert_eq!(response.protocol(), Some("v2"));
    assert!(ws.connection().permessage_deflate().is_some());
    for message in [
        Message::text("κόσμε via hyper"),
        Message::binary(vec![1u8; 300_000]),
    ] {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), message);
    }
    ws.close(1000, "").await.unwrap();
}

#[tokio::test]
async fn http1_refusals_and_bad_requests_get_their_status() {
    let addr = serve(false).await;
    let refused = ferrosocket::tokio::connect(&format!("ws://{addr}/private")).await;
    match refused {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => {
            assert_eq!(response.status, 401);
            assert_eq!(&response.body[..], b"token required");
        }
        other => panic!("expected a 401, got {other:?}"),
    }
    // An upgrade without a key: 400 from the engine's validation.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut answer = vec![0u8; 256];
    let n = tcp.read(&mut answer).await.unwrap();
    assert!(
        answer[..n].starts_with(b"HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
}

/// An HTTP/2 client (prior knowledge) that opens a WebSocket with extended CONNECT.
async fn h2_connect(
    addr: SocketAddr,
    path: &str,
    extensions: Option<&str>,
) -> (
    hyper::Response<hyper::body::Incoming>,
    hyper::client::conn::http2::SendRequest<Empty<Bytes>>,
) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(hyper::Method::CONNECT)
        .uri(format!("http://{addr}{path}"))
        .header("sec-websocket-version", "13")
        .header("sec-websocket-protocol", "chat");
    if let Some(extensions) = extensions {
        request = request.header("sec-websocket-extensions", extensions);
    }
    let mut request = request.body(Empty::<Bytes>::new()).unwrap();
    request
        .extensions_mut()
        .insert(hyper::ext::Protocol::from_static("websocket"));
    let response = sender.send_request(request).await.unwrap();
    (response, sender)
}

#[tokio::test]
async fn http2_extended_connect_runs_the_engine_on_the_stream() {
    let addr = serve(true).await;
    for compressed in [false, true] {
        let offer = compressed.then_some("permessage-deflate");
        let (mut response, _sender) = h2_connect(addr, "/echo", offer).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
        assert!(response.headers().get("sec-websocket-accept").is_none());
        assert_eq!(
            response.headers().get("sec-websocket-extensions").is_some(),
            compressed
        );
        let upgraded = hyper::upgrade::on(&mut response).await.unwrap();
        let (config, deflate) = if compressed {
            (server_config(), Some(DeflateParams::default()))
        } else {
            (Config::default(), None)
        };
        let conn = Connection::open(Role::Client, config, deflate);
        let mut ws = ferrosocket::tokio::from_connection(TokioIo::new(upgraded), conn);
        for message in [
            Message::text("over an HTTP/2 stream"),
            Message::binary(vec![2u8; 200_000]),
        ] {
            ws.send(message.clone()).await.unwrap();
            assert_eq!(
                ws.next().await.unwrap().unwrap(),
                message,
                "compressed: {compressed}"
            );
        }
        ws.close(1000, "").await.unwrap();
        assert!(matches!(ws.next().await, Some(Ok(Message::Close(_)))));
    }
}

#[tokio::test]
async fn http2_refusal_is_the_deciders_response() {
    let addr = serve(true).await;
    let (response, _sender) = h2_connect(addr, "/private", None).await;
    assert_eq!(response.status(), 401);
}
