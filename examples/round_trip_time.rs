//! Round-trip time with ping/pong (ws's "round trip time" recipe): `ping()` sends a ping
//! stamped with its send time and resolves with the round trip when the pong returns; this
//! sends `--count` of them and reports every RTT and the minimum / average / maximum.
//!
//! ```text
//! cargo run --example round_trip_time -- ws://127.0.0.1:9001 [--count 10]
//! ```

use std::time::Duration;

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
    let mut rtts = Vec::new();
    for seq in 0..count {
        // A ping stamped with its send time; messages arriving meanwhile wait for `next`.
        let rtt = ws.ping().await?;
        println!("ping {seq}: {:.3} ms", rtt.as_secs_f64() * 1e3);
        rtts.push(rtt);
    }
    assert_eq!(ws.round_trip_time(), rtts.last().copied());
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
