//! Broadcast over loopback: one client's 1 KiB text message to every connected client, as a
//! chat room or a feed does it — ferrosocket's toolkit (`cluster_chat` on one node: the
//! non-blocking, encode-once broadcast) against Node ws running the broadcast loop from its
//! README (`wss.clients.forEach(c => c.send(data))`), driven the same way; then many to many,
//! the scenario of uWebSockets' `benchmarks/broadcast_test.c` (every one of N clients sends a
//! 20-byte message, each goes to all N, the next round once all N × N arrived); then
//! the same chat across two nodes through Redis and NATS.
//!
//! ```text
//! cargo bench --bench broadcast                                   # 1,000 and 10,000 clients, N = 100, 500, 1,000, brokers
//! cargo bench --bench broadcast -- --clients 1000 --rounds 100 --many none   # quicker
//! cargo bench --bench broadcast -- --clients none --many 100,500 --no-brokers  # many to many only
//! cargo bench --bench broadcast -- --baseline /tmp/cluster_chat_before  # A/B against an older build
//! ```
//! Servers run pinned to core 0, the load client (one thread, raw frames, no WebSocket
//! library) on core 1. One broadcast is in flight at a time; per scenario: the time until
//! the last client has the message (p50/p99), deliveries per server CPU-second (from
//! `/proc/PID/stat`), and the load client's own CPU use, to show it is not the bottleneck.
//! "With a slow client" adds one client that never reads. Node ws comes from
//! `tests/interop/node_modules` (`npm ci` there; the benchmark runs it if missing).

#[path = "support/load.rs"]
mod load;

use std::cell::Cell;
use std::process::Command;
use std::rc::Rc;
use std::time::{Duration, Instant};

use load::{
    client_frame_with, cpu_seconds, ensure_node_ws, handshake, start_command, start_pinned, take_frames,
    Running,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;

/// The broadcast message's payload size.
const SIZE: usize = 1024;

#[derive(Clone, Copy)]
enum Peer {
    Ferrosocket,
    /// Another build of `cluster_chat`, by path (`--baseline`).
    Baseline(&'static str),
    NodeWs,
}

/// A queue limit no client reaches at one broadcast in flight, but the slow one.
const CLUSTER_CHAT_ARGS: [&str; 2] = ["--queue-limit", "4194304"];

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Ferrosocket => "ferrosocket",
            Peer::Baseline(_) => "baseline",
            Peer::NodeWs => "Node ws",
        }
    }

    fn start(self, port: u16) -> Running {
        match self {
            Peer::Ferrosocket => start_pinned("cluster_chat", "ferrosocket", &CLUSTER_CHAT_ARGS, port),
            Peer::Baseline(path) => start_pinned(path, "baseline", &CLUSTER_CHAT_ARGS, port),
            Peer::NodeWs => start_command(
                Command::new("taskset").args(["-c", "0", "node"]).arg(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/benches/peers/ws_broadcast.mjs"
                )),
                "Node ws",
                &[],
                port,
            ),
        }
    }
}

/// One scenario's figures.
struct Figures {
    p50_ms: f64,
    p99_ms: f64,
    deliveries_per_cpu_second: f64,
    server_cpu_seconds: f64,
    load_cpu_share: f64,
}

/// CPU time of this process, in seconds.
fn own_cpu_seconds() -> f64 {
    cpu_seconds(std::process::id())
}

/// What every client has received, counted by the clients' reader tasks, and the count a
/// round waits for.
#[derive(Clone)]
struct Tally {
    received: Rc<Cell<u64>>,
    target: Rc<Cell<u64>>,
    done: Rc<tokio::sync::Notify>,
}

impl Tally {
    /// Connects `clients` clients, each with a reader task that counts the frames it gets;
    /// returns their write halves (kept open until the scenario ends: dropping one shuts it
    /// down).
    async fn connect(server: &Running, clients: usize) -> (Tally, Vec<OwnedWriteHalf>) {
        let tally = Tally {
            received: Rc::new(Cell::new(0)),
            target: Rc::new(Cell::new(u64::MAX)),
            done: Rc::new(tokio::sync::Notify::new()),
        };
        let mut writers = Vec::with_capacity(clients);
        for _ in 0..clients {
            let (mut reader, writer) = handshake(&server.addr).await.into_split();
            writers.push(writer);
            let tally = tally.clone();
            tokio::task::spawn_local(async move {
                let mut buf = Vec::with_capacity(64 << 10);
                let mut chunk = vec![0u8; 64 << 10];
                while let Ok(n) = reader.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    tally
                        .received
                        .set(tally.received.get() + take_frames(&mut buf) as u64);
                    if tally.received.get() >= tally.target.get() {
                        tally.done.notify_one();
                    }
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(300)).await; // every client tracked
        (tally, writers)
    }

    /// Runs `warmup + rounds` rounds: each of `senders` writes `frame`, and the round ends
    /// once `deliveries` more frames arrived; the figures of the measured rounds.
    async fn rounds(
        &self,
        server: &Running,
        senders: &mut [OwnedWriteHalf],
        (warmup, rounds): (usize, usize),
        frame: &[u8],
        deliveries: usize,
    ) -> Figures {
        let mut samples = Vec::with_capacity(rounds);
        let (mut cpu0, mut own0) = (0.0, 0.0);
        for round in 0..warmup + rounds {
            if round == warmup {
                (cpu0, own0) = (cpu_seconds(server.child.id()), own_cpu_seconds());
            }
            self.target.set(self.received.get() + deliveries as u64);
            let started = Instant::now();
            for writer in senders.iter_mut() {
                writer.write_all(frame).await.unwrap();
            }
            tokio::time::timeout(Duration::from_secs(30), async {
                while self.received.get() < self.target.get() {
                    self.done.notified().await;
                }
            })
            .await
            .expect("every client got every message");
            if round >= warmup {
                samples.push(started.elapsed().as_secs_f64() * 1e3);
            }
        }
        let wall: f64 = samples.iter().sum::<f64>() / 1e3;
        let server_cpu = cpu_seconds(server.child.id()) - cpu0;
        let load_cpu = own_cpu_seconds() - own0;
        samples.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        Figures {
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            deliveries_per_cpu_second: (rounds * deliveries) as f64 / server_cpu.max(0.01),
            server_cpu_seconds: server_cpu,
            load_cpu_share: load_cpu / wall.max(1e-9),
        }
    }
}

/// `clients` clients (plus one that never reads, with `slow`); client 0 sends `rounds`
/// messages one at a time, each once every client has the previous one.
fn run(server: &Running, clients: usize, rounds: usize, slow: bool) -> Figures {
    load::run_local(async {
        let (tally, mut writers) = Tally::connect(server, clients).await;
        let _never_reads: Option<TcpStream> = if slow {
            Some(handshake(&server.addr).await)
        } else {
            None
        };
        let frame = client_frame_with(0x81, SIZE);
        tally
            .rounds(server, &mut writers[..1], (5, rounds), &frame, clients)
            .await
    })
}

/// Many to many: each of `clients` clients sends one 20-byte text message per round, the
/// server sends each to all of them (`clients`² deliveries), the next round once all arrived.
fn run_many(server: &Running, clients: usize, rounds: usize) -> Figures {
    load::run_local(async {
        let (tally, mut writers) = Tally::connect(server, clients).await;
        // Text: `cluster_chat` relays text (uWS's test sends binary; same size, same work).
        let frame = client_frame_with(0x81, 20);
        let deliveries = clients * clients;
        tally
            .rounds(server, &mut writers, (2, rounds), &frame, deliveries)
            .await
    })
}

/// Across two cluster_chat nodes through a broker: (latency p50, p99 in ms, messages/s).
fn across_nodes(node_1: &Running, node_2: &Running, messages: usize) -> (f64, f64, f64) {
    load::run_local(async {
        let mut sender = handshake(&node_1.addr).await;
        let mut receiver = handshake(&node_2.addr).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let frame = client_frame_with(0x81, 64);
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 << 10];
        let mut own = Vec::new();
        // Latency: one message at a time.
        let mut samples = Vec::new();
        for _ in 0..500 {
            let started = Instant::now();
            sender.write_all(&frame).await.unwrap();
            while take_frames(&mut buf) == 0 {
                let read = tokio::time::timeout(Duration::from_secs(10), receiver.read(&mut chunk)).await;
                let n = read.expect("the message crossed the broker").unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            samples.push(started.elapsed().as_secs_f64() * 1e3);
            // The sender's own echo, off its socket.
            while take_frames(&mut own) == 0 {
                let n = sender.read(&mut chunk).await.unwrap();
                own.extend_from_slice(&chunk[..n]);
            }
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        // Throughput: `messages` from one publisher, at most WINDOW in flight (the bridge
        // drops what it cannot keep up with — at most once — so an unpaced flood would
        // measure losses), counted on the other node.
        const WINDOW: usize = 256;
        let (mut sender_read, mut sender_write) = sender.into_split();
        let drain = tokio::task::spawn_local(async move {
            let mut chunk = vec![0u8; 64 << 10];
            while let Ok(n) = sender_read.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
            }
        });
        let batch: Vec<u8> = frame.iter().copied().cycle().take(frame.len() * 64).collect();
        let started = Instant::now();
        let (mut sent, mut counted) = (0, 0);
        while counted < messages {
            while sent < messages && sent - counted + 64 <= WINDOW {
                sender_write.write_all(&batch).await.unwrap();
                sent += 64;
            }
            let read = tokio::time::timeout(Duration::from_secs(10), receiver.read(&mut chunk)).await;
            let n = read.expect("the other node keeps receiving").unwrap();
            buf.extend_from_slice(&chunk[..n]);
            counted += take_frames(&mut buf);
        }
        let rate = messages as f64 / started.elapsed().as_secs_f64();
        drain.abort();
        (at(0.5), at(0.99), rate)
    })
}

/// Runs one scenario on every peer, each freshly started: prints its row and notes each
/// build's ratio to Node ws (the last peer, when it runs).
fn scenario(
    peers: &[Peer],
    port: &mut u16,
    label: &str,
    efficiency: &mut Vec<(String, &'static str, f64)>,
    run: impl Fn(&Running) -> Figures,
) {
    let mut row = Vec::new();
    for &peer in peers {
        *port += 1;
        let f = run(&peer.start(*port));
        println!(
            "| {label} | {} | {:.2} ms | {:.2} ms | {:.0} | {:.2} s | {:.0} % |",
            peer.name(),
            f.p50_ms,
            f.p99_ms,
            f.deliveries_per_cpu_second,
            f.server_cpu_seconds,
            f.load_cpu_share * 100.0
        );
        row.push(f);
    }
    if let ([builds @ .., node], Some(Peer::NodeWs)) = (&row[..], peers.last()) {
        for (peer, build) in peers.iter().zip(builds) {
            let ratio = build.deliveries_per_cpu_second / node.deliveries_per_cpu_second;
            efficiency.push((label.to_owned(), peer.name(), ratio));
        }
    }
}

/// A list of counts from the command line; `none` for no scenario.
fn counts(arg: Option<String>) -> Vec<usize> {
    arg.expect("a list such as 1000,10000, or none")
        .split(',')
        .filter_map(|v| v.parse().ok())
        .collect()
}

fn main() {
    let mut counts_one = vec![1000usize, 10_000];
    let mut counts_many = vec![100usize, 500, 1000];
    let mut with_brokers = true;
    let mut rounds: Option<usize> = None;
    let mut baseline = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--clients" => counts_one = counts(args.next()),
            "--many" => counts_many = counts(args.next()),
            "--no-brokers" => with_brokers = false,
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()),
            "--baseline" => baseline = Some(&*args.next().expect("--baseline PATH").leak()),
            _ => {}
        }
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    load::build_examples(&["cluster_chat"], &[]);
    let mut peers = vec![Peer::Ferrosocket];
    peers.extend(baseline.map(Peer::Baseline));
    if ensure_node_ws() {
        peers.push(Peer::NodeWs);
    } else {
        eprintln!("Node ws unavailable (npm ci in tests/interop failed): ferrosocket only");
    }

    println!("\n| clients | server | last client has it p50 | p99 | deliveries per server CPU-s | server CPU | load client CPU |");
    println!("|---|---|---|---|---|---|---|");
    let mut efficiency = Vec::new();
    let mut port = 9400;
    for &clients in &counts_one {
        let rounds = rounds.unwrap_or(if clients > 2000 { 40 } else { 300 });
        for slow in [false, true] {
            if slow && clients > 2000 {
                continue;
            }
            let label = if slow {
                format!("{clients} + 1 slow")
            } else {
                clients.to_string()
            };
            scenario(&peers, &mut port, &label, &mut efficiency, |server| {
                run(server, clients, rounds, slow)
            });
        }
    }
    if !counts_many.is_empty() {
        println!("\nMany to many (each of N clients sends 20 B, every message to all N):\n");
        println!(
            "| N | server | a round p50 | p99 | deliveries per server CPU-s | server CPU | load client CPU |"
        );
        println!("|---|---|---|---|---|---|---|");
    }
    for &clients in &counts_many {
        // About two million deliveries per scenario.
        let rounds = (2_000_000 / (clients * clients)).clamp(2, 200);
        let label = format!("{clients} × {clients}");
        scenario(&peers, &mut port, &label, &mut efficiency, |server| {
            run_many(server, clients, rounds)
        });
    }
    println!("\n| clients | server | ÷ Node ws, deliveries per server CPU-second |");
    println!("|---|---|---|");
    for (clients, name, ratio) in efficiency {
        println!("| {clients} | {name} | {ratio:.2}× |");
    }
    if with_brokers {
        brokers(&mut port);
    }
}

/// Two cluster_chat nodes through Redis and through NATS.
fn brokers(port: &mut u16) {
    println!("\n| broker | latency p50 | latency p99 | messages/s (64 B, one publisher) |");
    println!("|---|---|---|---|");
    for (name, binary, args, scheme) in [
        (
            "Redis",
            "redis-server",
            vec!["--save", "", "--appendonly", "no", "--port"],
            "redis",
        ),
        ("NATS", "nats-server", vec!["-p"], "nats"),
    ] {
        *port += 1;
        let broker_port = *port;
        let Ok(mut broker) = Command::new(binary)
            .args(&args)
            .arg(broker_port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        else {
            println!("| {name} | {binary} not installed | | |");
            continue;
        };
        std::thread::sleep(Duration::from_millis(500));
        let url = format!("{scheme}://127.0.0.1:{broker_port}");
        let flag = format!("--{scheme}");
        let node_args = [flag.as_str(), url.as_str()];
        *port += 2;
        let node_1 = start_pinned("cluster_chat", "node 1", &node_args, *port - 1);
        let node_2 = start_pinned("cluster_chat", "node 2", &node_args, *port);
        let (p50, p99, rate) = across_nodes(&node_1, &node_2, 20_032);
        println!("| {name} | {p50:.3} ms | {p99:.3} ms | {rate:.0} |");
        drop((node_1, node_2));
        let _ = broker.kill();
        let _ = broker.wait();
    }
}
