//! `wss://` over tokio-rustls with a certificate generated in the test.
#![cfg(all(feature = "tokio", feature = "rustls"))]

use std::sync::Arc;

mod util;

use ferrosocket::deflate::DeflateConfig;
use ferrosocket::tokio::{Connector, MaybeTlsStream};
use ferrosocket::{ClientRequest, Config, Error, Message};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

#[tokio::test]
async fn wss_echo_with_compression_and_large_messages() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let server_tls = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(server_tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::default().permessage_deflate(DeflateConfig::default());
    let server_config = config.clone();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = acceptor.accept(tcp).await.unwrap();
        let mut ws = ferrosocket::tokio::accept_with(tls, server_config, |_| Ok(Default::default()))
            .await
            .unwrap();
        while let Some(Ok(message)) = ws.next().await {
            if message.is_data() {
                ws.send(message).await.unwrap();
            }
        }
    });

    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client_tls = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = TlsConnector::from(Arc::new(client_tls))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let request = ClientRequest::new(&format!("wss://localhost:{}/", addr.port())).unwrap();
    let (mut ws, _) = ferrosocket::tokio::client(tls, request, config).await.unwrap();
    assert!(ws.connection().permessage_deflate().is_some());
    for message in [
        Message::text("κόσμε over TLS"),
        Message::binary(vec![7u8; 3 << 20]),
        Message::text("{\"k\":1}".repeat(50_000)),
    ] {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), message);
    }
    ws.close(1000, "").await.unwrap();
    assert!(matches!(ws.next().await, Some(Ok(Message::Close(_)))));
}

/// A CA generated for the test, and a server certificate for `localhost` and 127.0.0.1
/// signed by it.
struct TestPki {
    ca: CertificateDer<'static>,
    ca_pem: String,
    server: ServerConfig,
}

fn test_pki() -> TestPki {
    let ca = util::pki::TestCa::new();
    let server = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(ca.chain.clone(), ca.key())
        .unwrap();
    TestPki {
        ca: ca.ca,
        ca_pem: ca.ca_pem,
        server,
    }
}

/// Trusts only the test CA.
fn client_tls(pki: &TestPki) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    Arc::new(
        ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A wss echo server (any number of connections) on a thread of its own; its port.
fn wss_echo_server(pki: &TestPki) -> u16 {
    let acceptor = TlsAcceptor::from(Arc::new(pki.server.clone()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut ws) = ferrosocket::tokio::accept(tls).await else {
                        return;
                    };
                    while let Some(Ok(message)) = ws.next().await {
                        if message.is_data() && ws.send(message).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
    });
    port
}

async fn echo_once(
    ws: &mut ferrosocket::tokio::WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    text: &'static str,
) {
    ws.send(Message::text(text)).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(text));
}

#[tokio::test]
async fn the_connector_speaks_wss_with_the_given_roots() {
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    for host in ["localhost", "127.0.0.1"] {
        let request = ClientRequest::new(&format!("wss://{host}:{port}/")).unwrap();
        let (mut ws, response) = Connector::new(request)
            .tls(client_tls(&pki))
            .connect()
            .await
            .unwrap();
        assert_eq!(response.status, 101);
        assert!(matches!(ws.get_ref().0, MaybeTlsStream::Rustls(_)), "{host}");
        echo_once(&mut ws, "κόσμε over wss").await;
        ws.close(1000, "").await.unwrap();
    }
}

#[tokio::test]
async fn default_roots_refuse_a_server_they_do_not_trust() {
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    let error = ferrosocket::tokio::connect(&format!("wss://localhost:{port}/"))
        .await
        .unwrap_err();
    let Error::Io(io) = error else {
        panic!("expected the TLS handshake's I/O error, got {error:?}")
    };
    let cause = io
        .get_ref()
        .and_then(|e| e.downcast_ref::<tokio_rustls::rustls::Error>());
    assert!(
        matches!(cause, Some(tokio_rustls::rustls::Error::InvalidCertificate(_))),
        "{io:?}"
    );
}

#[tokio::test]
async fn wss_runs_inside_a_proxy_tunnel() {
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    let (proxy_addr, proxy_task) = tls_only_proxy().await;
    let request = ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap();
    let (mut ws, _) = Connector::new(request)
        .proxy(proxy_addr.to_string(), None)
        .tls(client_tls(&pki))
        .connect()
        .await
        .unwrap();
    echo_once(&mut ws, "tunnelled").await;
    ws.close(1000, "").await.unwrap();
    while ws.next().await.is_some() {}
    drop(ws);
    assert_eq!(proxy_task.await.unwrap(), format!("localhost:{port}"));
}

/// An HTTP CONNECT proxy for one tunnel that checks that only TLS passes through it; returns
/// the target it was asked for.
async fn tls_only_proxy() -> (std::net::SocketAddr, tokio::task::JoinHandle<String>) {
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = proxy.local_addr().unwrap();
    let task = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut client, _) = proxy.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(client.read_u8().await.unwrap());
        }
        let head = String::from_utf8(head).unwrap();
        let target = head.split(' ').nth(1).unwrap().to_owned();
        let mut upstream = tokio::net::TcpStream::connect(target.replace("localhost", "127.0.0.1"))
            .await
            .unwrap();
        client.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        // The proxy sees only TLS records after its own answer.
        let mut first = [0u8; 1];
        client.read_exact(&mut first).await.unwrap();
        assert_eq!(first[0], 0x16, "a TLS handshake record, not an HTTP request");
        upstream.write_all(&first).await.unwrap();
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        target
    });
    (proxy_addr, task)
}

#[tokio::test]
async fn reconnecting_over_wss() {
    use ferrosocket::tokio::{Backoff, Reconnect, Reconnecting};
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    let request = ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap();
    let mut client = Reconnecting::new(Connector::new(request).tls(client_tls(&pki)), Backoff::default());
    assert!(matches!(client.next().await, Some(Ok(Reconnect::Connected(_)))));
    client.send(Message::text("again")).await.unwrap();
    match client.next().await {
        Some(Ok(Reconnect::Message(message))) => assert_eq!(message, Message::text("again")),
        other => panic!("expected the echo, got {other:?}"),
    }
    client.close(1000, "").await.unwrap();
}

#[test]
fn the_blocking_client_speaks_wss() {
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    let request = ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap();
    let (mut ws, _) = ferrosocket::blocking::connect_tls(
        request,
        Config::default(),
        Some(std::time::Duration::from_secs(10)),
        Some(client_tls(&pki).into()),
    )
    .unwrap();
    assert!(matches!(
        ws.get_ref(),
        ferrosocket::blocking::MaybeTlsStream::Rustls(_)
    ));
    for message in [Message::text("blocking wss"), Message::binary(vec![3u8; 1 << 20])] {
        ws.send(message.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), message);
    }
    ws.close(1000, "").unwrap();
    // Untrusted by the default roots.
    let error = ferrosocket::blocking::connect(&format!("wss://localhost:{port}/")).unwrap_err();
    assert!(matches!(error, Error::Io(_)), "{error:?}");
}

#[tokio::test]
async fn wscat_speaks_wss_with_an_extra_ca_through_a_proxy() {
    use tokio::io::AsyncWriteExt;
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    let ca_file = std::env::temp_dir().join(format!("ferrosocket-test-ca-{}.pem", std::process::id()));
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let (proxy_addr, proxy_task) = tls_only_proxy().await;
    let mut wscat = std::env::current_exe().unwrap();
    wscat.pop();
    if wscat.ends_with("deps") {
        wscat.pop();
    }
    let mut child = tokio::process::Command::new(wscat.join("examples").join("wscat"))
        .arg(format!("wss://localhost:{port}/"))
        .args(["--ca", ca_file.to_str().unwrap()])
        .args(["--proxy", &format!("http://{proxy_addr}")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all("secure line\n".as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    std::fs::remove_file(&ca_file).unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "secure line\n");
    assert_eq!(proxy_task.await.unwrap(), format!("localhost:{port}"));
}

#[test]
fn the_async_std_client_speaks_wss() {
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    async_std::task::block_on(async {
        let request = ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap();
        let (mut ws, _) = ferrosocket::async_std::connect_tls(
            request,
            Config::default(),
            Some(std::time::Duration::from_secs(10)),
            Some(client_tls(&pki).into()),
        )
        .await
        .unwrap();
        assert!(matches!(
            ws.get_ref().io,
            ferrosocket::futures_io::MaybeTlsStream::Rustls(_)
        ));
        let big = Message::binary(vec![9u8; 1 << 20]);
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), big);
        ws.close(1000, "").await.unwrap();
    });
}

/// native-tls trusting only the test CA (OpenSSL on Linux).
#[cfg(feature = "native-tls")]
fn native_tls(pki: &TestPki) -> ferrosocket::tls::native_tls::TlsConnector {
    use ferrosocket::tls::native_tls::{Certificate, TlsConnector};
    TlsConnector::builder()
        .disable_built_in_roots(true)
        .add_root_certificate(Certificate::from_der(&pki.ca).unwrap())
        .build()
        .unwrap()
}

#[cfg(feature = "native-tls")]
#[tokio::test]
async fn native_tls_in_the_connector_directly_and_through_a_proxy() {
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    let request = ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap();
    let (mut ws, _) = Connector::new(request.clone())
        .tls(native_tls(&pki))
        .connect()
        .await
        .unwrap();
    assert!(matches!(ws.get_ref().0, MaybeTlsStream::NativeTls(_)));
    echo_once(&mut ws, "native TLS").await;
    let big = Message::binary(vec![5u8; 1 << 20]);
    ws.send(big.clone()).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), big);
    ws.close(1000, "").await.unwrap();

    let (proxy_addr, proxy_task) = tls_only_proxy().await;
    let (mut ws, _) = Connector::new(request)
        .proxy(proxy_addr.to_string(), None)
        .tls(native_tls(&pki))
        .connect()
        .await
        .unwrap();
    echo_once(&mut ws, "native TLS, tunnelled").await;
    ws.close(1000, "").await.unwrap();
    while ws.next().await.is_some() {}
    drop(ws);
    assert_eq!(proxy_task.await.unwrap(), format!("localhost:{port}"));

    // A connector that does not trust the test CA refuses the server.
    let untrusting = ferrosocket::tls::native_tls::TlsConnector::builder()
        .disable_built_in_roots(true)
        .build()
        .unwrap();
    let request = ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap();
    let error = Connector::new(request)
        .tls(untrusting)
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Io(_)), "{error:?}");
}

#[cfg(feature = "native-tls")]
#[test]
fn native_tls_in_the_blocking_and_async_std_clients() {
    use ferrosocket::tls::ClientTls;
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    let url = format!("wss://localhost:{port}/");
    let timeout = Some(std::time::Duration::from_secs(10));
    let tls = Some(ClientTls::from(native_tls(&pki)));
    let (mut ws, _) = ferrosocket::blocking::connect_tls(
        ClientRequest::new(&url).unwrap(),
        Config::default(),
        timeout,
        tls.clone(),
    )
    .unwrap();
    assert!(matches!(
        ws.get_ref(),
        ferrosocket::blocking::MaybeTlsStream::NativeTls(_)
    ));
    for message in [
        Message::text("blocking native TLS"),
        Message::binary(vec![4u8; 1 << 20]),
    ] {
        ws.send(message.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), message);
    }
    ws.close(1000, "").unwrap();

    async_std::task::block_on(async {
        let (mut ws, _) = ferrosocket::async_std::connect_tls(
            ClientRequest::new(&url).unwrap(),
            Config::default(),
            timeout,
            tls,
        )
        .await
        .unwrap();
        assert!(matches!(
            ws.get_ref().io,
            ferrosocket::futures_io::MaybeTlsStream::NativeTls(_)
        ));
        let big = Message::binary(vec![8u8; 1 << 20]);
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), big);
        ws.close(1000, "").await.unwrap();
    });
}

#[test]
fn the_smol_client_speaks_wss() {
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    smol::block_on(async {
        let request = ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap();
        let (mut ws, _) = ferrosocket::smol::connect_tls(
            request,
            Config::default(),
            Some(std::time::Duration::from_secs(10)),
            Some(client_tls(&pki).into()),
        )
        .await
        .unwrap();
        assert!(matches!(
            ws.get_ref().io,
            ferrosocket::futures_io::MaybeTlsStream::Rustls(_)
        ));
        let big = Message::binary(vec![6u8; 1 << 20]);
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), big);
        ws.close(1000, "").await.unwrap();
    });
}

/// A wss server that answers each message after `delay` (pings at once: it reads on
/// meanwhile): a client's read waits that long. One connection; its port.
fn slow_wss_echo_server(pki: &TestPki, delay: std::time::Duration) -> u16 {
    let acceptor = TlsAcceptor::from(Arc::new(pki.server.clone()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new().unwrap().block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = ferrosocket::tokio::accept(acceptor.accept(tcp).await.unwrap()).await.unwrap();
            // Reading goes on (and answers pings) while an echo waits for its time.
            let mut pending: Option<(tokio::time::Instant, Message)> = None;
            loop {
                let due = pending.as_ref().map(|(at, _)| *at);
                tokio::select! {
                    message = ws.next() => match message {
                        Some(Ok(message)) if message.is_data() => {
                            pending = Some((tokio::time::Instant::now() + delay, message));
                        }
                        Some(Ok(_)) => {}
                        _ => break,
                    },
                    () = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() => {
                        let (_, message) = pending.take().expect("a pending echo");
                        let _ = ws.send(message).await;
                    }
                }
            }
        });
    });
    port
}

#[cfg(feature = "compio")]
#[test]
fn the_compio_client_speaks_wss_and_pings_while_its_read_waits() {
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    compio::runtime::Runtime::new().unwrap().block_on(async {
        let connector = Connector::new(ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap())
            .tls(client_tls(&pki));
        let (mut ws, _) = connector.connect_compio().await.unwrap();
        for message in [
            Message::text("over TLS"),
            Message::binary((0..3 << 20).map(|i| (i % 253) as u8).collect::<Vec<u8>>()),
        ] {
            ws.send(message.clone()).await.unwrap();
            assert_eq!(ws.read().await.unwrap(), message);
        }
        ws.close(1000, "").await.unwrap();
        assert!(matches!(ws.read().await.unwrap(), Message::Close(_)));
    });

    // The halves share the TLS session: heartbeat pings go out (and their pongs come back)
    // while a read waits for the slow echo.
    let port = slow_wss_echo_server(&pki, std::time::Duration::from_millis(300));
    compio::runtime::Runtime::new().unwrap().block_on(async {
        let connector = Connector::new(ClientRequest::new(&format!("wss://127.0.0.1:{port}/")).unwrap())
            .tls(client_tls(&pki));
        let (mut ws, _) = connector.connect_compio().await.unwrap();
        ws.set_heartbeat(
            std::time::Duration::from_millis(20),
            std::time::Duration::from_millis(250),
        );
        ws.send(Message::text("slowly")).await.unwrap();
        let mut pongs = 0;
        let echo = loop {
            match ws.read().await.unwrap() {
                Message::Pong(_) => pongs += 1,
                other => break other,
            }
        };
        assert_eq!(echo, Message::text("slowly"));
        assert!(pongs >= 5, "pings went out while the read waited: {pongs} pongs");
        ws.close(1000, "").await.unwrap();
    });
}

#[cfg(all(feature = "compio", feature = "native-tls"))]
#[test]
fn the_compio_client_speaks_wss_over_native_tls() {
    let pki = test_pki();
    let port = wss_echo_server(&pki);
    compio::runtime::Runtime::new().unwrap().block_on(async {
        let connector = Connector::new(ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap())
            .tls(native_tls(&pki));
        let (mut ws, _) = connector.connect_compio().await.unwrap();
        let big = Message::binary(vec![7u8; 1 << 20]);
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.read().await.unwrap(), big);
        ws.close(1000, "").await.unwrap();
        assert!(matches!(ws.read().await.unwrap(), Message::Close(_)));
    });
}
