//! Detecting broken connections (ws's heartbeat example): the server pings every client every
//! `--interval-ms` and terminates any that has not answered within `--timeout-ms`. Live
//! clients (every WebSocket implementation answers pings) are echoed as usual.
//!
//! ```text
//! cargo run --example heartbeat -- 127.0.0.1:8080 [--interval-ms 30000] [--timeout-ms 10000]
//! ```

use std::time::Duration;

use ferrosocket::server::Server;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:8080".to_owned();
    let (mut interval, mut timeout) = (30_000u64, 10_000u64);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = |v: Option<String>, d| v.and_then(|v| v.parse().ok()).unwrap_or(d);
        match arg.as_str() {
            "--interval-ms" => interval = value(args.next(), interval),
            "--timeout-ms" => timeout = value(args.next(), timeout),
            _ => addr = arg,
        }
    }
    let mut server = Server::builder()
        .heartbeat(Duration::from_millis(interval), Duration::from_millis(timeout))
        .bind(&addr)
        .await?;
    println!(
        "heartbeat listening on ws://{}",
        server.local_addr().expect("bound")
    );
    while let Some(mut incoming) = server.accept().await {
        tokio::spawn(async move {
            let peer = incoming.peer.addr;
            while let Some(message) = incoming.reader.next().await {
                match message {
                    Ok(message) if message.is_data() => {
                        incoming.client.ready().await; // at the client's pace
                        let _ = incoming.client.send(message);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("terminated {peer:?}: {e}");
                        break;
                    }
                }
            }
        });
    }
    Ok(())
}
