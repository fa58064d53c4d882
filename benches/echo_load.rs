//! End-to-end echo over loopback: ferrosocket's tokio and compio (io_uring) echo servers
//! against fastwebsockets, tokio-tungstenite and tokio-websockets servers, driven by one load
//! client that uses no WebSocket library (it writes pre-built masked frames and parses the
//! echoes itself).
//!
//! ```text
//! cargo bench --bench echo_load                            # 3 rounds of 2 s windows (about 4 minutes)
//! cargo bench --bench echo_load -- --seconds 3 --rounds 5  # longer, steadier
//! cargo bench --bench echo_load -- --baseline /tmp/echo_server_before  # A/B against an older build
//! cargo bench --bench echo_load -- --only 'ferrosocket compio' --baseline /tmp/before  # A/B on compio
//! cargo bench --bench echo_load -- --only ferrosocket --sizes 16,1024  # e.g. under `perf record -C 0`
//! cargo bench --bench echo_load -- --server uWS=/path/to/echo  # any other echo server binary
//! cargo bench --bench echo_load -- --scenarios uws        # only uWebSockets' axes (100 × 20 B, 500 × 16 KiB, 100 × 512 B)
//! ```
//! `--server NAME=PATH` adds a server built elsewhere (another language's library, say): it
//! is started as `PATH 127.0.0.1:PORT --runtime tokio`, must echo every message on any path,
//! and print a line with `listening` once bound.
//! Each server runs pinned to core 0 (`taskset`), the load client on core 1. Reported per
//! server and scenario: echoed messages per second, the server's CPU time per message and
//! messages per server CPU-second (from `/proc/PID/stat`), round-trip latency p50/p99 (one
//! connection, one message in flight), and the RSS each idle connection adds (1,000
//! connections). Every scenario runs `rounds` times with the servers taking turns, and the
//! median counts, so drift in a shared machine's speed hits every server alike. Ratios
//! compare ferrosocket with each peer in the same run.

#[path = "support/load.rs"]
mod load;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use load::{client_frame, handshake, rss_kib, start_pinned, take_frames, Running, Throughput};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Server {
    name: &'static str,
    /// An example's name, or a path to a binary (`--baseline`).
    binary: String,
    args: &'static [&'static str],
}

fn servers() -> Vec<Server> {
    vec![
        Server {
            name: "ferrosocket",
            binary: "echo_server".into(),
            args: &["--runtime", "tokio"],
        },
        Server {
            name: "ferrosocket compio",
            binary: "echo_server".into(),
            args: &["--runtime", "compio"],
        },
        Server {
            name: "fastwebsockets",
            binary: "peer_fastwebsockets_echo".into(),
            args: &[],
        },
        Server {
            name: "tokio-tungstenite",
            binary: "peer_tungstenite_echo".into(),
            args: &[],
        },
        Server {
            name: "tungstenite batched",
            binary: "peer_tungstenite_echo".into(),
            args: &["--batched"],
        },
        Server {
            name: "tokio-websockets",
            binary: "peer_tokio_websockets_echo".into(),
            args: &[],
        },
        Server {
            name: "tokio-ws batched",
            binary: "peer_tokio_websockets_echo".into(),
            args: &["--batched"],
        },
    ]
}

const SIZES: [usize; 4] = [16, 1024, 16 << 10, 1 << 20];
/// (connections, messages in flight per connection)
const SHAPES: [(usize, usize); 2] = [(1, 16), (64, 4)];
/// uWebSockets' own benchmark axes, (connections, in flight, size): each connection sends
/// its next message when the echo arrives. Run unless `--sizes` picks sizes (`--scenarios
/// grid` leaves them out, `--scenarios uws` runs only them).
const UWS_AXES: [(usize, usize, usize); 3] = [(100, 1, 20), (500, 1, 16 << 10), (100, 1, 512)];

/// One connection keeping `inflight` messages outstanding until `stop`. Reading and writing
/// run as separate tasks (a writer blocked on a full socket must not stop the reader), linked
/// by a semaphore of send credits.
async fn drive(addr: String, frame: Rc<Vec<u8>>, inflight: usize, counter: Rc<Cell<u64>>, stop: Instant) {
    let stream = handshake(&addr).await;
    let (mut reader, mut writer) = stream.into_split();
    let credits = Rc::new(tokio::sync::Semaphore::new(inflight));
    let writer_credits = credits.clone();
    let writer_task = tokio::task::spawn_local(async move {
        while Instant::now() < stop {
            let Ok(permit) = writer_credits.acquire().await else {
                return;
            };
            permit.forget();
            if writer.write_all(&frame).await.is_err() {
                return;
            }
        }
    });
    let mut buf = Vec::with_capacity(64 << 10);
    let mut chunk = vec![0u8; 64 << 10];
    while Instant::now() < stop {
        let read = tokio::time::timeout_at(stop.into(), reader.read(&mut chunk)).await;
        let Ok(Ok(n)) = read else { break };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let done = take_frames(&mut buf);
        counter.set(counter.get() + done as u64);
        credits.add_permits(done);
    }
    credits.close();
    writer_task.abort();
}

/// The median round of a scenario, by server CPU per message.
fn median(mut rounds: Vec<Throughput>) -> Throughput {
    rounds.sort_by(|a, b| a.cpu_per_message_us.total_cmp(&b.cpu_per_message_us));
    rounds[rounds.len() / 2]
}

fn throughput(
    server: &Running,
    size: usize,
    connections: usize,
    inflight: usize,
    seconds: f64,
) -> Throughput {
    load::run_local(async {
        let counter = Rc::new(Cell::new(0u64));
        let frame = Rc::new(client_frame(size));
        load::measure(server, &counter, seconds, |stop| {
            (0..connections)
                .map(|_| {
                    tokio::task::spawn_local(drive(
                        server.addr.clone(),
                        frame.clone(),
                        inflight,
                        counter.clone(),
                        stop,
                    ))
                })
                .collect()
        })
        .await
    })
}

/// Round-trip latency of 16-byte messages, one at a time: (p50, p99) in microseconds.
fn latency(server: &Running, seconds: f64) -> (f64, f64) {
    load::run_local(async {
        let mut stream = handshake(&server.addr).await;
        let frame = client_frame(16);
        let mut reply = [0u8; 18];
        let mut samples = Vec::new();
        let stop = Instant::now() + Duration::from_secs_f64(seconds);
        while Instant::now() < stop {
            let start = Instant::now();
            stream.write_all(&frame).await.unwrap();
            stream.read_exact(&mut reply).await.unwrap();
            samples.push(start.elapsed().as_secs_f64() * 1e6);
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        (at(0.50), at(0.99))
    })
}

/// RSS added per idle open connection, in KiB, measured over `count` connections.
fn idle_memory(server: &Running, count: usize) -> f64 {
    load::run_local(async {
        // One connection first, so one-time allocations are in the baseline.
        let _warm = handshake(&server.addr).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = rss_kib(server.child.id());
        let mut open = Vec::with_capacity(count);
        for _ in 0..count {
            open.push(handshake(&server.addr).await);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_kib(server.child.id());
        (after.saturating_sub(before)) as f64 / count as f64
    })
}

fn main() {
    let mut servers = servers();
    let mut baseline = None;
    let mut outside = Vec::new();
    let (mut grid, mut uws_axes) = (true, true);
    let Some(options) = load::Options::parse(2.0, 3, |flag, args| match flag {
        "--scenarios" => match args.next().as_deref() {
            Some("grid") => uws_axes = false,
            Some("uws") => grid = false,
            _ => {}
        },
        "--baseline" => baseline = Some(args.next().expect("--baseline PATH")),
        "--server" => {
            let spec = args.next().expect("--server NAME=PATH");
            let (name, path) = spec.split_once('=').expect("--server NAME=PATH");
            outside.push(Server {
                name: Box::leak(name.to_owned().into_boxed_str()),
                binary: path.to_owned(),
                args: &["--runtime", "tokio"],
            });
        }
        _ => {}
    }) else {
        return; // `cargo test --benches` / criterion-style listing: nothing to run
    };
    let (seconds, rounds) = (options.seconds, options.rounds);
    let mut scenarios: Vec<(usize, usize, usize)> = Vec::new();
    if grid {
        let sizes = options.sizes.clone().unwrap_or_else(|| SIZES.to_vec());
        for (c, f) in SHAPES {
            scenarios.extend(sizes.iter().map(|&size| (c, f, size)));
        }
    }
    if uws_axes && options.sizes.is_none() {
        scenarios.extend(UWS_AXES);
    }
    // Profiling aids: one server only, some sizes only.
    if let Some(name) = options.only {
        servers.retain(|s| s.name == name);
    }
    if let Some(binary) = baseline {
        // The older build runs like the first server kept (`--only` picks which).
        let args = servers
            .first()
            .map_or(&["--runtime", "tokio"][..], |server| server.args);
        servers.push(Server {
            name: "baseline",
            binary,
            args,
        });
    }
    servers.extend(outside);
    load::build_examples(
        &[
            "echo_server",
            "peer_fastwebsockets_echo",
            "peer_tungstenite_echo",
            "peer_tokio_websockets_echo",
        ],
        &[],
    );

    // Idle memory first, each server freshly started: memory freed by a busy run would be
    // reused without showing in RSS.
    let idle: Vec<f64> = servers
        .iter()
        .enumerate()
        .map(|(index, server)| {
            let fresh = start_pinned(&server.binary, server.name, server.args, 9300 + index as u16);
            let kib = idle_memory(&fresh, 1000);
            eprintln!("{:>18} idle connection: {kib:.1} KiB RSS", server.name);
            kib
        })
        .collect();
    // Every server runs for the whole benchmark; the idle ones use no CPU.
    let running: Vec<Running> = servers
        .iter()
        .enumerate()
        .map(|(index, server)| start_pinned(&server.binary, server.name, server.args, 9200 + index as u16))
        .collect();
    let mut results: Vec<Vec<_>> = servers.iter().map(|_| Vec::new()).collect();
    for (connections, inflight, size) in scenarios {
        let mut samples: Vec<Vec<Throughput>> = servers.iter().map(|_| Vec::new()).collect();
        for _ in 0..rounds {
            for (i, server) in running.iter().enumerate() {
                samples[i].push(throughput(server, size, connections, inflight, seconds));
            }
        }
        for (i, server) in servers.iter().enumerate() {
            let r = median(std::mem::take(&mut samples[i]));
            eprintln!(
                "{:>18} {connections:>3}x{inflight:<2} {size:>8} B: {:>9.0} msg/s, {:>7.2} µs server CPU/msg, load client {:>3.0} % CPU",
                server.name,
                r.per_second,
                r.cpu_per_message_us,
                r.client_cpu * 100.0
            );
            results[i].push(((connections, inflight, size), r));
        }
    }
    let mut rows = Vec::new();
    for (((server, running), results), idle) in servers.iter().zip(&running).zip(results).zip(idle) {
        let (p50, p99) = latency(running, seconds);
        eprintln!("{:>18} latency p50 {p50:.1} µs, p99 {p99:.1} µs", server.name);
        rows.push((server.name, results, p50, p99, idle));
    }

    // Markdown tables: absolute figures, then ratios (ferrosocket / peer; > 1 is better).
    println!(
        "\n| scenario | size | {} |",
        rows.iter()
            .map(|r| format!("{} msg/s (µs CPU/msg)", r.0))
            .collect::<Vec<_>>()
            .join(" | ")
            + " | load client CPU (most)"
    );
    println!("|---|---|{}", "---|".repeat(rows.len() + 1));
    let scenarios = rows[0].1.len();
    for i in 0..scenarios {
        let ((c, f, size), _) = &rows[0].1[i];
        let cells: Vec<String> = rows
            .iter()
            .map(|r| format!("{:.0} ({:.2})", r.1[i].1.per_second, r.1[i].1.cpu_per_message_us))
            .collect();
        let client = rows.iter().map(|r| r.1[i].1.client_cpu).fold(0.0, f64::max);
        println!(
            "| {c} conn × {f} in flight | {size} B | {} | {:.0} % |",
            cells.join(" | "),
            client * 100.0
        );
    }
    println!("\nServer efficiency ratio (messages per server CPU-second, ferrosocket ÷ peer):\n");
    println!(
        "| scenario | size | {} |",
        rows[1..]
            .iter()
            .map(|r| format!("vs {}", r.0))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|---|{}", "---|".repeat(rows.len() - 1));
    for i in 0..scenarios {
        let ((c, f, size), ours) = &rows[0].1[i];
        let cells: Vec<String> = rows[1..]
            .iter()
            .map(|r| format!("{:.2}×", r.1[i].1.cpu_per_message_us / ours.cpu_per_message_us))
            .collect();
        println!("| {c} × {f} | {size} B | {} |", cells.join(" | "));
    }
    println!("\n| server | latency p50 | latency p99 | idle connection RSS |");
    println!("|---|---|---|---|");
    for (name, _, p50, p99, idle) in &rows {
        println!("| {name} | {p50:.1} µs | {p99:.1} µs | {idle:.1} KiB |");
    }
}
