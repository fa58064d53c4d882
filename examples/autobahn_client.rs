//! Runs every case of an Autobahn|Testsuite fuzzing server, echoing each message.
//!
//! ```text
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 AGENT
//! ```

use ferrosocket::{blocking, deflate::DeflateConfig, ClientRequest, Config, Error, Message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let agent = args.next().unwrap_or_else(|| "ferrosocket".into());

    let count: u32 = match open(&format!("{base}/getCaseCount"))?.read()? {
        Message::Text(text) => text.as_str().trim().parse()?,
        other => return Err(format!("unexpected reply to getCaseCount: {other:?}").into()),
    };
    println!("{count} cases");
    for case in 1..=count {
        if let Err(e) = run_case(&format!("{base}/runCase?case={case}&agent={agent}")) {
            println!("case {case}: {e}");
        }
    }
    let mut ws = open(&format!("{base}/updateReports?agent={agent}"))?;
    ws.close(1000, "")?;
    while !matches!(ws.read(), Ok(Message::Close(_)) | Err(_)) {}
    println!("reports updated");
    Ok(())
}

fn open(url: &str) -> ferrosocket::Result<blocking::WebSocket<std::net::TcpStream>> {
    // Offers permessage-deflate (`client_max_window_bits` announced).
    let config = Config::default()
        .max_message_size(256 << 20)
        .permessage_deflate(DeflateConfig::default());
    Ok(blocking::connect_request(ClientRequest::new(url)?, config, None)?.0)
}

fn run_case(url: &str) -> ferrosocket::Result<()> {
    let mut ws = open(url)?;
    loop {
        match ws.read() {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => ws.send(message)?,
            Ok(Message::Close(_)) | Err(Error::AlreadyClosed) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(e),
        }
    }
}
