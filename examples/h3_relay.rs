//! A relay between WebSocket over HTTP/1.1 and WebSocket over HTTP/3 (RFC 9220), for
//! testing one with tools that speak only the other — the Autobahn|Testsuite speaks
//! HTTP/1.1. The opening handshake is translated; after it, the WebSocket's bytes pass
//! through unchanged in both directions (frames, masks, compression and all), so what is
//! tested is the HTTP/3 side's engine, not the relay.
//!
//! ```text
//! # HTTP/1.1 clients → an HTTP/3 server (here axum_echo --http3, trusting CA.pem):
//! cargo run --release --example h3_relay -- to-h3 127.0.0.1:9101 wss://localhost:4433 --ca CA.pem
//! # HTTP/3 clients → an HTTP/1.1 server (say Autobahn's fuzzingserver at 127.0.0.1:9001):
//! cargo run --release --example h3_relay -- to-tcp 127.0.0.1:4434 CERT.pem KEY.pem 127.0.0.1:9001
//! ```
//! Prints a line containing `listening` once bound. Each relayed WebSocket is one QUIC
//! stream (to-h3 keeps one QUIC connection for all) and one TCP connection.

use std::sync::Arc;

use base64::Engine;
use std::time::Duration;

use ferrosocket::handshake::{accept_key, Headers};
use ferrosocket::http3::{self, Client, Limits, ServerConnection, Upgrade};
use ferrosocket::tls::rustls::pki_types::pem::PemObject;
use ferrosocket::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use ferrosocket::tls::{rustls, ClientTls};
use ferrosocket::{ClientRequest, Config, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The fields of a WebSocket handshake a relay passes on, as they arrived.
const PASSED_ON: [&str; 3] = ["sec-websocket-protocol", "sec-websocket-extensions", "origin"];

fn usage() -> ! {
    eprintln!("usage: h3_relay to-h3 LISTEN wss://HOST:PORT [--ca CA.pem]");
    eprintln!("       h3_relay to-tcp LISTEN CERT.pem KEY.pem HOST:PORT");
    std::process::exit(2);
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["to-h3", listen, target] => to_h3(listen, target, None).await,
        ["to-h3", listen, target, "--ca", ca] => to_h3(listen, target, Some(ca)).await,
        ["to-tcp", listen, cert, key, target] => to_tcp(listen, cert, key, target).await,
        _ => usage(),
    }
}

/// Accepts HTTP/1.1 upgrades and opens each as an extended CONNECT on one QUIC connection.
async fn to_h3(listen: &str, target: &str, ca: Option<&str>) -> Result<(), BoxError> {
    let request = ClientRequest::new(target)?;
    let authority = format!("{}:{}", request.host(), request.port());
    let tls = ClientTls::Rustls(trusting(ca)?);
    let client = Client::connect(&request, Some(tls), Some(Duration::from_secs(10))).await?;
    let listener = TcpListener::bind(listen).await?;
    println!(
        "h3_relay listening on ws://{} for {target} over HTTP/3",
        listener.local_addr()?
    );
    loop {
        let (tcp, _) = listener.accept().await?;
        let (client, authority) = (client.clone(), authority.clone());
        tokio::spawn(async move {
            if let Err(e) = relay_to_h3(tcp, &client, &authority).await {
                eprintln!("relay failed: {e}");
            }
        });
    }
}

async fn relay_to_h3(mut tcp: TcpStream, client: &Client, authority: &str) -> Result<(), BoxError> {
    tcp.set_nodelay(true)?;
    let head = read_head(&mut tcp).await?;
    let (request_line, fields) = parse_head(&head)?;
    let target = request_line.split(' ').nth(1).ok_or("no request target")?;
    let key = fields
        .get("sec-websocket-key")
        .ok_or("no Sec-WebSocket-Key")?
        .to_owned();
    let mut headers = Headers::default();
    headers.append("sec-websocket-version", "13");
    pass_on(&fields, &mut headers);
    let (response, mut stream) = client.open_raw(authority, target, &headers, 64 << 10).await?;
    if !(200..300).contains(&response.status) {
        let refusal = format!(
            "HTTP/1.1 {} Refused\r\ncontent-length: 0\r\n\r\n",
            response.status
        );
        tcp.write_all(refusal.as_bytes()).await?;
        return Ok(());
    }
    let mut answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {}\r\n",
        accept_key(&key)
    );
    for (name, value) in response.headers.iter() {
        answer.push_str(&format!("{name}: {value}\r\n"));
    }
    answer.push_str("\r\n");
    tcp.write_all(answer.as_bytes()).await?;
    pipe(tcp, &mut stream).await
}

/// Accepts extended CONNECTs over HTTP/3 and opens each as an HTTP/1.1 upgrade to `target`.
async fn to_tcp(listen: &str, cert: &str, key: &str, target: &str) -> Result<(), BoxError> {
    let certs = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let limits = Limits::default();
    let endpoint = quinn::Endpoint::server(http3::server_config(certs, key, &limits)?, listen.parse()?)?;
    println!(
        "h3_relay listening on udp/{} (HTTP/3) for ws://{target}",
        endpoint.local_addr()?
    );
    let config = Config::default();
    while let Some(incoming) = endpoint.accept().await {
        let (config, limits, target) = (config.clone(), limits.clone(), target.to_owned());
        tokio::spawn(async move {
            let Ok(mut connection) = ServerConnection::accept(incoming, &config, &limits).await else {
                return;
            };
            while let Some(upgrade) = connection.next().await {
                let target = target.clone();
                tokio::spawn(async move {
                    if let Err(e) = relay_to_tcp(upgrade, &target).await {
                        eprintln!("relay failed: {e}");
                    }
                });
            }
        });
    }
    Ok(())
}

async fn relay_to_tcp(upgrade: Upgrade, target: &str) -> Result<(), BoxError> {
    let mut tcp = TcpStream::connect(target).await?;
    tcp.set_nodelay(true)?;
    let request = upgrade.request();
    let mut head = format!(
        "GET {} HTTP/1.1\r\nhost: {target}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: {}\r\n",
        request.target,
        nonce()
    );
    for (name, value) in request.headers.iter() {
        if PASSED_ON.contains(&name.to_ascii_lowercase().as_str()) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    tcp.write_all(head.as_bytes()).await?;
    let answer = read_head(&mut tcp).await?;
    let (status_line, fields) = parse_head(&answer)?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    if status != 101 {
        upgrade.refuse(Response::new(status)).await?;
        return Ok(());
    }
    let mut response = Response::new(200);
    pass_on(&fields, &mut response.headers);
    let mut stream = upgrade.accept_raw(response).await?;
    pipe(tcp, &mut stream).await
}

/// Copies both ways until both directions ended: the end of one side's input is passed on
/// as the end of the other's (a FIN either way).
async fn pipe(mut tcp: TcpStream, h3: &mut (impl AsyncRead + AsyncWrite + Unpin)) -> Result<(), BoxError> {
    tokio::io::copy_bidirectional(&mut tcp, h3).await?;
    Ok(())
}

fn pass_on(fields: &Headers, into: &mut Headers) {
    for (name, value) in fields.iter() {
        if PASSED_ON.contains(&name) {
            into.append(name, value);
        }
    }
}

/// Reads an HTTP/1.1 head, byte by byte so nothing after it is taken (up to 64 KiB).
async fn read_head(tcp: &mut TcpStream) -> Result<Vec<u8>, BoxError> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 << 10 {
            return Err("head too long".into());
        }
        head.push(tcp.read_u8().await?);
    }
    Ok(head)
}

/// The first line, and the fields with lowercase names.
fn parse_head(head: &[u8]) -> Result<(String, Headers), BoxError> {
    let text = std::str::from_utf8(head)?;
    let mut lines = text.split("\r\n");
    let first = lines.next().ok_or("empty head")?.to_owned();
    let mut fields = Headers::default();
    for line in lines.filter(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':').ok_or("bad header line")?;
        fields.append(name.trim().to_ascii_lowercase(), value.trim());
    }
    Ok((first, fields))
}

/// A Sec-WebSocket-Key: 16 bytes, base64 (24 characters), unique enough for a relay.
fn nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    bytes[8..].copy_from_slice(&time.to_be_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Mozilla's roots, plus the PEM certificates at `ca`.
fn trusting(ca: Option<&str>) -> Result<Arc<rustls::ClientConfig>, BoxError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = ca {
        for cert in CertificateDer::pem_file_iter(ca)? {
            roots.add(cert?)?;
        }
    }
    Ok(Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}
