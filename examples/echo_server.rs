//! Echoes every message back with the same type; selects the client's first subprotocol and
//! accepts any valid permessage-deflate offer.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//! ```
//! The Autobahn|Testsuite drives it as the server under test.

use std::net::TcpListener;
use std::time::Duration;

use ferrosocket::{blocking, deflate::DeflateConfig, Accept, Config, Error, Message};

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr)?;
    println!("echo_server listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || {
            if let Err(e) = serve(stream) {
                eprintln!("connection ended: {e}");
            }
        });
    }
    Ok(())
}

fn serve(stream: std::net::TcpStream) -> ferrosocket::Result<()> {
    stream.set_nodelay(true)?;
    // Bound the handshake; no timeout afterwards.
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    // permessage-deflate on, accepting any valid client offer.
    let config = Config::default()
        .max_message_size(256 << 20)
        .permessage_deflate(DeflateConfig::default());
    // Select the client's first subprotocol, if it offers any.
    let mut ws = blocking::accept_with(stream, config, |request| {
        Ok(match request.protocols().next() {
            Some(protocol) => Accept::new().protocol(protocol),
            None => Accept::new(),
        })
    })?;
    ws.get_ref().set_read_timeout(None)?;
    loop {
        match ws.read() {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => ws.send(message)?,
            Ok(Message::Close(_)) | Err(Error::AlreadyClosed) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(e),
        }
    }
}
