//! The open server toolkit: any listener (TLS, a Unix socket), async `verify`, the
//! failed-handshake hook, the reader as a `Stream`, and connections upgraded by axum (over
//! HTTP/1.1 and HTTP/2) adopted into the same client set for broadcast.
#![cfg(all(feature = "axum", feature = "rustls"))]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::any;
use bytes::Bytes;
use ferrosocket::axum::WebSocketUpgrade;
use ferrosocket::server::{HandshakeFailure, Server, ServerHandle};
use ferrosocket::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use ferrosocket::tls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use ferrosocket::{tokio as tws, Accept, ClientRequest, Config, Error, HandshakeError, Message, Response};
use futures_util::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Echoes every message each accepted connection sends, reading through the `Stream` impl.
fn echo_all(mut server: Server) {
    tokio::spawn(async move {
        while let Some(incoming) = server.accept().await {
            let (mut reader, client) = (incoming.reader, incoming.client);
            tokio::spawn(async move {
                while let Some(Ok(message)) = StreamExt::next(&mut reader).await {
                    if message.is_data() {
                        let _ = client.send(message);
                    }
                }
            });
        }
    });
}

#[tokio::test]
async fn serves_wss_through_a_tls_acceptor() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let tls = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let server = Server::builder()
        .tls(tokio_rustls::TlsAcceptor::from(Arc::new(tls)))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let port = server.local_addr().unwrap().port();
    echo_all(server);

    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client_tls = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let request = ClientRequest::new(&format!("wss://localhost:{port}/secure")).unwrap();
    let (mut ws, _) = tws::Connector::new(request)
        .tls(Arc::new(client_tls))
        .connect()
        .await
        .unwrap();
    for message in [Message::text("over TLS"), Message::binary(vec![9u8; 200_000])] {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), message);
    }
}

#[cfg(unix)]
#[tokio::test]
async fn serves_a_unix_socket_beside_tcp() {
    let dir = std::env::temp_dir().join(format!("ferrosocket-toolkit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ws.sock");
    let _ = std::fs::remove_file(&path);
    let mut server = Server::builder().bind("127.0.0.1:0").await.unwrap();
    server.add_listener(tokio::net::UnixListener::bind(&path).unwrap());
    let tcp_port = server.local_addr().unwrap().port();
    let clients = server.clients().clone();
    let (peers, mut peer_seen) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(incoming) = server.accept().await {
            peers.send(incoming.peer.addr).unwrap();
            let (mut reader, client) = (incoming.reader, incoming.client);
            tokio::spawn(async move {
                while let Some(Ok(message)) = reader.next().await {
                    if message.is_data() {
                        let _ = client.send(message);
                    }
                }
            });
        }
    });

    let unix = tokio::net::UnixStream::connect(&path).await.unwrap();
    let request = ClientRequest::new("ws://localhost/over-unix").unwrap();
    let (mut over_unix, _) = tws::client(unix, request, Config::default()).await.unwrap();
    assert_eq!(
        peer_seen.recv().await.unwrap(),
        None,
        "a Unix peer has no IP address"
    );
    let (mut over_tcp, _) = tws::connect(&format!("ws://127.0.0.1:{tcp_port}/"))
        .await
        .unwrap();
    assert!(peer_seen.recv().await.unwrap().is_some());

    over_unix.send(Message::text("unix")).await.unwrap();
    assert_eq!(over_unix.next().await.unwrap().unwrap(), Message::text("unix"));
    // One client set for both transports.
    assert_eq!(clients.len(), 2);
    assert_eq!(clients.broadcast(&Message::text("to all")), 2);
    assert_eq!(over_unix.next().await.unwrap().unwrap(), Message::text("to all"));
    assert_eq!(over_tcp.next().await.unwrap().unwrap(), Message::text("to all"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Failures the hook saw: the error and whether the request was read.
type Seen = Arc<Mutex<Vec<HandshakeFailure>>>;

#[tokio::test]
async fn async_verify_refuses_with_401_and_the_hook_hears_every_failure() {
    let seen: Seen = Arc::default();
    let hook = Arc::clone(&seen);
    let server = Server::builder()
        .handshake_timeout(Duration::from_millis(300))
        .verify_async(|request, _peer| {
            let token = request.headers.get("authorization").map(str::to_owned);
            async move {
                // A lookup that takes a while, as a database would.
                tokio::time::sleep(Duration::from_millis(20)).await;
                match token.as_deref() {
                    Some("Bearer good") => Ok(Accept::new().header("X-User", "alice")),
                    _ => Err(Response::new(401)
                        .header("WWW-Authenticate", "Bearer")
                        .body("who are you?")),
                }
            }
        })
        .on_handshake_error(move |failure| hook.lock().unwrap().push(failure))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    echo_all(server);

    let with = |token: &str| {
        ClientRequest::new(&format!("ws://{addr}/"))
            .unwrap()
            .header("Authorization", token.to_owned())
    };
    match tws::connect_with(with("Bearer bad"), Config::default(), None).await {
        Err(Error::Handshake(HandshakeError::Rejected(response))) => {
            assert_eq!(response.status, 401);
            assert_eq!(response.headers.get("www-authenticate"), Some("Bearer"));
            assert_eq!(&response.body[..], b"who are you?");
        }
        other => panic!("expected a 401, got {:?}", other.map(|(_, r)| r)),
    }
    let (mut ws, response) = tws::connect_with(with("Bearer good"), Config::default(), None)
        .await
        .unwrap();
    assert_eq!(response.headers.get("x-user"), Some("alice"));
    ws.send(Message::text("in")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("in"));

    // Not an upgrade at all, then a client that never sends its request.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    plain.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 400"));
    let _silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "{seen:?}");
    match &seen[0].error {
        Error::Handshake(HandshakeError::Rejected(response)) => assert_eq!(response.status, 401),
        other => panic!("{other:?}"),
    }
    assert_eq!(seen[0].request.as_ref().map(|r| r.path()), Some("/"));
    assert!(seen[0].peer.addr.unwrap().ip().is_loopback());
    assert!(matches!(
        seen[1].error,
        Error::Handshake(HandshakeError::MissingHeader(_))
    ));
    match &seen[2].error {
        Error::Io(e) => assert_eq!(e.kind(), std::io::ErrorKind::TimedOut),
        other => panic!("{other:?}"),
    }
    assert!(seen[2].request.is_none());
}

/// An axum app whose upgrades are adopted by `server`; answers over HTTP/1.1 and HTTP/2.
async fn axum_front(server: ServerHandle) -> std::net::SocketAddr {
    let app = axum::Router::new().route(
        "/room",
        any(move |upgrade: WebSocketUpgrade| {
            let server = server.clone();
            async move {
                let request = upgrade.request().clone();
                upgrade.on_upgrade(move |socket| async move {
                    let incoming = server.adopt(socket, request, None);
                    let _ = server.submit(incoming).await;
                })
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn connections_upgraded_by_axum_join_the_servers_clients() {
    let mut server = Server::builder()
        .heartbeat(Duration::from_secs(30), Duration::from_secs(30))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let own_port = server.local_addr().unwrap().port();
    let front = axum_front(server.handle()).await;
    let clients = server.clients().clone();
    let (arrived, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(incoming) = server.accept().await {
            arrived.send(incoming.request.path().to_owned()).unwrap();
            // Keep the reader alive (it untracks the client when dropped).
            tokio::spawn(async move {
                let mut reader = incoming.reader;
                while reader.next().await.is_some() {}
            });
        }
    });

    let (mut direct, _) = tws::connect(&format!("ws://127.0.0.1:{own_port}/direct"))
        .await
        .unwrap();
    let (mut over_http1, _) = tws::connect(&format!("ws://{front}/room")).await.unwrap();
    let tcp = tokio::net::TcpStream::connect(front).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake::<_, http_body_util::Empty<Bytes>>(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = ClientRequest::new(&format!("ws://{front}/room")).unwrap();
    let (mut over_http2, _) = ferrosocket::hyper::connect_http2(&mut sender, &request, Config::default())
        .await
        .unwrap();

    let mut paths = Vec::new();
    for _ in 0..3 {
        paths.push(arrivals.recv().await.unwrap());
    }
    paths.sort();
    assert_eq!(paths, ["/direct", "/room", "/room"]);
    assert_eq!(clients.len(), 3);
    assert_eq!(clients.broadcast(&Message::text("everyone")), 3);
    assert_eq!(direct.next().await.unwrap().unwrap(), Message::text("everyone"));
    assert_eq!(
        over_http1.next().await.unwrap().unwrap(),
        Message::text("everyone")
    );
    assert_eq!(
        over_http2.next().await.unwrap().unwrap(),
        Message::text("everyone")
    );
}
