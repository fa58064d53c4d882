//! A client that stays connected: [`Reconnecting`] reconnects with exponential backoff
//! whenever the connection ends, and says so — here against a flaky server (started in the
//! same program) that hangs up after every third message and is down for a while once.
//!
//! ```text
//! cargo run --example reconnecting
//! ```

use std::time::Duration;

use ferrosocket::tokio::{Backoff, Connector, Reconnect, Reconnecting};
use ferrosocket::{ClientRequest, Message};

/// Serves three echoes per connection, then hangs up; after the second connection it is
/// away for 300 ms (attempts fail meanwhile) before listening again on the same port.
async fn flaky_server(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let mut listener = Some(listener);
    for connection in 1.. {
        let current = match listener.take() {
            Some(listener) => listener,
            None => tokio::net::TcpListener::bind(addr).await?,
        };
        let (tcp, _) = current.accept().await?;
        let mut ws = ferrosocket::tokio::accept(tcp)
            .await
            .map_err(std::io::Error::other)?;
        for _ in 0..3 {
            match ws.next().await {
                Some(Ok(message)) if message.is_data() => {
                    let _ = ws.send(message).await;
                }
                _ => break,
            }
        }
        let _ = ws.close(1001, "going away").await;
        if connection == 2 {
            drop(current); // down: connection attempts are refused
            tokio::time::sleep(Duration::from_millis(300)).await;
        } else {
            listener = Some(current);
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ferrosocket::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}/feed", listener.local_addr()?);
    tokio::spawn(flaky_server(listener));

    let backoff = Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_secs(2),
        factor: 2,
        max_attempts: Some(10),
    };
    let mut client = Reconnecting::new(Connector::new(ClientRequest::new(&url)?), backoff);
    let (mut connections, mut echoes, mut sent) = (0, 0, 0);
    while let Some(event) = client.next().await {
        match event {
            Ok(Reconnect::Connected(_)) => {
                connections += 1;
                println!("connected ({connections})");
                for _ in 0..3 {
                    sent += 1;
                    client.send(Message::text(format!("message {sent}"))).await?;
                }
            }
            Ok(Reconnect::Message(message)) => {
                echoes += 1;
                println!("echo: {}", message.to_text()?);
            }
            Ok(Reconnect::Disconnected(frame)) => println!("disconnected: {frame:?}"),
            Err(error) => println!("attempt failed: {error}"),
        }
        if connections == 4 && echoes == 12 {
            client.close(1000, "done").await?;
        }
    }
    println!("{connections} connections, {echoes} echoes");
    Ok(())
}
