//! `wss://`: a TLS echo server and a client in one program, over `tokio-rustls`.
//!
//! ```text
//! cargo run --example tls_echo
//! ```
//! A self-signed certificate for `localhost` is generated at start and trusted by the client.
//! The WebSocket layer is the same as over plain TCP: the adapters take any
//! `AsyncRead + AsyncWrite` stream, so TLS is a wrapper around the socket.

use std::sync::Arc;

use ferrosocket::{ClientRequest, Config, Message};
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));

    // Server: TLS, then the WebSocket handshake on the decrypted stream.
    let server_tls = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)?;
    let acceptor = TlsAcceptor::from(Arc::new(server_tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("tls_echo listening on wss://localhost:{}", addr.port());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let tls = acceptor.accept(tcp).await?;
                let mut ws = ferrosocket::tokio::accept(tls).await?;
                while let Some(message) = ws.next().await {
                    let message = message?;
                    if message.is_data() {
                        ws.send(message).await?;
                    }
                }
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            });
        }
    });

    // Client: trust the self-signed certificate, connect TLS, then the WebSocket handshake.
    let mut roots = RootCertStore::empty();
    roots.add(cert)?;
    let client_tls = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(client_tls));
    let request = ClientRequest::new(&format!("wss://localhost:{}/", addr.port()))?;
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let tls = connector.connect(ServerName::try_from("localhost")?, tcp).await?;
    let (mut ws, _) = ferrosocket::tokio::client(tls, request, Config::default()).await?;

    ws.send(Message::text("hello over TLS")).await?;
    let reply = ws.next().await.ok_or("connection closed")??;
    println!("echoed: {reply:?}");
    ws.close(1000, "").await?;
    while ws.next().await.is_some() {}
    Ok(())
}
