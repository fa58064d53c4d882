//! A chat room served by any number of nodes: every text message any client sends to any
//! node goes to every client of every node started with the same broker, the sender
//! included. Without a broker flag it is a single-node chat.
//!
//! ```text
//! cargo run --release --example cluster_chat -- 127.0.0.1:8080 [--redis redis://127.0.0.1:6379 | --nats nats://127.0.0.1:4222]
//!     [--queue-limit BYTES]
//! ```
//! A client that stops reading is closed with 1013 (try again later) once its send queue
//! holds `--queue-limit` bytes (default 1 MiB), so it never slows the others. Prints a
//! `listening` line once bound.

use ferrosocket::server::cluster::Cluster;
use ferrosocket::server::{Clients, Overflow, Server};
use ferrosocket::{CloseCode, Message};

/// Where a message goes: this node's clients, or every node's through the broker.
#[derive(Clone)]
enum Room {
    Local(Clients),
    Cluster(Cluster),
}

impl Room {
    fn say(&self, message: &Message) {
        match self {
            Room::Local(clients) => clients.broadcast(message),
            Room::Cluster(cluster) => cluster.broadcast(message),
        };
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut addr = "127.0.0.1:8080".to_owned();
    let (mut redis, mut nats, mut queue_limit) = (None, None, 1usize << 20);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--redis" => redis = args.next(),
            "--nats" => nats = args.next(),
            "--queue-limit" => queue_limit = args.next().and_then(|n| n.parse().ok()).unwrap_or(queue_limit),
            _ => addr = arg,
        }
    }
    let mut server = Server::builder()
        .send_queue_limit(queue_limit)
        .on_overflow(Overflow::Close(CloseCode::TRY_AGAIN_LATER))
        .bind(&addr)
        .await?;
    let clients = server.clients().clone();
    let (room, via) = match (redis, nats) {
        (Some(url), _) => (
            Room::Cluster(Cluster::redis(&url, "cluster_chat", clients).await?),
            url,
        ),
        (None, Some(url)) => (
            Room::Cluster(Cluster::nats(&url, "cluster_chat", clients).await?),
            url,
        ),
        (None, None) => (Room::Local(clients), "no broker".to_owned()),
    };
    println!(
        "cluster_chat ({via}) listening on ws://{}",
        server.local_addr().expect("bound")
    );
    while let Some(mut incoming) = server.accept().await {
        let room = room.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = incoming.reader.next().await {
                if message.is_text() {
                    room.say(&message);
                }
            }
        });
    }
    Ok(())
}
