//! `wss://` over tokio-rustls with a certificate generated in the test.
#![cfg(feature = "tokio")]

use std::sync::Arc;

use ferrosocket::deflate::DeflateConfig;
use ferrosocket::{ClientRequest, Config, Message};
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
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
