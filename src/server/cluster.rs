//! Many servers, one set of rooms: a [`Cluster`] carries broadcasts and topic publishes from
//! one toolkit node to every other through a broker — Redis pub/sub (feature `redis`) or NATS
//! (feature `async-nats`) — so clients behind a load balancer chat as if on one server.
//!
//! Every node publishes to one broker channel (Redis) or subject (NATS) and subscribes to
//! it. A message carries its node's random id, and a node skips what it published itself, so
//! there are no echo loops: a publish reaches each node's clients exactly once — the
//! publishing node's directly, the others' through the broker. Publishes from one node keep
//! their order (one connection, one publishing task).
//!
//! # What is guaranteed
//!
//! At most once across nodes. Local delivery never depends on the broker. While the broker
//! is unreachable, publishes reach only the local clients; what could not go to the other
//! nodes is counted in [`ClusterStats::lost`], and the bridge reconnects with backoff (Redis:
//! this module, 50 ms doubling to 2 s; NATS: the client's own reconnect) and subscribes
//! again. Nothing is replayed after an outage.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::Clients;
use crate::{Message, Utf8Bytes};

/// Messages waiting for the broker connection; more while it is busy count as lost.
const OUTBOX: usize = 8192;

/// The first byte of every envelope: its format's version.
const VERSION: u8 = 1;

/// Why a cluster bridge could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClusterError {
    /// The broker URL is not valid.
    InvalidUrl(String),
    /// The first connection to the broker failed (later ones are retried).
    Connect(String),
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterError::InvalidUrl(e) => write!(f, "invalid broker URL: {e}"),
            ClusterError::Connect(e) => write!(f, "could not reach the broker: {e}"),
        }
    }
}

impl std::error::Error for ClusterError {}

/// Counters of a [`Cluster`]'s traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClusterStats {
    /// Messages handed to the bridge for the other nodes.
    pub published: u64,
    /// Of those, sent to the broker.
    pub sent: u64,
    /// Of those, not sent: the broker was unreachable (or the bridge fell behind).
    pub lost: u64,
    /// Messages from other nodes delivered to local clients.
    pub received: u64,
    /// Messages from the broker that were not well-formed envelopes (skipped).
    pub malformed: u64,
    /// Times the bridge reconnected after losing the broker.
    pub reconnects: u64,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    sent: AtomicU64,
    lost: AtomicU64,
    received: AtomicU64,
    malformed: AtomicU64,
    reconnects: AtomicU64,
}

/// What the bridge's task and the handles share.
struct Node {
    id: u128,
    clients: Clients,
    counters: Counters,
    connected: AtomicBool,
    /// The link went down since it last came up (NATS reports both as events).
    #[cfg_attr(not(feature = "async-nats"), allow(dead_code))]
    outage: AtomicBool,
}

/// A bridge between this node's [`Clients`] and the other nodes on the same broker
/// channel. Cheap to clone; the bridge stops when the last clone is dropped.
///
/// ```no_run
/// # #[cfg(feature = "redis")]
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use ferrosocket::server::{cluster::Cluster, Server};
/// use ferrosocket::Message;
///
/// let mut server = Server::bind("0.0.0.0:8080").await?;
/// let cluster = Cluster::redis("redis://127.0.0.1:6379", "chat", server.clients().clone()).await?;
/// while let Some(mut incoming) = server.accept().await {
///     let cluster = cluster.clone();
///     tokio::spawn(async move {
///         while let Some(Ok(message)) = incoming.reader.next().await {
///             if message.is_text() {
///                 cluster.broadcast(&message); // every client on every node
///             }
///         }
///     });
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Cluster {
    node: Arc<Node>,
    outbox: mpsc::Sender<Bytes>,
    _task: Arc<TaskGuard>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &format_args!("{:032x}", self.node.id))
            .field("connected", &self.is_connected())
            .field("stats", &self.stats())
            .finish()
    }
}

/// Stops the bridge's task when the last handle goes.
struct TaskGuard(AbortHandle);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Cluster {
    /// Bridges `clients` to every node publishing on the Redis pub/sub `channel` at `url`
    /// (`redis://host:port`). Fails if the broker cannot be reached now; later outages are
    /// ridden out (see the module docs).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: cancelled before it returns, nothing keeps running (the connections it
    /// opened are dropped).
    #[cfg(feature = "redis")]
    pub async fn redis(url: &str, channel: &str, clients: Clients) -> Result<Cluster, ClusterError> {
        let client = redis::Client::open(url).map_err(|e| ClusterError::InvalidUrl(e.to_string()))?;
        let link = redis_link::connect(&client, channel)
            .await
            .map_err(|e| ClusterError::Connect(e.to_string()))?;
        Ok(Cluster::start(clients, |node, outbox| {
            redis_link::run(client, channel.to_owned(), node, outbox, link)
        }))
    }

    /// Bridges `clients` to every node publishing on the NATS `subject` at `url`
    /// (`nats://host:port`). Fails if the server cannot be reached now; the NATS client
    /// reconnects and subscribes again after later outages.
    ///
    /// # Cancel safety
    ///
    /// As [`redis`](Self::redis).
    #[cfg(feature = "async-nats")]
    pub async fn nats(url: &str, subject: &str, clients: Clients) -> Result<Cluster, ClusterError> {
        let node = Arc::new(Node::new(clients));
        let (client, subscriber) = nats_link::connect(url, subject, node.clone()).await?;
        Ok(Cluster::start_with(node, |node, outbox| {
            nats_link::run(client, subject.to_owned(), node, outbox, subscriber)
        }))
    }

    #[cfg(feature = "redis")]
    fn start<F, Fut>(clients: Clients, run: F) -> Cluster
    where
        F: FnOnce(Arc<Node>, mpsc::Receiver<Bytes>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        Cluster::start_with(Arc::new(Node::new(clients)), run)
    }

    fn start_with<F, Fut>(node: Arc<Node>, run: F) -> Cluster
    where
        F: FnOnce(Arc<Node>, mpsc::Receiver<Bytes>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (outbox, inbox) = mpsc::channel(OUTBOX);
        node.connected.store(true, Ordering::Release);
        let task = tokio::spawn(run(node.clone(), inbox));
        Cluster {
            node,
            outbox,
            _task: Arc::new(TaskGuard(task.abort_handle())),
        }
    }

    /// Queues `message` for every client on every node; returns how many local clients
    /// queued it.
    pub fn broadcast(&self, message: &Message) -> usize {
        self.broadcast_except(0, message)
    }

    /// Like [`broadcast`](Self::broadcast), but not to the local client with id `except`.
    pub fn broadcast_except(&self, except: u64, message: &Message) -> usize {
        self.forward(None, message);
        self.node.clients.broadcast_except(except, message)
    }

    /// Queues `message` for every subscriber of `topic` on every node; returns how many
    /// local subscribers queued it.
    pub fn publish(&self, topic: &str, message: &Message) -> usize {
        self.publish_except(topic, 0, message)
    }

    /// Like [`publish`](Self::publish), but not to the local client with id `except`.
    pub fn publish_except(&self, topic: &str, except: u64, message: &Message) -> usize {
        self.forward(Some(topic), message);
        self.node.clients.publish_except(topic, except, message)
    }

    /// Whether the bridge is connected to the broker now.
    pub fn is_connected(&self) -> bool {
        self.node.connected.load(Ordering::Acquire)
    }

    /// This node's id in the envelopes it publishes.
    pub fn node_id(&self) -> u128 {
        self.node.id
    }

    /// The traffic so far.
    pub fn stats(&self) -> ClusterStats {
        let c = &self.node.counters;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ClusterStats {
            published: get(&c.published),
            sent: get(&c.sent),
            lost: get(&c.lost),
            received: get(&c.received),
            malformed: get(&c.malformed),
            reconnects: get(&c.reconnects),
        }
    }

    /// Hands a data message to the broker link; counts it lost when the broker is away.
    fn forward(&self, topic: Option<&str>, message: &Message) {
        let Some(envelope) = encode(self.node.id, topic, message) else {
            return; // control messages stay local
        };
        let counters = &self.node.counters;
        counters.published.fetch_add(1, Ordering::Relaxed);
        if !self.is_connected() || self.outbox.try_send(envelope).is_err() {
            counters.lost.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Node {
    fn new(clients: Clients) -> Node {
        Node {
            id: random_id(),
            clients,
            counters: Counters::default(),
            connected: AtomicBool::new(false),
            outage: AtomicBool::new(false),
        }
    }

    /// Delivers an envelope from the broker to the local clients, unless it is our own.
    fn deliver(&self, envelope: &[u8]) {
        match decode(envelope) {
            Some(decoded) if decoded.node == self.id => {}
            Some(decoded) => {
                self.counters.received.fetch_add(1, Ordering::Relaxed);
                match decoded.topic {
                    Some(topic) => self.clients.publish(topic, &decoded.message),
                    None => self.clients.broadcast(&decoded.message),
                };
            }
            None => {
                self.counters.malformed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Release);
    }

    /// What was waiting to be sent when the link broke is lost.
    #[cfg(feature = "redis")]
    fn drop_pending(&self, outbox: &mut mpsc::Receiver<Bytes>) {
        while outbox.try_recv().is_ok() {
            self.counters.lost.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// 128 bits from the OS-keyed hasher: unique per node with overwhelming probability.
fn random_id() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        hasher.finish()
    };
    (u128::from(half()) << 64) | u128::from(half())
}

/// An envelope: version, node id (16 bytes), flags (bit 0 text, bit 1 topic), the topic's
/// length (2 bytes) and bytes if any, then the payload.
fn encode(node: u128, topic: Option<&str>, message: &Message) -> Option<Bytes> {
    let (text, payload) = match message {
        Message::Text(text) => (true, text.as_bytes()),
        Message::Binary(data) => (false, &data[..]),
        _ => return None,
    };
    let topic = topic
        .map(str::as_bytes)
        .filter(|t| t.len() <= usize::from(u16::MAX));
    let mut out = BytesMut::with_capacity(20 + topic.map_or(0, <[u8]>::len) + payload.len());
    out.put_u8(VERSION);
    out.put_u128(node);
    out.put_u8(u8::from(text) | (u8::from(topic.is_some()) << 1));
    if let Some(topic) = topic {
        out.put_u16(topic.len() as u16);
        out.put_slice(topic);
    }
    out.put_slice(payload);
    Some(out.freeze())
}

struct Decoded<'a> {
    node: u128,
    topic: Option<&'a str>,
    message: Message,
}

fn decode(envelope: &[u8]) -> Option<Decoded<'_>> {
    let (&version, rest) = envelope.split_first()?;
    if version != VERSION || rest.len() < 17 {
        return None;
    }
    let node = u128::from_be_bytes(rest[..16].try_into().ok()?);
    let flags = rest[16];
    let mut rest = &rest[17..];
    let topic = if flags & 2 != 0 {
        let len = usize::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?));
        let topic = std::str::from_utf8(rest.get(2..2 + len)?).ok()?;
        rest = &rest[2 + len..];
        Some(topic)
    } else {
        None
    };
    let payload = Bytes::copy_from_slice(rest);
    let message = if flags & 1 != 0 {
        Message::Text(Utf8Bytes::try_from(payload).ok()?)
    } else {
        Message::Binary(payload)
    };
    Some(Decoded { node, topic, message })
}

/// Backoff between reconnect attempts (this module's for Redis, the NATS client's for NATS).
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(50u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(2))
}

#[cfg(feature = "redis")]
mod redis_link {
    use super::*;
    use futures_util::StreamExt;

    /// The most publishes sent in one round trip.
    const MAX_PIPELINE: u64 = 256;

    /// Publishes what the outbox holds, several per round trip, in order, until the link
    /// fails (false) or the cluster is dropped (true).
    async fn publish_all(
        outbox: &mut mpsc::Receiver<Bytes>,
        publisher: &mut redis::aio::MultiplexedConnection,
        channel: &str,
        node: &Node,
    ) -> bool {
        while let Some(envelope) = outbox.recv().await {
            let mut pipe = redis::pipe();
            pipe.cmd("PUBLISH").arg(channel).arg(&envelope[..]).ignore();
            let mut count = 1;
            while count < MAX_PIPELINE {
                let Ok(envelope) = outbox.try_recv() else { break };
                pipe.cmd("PUBLISH").arg(channel).arg(&envelope[..]).ignore();
                count += 1;
            }
            let published: redis::RedisResult<()> = pipe.query_async(publisher).await;
            let counter = if published.is_ok() {
                &node.counters.sent
            } else {
                &node.counters.lost
            };
            counter.fetch_add(count, Ordering::Relaxed);
            if published.is_err() {
                return false;
            }
        }
        true
    }

    /// How long the subscription is read after the publisher failed, for what it holds.
    const DRAIN_GRACE: Duration = Duration::from_secs(1);

    /// Delivers what the subscription brings until it ends.
    async fn deliver_all(messages: &mut redis::aio::PubSubStream, node: &Node) {
        while let Some(message) = messages.next().await {
            node.deliver(message.get_payload_bytes());
        }
    }

    /// A subscription and a connection to publish on.
    pub(super) struct Link {
        messages: redis::aio::PubSubStream,
        publisher: redis::aio::MultiplexedConnection,
    }

    pub(super) async fn connect(client: &redis::Client, channel: &str) -> redis::RedisResult<Link> {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        let publisher = client.get_multiplexed_async_connection().await?;
        Ok(Link {
            messages: pubsub.into_on_message(),
            publisher,
        })
    }

    /// Relays until the cluster is dropped: messages in from the subscription, envelopes out
    /// from the outbox; reconnects when either side fails.
    pub(super) async fn run(
        client: redis::Client,
        channel: String,
        node: Arc<Node>,
        mut outbox: mpsc::Receiver<Bytes>,
        mut link: Link,
    ) {
        loop {
            node.set_connected(true);
            // Both ways at once: a publish's round trip must not hold up the delivery of
            // what arrives meanwhile (under load, the subscription would fall behind).
            let Link {
                mut messages,
                mut publisher,
            } = link;
            let publishing = publish_all(&mut outbox, &mut publisher, &channel, &node);
            let publish_failed = tokio::select! {
                () = deliver_all(&mut messages, &node) => false, // the connection is gone
                closed = publishing => if closed { return } else { true },
            };
            node.set_connected(false);
            if publish_failed {
                // What the subscription received before the broker went is still ours to
                // deliver: a broker that died ends the stream right after it; a live one
                // gets a moment before we reconnect.
                let _ = tokio::time::timeout(DRAIN_GRACE, deliver_all(&mut messages, &node)).await;
            }
            crate::log::event!(warn, "cluster: lost the Redis connection; reconnecting");
            let mut attempt = 0;
            link = loop {
                node.drop_pending(&mut outbox);
                tokio::time::sleep(backoff(attempt)).await;
                match connect(&client, &channel).await {
                    Ok(link) => break link,
                    Err(_) => attempt += 1,
                }
            };
            node.drop_pending(&mut outbox);
            node.counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(feature = "async-nats")]
mod nats_link {
    use super::*;
    use futures_util::StreamExt;

    pub(super) async fn connect(
        url: &str,
        subject: &str,
        node: Arc<Node>,
    ) -> Result<(async_nats::Client, async_nats::Subscriber), ClusterError> {
        let events = node.clone();
        let client = async_nats::ConnectOptions::new()
            .no_echo() // the server does not send us our own publishes
            .reconnect_delay_callback(|attempt| backoff(u32::try_from(attempt).unwrap_or(u32::MAX)))
            .event_callback(move |event| {
                let node = events.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            node.set_connected(true);
                            if node.outage.swap(false, Ordering::AcqRel) {
                                node.counters.reconnects.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        async_nats::Event::Disconnected => {
                            node.set_connected(false);
                            node.outage.store(true, Ordering::Release);
                        }
                        _ => {}
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|e| ClusterError::Connect(e.to_string()))?;
        let subscriber = client
            .subscribe(subject.to_owned())
            .await
            .map_err(|e| ClusterError::Connect(e.to_string()))?;
        Ok((client, subscriber))
    }

    /// Relays until the cluster is dropped; the NATS client itself reconnects and
    /// resubscribes.
    pub(super) async fn run(
        client: async_nats::Client,
        subject: String,
        node: Arc<Node>,
        mut outbox: mpsc::Receiver<Bytes>,
        mut subscriber: async_nats::Subscriber,
    ) {
        loop {
            tokio::select! {
                message = subscriber.next() => match message {
                    Some(message) => node.deliver(&message.payload),
                    None => return, // the client was closed
                },
                envelope = outbox.recv() => {
                    let Some(envelope) = envelope else { return };
                    if !node.connected.load(Ordering::Acquire) {
                        node.counters.lost.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let counter = match client.publish(subject.clone(), envelope).await {
                        Ok(()) => &node.counters.sent,
                        Err(_) => &node.counters.lost,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_reject_garbage() {
        let text = encode(7, Some("room.1"), &Message::text("héllo")).unwrap();
        let decoded = decode(&text).unwrap();
        assert_eq!((decoded.node, decoded.topic), (7, Some("room.1")));
        assert_eq!(decoded.message, Message::text("héllo"));
        let binary = encode(u128::MAX, None, &Message::binary(vec![0, 1, 2])).unwrap();
        let decoded = decode(&binary).unwrap();
        assert_eq!((decoded.node, decoded.topic), (u128::MAX, None));
        assert_eq!(decoded.message, Message::binary(vec![0, 1, 2]));
        assert!(encode(1, None, &Message::Ping(Bytes::new())).is_none());
        assert!(decode(b"").is_none());
        assert!(decode(&text[..10]).is_none());
        let mut bad_utf8 = encode(1, None, &Message::text("ok")).unwrap().to_vec();
        bad_utf8.push(0xff);
        assert!(decode(&bad_utf8).is_none());
        let mut wrong_version = text.to_vec();
        wrong_version[0] = 9;
        assert!(decode(&wrong_version).is_none());
        let mut short_topic = text.to_vec();
        short_topic[18] = 0xff; // topic length past the end
        assert!(decode(&short_topic).is_none());
    }
}
