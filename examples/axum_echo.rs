//! An axum 0.8 echo server: every path answers WebSocket upgrades over HTTP/1.1 and over
//! HTTP/2 extended CONNECT (RFC 8441) on the same port — cleartext HTTP/2 with prior
//! knowledge is told apart per connection — and echoes every message.
//!
//! ```text
//! cargo run --release --example axum_echo -- 127.0.0.1:9001 [--max-message-size BYTES]
//!     [--tls CERT.pem KEY.pem [--http3]]
//! ```
//! Any valid permessage-deflate offer is accepted and the client's first subprotocol is
//! selected. With `--tls` the same is served over TLS with ALPN `h2` and `http/1.1`; with
//! `--http3` too, also over HTTP/3 (RFC 9220) on the same port number over UDP, ALPN `h3`,
//! with the same certificate. Prints
//! a `listening` line once bound, and one line per upgrade naming its HTTP version (HTTP/2
//! upgrades arrive as `CONNECT` with `:protocol websocket`). The Autobahn|Testsuite and the
//! interop suite drive it as the server under test.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::{response::Response, Router};
use ferrosocket::axum::{WebSocket, WebSocketUpgrade};
use ferrosocket::deflate::DeflateConfig;
use ferrosocket::stream::{AsyncTransport, WebSocketStream};
use ferrosocket::{http3, Accept, Config, Error};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

struct Options {
    addr: SocketAddr,
    max_message_size: usize,
    tls: Option<(String, String)>,
    http3: bool,
}

fn usage() -> ! {
    eprintln!("usage: axum_echo ADDR [--max-message-size BYTES] [--tls CERT.pem KEY.pem [--http3]]");
    std::process::exit(2);
}

fn options() -> Options {
    let mut addr = None;
    let mut max_message_size = 256 << 20;
    let mut tls = None;
    let mut http3 = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--max-message-size" => {
                max_message_size = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--tls" => match (args.next(), args.next()) {
                (Some(cert), Some(key)) => tls = Some((cert, key)),
                _ => usage(),
            },
            "--http3" => http3 = true,
            _ => addr = Some(arg.parse().unwrap_or_else(|_| usage())),
        }
    }
    if http3 && tls.is_none() {
        usage(); // HTTP/3 needs the certificate of --tls
    }
    Options {
        addr: addr.unwrap_or_else(|| usage()),
        max_message_size,
        tls,
        http3,
    }
}

async fn upgrade(upgrade: WebSocketUpgrade, max_message_size: usize) -> Response {
    let http = if upgrade.is_extended_connect() {
        "HTTP/2 CONNECT :protocol websocket"
    } else {
        "HTTP/1.1 Upgrade"
    };
    println!("upgrade over {http} at {}", upgrade.request().path());
    let first_offered = upgrade.offered_protocols().next().map(str::to_owned);
    upgrade
        .protocols(first_offered)
        .config(config(max_message_size))
        .on_failed_upgrade(|error| eprintln!("upgrade failed: {error}"))
        .on_upgrade(|socket: WebSocket| echo(socket))
}

fn config(max_message_size: usize) -> Config {
    Config::default()
        .max_message_size(max_message_size)
        .permessage_deflate(DeflateConfig::default())
}

/// Serves HTTP/3 WebSockets on UDP `addr` with the certificate and key of `--tls`.
fn serve_http3(
    addr: SocketAddr,
    cert: &Path,
    key: &Path,
    max_message_size: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let certs = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let limits = http3::Limits::default();
    let endpoint = quinn::Endpoint::server(http3::server_config(certs, key, &limits)?, addr)?;
    let first_offered = |request: &ferrosocket::Request| {
        println!(
            "upgrade over HTTP/3 CONNECT :protocol websocket at {}",
            request.path()
        );
        let first = request.protocols().next().map(str::to_owned);
        Ok(first.map_or_else(Accept::new, |protocol| Accept::new().protocol(protocol)))
    };
    let serving = http3::serve(
        endpoint,
        config(max_message_size),
        limits,
        first_offered,
        |socket, _| echo(socket),
    );
    tokio::spawn(serving);
    Ok(())
}

async fn echo<T: AsyncTransport>(mut socket: WebSocketStream<T>) {
    let result = async {
        while let Some(message) = socket.next().await {
            let message = message?;
            if message.is_data() {
                socket.feed(message).await?; // flushed in one write before the next read
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) | Err(Error::ConnectionClosed | Error::AlreadyClosed) => {}
        Err(e) => eprintln!("connection ended: {e}"),
    }
}

fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, Box<dyn std::error::Error>> {
    let certs = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options();
    let max_message_size = options.max_message_size;
    let app = Router::new().fallback(move |ws: WebSocketUpgrade| upgrade(ws, max_message_size));
    let listener = tokio::net::TcpListener::bind(options.addr).await?;
    let local = listener.local_addr()?;
    let Some((cert, key)) = options.tls else {
        println!("axum_echo listening on ws://{local} (HTTP/1.1 and h2c)");
        axum::serve(listener, app).await?;
        return Ok(());
    };
    // axum::serve takes plain listeners; over TLS each connection is handed to hyper's
    // HTTP/1.1-or-HTTP/2 server after its own handshake, with extended CONNECT enabled.
    let acceptor = tls_acceptor(Path::new(&cert), Path::new(&key))?;
    if options.http3 {
        serve_http3(local, Path::new(&cert), Path::new(&key), max_message_size)?;
        println!(
            "axum_echo listening on wss://{local} (ALPN h2, http/1.1) and HTTP/3 on udp/{}",
            local.port()
        );
    } else {
        println!("axum_echo listening on wss://{local} (ALPN h2, http/1.1)");
    }
    loop {
        let (tcp, _) = listener.accept().await?;
        let (acceptor, service) = (acceptor.clone(), TowerToHyperService::new(app.clone()));
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(e) => return eprintln!("TLS handshake failed: {e}"),
            };
            let mut server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            server.http2().enable_connect_protocol();
            if let Err(e) = server
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await
            {
                eprintln!("connection failed: {e}");
            }
        });
    }
}
