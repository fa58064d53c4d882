//! A soak under faults: two toolkit nodes with topics, bridged through a real `redis-server`,
//! while hundreds of clients misbehave at random against them — slow and paused readers,
//! abrupt disconnects, oversized, invalid and non-UTF-8 frames, ping floods, stalled
//! handshakes, subscription churn — and the broker is killed and restarted halfway.
//! Well-behaved clients on both nodes must get every feed message they are owed in order
//! (across the broker, pub/sub being at most once, only what was in transit while it was
//! away may be missing) and every echo;
//! each fault must get its close code; afterwards the process's file descriptors, tasks and
//! heap return to their baseline.
//!
//! About 40 s by default; `SOAK_SECONDS` and `SOAK_CLIENTS` run it longer and wider by hand:
//! `SOAK_SECONDS=600 SOAK_CLIENTS=400 cargo test --all-features --test soak -- --nocapture`
//! (`SOAK_SEED` picks the faults, `SOAK_TRACE=1` prints both bridges' counters every 200 ms).
#![cfg(feature = "redis")]

mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferrosocket::server::cluster::Cluster;
use ferrosocket::server::{Clients, Overflow, Server};
use ferrosocket::{tokio as tws, CloseCode, Config, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use ferrosocket::frame::{Header, OpCode};
use util::broker::{start_broker, Broker};
use util::client_frame;
use util::process::{find_binary, free_port};

/// Counts the bytes live on the heap, so the test can tell memory that came back.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MAX_MESSAGE: usize = 64 * 1024;
const FEED: &str = "feed";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the process holds now.
#[derive(Debug, Clone, Copy)]
struct Usage {
    fds: usize,
    tasks: usize,
    heap: usize,
    rss_kib: u64,
}

fn usage() -> Usage {
    let rss_kib = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    Usage {
        fds: std::fs::read_dir("/proc/self/fd")
            .map(Iterator::count)
            .unwrap_or(0),
        tasks: tokio::runtime::Handle::current().metrics().num_alive_tasks(),
        heap: LIVE.load(Ordering::Relaxed),
        rss_kib,
    }
}

/// A toolkit node: `sub T` / `unsub T` manage topics, `pub T x` publishes `x` on every node,
/// anything else is echoed to its sender.
async fn node(port: u16) -> (String, Cluster, Clients) {
    let config = Config::default()
        .max_message_size(MAX_MESSAGE)
        .idle_timeout(Duration::from_secs(2));
    let mut server = Server::builder()
        .config(config)
        .handshake_timeout(Duration::from_secs(1))
        .send_queue_limit(256 * 1024)
        .on_overflow(Overflow::Close(CloseCode::POLICY_VIOLATION))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("ws://{}", server.local_addr().unwrap());
    let clients = server.clients().clone();
    let cluster = Cluster::redis(&Broker::Redis.url(port), "soak", clients.clone())
        .await
        .unwrap();
    let relay = cluster.clone();
    tokio::spawn(async move {
        while let Some(mut incoming) = server.accept().await {
            let cluster = relay.clone();
            tokio::spawn(async move {
                let client = incoming.client.clone();
                while let Some(Ok(message)) = incoming.reader.next().await {
                    let text = message.to_text().unwrap_or_default().to_owned();
                    if let Some(topic) = text.strip_prefix("sub ") {
                        client.subscribe(topic);
                        let _ = client.send(Message::text(format!("subscribed {topic}")));
                    } else if let Some(topic) = text.strip_prefix("unsub ") {
                        client.unsubscribe(topic);
                    } else if let Some((topic, body)) =
                        text.strip_prefix("pub ").and_then(|r| r.split_once(' '))
                    {
                        cluster.publish(topic, &Message::text(body));
                    } else if !message.is_close() {
                        let _ = client.send(message);
                    }
                }
            });
        }
    });
    (url, cluster, clients)
}

/// A well-behaved client's findings.
#[derive(Debug, Default)]
struct Owed {
    feed_received: u64,
    /// Runs of feed numbers skipped, as (last seen, next seen): only possible across the
    /// broker, while it was away.
    feed_gaps: Vec<(u64, u64)>,
    echoes_sent: u64,
    echoes_back: u64,
}

/// Subscribes to the feed and sends an echo every 20 ms until `stop`; checks that the feed
/// only ever moves forward and that echoes come back in order.
async fn good_client(url: String, stop: Arc<AtomicBool>, seen: Arc<AtomicU64>) -> Owed {
    let (mut ws, _) = tws::connect(&url).await.unwrap();
    ws.send(Message::text(format!("sub {FEED}"))).await.unwrap();
    let mut owed = Owed::default();
    let mut last_feed: Option<u64> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                owed.echoes_sent += 1;
                ws.send(Message::text(format!("echo {}", owed.echoes_sent))).await.unwrap();
            }
            message = ws.next() => {
                let message = message.expect("the good client's connection stays open").expect("no error");
                let Ok(text) = message.to_text() else { continue };
                if let Some(n) = text.strip_prefix("echo ") {
                    owed.echoes_back += 1;
                    assert_eq!(n.parse::<u64>().unwrap(), owed.echoes_back, "echoes in order");
                } else if let Some(n) = text.strip_prefix("feed ") {
                    let n: u64 = n.parse().unwrap();
                    if let Some(last) = last_feed {
                        assert!(n > last, "the feed went back from {last} to {n}");
                        if n > last + 1 {
                            owed.feed_gaps.push((last, n));
                        }
                    }
                    last_feed = Some(n);
                    seen.store(n, Ordering::Relaxed);
                    owed.feed_received += 1;
                }
            }
        }
    }
    // Drain what is owed: the remaining echoes.
    let deadline = Instant::now() + Duration::from_secs(10);
    while owed.echoes_back < owed.echoes_sent {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = tokio::time::timeout(left, ws.next())
            .await
            .expect("echoes owed in time");
        let message = message.expect("open").expect("no error");
        if let Some(n) = message.to_text().ok().and_then(|t| t.strip_prefix("echo ")) {
            owed.echoes_back += 1;
            assert_eq!(n.parse::<u64>().unwrap(), owed.echoes_back);
        }
    }
    ws.close(CloseCode::NORMAL, "done").await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    owed
}

/// A small deterministic generator, so a failing run can be replayed (`SOAK_SEED`).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Opens a raw WebSocket (handshake by hand) for the faults a well-formed client cannot make.
async fn raw(url: &str) -> TcpStream {
    let addr = url.trim_start_matches("ws://");
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    tcp
}

/// Reads the server's frames until the connection ends; the code of its Close, if any.
async fn close_code(mut tcp: TcpStream) -> Option<u16> {
    let mut wire = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut wire)).await;
    let mut rest = &wire[..];
    while let Ok(Some((header, head))) = Header::parse(rest) {
        let payload = rest.get(head..)?;
        if header.opcode == OpCode::Close {
            let code = payload.get(..2).filter(|_| header.payload_len >= 2)?;
            return Some(u16::from_be_bytes([code[0], code[1]]));
        }
        rest = payload.get(usize::try_from(header.payload_len).ok()?..)?;
    }
    None
}

/// The faults, and how many of each ran.
const FAULTS: [&str; 9] = [
    "slow reader",
    "paused reader",
    "abrupt disconnect",
    "oversized frame",
    "invalid opcode",
    "invalid utf-8",
    "ping flood",
    "stalled handshake",
    "subscription churn",
];

/// One misbehaving session; checks the close code where the fault earns one.
async fn misbehave(url: &str, fault: usize, rng: &mut Rng) {
    match FAULTS[fault] {
        "slow reader" => {
            let (mut ws, _) = tws::connect(url).await.unwrap();
            ws.send(Message::text(format!("sub {FEED}"))).await.unwrap();
            for _ in 0..rng.below(40) {
                if !matches!(ws.next().await, Some(Ok(_))) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        "paused reader" => {
            // Subscribed and silent: the queue overflows (1008) or the idle timeout ends it.
            let tcp = raw(url).await;
            let mut tcp = tcp;
            tcp.write_all(&client_frame(0x81, format!("sub {FEED}").as_bytes()))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(500 + rng.below(4000))).await;
        }
        "abrupt disconnect" => {
            let mut tcp = raw(url).await;
            let frame = client_frame(0x82, &[7; 1000]);
            let cut = rng.below(frame.len() as u64) as usize;
            tcp.write_all(&frame[..cut]).await.unwrap();
        }
        "oversized frame" => {
            let mut tcp = raw(url).await;
            let frame = client_frame(0x82, &vec![1; MAX_MESSAGE + 1 + rng.below(1000) as usize]);
            let _ = tcp.write_all(&frame).await; // the server may stop reading at the header
            assert_eq!(close_code(tcp).await, Some(1009), "oversized frame");
        }
        "invalid opcode" => {
            let mut tcp = raw(url).await;
            tcp.write_all(&client_frame(0x83, b"reserved")).await.unwrap();
            assert_eq!(close_code(tcp).await, Some(1002), "reserved opcode");
        }
        "invalid utf-8" => {
            let mut tcp = raw(url).await;
            tcp.write_all(&client_frame(0x81, &[0xce, 0xba, 0xff, 0xfe]))
                .await
                .unwrap();
            assert_eq!(close_code(tcp).await, Some(1007), "invalid UTF-8");
        }
        "ping flood" => {
            // Pings without reading the pongs: the server's outgoing side stays bounded.
            let mut tcp = raw(url).await;
            let ping = client_frame(0x89, &[9; 125]);
            for _ in 0..2000 + rng.below(8000) {
                if tcp.write_all(&ping).await.is_err() {
                    break;
                }
            }
        }
        "stalled handshake" => {
            let mut tcp = TcpStream::connect(url.trim_start_matches("ws://")).await.unwrap();
            tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgr").await.unwrap();
            let mut rest = Vec::new();
            let ended = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest)).await;
            assert!(ended.is_ok(), "the handshake deadline ends a stalled request");
        }
        "subscription churn" => {
            let (mut ws, _) = tws::connect(url).await.unwrap();
            for i in 0..rng.below(50) {
                let topic = format!("t{}", rng.below(20));
                let verb = if i % 3 == 2 { "unsub" } else { "sub" };
                if ws.send(Message::text(format!("{verb} {topic}"))).await.is_err() {
                    break;
                }
                let _ = ws.send(Message::text(format!("pub {topic} x"))).await;
            }
            // Gone without a Close.
        }
        _ => unreachable!(),
    }
}

/// Waits until `done` or `limit` passes; whether it happened.
async fn settles(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_clients_cost_nothing_once_gone_and_good_clients_lose_nothing() {
    let Some(binary) = find_binary("redis-server", "redis-server") else {
        return;
    };
    let seconds = env_or("SOAK_SECONDS", 40);
    let concurrency = env_or("SOAK_CLIENTS", 300) as usize;
    let seed = env_or("SOAK_SEED", 0x5eed_50a6);
    let port = free_port();
    let mut broker = Some(start_broker(Broker::Redis, &binary, port).await);
    let (url_a, cluster_a, clients_a) = node(port).await;
    let (url_b, cluster_b, clients_b) = node(port).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline = usage();

    // The feed: published on node A, delivered locally and through the broker to node B.
    let stop = Arc::new(AtomicBool::new(false));
    let published = Arc::new(AtomicU64::new(0));
    let feed = tokio::spawn({
        let (cluster, stop, published) = (cluster_a.clone(), stop.clone(), published.clone());
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(5));
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let n = published.fetch_add(1, Ordering::Relaxed) + 1;
                cluster.publish(FEED, &Message::text(format!("feed {n}")));
            }
        }
    });
    // What node B's good clients have seen of the feed: at the broker's death, what B had not
    // yet received (still in the broker's or the sockets' buffers) may be lost with it.
    let seen: Vec<Arc<AtomicU64>> = (0..4).map(|_| Arc::default()).collect();
    let good: Vec<_> = [&url_a, &url_a, &url_b, &url_b]
        .into_iter()
        .zip(&seen)
        .map(|(url, seen)| tokio::spawn(good_client(url.clone(), stop.clone(), seen.clone())))
        .collect();
    assert!(
        settles(Duration::from_secs(5), || clients_a.len() == 2
            && clients_b.len() == 2)
        .await
    );

    // The misbehaving crowd: `concurrency` tasks, each one fault after another until the end.
    let ran: Arc<Mutex<BTreeMap<&str, u64>>> = Arc::default();
    let end = Instant::now() + Duration::from_secs(seconds);
    let crowd: Vec<_> = (0..concurrency)
        .map(|i| {
            let url = if i % 2 == 0 { url_a.clone() } else { url_b.clone() };
            let ran = ran.clone();
            tokio::spawn(async move {
                let mut rng = Rng(seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                while Instant::now() < end {
                    let fault = rng.below(FAULTS.len() as u64) as usize;
                    misbehave(&url, fault, &mut rng).await;
                    *ran.lock().unwrap().entry(FAULTS[fault]).or_default() += 1;
                }
            })
        })
        .collect();

    // Halfway through, the broker dies and comes back on the same port: the feed numbers
    // published from its death until both bridges are back are the outage.
    let mut peak = usage();
    let restart_at = Instant::now() + Duration::from_secs(seconds / 2);
    let mut outage = None;
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = usage();
        peak.fds = peak.fds.max(now.fds);
        peak.tasks = peak.tasks.max(now.tasks);
        peak.rss_kib = peak.rss_kib.max(now.rss_kib);
        if std::env::var("SOAK_TRACE").is_ok() {
            eprintln!(
                "trace {} A {:?} B {:?}",
                published.load(Ordering::Relaxed),
                cluster_a.stats(),
                cluster_b.stats()
            );
        }
        if outage.is_none() && Instant::now() >= restart_at {
            let died = seen[2..]
                .iter()
                .map(|s| s.load(Ordering::Relaxed))
                .min()
                .unwrap_or(0);
            drop(broker.take());
            tokio::time::sleep(Duration::from_secs(1)).await;
            broker = Some(start_broker(Broker::Redis, &binary, port).await);
            let back = settles(Duration::from_secs(15), || {
                cluster_a.is_connected() && cluster_b.is_connected()
            })
            .await;
            assert!(back, "both bridges reconnect");
            outage = Some((died, published.load(Ordering::Relaxed)));
        }
    }
    for task in crowd {
        task.await.expect("a fault got the wrong answer");
    }
    let (died, back) = outage.expect("the broker was restarted");
    stop.store(true, Ordering::Relaxed);
    feed.await.unwrap();
    let owed: Vec<Owed> = futures_util::future::join_all(good)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    let stats = cluster_a.stats();
    let total = published.load(Ordering::Relaxed);
    // Pub/sub across the broker is at most once: from what node B had received when the broker
    // died, until two seconds' worth after both bridges were back (one node's subscription
    // comes back a moment after the other's publisher), messages may be missing on B.
    let window = (died, back + 400);
    for (i, owed) in owed.iter().enumerate() {
        assert_eq!(owed.echoes_back, owed.echoes_sent, "good client {i}: every echo");
        if i < 2 {
            assert!(
                owed.feed_gaps.is_empty(),
                "good client {i} on the publishing node: every feed message"
            );
        } else {
            for &(last, next) in &owed.feed_gaps {
                assert!(
                    last >= window.0 && next <= window.1,
                    "good client {i}: feed {last}..{next} missing outside the outage {window:?}; bridges {stats:?} {:?}",
                    cluster_b.stats()
                );
            }
        }
        assert!(
            owed.feed_received > total / 2,
            "good client {i} got {} of {total}",
            owed.feed_received
        );
    }
    let ran = ran.lock().unwrap().clone();
    let sessions = ran.values().sum::<u64>();
    println!(
        "soak: {seconds} s, {concurrency} misbehaving at a time, {sessions} sessions {ran:?}; \
         feed {total} published, outage {died}..{back}, bridge {stats:?}; good clients {owed:?}"
    );

    // Everything comes back once everyone has gone.
    assert!(
        settles(Duration::from_secs(15), || clients_a.is_empty()
            && clients_b.is_empty())
        .await
    );
    let settled = settles(Duration::from_secs(15), || {
        let now = usage();
        now.fds <= baseline.fds && now.tasks <= baseline.tasks
    })
    .await;
    let after = usage();
    println!(
        "soak: baseline {baseline:?}, peak {peak:?} (peak heap {} B), after {after:?}",
        PEAK.load(Ordering::Relaxed)
    );
    assert!(
        settled,
        "fds and tasks: {baseline:?} at baseline, {after:?} after"
    );
    // Heap: tokio's slabs and the maps' capacities keep a little; a leak per session would not.
    let kept = after.heap.saturating_sub(baseline.heap);
    assert!(
        kept < 4 << 20,
        "heap: {} B at baseline, {} B after",
        baseline.heap,
        after.heap
    );
    assert!(
        FAULTS.iter().all(|fault| ran.contains_key(fault)),
        "every fault ran: {ran:?}"
    );
    drop(broker);
}
