//! The client's IP address (ws's "how to get the IP address of the client"): the TCP peer's,
//! or the first `X-Forwarded-For` entry when run behind a trusted proxy (`--trust-proxy`).
//! Each client is told its address, which is also logged.
//!
//! ```text
//! cargo run --example client_ip -- 127.0.0.1:8080 [--trust-proxy]
//! ```

use ferrosocket::server::Server;
use ferrosocket::Message;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let trust = args.iter().any(|a| a == "--trust-proxy");
    let addr = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let mut server = Server::builder().trust_forwarded_for(trust).bind(&addr).await?;
    println!(
        "client_ip listening on ws://{}",
        server.local_addr().expect("bound")
    );
    while let Some(mut incoming) = server.accept().await {
        let ip = incoming.peer.ip().expect("a TCP peer has an address");
        eprintln!("connection from {ip} (TCP peer {:?})", incoming.peer.addr);
        tokio::spawn(async move {
            let _ = incoming.client.send(Message::text(format!("your ip: {ip}")));
            while let Some(Ok(_)) = incoming.reader.next().await {}
        });
    }
    Ok(())
}
