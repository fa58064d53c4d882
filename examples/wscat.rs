//! A command-line WebSocket client, like Node's `wscat`.
//!
//! ```text
//! cargo run --example wscat -- ws://127.0.0.1:9001/path [--header 'Name: value']... [--subprotocol NAME]... [--deflate]
//! ```
//! Sends each line of standard input as a text message and prints each received text message
//! on its own line (binary messages as hex). At the end of input it sends Close 1000, waits for
//! the close handshake, and exits 0. A refused upgrade prints the status and body and exits 1.

use std::time::Duration;

use ferrosocket::{deflate::DeflateConfig, ClientRequest, CloseCode, Config, Error, HandshakeError, Message};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};

fn usage() -> ! {
    eprintln!("usage: wscat URL [--header 'Name: value']... [--subprotocol NAME]... [--deflate]");
    std::process::exit(2);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut headers = Vec::new();
    let mut protocols = Vec::new();
    let mut config = Config::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--header" | "-H" => headers.push(args.next().unwrap_or_else(|| usage())),
            "--subprotocol" | "-s" => protocols.push(args.next().unwrap_or_else(|| usage())),
            "--deflate" => config = config.permessage_deflate(DeflateConfig::default()),
            _ if url.is_none() => url = Some(arg),
            _ => usage(),
        }
    }
    let url = url.unwrap_or_else(|| usage());
    match run(&url, headers, protocols, config).await {
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
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

async fn run(
    url: &str,
    headers: Vec<String>,
    protocols: Vec<String>,
    config: Config,
) -> ferrosocket::Result<()> {
    let mut request = ClientRequest::new(url)?;
    for header in headers {
        let (name, value) = header.split_once(':').unwrap_or_else(|| usage());
        request = request.header(name.trim(), value.trim());
    }
    for protocol in protocols {
        request = request.protocol(protocol);
    }
    let (ws, response) =
        ferrosocket::tokio::connect_with(request, config, Some(Duration::from_secs(30))).await?;
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

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        if printer.is_finished() {
            break;
        }
        sink.send(Message::text(line)).await?;
    }
    if !printer.is_finished() {
        sink.send(Message::Close(Some(ferrosocket::CloseFrame::new(1000, ""))))
            .await?;
    }
    match tokio::time::timeout(Duration::from_secs(10), printer).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(std::io::Error::other(join).into()),
        Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no close handshake").into()),
    }
}
