//! Real brokers for the cluster tests: `redis-server` and `nats-server` on free ports,
//! installed with apt-get if missing, killed by PID when dropped.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

/// Which broker.
#[derive(Clone, Copy, Debug)]
pub enum Broker {
    /// `redis-server`.
    Redis,
    /// `nats-server`.
    Nats,
}

impl Broker {
    pub fn binary(self) -> &'static str {
        match self {
            Broker::Redis => "redis-server",
            Broker::Nats => "nats-server",
        }
    }

    pub fn url(self, port: u16) -> String {
        match self {
            Broker::Redis => format!("redis://127.0.0.1:{port}"),
            Broker::Nats => format!("nats://127.0.0.1:{port}"),
        }
    }
}

/// The broker's binary: on the PATH, in the usual places, or installed with apt-get (once)
/// if it can be. `None` (with the reason printed) skips the test.
pub fn find_binary(name: &str) -> Option<String> {
    let look = || {
        let path = std::env::var("PATH").unwrap_or_default();
        let found = path
            .split(':')
            .chain(["/usr/sbin", "/usr/bin", "/sbin"])
            .map(|dir| format!("{dir}/{name}"))
            .find(|candidate| std::path::Path::new(candidate).exists());
        found
    };
    if let Some(found) = look() {
        return Some(found);
    }
    static INSTALL: OnceLock<bool> = OnceLock::new();
    let installed = *INSTALL.get_or_init(|| {
        eprintln!("installing redis-server and nats-server with apt-get");
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "redis-server", "nats-server"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    let found = look();
    if found.is_none() {
        eprintln!("SKIPPED: {name} is not installed and could not be installed (installed: {installed})");
    }
    found
}

/// A broker process, killed by PID when dropped.
pub struct Process {
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn start_broker(broker: Broker, binary: &str, port: u16) -> Process {
    let port_arg = port.to_string();
    let args: Vec<&str> = match broker {
        Broker::Redis => vec![
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        Broker::Nats => vec!["-p", &port_arg, "-a", "127.0.0.1"],
    };
    let child = Command::new(binary)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
    let process = Process { child };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "{binary} did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    process
}
