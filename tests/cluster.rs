//! Two toolkit nodes bridged through a real broker — `redis-server` and `nats-server`, started
//! on free ports and stopped by PID — with clients on each: messages cross nodes exactly once,
//! keep their order per publisher, reach topic subscribers only, and flow again after the
//! broker is killed and restarted (what was published during the outage stays local and is
//! counted as lost).
#![cfg(all(feature = "redis", feature = "async-nats"))]

mod util;

use std::time::{Duration, Instant};

use ferrosocket::server::cluster::Cluster;
use ferrosocket::server::{Client, Server};
use ferrosocket::{tokio as tws, Message};
use tokio::net::TcpStream;

use util::broker::{start_broker, Broker};
use util::process::{find_binary, free_port};

type Ws = tws::WebSocketStream<tws::MaybeTlsStream<TcpStream>>;

/// This node's bridge to `broker`.
async fn cluster(broker: Broker, port: u16, server: &Server) -> Cluster {
    let clients = server.clients().clone();
    match broker {
        Broker::Redis => Cluster::redis(&broker.url(port), "chat", clients).await.unwrap(),
        Broker::Nats => Cluster::nats(&broker.url(port), "chat", clients).await.unwrap(),
    }
}

/// A toolkit node: every text message a client sends goes to every client of every node
/// (cluster_chat's rule). Returns its URL, the bridge and its clients as they arrive.
async fn node(broker: Broker, port: u16) -> (String, Cluster, tokio::sync::mpsc::UnboundedReceiver<Client>) {
    let mut server = Server::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", server.local_addr().unwrap());
    let cluster = cluster(broker, port, &server).await;
    let relay = cluster.clone();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(mut incoming) = server.accept().await {
            let _ = tx.send(incoming.client.clone());
            let cluster = relay.clone();
            tokio::spawn(async move {
                while let Some(Ok(message)) = incoming.reader.next().await {
                    if message.is_text() {
                        cluster.broadcast(&message);
                    }
                }
            });
        }
    });
    (url, cluster, rx)
}

async fn next_text(ws: &mut Ws) -> String {
    let read = async {
        loop {
            match ws.next().await.expect("open").expect("no error") {
                Message::Text(text) => return text.as_str().to_owned(),
                _ => continue,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("a message in time")
}

async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn two_nodes_through(broker: Broker) {
    let Some(binary) = find_binary(broker.binary(), broker.binary()) else {
        return;
    };
    let port = free_port();
    let process = start_broker(broker, &binary, port).await;
    let (url_1, cluster_1, mut accepted_1) = node(broker, port).await;
    let (url_2, cluster_2, mut accepted_2) = node(broker, port).await;
    assert_ne!(cluster_1.node_id(), cluster_2.node_id());
    let mut a = tws::connect(&url_1).await.unwrap().0; // node 1
    let mut b = tws::connect(&url_1).await.unwrap().0; // node 1
    let mut c = tws::connect(&url_2).await.unwrap().0; // node 2
    let mut d = tws::connect(&url_2).await.unwrap().0; // node 2
    let _handles = [accepted_1.recv().await.unwrap(), accepted_1.recv().await.unwrap()];
    let handle_c = accepted_2.recv().await.unwrap();
    let handle_d = accepted_2.recv().await.unwrap();

    // Any client's message reaches every client on both nodes once, the sender included.
    a.send(Message::text("hello from a")).await.unwrap();
    for ws in [&mut a, &mut b, &mut c, &mut d] {
        assert_eq!(next_text(ws).await, "hello from a");
    }
    d.send(Message::text("hello from d")).await.unwrap();
    for ws in [&mut a, &mut b, &mut c, &mut d] {
        assert_eq!(next_text(ws).await, "hello from d");
    }

    // Order per publisher, and exactly once: 300 messages, then a marker.
    for n in 0..300 {
        a.feed(Message::text(format!("n{n}"))).await.unwrap();
    }
    a.send(Message::text("end")).await.unwrap();
    for ws in [&mut b, &mut c] {
        for n in 0..300 {
            assert_eq!(next_text(ws).await, format!("n{n}"));
        }
        assert_eq!(next_text(ws).await, "end");
    }
    for ws in [&mut a, &mut d] {
        for _ in 0..301 {
            next_text(ws).await;
        }
    }

    // Topics across nodes: only subscribers, on either node.
    assert!(handle_c.subscribe("room.*"));
    assert_eq!(
        cluster_1.publish("room.7", &Message::text("to the room")),
        0,
        "no local subscriber"
    );
    assert_eq!(next_text(&mut c).await, "to the room");
    assert_eq!(handle_d.topics(), Vec::<String>::new());

    // The broker goes away: local delivery goes on, the rest is counted as lost.
    let lost_before = cluster_1.stats().lost;
    drop(process);
    wait_for("the bridges to notice the outage", || {
        !cluster_1.is_connected() && !cluster_2.is_connected()
    })
    .await;
    a.send(Message::text("during the outage")).await.unwrap();
    assert_eq!(next_text(&mut a).await, "during the outage");
    assert_eq!(next_text(&mut b).await, "during the outage");
    wait_for("the loss to be counted", || cluster_1.stats().lost > lost_before).await;

    // It comes back on the same port: both bridges reconnect and resubscribe.
    let _process = start_broker(broker, &binary, port).await;
    wait_for("the bridges to reconnect", || {
        cluster_1.is_connected() && cluster_2.is_connected()
    })
    .await;
    // Give the resubscription a moment to reach the broker, then publish until it crosses.
    let mut crossed = false;
    for attempt in 0..50 {
        cluster_1.broadcast(&Message::text(format!("after {attempt}")));
        let got = tokio::time::timeout(Duration::from_millis(200), c.next()).await;
        if let Ok(Some(Ok(Message::Text(text)))) = got {
            assert!(
                text.as_str().starts_with("after "),
                "nothing from the outage is replayed: got {text}"
            );
            crossed = true;
            break;
        }
    }
    assert!(crossed, "messages cross nodes again after the broker came back");
    let stats = cluster_1.stats();
    assert!(
        stats.reconnects >= 1 && cluster_2.stats().reconnects >= 1,
        "{stats:?}"
    );
    assert!(stats.sent >= 303 && stats.lost >= 1, "{stats:?}");
    assert!(cluster_2.stats().received >= 302, "{:?}", cluster_2.stats());
    assert_eq!(stats.malformed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_through_redis() {
    two_nodes_through(Broker::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_through_nats() {
    two_nodes_through(Broker::Nats).await;
}

#[tokio::test]
async fn an_unreachable_broker_is_a_typed_error() {
    let port = free_port(); // nothing listens there
    let server = Server::builder().build();
    let clients = server.clients().clone();
    let redis = Cluster::redis(&format!("redis://127.0.0.1:{port}"), "chat", clients.clone()).await;
    assert!(matches!(
        redis,
        Err(ferrosocket::server::cluster::ClusterError::Connect(_))
    ));
    let nats = Cluster::nats(&format!("nats://127.0.0.1:{port}"), "chat", clients.clone()).await;
    assert!(matches!(
        nats,
        Err(ferrosocket::server::cluster::ClusterError::Connect(_))
    ));
    let bad = Cluster::redis("http://nope", "chat", clients).await;
    assert!(matches!(
        bad,
        Err(ferrosocket::server::cluster::ClusterError::InvalidUrl(_))
    ));
}
