//! 10,000 connections over loopback: every server holds 10,000 open WebSocket connections
//! while 1,000 of them echo one 32-byte text message at a time: paced (each sends every
//! 1/`rate` s, default 50/s: 50,000 messages per second offered, well within both cores, so
//! latency is the server's and not a queue's), then unpaced (as fast as the server answers:
//! both cores saturate, so its p99 measures the queue).
//! ferrosocket's tokio `echo_server` against fastwebsockets and tokio-tungstenite (the same
//! peer servers as `echo_load`), plus the RSS per connection of the toolkit (`cluster_chat`,
//! one node: the per-client writer task and send queue included).
//!
//! ```text
//! cargo bench --bench scale                                # 3 rounds of 3 s windows
//! cargo bench --bench scale -- --connections 10000 --echoing 1000 --rate 50 --seconds 5 --rounds 3
//! ```
//! Each server runs pinned to core 0, the load client (no WebSocket library: pre-built masked
//! frames, one task per echoing connection) on core 1; its CPU share is reported so a
//! saturated load generator shows. Reported per server: RSS per open idle connection (over
//! all of them, each server freshly started), echoed messages per second, server CPU per
//! message, and round-trip latency p50/p99 over every echo of the window; the median round
//! (by server CPU per message) counts.

#[path = "support/load.rs"]
mod load;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use load::{client_frame_with, cpu_seconds, handshake, rss_kib, start_pinned, Running};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Server {
    name: &'static str,
    binary: &'static str,
    args: &'static [&'static str],
    /// Measured for memory only (the toolkit's chat example does not echo).
    memory_only: bool,
}

fn servers() -> Vec<Server> {
    let echo = |name, binary, args| Server {
        name,
        binary,
        args,
        memory_only: false,
    };
    vec![
        echo("ferrosocket", "echo_server", &["--runtime", "tokio"]),
        echo("fastwebsockets", "peer_fastwebsockets_echo", &[]),
        echo("tokio-tungstenite", "peer_tungstenite_echo", &[]),
        Server {
            name: "ferrosocket toolkit",
            binary: "cluster_chat",
            args: &[],
            memory_only: true,
        },
    ]
}

/// Opens `count` connections, 64 handshakes at a time.
async fn open(addr: &str, count: usize) -> Vec<TcpStream> {
    let mut open = Vec::with_capacity(count);
    while open.len() < count {
        let batch = (count - open.len()).min(64);
        let handshakes: Vec<_> = (0..batch)
            .map(|_| {
                let addr = addr.to_owned();
                tokio::task::spawn_local(async move { handshake(&addr).await })
            })
            .collect();
        for handshake in handshakes {
            open.push(handshake.await.unwrap());
        }
    }
    open
}

struct Round {
    per_second: f64,
    cpu_per_message_us: f64,
    p50_us: f64,
    p99_us: f64,
    client_cpu: f64,
}

/// One round: `echoing` streams echo one message at a time for `seconds`, each starting one
/// every 1/`rate` s (0: as fast as the echoes come back); they are handed back afterwards.
async fn echo_round(
    server: &Running,
    echoing: Vec<TcpStream>,
    rate: f64,
    seconds: f64,
) -> (Round, Vec<TcpStream>) {
    let frame = Rc::new(client_frame_with(0x81, 32));
    let samples = Rc::new(RefCell::new(Vec::<f32>::with_capacity(1 << 20)));
    let measuring = Rc::new(std::cell::Cell::new(false));
    let warmup = Duration::from_millis(500);
    let stop = Instant::now() + warmup + Duration::from_secs_f64(seconds);
    let tasks: Vec<_> = echoing
        .into_iter()
        .enumerate()
        .map(|(index, mut stream)| {
            let (frame, samples, measuring) = (frame.clone(), samples.clone(), measuring.clone());
            let period = (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate));
            // Spread the connections' ticks over one period.
            let offset = period.map(|p| p.mul_f64(index as f64 / 1000.0 % 1.0));
            tokio::task::spawn_local(async move {
                let mut reply = [0u8; 34];
                let mut ticks = period.map(|p| {
                    let mut ticks = tokio::time::interval_at((Instant::now() + offset.unwrap()).into(), p);
                    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    ticks
                });
                while Instant::now() < stop {
                    if let Some(ticks) = ticks.as_mut() {
                        ticks.tick().await;
                    }
                    let start = Instant::now();
                    stream.write_all(&frame).await.unwrap();
                    stream.read_exact(&mut reply).await.unwrap();
                    if measuring.get() {
                        samples.borrow_mut().push(start.elapsed().as_secs_f32() * 1e6);
                    }
                }
                stream
            })
        })
        .collect();
    tokio::time::sleep(warmup).await;
    measuring.set(true);
    let me = std::process::id();
    let (cpu0, own0, t0) = (cpu_seconds(server.child.id()), cpu_seconds(me), Instant::now());
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    measuring.set(false);
    let (cpu1, own1, elapsed) = (cpu_seconds(server.child.id()), cpu_seconds(me), t0.elapsed());
    let mut streams = Vec::with_capacity(tasks.len());
    for task in tasks {
        streams.push(task.await.unwrap());
    }
    let mut samples = samples.take();
    samples.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| f64::from(samples[((samples.len() - 1) as f64 * q) as usize]);
    let messages = samples.len() as f64;
    let round = Round {
        per_second: messages / elapsed.as_secs_f64(),
        cpu_per_message_us: (cpu1 - cpu0) * 1e6 / messages.max(1.0),
        p50_us: at(0.50),
        p99_us: at(0.99),
        client_cpu: (own1 - own0) / elapsed.as_secs_f64(),
    };
    (round, streams)
}

fn main() {
    let (mut connections, mut echoing, mut seconds, mut rounds, mut rate) =
        (10_000usize, 1_000usize, 3.0, 3, 50.0);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<f64>().ok());
        match arg.as_str() {
            "--connections" => connections = value().map_or(connections, |v| v as usize),
            "--echoing" => echoing = value().map_or(echoing, |v| v as usize),
            "--seconds" => seconds = value().unwrap_or(seconds),
            "--rounds" => rounds = value().map_or(rounds, |v| v as usize),
            "--rate" => rate = value().unwrap_or(rate),
            _ => {}
        }
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let echoing = echoing.min(connections);
    load::build_examples(&servers().iter().map(|s| s.binary).collect::<Vec<_>>(), &[]);

    let mut rows = Vec::new();
    for (index, server) in servers().iter().enumerate() {
        let running = start_pinned(server.binary, server.name, server.args, 9500 + index as u16);
        let row = load::run_local(async {
            let _warm = open(&running.addr, 1).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let before = rss_kib(running.child.id());
            let mut streams = open(&running.addr, connections).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let per_connection =
                (rss_kib(running.child.id()).saturating_sub(before)) as f64 / connections as f64;
            eprintln!("{:>20}: {per_connection:.1} KiB per connection", server.name);
            if server.memory_only {
                return (per_connection, Vec::new());
            }
            let idle = streams.split_off(echoing);
            let mut medians = Vec::new();
            for pace in [rate, 0.0] {
                let mut results = Vec::new();
                for _ in 0..rounds {
                    let (round, back) = echo_round(&running, streams, pace, seconds).await;
                    results.push(round);
                    streams = back;
                }
                results.sort_by(|a, b| a.cpu_per_message_us.total_cmp(&b.cpu_per_message_us));
                medians.push(results.swap_remove(results.len() / 2));
            }
            drop(idle);
            (per_connection, medians)
        });
        rows.push(row);
    }

    println!(
        "\n{connections} open connections, {echoing} of them echoing 32 B text one message at a time.\n"
    );
    println!("| server | RSS per connection | pacing | msg/s | server CPU per message | p50 | p99 | load client CPU |");
    println!("|---|---|---|---|---|---|---|---|");
    for (server, (rss, medians)) in servers().iter().zip(&rows) {
        if medians.is_empty() {
            println!("| {} | {rss:.1} KiB | – | – | – | – | – | – |", server.name);
        }
        for (r, pacing) in medians.iter().zip([format!("{rate} msg/s each"), "none".into()]) {
            println!(
                "| {} | {rss:.1} KiB | {pacing} | {:.0} | {:.2} µs | {:.0} µs | {:.0} µs | {:.0} % |",
                server.name,
                r.per_second,
                r.cpu_per_message_us,
                r.p50_us,
                r.p99_us,
                r.client_cpu * 100.0
            );
        }
    }
    let ours = &rows[0];
    println!("\nferrosocket ÷ peer (> 1 is better): server CPU per message, p99 (paced; unpaced), RSS per connection\n");
    for (server, row) in servers().iter().zip(&rows).skip(1) {
        if row.1.is_empty() {
            println!("- vs {}: RSS {:.2}×", server.name, row.0 / ours.0);
            continue;
        }
        let ratio = |i: usize, f: fn(&Round) -> f64| f(&row.1[i]) / f(&ours.1[i]);
        println!(
            "- vs {}: CPU {:.2}× ({:.2}× unpaced), p99 {:.2}× ({:.2}× unpaced), RSS {:.2}×",
            server.name,
            ratio(0, |r| r.cpu_per_message_us),
            ratio(1, |r| r.cpu_per_message_us),
            ratio(0, |r| r.p99_us),
            ratio(1, |r| r.p99_us),
            row.0 / ours.0
        );
    }
}
