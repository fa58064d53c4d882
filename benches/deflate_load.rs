//! Compressed echo over loopback: ferrosocket's tokio echo server in each permessage-deflate
//! memory profile (and two of them on the `miniz_oxide` backend, built into `target/miniz`)
//! against Node ws (`perMessageDeflate: true`) and yawc (balanced compression),
//! all compressing at zlib's default level 6, driven by one load client: this crate's tokio
//! client with permessage-deflate and context takeover, as browsers negotiate it, the same for
//! every server (it compresses at level 1, so that it keeps up).
//!
//! ```text
//! cargo bench --bench deflate_load --features tokio                  # 3 rounds of 2 s windows
//! cargo bench --bench deflate_load --features tokio -- --seconds 3 --rounds 5 --sizes 1024
//! cargo bench --bench deflate_load --features tokio -- --only "ferrosocket shared"
//! ```
//! Messages are JSON-like text (an array of records with varying ids, names, prices and
//! timestamps) of about 1 KiB and 16 KiB, each message different. Each server runs pinned to
//! core 0, the load client on core 1. Reported per server and size: echoed messages per
//! second, messages per server CPU-second (from `/proc/PID/stat`) and the load client's CPU
//! share (it compresses and inflates too: at 100 % it, not the server, sets the pace, but the
//! CPU per message still compares the servers); then the RSS each idle connection adds after
//! one 1 KiB echo (1,000 connections, each server freshly started); then the compression
//! ratio of each profile on the same message stream, measured in memory.

#[path = "support/json.rs"]
mod json;
#[path = "support/load.rs"]
mod load;

use std::cell::Cell;
use std::process::Command;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ferrosocket::deflate::{DeflateConfig, Memory};
use ferrosocket::{ClientRequest, Config, Connection, Event, Message};
use load::{ensure_node_ws, rss_kib, start_command, start_pinned, Running, Throughput};

/// `echo_server` on the `miniz_oxide` backend (`--cfg ferrosocket_miniz`), in its own target
/// directory.
const MINIZ_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/miniz");
const MINIZ_ECHO_SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/miniz/release/examples/echo_server"
);

/// How a server is started: an example binary with arguments, or a command (Node).
struct Server {
    name: &'static str,
    /// An example's name, or a path to a binary.
    binary: &'static str,
    args: &'static [&'static str],
    node_script: Option<&'static str>,
}

fn servers() -> Vec<Server> {
    let ours = |name, memory| Server {
        name,
        binary: "echo_server",
        args: memory,
        node_script: None,
    };
    vec![
        ours("ferrosocket shared", &["--deflate-memory", "shared"]),
        ours("ferrosocket dedicated", &["--deflate-memory", "dedicated"]),
        ours("ferrosocket minimal", &["--deflate-memory", "minimal"]),
        Server {
            binary: MINIZ_ECHO_SERVER,
            ..ours("ferrosocket shared miniz", &["--deflate-memory", "shared"])
        },
        Server {
            binary: MINIZ_ECHO_SERVER,
            ..ours("ferrosocket dedicated miniz", &["--deflate-memory", "dedicated"])
        },
        Server {
            name: "Node ws",
            binary: "node",
            args: &[],
            node_script: Some("benches/peers/ws_echo.mjs"),
        },
        Server {
            name: "yawc",
            binary: "peer_yawc_echo",
            args: &[],
            node_script: None,
        },
    ]
}

fn start(server: &Server, port: u16) -> Running {
    match server.node_script {
        Some(script) => start_command(
            Command::new("taskset")
                .args(["-c", "0", "node"])
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_owned() + script),
            server.name,
            server.args,
            port,
        ),
        None => start_pinned(server.binary, server.name, server.args, port),
    }
}

/// The load client's connection settings: context takeover both ways, like a browser. It
/// compresses at level 1, a fifth of level 6's work, so one core of it keeps up with every
/// server (each server still inflates with context takeover and compresses at level 6).
fn client_config() -> Config {
    Config::default()
        .max_message_size(1 << 20)
        .permessage_deflate(DeflateConfig::default().memory(Memory::Dedicated).level(1))
}

async fn connect(
    addr: &str,
) -> ferrosocket::tokio::WebSocketStream<ferrosocket::tokio::MaybeTlsStream<tokio::net::TcpStream>> {
    let request = ClientRequest::new(&format!("ws://{addr}/")).unwrap();
    let (ws, _) = ferrosocket::tokio::connect_with(request, client_config(), None)
        .await
        .unwrap();
    assert!(
        ws.connection().permessage_deflate().is_some(),
        "deflate negotiated"
    );
    ws
}

/// One connection keeping `inflight` messages outstanding until `stop`, checking each echo.
async fn drive(addr: String, texts: Rc<Vec<String>>, inflight: usize, counter: Rc<Cell<u64>>, stop: Instant) {
    let mut ws = connect(&addr).await;
    let mut sent = 0;
    for _ in 0..inflight {
        ws.feed(Message::text(texts[sent % texts.len()].as_str()))
            .await
            .unwrap();
        sent += 1;
    }
    ws.flush().await.unwrap();
    let mut received = 0;
    while Instant::now() < stop {
        let Ok(Some(Ok(message))) = tokio::time::timeout_at(stop.into(), ws.next()).await else {
            break;
        };
        assert_eq!(message.len(), texts[received % texts.len()].len(), "the echo");
        received += 1;
        counter.set(counter.get() + 1);
        ws.send(Message::text(texts[sent % texts.len()].as_str()))
            .await
            .unwrap();
        sent += 1;
    }
}

fn throughput(
    server: &Running,
    texts: &Rc<Vec<String>>,
    connections: usize,
    inflight: usize,
    seconds: f64,
) -> Throughput {
    load::run_local(async {
        let counter = Rc::new(Cell::new(0u64));
        load::measure(server, &counter, seconds, |stop| {
            (0..connections)
                .map(|_| {
                    tokio::task::spawn_local(drive(
                        server.addr.clone(),
                        texts.clone(),
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

/// RSS added per idle connection after one compressed echo each, in KiB.
fn idle_memory(server: &Running, text: &str, count: usize) -> f64 {
    load::run_local(async {
        // Two connections first, so one-time allocations (and the shared pool) are in the
        // baseline.
        let mut warm = Vec::new();
        for _ in 0..2 {
            let mut ws = connect(&server.addr).await;
            ws.send(Message::text(text)).await.unwrap();
            ws.next().await.unwrap().unwrap();
            warm.push(ws);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = rss_kib(server.child.id());
        let mut open = Vec::with_capacity(count);
        for _ in 0..count {
            let mut ws = connect(&server.addr).await;
            ws.send(Message::text(text)).await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap().len(), text.len());
            open.push(ws);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_kib(server.child.id());
        (after.saturating_sub(before)) as f64 / count as f64
    })
}

/// Wire bytes ÷ text bytes when a server with `memory` sends `texts` to a browser-like client.
fn ratio(memory: Memory, texts: &[String]) -> f64 {
    let server_config = Config::default().permessage_deflate(DeflateConfig::default().memory(memory));
    let mut client = Connection::client(ClientRequest::new("ws://h/").unwrap(), client_config());
    let mut server = Connection::server(server_config);
    server.receive(&client.take_outgoing());
    assert!(matches!(server.next_event(), Ok(Some(Event::Request(_)))));
    server.accept(Default::default()).unwrap();
    client.receive(&server.take_outgoing());
    assert!(matches!(client.next_event(), Ok(Some(Event::Open(_)))));
    let (mut plain, mut wire) = (0, 0);
    for text in texts {
        server.send_text(text).unwrap();
        let out = server.take_outgoing();
        wire += out.len();
        plain += text.len();
        client.receive(&out);
        assert!(matches!(client.next_event(), Ok(Some(Event::Text(t))) if t == text.as_str()));
    }
    wire as f64 / plain as f64
}

fn main() {
    let Some(options) = load::Options::parse(2.0, 3, |_, _| {}) else {
        return;
    };
    let (seconds, rounds) = (options.seconds, options.rounds);
    let sizes = options.sizes.unwrap_or_else(|| vec![1024, 16 << 10]);
    let mut servers = servers();
    if let Some(name) = options.only {
        servers.retain(|s| s.name == name);
    }
    load::build_examples_with_rustflags(
        &["echo_server"],
        &["--target-dir", MINIZ_DIR],
        Some("--cfg ferrosocket_miniz"),
    );
    load::build_examples(&["echo_server", "peer_yawc_echo"], &[]);
    if !ensure_node_ws() {
        eprintln!("Node ws unavailable (npm ci in tests/interop failed): left out");
        servers.retain(|s| s.node_script.is_none());
    }

    let small = json::messages(1024, 1);
    let idle: Vec<f64> = servers
        .iter()
        .enumerate()
        .map(|(index, server)| {
            let fresh = start(server, 9400 + index as u16);
            let kib = idle_memory(&fresh, &small[0], 1000);
            eprintln!("{:>22} idle compressed connection: {kib:.1} KiB RSS", server.name);
            kib
        })
        .collect();

    let running: Vec<Running> = servers
        .iter()
        .enumerate()
        .map(|(index, server)| start(server, 9450 + index as u16))
        .collect();
    // (size, per server: throughput)
    let mut table = Vec::new();
    for &size in &sizes {
        let texts = Rc::new(json::messages(size, 64));
        let (connections, inflight) = (32, 2);
        let mut samples: Vec<Vec<Throughput>> = servers.iter().map(|_| Vec::new()).collect();
        for _ in 0..rounds {
            for (i, server) in running.iter().enumerate() {
                samples[i].push(throughput(server, &texts, connections, inflight, seconds));
            }
        }
        let medians: Vec<Throughput> = samples
            .into_iter()
            .map(|mut s| {
                s.sort_by(|a, b| a.cpu_per_message_us.total_cmp(&b.cpu_per_message_us));
                s.swap_remove(s.len() / 2)
            })
            .collect();
        for (server, r) in servers.iter().zip(&medians) {
            eprintln!(
                "{:>22} {size:>6} B: {:>8.0} msg/s, {:>7.2} µs server CPU/msg, load client {:>3.0} % CPU",
                server.name,
                r.per_second,
                r.cpu_per_message_us,
                r.client_cpu * 100.0
            );
        }
        table.push((size, medians));
    }

    println!("\n32 connections × 2 messages in flight, JSON text; servers at zlib level 6, the load client at 1.\n");
    println!(
        "| size | {} |",
        servers
            .iter()
            .map(|s| format!("{} msg/s (µs CPU/msg, load client CPU)", s.name))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(servers.len()));
    for (size, medians) in &table {
        let cells: Vec<String> = medians
            .iter()
            .map(|r| {
                format!(
                    "{:.0} ({:.2}, {:.0} %)",
                    r.per_second,
                    r.cpu_per_message_us,
                    r.client_cpu * 100.0
                )
            })
            .collect();
        println!("| {size} B | {} |", cells.join(" | "));
    }
    println!("\nMessages per server CPU-second, ferrosocket ÷ peer (> 1 is better):\n");
    let is_ours = |i: &usize| servers[*i].name.starts_with("ferrosocket");
    let ours: Vec<usize> = (0..servers.len()).filter(is_ours).collect();
    let peers: Vec<usize> = (0..servers.len()).filter(|i| !is_ours(i)).collect();
    for (size, medians) in &table {
        for &o in &ours {
            let cells: Vec<String> = peers
                .iter()
                .map(|&p| {
                    format!(
                        "{:.2}× vs {}",
                        medians[p].cpu_per_message_us / medians[o].cpu_per_message_us,
                        servers[p].name
                    )
                })
                .collect();
            println!("- {size} B, {}: {}", servers[o].name, cells.join(", "));
        }
    }
    println!("\n| server | RSS per idle compressed connection (after one 1 KiB echo) |");
    println!("|---|---|");
    for (server, kib) in servers.iter().zip(&idle) {
        println!("| {} | {kib:.1} KiB |", server.name);
    }
    println!("\nCompressed size ÷ text size, server → browser-like client, 64 different messages:\n");
    println!(
        "| profile | {} |",
        sizes
            .iter()
            .map(|s| format!("{s} B JSON"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(sizes.len()));
    for memory in [Memory::Dedicated, Memory::SharedCompressor, Memory::Minimal] {
        let cells: Vec<String> = sizes
            .iter()
            .map(|&size| format!("{:.3}", ratio(memory, &json::messages(size, 64))))
            .collect();
        println!("| {memory:?} | {} |", cells.join(" | "));
    }
}
