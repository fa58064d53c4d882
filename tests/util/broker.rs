//! Real brokers for the cluster tests: `redis-server` and `nats-server` on free ports,
//! installed with apt-get if missing, killed by PID when dropped.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::process::Process;

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
    let process = Process::new(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "{binary} did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    process
}
