//! The seed tutorial's counter server: each connection gets a number that counts up every
//! second (`0`, `1`, `2`, …), and everyone is told how many clients are online
//! (`online: N`) whenever someone joins or leaves. The tutorial's client closes at 10.
//!
//! ```text
//! cargo run --example counter -- 127.0.0.1:3000 [--interval-ms 1000]
//! ```

use std::time::Duration;

use ferrosocket::server::{Clients, Server};
use ferrosocket::Message;

fn announce(clients: &Clients) {
    clients.broadcast(&Message::text(format!("online: {}", clients.len())));
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:3000".to_owned();
    let mut interval = Duration::from_secs(1);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--interval-ms" => {
                interval = Duration::from_millis(args.next().and_then(|v| v.parse().ok()).unwrap_or(1000))
            }
            _ => addr = arg,
        }
    }
    let mut server = Server::bind(&addr).await?;
    println!(
        "counter listening on ws://{}",
        server.local_addr().expect("bound")
    );
    while let Some(mut incoming) = server.accept().await {
        let clients = server.clients().clone();
        announce(&clients);
        let client = incoming.client.clone();
        let ticker = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            for i in 0u64.. {
                ticks.tick().await;
                if client.send(Message::text(i.to_string())).is_err() {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            while let Some(Ok(_)) = incoming.reader.next().await {}
            ticker.abort();
            drop(incoming.reader); // leaves the online set
            announce(&clients);
        });
    }
    Ok(())
}
