//! Round-trip time with ping/pong (ws's "round trip time" recipe): sends `--count` pings,
//! each carrying its send time, and reports every RTT and the minimum / average / maximum.
//!
//! ```text
//! cargo run --example round_trip_time -- ws://127.0.0.1:9001 [--count 10]
//! ```

use std::time::{Duration, Instant};

use bytes::Bytes;
use ferrosocket::Message;

#[tokio::main]
async fn main() -> ferrosocket::Result<()> {
    let mut url = "ws://127.0.0.1:9001".to_owned();
    let mut count = 10u32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => count = args.next().and_then(|v| v.parse().ok()).unwrap_or(count),
            _ => url = arg,
        }
    }
    let (mut ws, _) = ferrosocket::tokio::connect(&url).await?;
    let start = Instant::now();
    let mut rtts = Vec::new();
    for seq in 0..count {
        let sent_at = start.elapsed().as_nanos() as u64;
        let payload = [seq.to_be_bytes().as_slice(), &sent_at.to_be_bytes()].concat();
        ws.send(Message::Ping(Bytes::from(payload))).await?;
        // Wait for our pong, skipping anything else.
        let echoed_at = loop {
            match ws.next().await {
                Some(Ok(Message::Pong(p))) if p.len() == 12 && p[..4] == seq.to_be_bytes() => {
                    break u64::from_be_bytes(p[4..12].try_into().expect("8 bytes"));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e),
                None => return Err(ferrosocket::Error::ConnectionClosed),
            }
        };
        let rtt = Duration::from_nanos(start.elapsed().as_nanos() as u64 - echoed_at);
        println!("ping {seq}: {:.3} ms", rtt.as_secs_f64() * 1e3);
        rtts.push(rtt);
    }
    if let (Some(min), Some(max)) = (rtts.iter().min(), rtts.iter().max()) {
        let avg = rtts.iter().sum::<Duration>() / rtts.len() as u32;
        println!(
            "rtt min/avg/max = {:.3}/{:.3}/{:.3} ms",
            min.as_secs_f64() * 1e3,
            avg.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
    }
    ferrosocket::tokio::close(&mut ws, 1000, "", Duration::from_secs(5)).await?;
    Ok(())
}
