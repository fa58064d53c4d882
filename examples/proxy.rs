//! Through an HTTP proxy: the client asks the proxy for a `CONNECT` tunnel (with
//! `Proxy-Authorization`), then speaks WebSocket — and for `wss://`, TLS — inside it. A
//! small tunnelling proxy and an echo server run in the same program.
//!
//! ```text
//! cargo run --example proxy
//! ```

use ferrosocket::tokio::Connector;
use ferrosocket::{ClientRequest, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A CONNECT-only proxy that wants `Basic dXNlcjpwYXNz` (user:pass).
async fn proxy(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (mut client, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                head.push(client.read_u8().await?);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let target = head
                .strip_prefix("CONNECT ")
                .and_then(|rest| rest.split(' ').next());
            let authorized = head
                .lines()
                .any(|line| line.eq_ignore_ascii_case("proxy-authorization: basic dXNlcjpwYXNz"));
            let (Some(target), true) = (target, authorized) else {
                client
                    .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                    .await?;
                return Ok(());
            };
            println!("proxy: tunnel to {target}");
            let mut upstream = TcpStream::connect(target).await?;
            client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await?;
            tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
            Ok::<_, std::io::Error>(())
        });
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let echo = TcpListener::bind("127.0.0.1:0").await?;
    let echo_addr = echo.local_addr()?;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = echo.accept().await {
            tokio::spawn(async move {
                let mut ws = ferrosocket::tokio::accept(tcp).await?;
                while let Some(Ok(message)) = ws.next().await {
                    if message.is_data() {
                        ws.send(message).await?;
                    }
                }
                Ok::<_, ferrosocket::Error>(())
            });
        }
    });
    let proxy_listener = TcpListener::bind("127.0.0.1:0").await?;
    let proxy_addr = proxy_listener.local_addr()?;
    tokio::spawn(proxy(proxy_listener));

    let request = ClientRequest::new(&format!("ws://{echo_addr}/"))?;
    let (mut ws, _) = Connector::new(request.clone())
        .proxy(proxy_addr.to_string(), Some("Basic dXNlcjpwYXNz"))
        .connect()
        .await?;
    ws.send(Message::text("hello through the proxy")).await?;
    println!("echoed: {}", ws.next().await.ok_or("no echo")??.to_text()?);
    ws.close(1000, "").await?;

    // Without the credentials the proxy refuses, and the client says so.
    let refused = Connector::new(request)
        .proxy(proxy_addr.to_string(), None)
        .connect()
        .await;
    println!(
        "without credentials: {}",
        refused.err().ok_or("the proxy let us in")?
    );
    Ok(())
}
