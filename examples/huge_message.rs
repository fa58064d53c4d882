//! Streaming receive: a server takes one 256 MiB message without holding it, reading it as
//! it arrives (`Config::fragment_events`): each [`Event::Fragment`] is a chunk of the
//! message, already unmasked (and inflated, and for text UTF-8-checked), which it hashes and
//! forgets. The client sends the whole message as usual.
//!
//! ```text
//! cargo run --release --example huge_message [-- MIB]
//! ```

use ferrosocket::{Config, Event, Message};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let config = Config::default()
            .fragment_events(true)
            .max_message_size(usize::MAX); // nothing is buffered whole: no limit needed
        let mut ws = ferrosocket::tokio::accept_with(tcp, config, |_| Ok(Default::default())).await?;
        let (mut total, mut chunks, mut largest, mut checksum) = (0usize, 0usize, 0usize, 0u64);
        while let Some(event) = ws.next_event().await {
            match event? {
                Event::Fragment(fragment) => {
                    total += fragment.data.len();
                    chunks += 1;
                    largest = largest.max(fragment.data.len());
                    checksum = fragment.data.iter().fold(checksum, |sum, &b| {
                        sum.wrapping_mul(31).wrapping_add(u64::from(b))
                    });
                    if fragment.is_last {
                        ws.send(Message::text(format!("{total} {checksum}"))).await?;
                    }
                }
                Event::Close(_) => break,
                _ => {}
            }
        }
        println!("server: {total} bytes in {chunks} chunks, the largest {largest} bytes");
        Ok::<_, ferrosocket::Error>((total, checksum))
    });

    let payload: Vec<u8> = (0..mib << 20).map(|i| (i % 251) as u8).collect();
    let expected = payload
        .iter()
        .fold(0u64, |sum, &b| sum.wrapping_mul(31).wrapping_add(u64::from(b)));
    let (mut ws, _) = ferrosocket::tokio::connect(&format!("ws://{addr}/")).await?;
    ws.send(Message::binary(payload)).await?;
    let answer = ws.next().await.ok_or("no answer")??;
    ws.close(1000, "").await?;
    while ws.next().await.is_some() {}
    let (total, checksum) = server.await??;
    assert_eq!(answer.to_text()?, format!("{total} {checksum}"));
    assert_eq!((total, checksum), (mib << 20, expected));
    println!("client: the server saw all {total} bytes, checksum {checksum:#x} matches");
    Ok(())
}
