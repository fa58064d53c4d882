//! A command-line WebSocket client, like Node's `wscat`.
//!
//! ```text
//! cargo run --example wscat -- ws://127.0.0.1:9001/path [--header 'Name: value']... [--subprotocol NAME]... [--deflate]
//!     [--ca CERTS.pem] [--proxy URL] [--http3]
//! ```
//! `wss://` URLs trust Mozilla's roots plus the PEM certificates given with `--ca`; `--proxy`
//! tunnels through a proxy: `http://[USER:PASS@]HOST:PORT` (`CONNECT`),
//! `socks5://[USER:PASS@]HOST:PORT` (names resolved here) or `socks5h://…` (by the proxy);
//! `--http3` connects over HTTP/3 (RFC 9220,
//! QUIC on the URL's port over UDP) instead of TCP.
//! Sends each line of standard input as a text message and prints each received text message
//! on its own line (binary messages as hex). At the end of input it sends Close 1000, waits for
//! the close handshake, and exits 0. A refused upgrade prints the status and body and exits 1.

use std::sync::Arc;
use std::time::Duration;

use ferrosocket::client::Proxy;
use ferrosocket::stream::{AsyncTransport, WebSocketStream};
use ferrosocket::tls::rustls::{self, pki_types::pem::PemObject, pki_types::CertificateDer};
use ferrosocket::tls::ClientTls;
use ferrosocket::tokio::Connector;

use ferrosocket::{
    deflate::DeflateConfig, ClientRequest, CloseCode, Config, Error, HandshakeError, Message, Response,
};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};

fn usage() -> ! {
    eprintln!(
        "usage: wscat URL [--header 'Name: value']... [--subprotocol NAME]... [--deflate] [--ca CERTS.pem] [--proxy http://|socks5://|socks5h://HOST:PORT] [--http3]"
    );
    std::process::exit(2);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut headers = Vec::new();
    let mut protocols = Vec::new();
    let mut config = Config::default();
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ca" => options.ca = Some(args.next().unwrap_or_else(|| usage())),
            "--proxy" => options.proxy = Some(args.next().unwrap_or_else(|| usage())),
            "--header" | "-H" => headers.push(args.next().unwrap_or_else(|| usage())),
            "--subprotocol" | "-s" => protocols.push(args.next().unwrap_or_else(|| usage())),
            "--http3" => options.http3 = true,
            "--deflate" => config = config.permessage_deflate(DeflateConfig::default()),
            _ if url.is_none() => url = Some(arg),
            _ => usage(),
        }
    }
    let url = url.unwrap_or_else(|| usage());
    match run(&url, headers, protocols, config, options).await {
        Ok(()) => {}
        Err(Error::Handshake(HandshakeError::Rejected(response))) => {
            eprintln!(
                "error: server refused the upgrade: {} {}",
                response.status, response.reason
            );
            eprintln!("{}", String::from_utf8_lossy(&response.body));
            std::process::exit(1);
        }
        Err(e) => {
            // A failure the peer caused names the close code this side sent for it.
            match e.close_code() {
                Some(code) if !matches!(e, Error::Failed(_)) => {
                    eprintln!("error: {e} (closed the connection with {})", code.0)
                }
                _ => eprintln!("error: {e}"),
            }
            std::process::exit(1);
        }
    }
}

/// Connection options beyond the request.
#[derive(Default)]
struct Options {
    /// PEM certificates to trust besides the default roots.
    ca: Option<String>,
    /// The URL of a proxy to tunnel through (http, socks5, socks5h).
    proxy: Option<String>,
    /// Over HTTP/3 instead of TCP.
    http3: bool,
}

impl Options {
    fn connector(self, request: ClientRequest, config: Config) -> Connector {
        let mut connector = Connector::new(request)
            .config(config)
            .timeout(Some(Duration::from_secs(30)));
        if let Some(proxy) = self.proxy {
            let proxy = Proxy::from_url(&proxy).unwrap_or_else(|e| {
                eprintln!("error: --proxy {proxy}: {e}");
                std::process::exit(2);
            });
            connector = connector.via(proxy);
        }
        if let Some(path) = self.ca {
            connector = connector.tls(with_extra_roots(&path));
        }
        connector
    }
}

/// Mozilla's roots plus the certificates in the PEM file at `path`, if any.
fn roots(path: Option<&str>) -> Arc<rustls::ClientConfig> {
    match path {
        Some(path) => with_extra_roots(path),
        None => with_extra_roots_from(Vec::new()),
    }
}

/// Mozilla's roots plus the certificates in the PEM file at `path`.
fn with_extra_roots(path: &str) -> Arc<rustls::ClientConfig> {
    let certs = CertificateDer::pem_file_iter(path).unwrap_or_else(|e| {
        eprintln!("error: cannot read {path}: {e}");
        std::process::exit(2);
    });
    let certs = certs.collect::<Result<Vec<_>, _>>().unwrap_or_else(|e| {
        eprintln!("error: bad certificate in {path}: {e}");
        std::process::exit(2);
    });
    with_extra_roots_from(certs)
}

fn with_extra_roots_from(certs: Vec<CertificateDer<'static>>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in certs {
        if let Err(e) = roots.add(cert) {
            eprintln!("error: bad certificate: {e}");
            std::process::exit(2);
        }
    }
    Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn run(
    url: &str,
    headers: Vec<String>,
    protocols: Vec<String>,
    config: Config,
    options: Options,
) -> ferrosocket::Result<()> {
    let mut request = ClientRequest::new(url)?;
    for header in headers {
        let (name, value) = header.split_once(':').unwrap_or_else(|| usage());
        request = request.header(name.trim(), value.trim());
    }
    for protocol in protocols {
        request = request.protocol(protocol);
    }
    if options.http3 {
        let tls = ClientTls::Rustls(roots(options.ca.as_deref()));
        let config = config.handshake_timeout(Duration::from_secs(30));
        let (ws, response) = ferrosocket::http3::connect_with(request, config, Some(tls)).await?;
        return session(ws, response).await;
    }
    let (ws, response) = options.connector(request, config).connect().await?;
    session(ws, response).await
}

/// Sends standard input's lines and prints what arrives, over any transport.
async fn session<T>(ws: WebSocketStream<T>, response: Response) -> ferrosocket::Result<()>
where
    T: AsyncTransport + Send + 'static,
{
    if let Some(protocol) = response.protocol() {
        eprintln!("connected (subprotocol {protocol})");
    }
    let (mut sink, mut stream) = ws.split();

    // Print what arrives until the connection closes.
    let printer = tokio::spawn(async move {
        while let Some(message) = stream.next().await {
            match message? {
                Message::Text(text) => println!("{text}"),
                Message::Binary(data) => {
                    println!("{}", data.iter().map(|b| format!("{b:02x}")).collect::<String>())
                }
                Message::Close(Some(frame)) if frame.code != CloseCode::NORMAL => {
                    eprintln!("closed by server: {} {}", frame.code, frame.reason);
                }
                _ => {}
            }
        }
        Ok::<(), Error>(())
    });

    // A send fails once the connection ended (the engine may have failed it because of
    // what the server sent): then the reader's error is the cause worth reporting.
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut send_error = None;
    while let Some(line) = lines.next_line().await? {
        if printer.is_finished() {
            break;
        }
        if let Err(e) = sink.send(Message::text(line)).await {
            send_error = Some(e);
            break;
        }
    }
    if send_error.is_none() && !printer.is_finished() {
        let bye = Message::Close(Some(ferrosocket::CloseFrame::new(1000, "")));
        send_error = sink.send(bye).await.err();
    }
    match tokio::time::timeout(Duration::from_secs(10), printer).await {
        Ok(Ok(Err(e))) => Err(e),
        Ok(Ok(Ok(()))) => send_error.map_or(Ok(()), Err),
        Ok(Err(join)) => Err(std::io::Error::other(join).into()),
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no close handshake").into()),
    }
}
