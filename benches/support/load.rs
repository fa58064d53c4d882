//! What the loopback benchmarks share: starting servers pinned to a core, reading their
//! CPU time and memory from /proc, and a WebSocket client made of pre-built frames.
#![allow(dead_code)] // each benchmark uses its own part

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server process pinned to core 0; killed on drop.
pub struct Running {
    pub child: Child,
    pub addr: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn examples_dir() -> std::path::PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples")
}

/// Starts `binary` (an example's name, or a path) on `port`, pinned to core 0, and waits for
/// its `listening` line.
pub fn start_pinned(binary: &str, name: &str, args: &[&str], port: u16) -> Running {
    start_command(
        Command::new("taskset")
            .args(["-c", "0"])
            .arg(examples_dir().join(binary)),
        name,
        args,
        port,
    )
}

/// Starts `command ADDR args…` and waits for its `listening` line.
pub fn start_command(command: &mut Command, name: &str, args: &[&str], port: u16) -> Running {
    let mut child = command
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("taskset and the example binaries (cargo build --release --examples)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "{name}: {line}");
    Running {
        child,
        addr: format!("127.0.0.1:{port}"),
    }
}

/// Installs Node ws for the Node peers (`npm ci` in tests/interop) if missing; false if that
/// failed.
pub fn ensure_node_ws() -> bool {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop");
    if std::path::Path::new(dir).join("node_modules/ws").exists() {
        return true;
    }
    Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .is_ok_and(|s| s.success())
}

/// The options the loopback benchmarks share. `None` when cargo only lists or tests the
/// benchmarks (`--list`, `--test`): nothing is to run.
pub struct Options {
    /// Length of one measuring window (`--seconds`).
    pub seconds: f64,
    /// Rounds per scenario, the median counts (`--rounds`).
    pub rounds: usize,
    /// Message sizes (`--sizes 16,1024`), if given.
    pub sizes: Option<Vec<usize>>,
    /// One server by name (`--only NAME`), if given.
    pub only: Option<String>,
}

impl Options {
    /// Parses the shared options; any other flag goes to `other` with the remaining
    /// arguments, to take its value from.
    pub fn parse(
        seconds: f64,
        rounds: usize,
        mut other: impl FnMut(&str, &mut dyn Iterator<Item = String>),
    ) -> Option<Options> {
        let mut options = Options {
            seconds,
            rounds,
            sizes: None,
            only: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--list" | "--test" => return None,
                "--seconds" => options.seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(seconds),
                "--rounds" => options.rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(rounds),
                "--only" => options.only = Some(args.next().expect("--only NAME")),
                "--sizes" => {
                    let list = args.next().expect("--sizes 16,1024");
                    options.sizes = Some(list.split(',').filter_map(|v| v.parse().ok()).collect());
                }
                flag => other(flag, &mut args),
            }
        }
        Some(options)
    }
}

/// Builds example binaries (cargo bench builds only the benchmark), with `extra` cargo
/// arguments (features, a target directory), then moves this process, the load client, to
/// core 1 (the servers run on core 0).
pub fn build_examples(names: &[&str], extra: &[&str]) {
    build_examples_with_rustflags(names, extra, None);
}

/// As [`build_examples`], with `RUSTFLAGS` set (a `--cfg`; give it its own target directory).
pub fn build_examples_with_rustflags(names: &[&str], extra: &[&str], rustflags: Option<&str>) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--release"]).args(extra);
    if let Some(flags) = rustflags {
        build.env("RUSTFLAGS", flags);
    }
    for name in names {
        build.args(["--example", name]);
    }
    assert!(build.status().unwrap().success(), "building {names:?} failed");
    let _ = Command::new("taskset")
        .args(["-p", "-c", "1", &std::process::id().to_string()])
        .output();
}

/// What one measuring window saw.
#[derive(Clone, Copy)]
pub struct Throughput {
    /// Messages counted per second.
    pub per_second: f64,
    /// The server's CPU time per message, in µs.
    pub cpu_per_message_us: f64,
    /// This process's (the load client's) CPU share of one core.
    pub client_cpu: f64,
}

/// Starts the load with `start` (its tasks count messages in `counter` and end at the instant
/// they are given), lets it warm up for 0.5 s, then measures `seconds`: the messages counted,
/// the server's CPU time and the load client's. Waits for the tasks before returning.
pub async fn measure<T>(
    server: &Running,
    counter: &std::cell::Cell<u64>,
    seconds: f64,
    start: impl FnOnce(Instant) -> Vec<tokio::task::JoinHandle<T>>,
) -> Throughput {
    let warmup = Duration::from_millis(500);
    let tasks = start(Instant::now() + warmup + Duration::from_secs_f64(seconds));
    tokio::time::sleep(warmup).await;
    let me = std::process::id();
    let (count0, cpu0, own0, t0) = (
        counter.get(),
        cpu_seconds(server.child.id()),
        cpu_seconds(me),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    let (count1, cpu1, own1, elapsed) = (
        counter.get(),
        cpu_seconds(server.child.id()),
        cpu_seconds(me),
        t0.elapsed(),
    );
    for task in tasks {
        task.await.unwrap();
    }
    let messages = (count1 - count0) as f64;
    Throughput {
        per_second: messages / elapsed.as_secs_f64(),
        cpu_per_message_us: (cpu1 - cpu0) * 1e6 / messages.max(1.0),
        client_cpu: (own1 - own0) / elapsed.as_secs_f64(),
    }
}

/// utime + stime of a process, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // Fields 14 and 15 of stat, counted from after the command name (field 3 = index 0).
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // CLK_TCK is 100 on Linux
}

pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A masked binary frame of `size` bytes of `x`, as a client sends it.
pub fn client_frame(size: usize) -> Vec<u8> {
    client_frame_with(0x82, size)
}

/// A masked single frame with `first_byte` (FIN and opcode) and `size` bytes of `x`.
pub fn client_frame_with(first_byte: u8, size: usize) -> Vec<u8> {
    let mut frame = vec![first_byte];
    match size {
        0..=125 => frame.push(0x80 | size as u8),
        126..=0xFFFF => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(size as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(size as u64).to_be_bytes());
        }
    }
    let key = [0x12, 0x34, 0x56, 0x78];
    frame.extend_from_slice(&key);
    frame.extend((0..size).map(|i| b'x' ^ key[i % 4]));
    frame
}

pub async fn handshake(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

/// Counts complete unmasked server frames at the front of `buf`, removing them.
pub fn take_frames(buf: &mut Vec<u8>) -> usize {
    let mut pos = 0;
    let mut frames = 0;
    loop {
        let rest = &buf[pos..];
        if rest.len() < 2 {
            break;
        }
        let (len, header) = match rest[1] & 0x7F {
            126 if rest.len() >= 4 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
            127 if rest.len() >= 10 => (u64::from_be_bytes(rest[2..10].try_into().unwrap()) as usize, 10),
            126 | 127 => break,
            n => (n as usize, 2),
        };
        if rest.len() < header + len {
            break;
        }
        pos += header + len;
        frames += 1;
    }
    buf.drain(..pos);
    frames
}

/// Runs `future` to completion on a current-thread runtime, inside a `LocalSet` so it can
/// `spawn_local`: the load client's shape (one thread, pinned to its own core).
pub fn run_local<F: std::future::Future>(future: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(tokio::task::LocalSet::new().run_until(future))
}
