//! Runs every case of an Autobahn|Testsuite fuzzing server, echoing each message.
//!
//! ```text
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 AGENT [--runtime tokio|smol|async-std|std|compio]
//! cargo run --release --example autobahn_client -- wss://localhost:4434 AGENT --runtime http3 --ca CA.pem
//! ```
//! Offers permessage-deflate. Exits 0 once the reports are updated.

use ferrosocket::{deflate::DeflateConfig, ClientRequest, Config, Message};

fn config() -> Config {
    Config::default()
        .max_message_size(256 << 20)
        .permessage_deflate(DeflateConfig::default())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut positional = Vec::new();
    let mut runtime = "tokio".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runtime" => runtime = args.next().unwrap_or_default(),
            "--ca" => {
                let path = args.next().unwrap_or_default();
                CA.set(path).expect("one --ca");
            }
            _ => positional.push(arg),
        }
    }
    let base = positional
        .first()
        .cloned()
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = positional.get(1).cloned().unwrap_or_else(|| "ferrosocket".into());
    let count = match run(&runtime, &format!("{base}/getCaseCount"))? {
        Some(Message::Text(text)) => text.as_str().trim().parse::<u32>()?,
        other => return Err(format!("unexpected reply to getCaseCount: {other:?}").into()),
    };
    println!("{count} cases ({runtime})");
    for case in 1..=count {
        if let Err(e) = run(&runtime, &format!("{base}/runCase?case={case}&agent={agent}")) {
            println!("case {case}: {e}");
        }
    }
    run(&runtime, &format!("{base}/updateReports?agent={agent}"))?;
    println!("reports updated");
    Ok(())
}

/// Opens `url` and echoes data messages until the connection closes; returns the first
/// message (what `getCaseCount` answers).
/// The runtime of the HTTP/3 cases.
static HTTP3_RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();

/// The CA to trust over HTTP/3 (`--ca`).
static CA: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Trusts the certificates of `--ca` only.
fn http3_tls() -> ferrosocket::Result<ferrosocket::tls::ClientTls> {
    use ferrosocket::tls::rustls::{self, pki_types::pem::PemObject, pki_types::CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    let path = CA.get().map_or("", String::as_str);
    for cert in CertificateDer::pem_file_iter(path).map_err(std::io::Error::other)? {
        roots
            .add(cert.map_err(std::io::Error::other)?)
            .map_err(std::io::Error::other)?;
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(ferrosocket::tls::ClientTls::Rustls(std::sync::Arc::new(config)))
}

fn run(runtime: &str, url: &str) -> ferrosocket::Result<Option<Message>> {
    let request = ClientRequest::new(url)?;
    match runtime {
        // Over HTTP/3 (RFC 9220), a QUIC connection per case; the fuzzing server speaks
        // HTTP/1.1, so it is reached through `h3_relay to-tcp`. One runtime for all cases:
        // a QUIC connection lingers on it until the peer has the last bytes of a case.
        "http3" => HTTP3_RUNTIME
            .get_or_init(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime")
            })
            .block_on(async {
                let config = config().handshake_timeout(std::time::Duration::from_secs(30));
                let (ws, _) = ferrosocket::http3::connect_with(request, config, Some(http3_tls()?)).await?;
                echo(ws).await
            }),
        "std" => {
            let (mut ws, _) = ferrosocket::blocking::connect_request(request, config(), None)?;
            let mut first = None;
            loop {
                match ws.read() {
                    Ok(Message::Close(_))
                    | Err(ferrosocket::Error::ConnectionClosed | ferrosocket::Error::AlreadyClosed) => {
                        return Ok(first)
                    }
                    Ok(message) if message.is_data() => {
                        first.get_or_insert_with(|| message.clone());
                        ws.send(message)?;
                    }
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        "compio" => compio::runtime::Runtime::new()?.block_on(async {
            let connector = ferrosocket::client::Connector::new(request).config(config());
            let (mut ws, _) = connector.connect_compio().await?;
            let mut first = None;
            loop {
                match ws.read().await {
                    Ok(Message::Close(_))
                    | Err(ferrosocket::Error::ConnectionClosed | ferrosocket::Error::AlreadyClosed) => {
                        return Ok(first)
                    }
                    Ok(message) if message.is_data() => {
                        first.get_or_insert_with(|| message.clone());
                        ws.send(message).await?;
                    }
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
        }),
        "smol" => smol::block_on(async {
            let (ws, _) = ferrosocket::smol::connect_with(request, config(), None).await?;
            echo(ws).await
        }),
        "async-std" => async_std::task::block_on(async {
            let (ws, _) = ferrosocket::async_std::connect_with(request, config(), None).await?;
            echo(ws).await
        }),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(async {
                let (ws, _) = ferrosocket::tokio::connect_with(request, config(), None).await?;
                echo(ws).await
            }),
    }
}

async fn echo<T: ferrosocket::stream::AsyncTransport>(
    mut ws: ferrosocket::stream::WebSocketStream<T>,
) -> ferrosocket::Result<Option<Message>> {
    let mut first = None;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_data() {
            first.get_or_insert_with(|| message.clone());
            ws.send(message).await?;
        }
    }
    Ok(first)
}
