//! The set of open clients and their topics: broadcast and publish (uWebSockets-style
//! pub/sub), each a round of non-blocking pushes into the clients' queues, the message framed
//! once for all of them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::client::Client;
use crate::{Message, PreparedMessage};

/// The set of open clients (ws's `clients`) and their topic subscriptions.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    inner: Arc<Mutex<Registry>>,
}

/// A topic gained its first subscriber or lost its last one: what a cluster needs to
/// subscribe upstream per topic, or a dashboard to show live topics. Prefix subscriptions
/// count as topics of their own (`"prices.*"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicChange {
    /// The first client subscribed.
    FirstSubscriber,
    /// The last subscriber unsubscribed or left.
    NoSubscribers,
}

/// Called with a topic and what happened to it.
type OnTopic = dyn Fn(&str, TopicChange) + Send + Sync;

/// The operator's hook on topic changes ([`ServerBuilder::on_topic`](super::ServerBuilder::on_topic)).
#[derive(Clone)]
pub(crate) struct TopicHook(pub(crate) Arc<OnTopic>);

impl std::fmt::Debug for TopicHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TopicHook")
    }
}

/// The prefix a subscription stands for (`"prices.*"` → `"prices."`), if it is one.
fn as_prefix(topic: &str) -> Option<&str> {
    topic.strip_suffix('*')
}

/// Who is connected and who listens to what.
#[derive(Debug, Default)]
struct Registry {
    clients: HashMap<u64, Client>,
    /// Exact topics → subscribers.
    topics: HashMap<String, HashSet<u64>>,
    /// Prefix subscriptions (`"prices.*"` is stored as `"prices."`) → subscribers.
    prefixes: HashMap<String, HashSet<u64>>,
    /// Each client's subscriptions as it made them, for `topics()` and clean-up.
    subscriptions: HashMap<u64, BTreeSet<String>>,
    on_topic: Option<TopicHook>,
}

impl Registry {
    /// The map and key a subscription lives under.
    fn slot<'a>(&mut self, topic: &'a str) -> (&mut HashMap<String, HashSet<u64>>, &'a str) {
        match as_prefix(topic) {
            Some(prefix) => (&mut self.prefixes, prefix),
            None => (&mut self.topics, topic),
        }
    }

    /// Removes one subscription; whether it was there, and whether it was the topic's last.
    fn unsubscribe(&mut self, id: u64, topic: &str) -> (bool, bool) {
        let (map, key) = self.slot(topic);
        let Some(subscribers) = map.get_mut(key) else {
            return (false, false);
        };
        let removed = subscribers.remove(&id);
        let emptied = subscribers.is_empty();
        if emptied {
            map.remove(key);
        }
        (removed, emptied)
    }

    /// The subscribers of `topic`, each once, but `except`.
    fn subscribers(&self, topic: &str, except: u64) -> Vec<Client> {
        let mut ids: Vec<u64> = self.topics.get(topic).into_iter().flatten().copied().collect();
        let mut by_prefix = false;
        for (prefix, subscribers) in &self.prefixes {
            if topic.starts_with(prefix.as_str()) {
                ids.extend(subscribers);
                by_prefix = true;
            }
        }
        if by_prefix {
            ids.sort_unstable();
            ids.dedup();
        }
        ids.into_iter()
            .filter(|&id| id != except)
            .filter_map(|id| self.clients.get(&id).cloned())
            .collect()
    }
}

impl super::client::Membership for Clients {
    fn subscribe(&self, client: &Client, topic: &str) -> bool {
        Clients::subscribe(self, client, topic)
    }
    fn unsubscribe(&self, id: u64, topic: &str) -> bool {
        Clients::unsubscribe(self, id, topic)
    }
    fn topics_of(&self, id: u64) -> Vec<String> {
        Clients::topics_of(self, id)
    }
    fn remove(&self, id: u64) {
        Clients::remove(self, id)
    }
}

impl Clients {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn insert(&self, client: Client) {
        self.lock().clients.insert(client.id(), client);
    }

    /// Calls `hook` whenever a topic gains its first subscriber or loses its last.
    pub(crate) fn set_topic_hook(&self, hook: TopicHook) {
        self.lock().on_topic = Some(hook);
    }

    /// Tells the topic hook, if any, outside the lock (the hook may use the registry).
    fn tell(hook: Option<TopicHook>, changes: &[(String, TopicChange)]) {
        if let Some(TopicHook(hook)) = hook {
            for (topic, change) in changes {
                hook(topic, *change);
            }
        }
    }

    /// Removes a client and every subscription it had.
    pub(crate) fn remove(&self, id: u64) {
        let (hook, emptied) = {
            let mut registry = self.lock();
            registry.clients.remove(&id);
            let mut emptied = Vec::new();
            for topic in registry.subscriptions.remove(&id).unwrap_or_default() {
                if registry.unsubscribe(id, &topic).1 {
                    emptied.push((topic, TopicChange::NoSubscribers));
                }
            }
            (registry.on_topic.clone(), emptied)
        };
        Self::tell(hook, &emptied);
    }

    pub(crate) fn subscribe(&self, client: &Client, topic: &str) -> bool {
        let id = client.id();
        let (hook, new, first) = {
            let mut registry = self.lock();
            if !registry.clients.contains_key(&id) {
                return false; // gone already: nothing to clean up later
            }
            let (map, key) = registry.slot(topic);
            let subscribers = map.entry(key.to_owned()).or_default();
            let first = subscribers.is_empty();
            let new = subscribers.insert(id);
            registry
                .subscriptions
                .entry(id)
                .or_default()
                .insert(topic.to_owned());
            (registry.on_topic.clone(), new, first)
        };
        if first {
            Self::tell(hook, &[(topic.to_owned(), TopicChange::FirstSubscriber)]);
        }
        new
    }

    pub(crate) fn unsubscribe(&self, id: u64, topic: &str) -> bool {
        let (hook, removed, emptied) = {
            let mut registry = self.lock();
            if let Some(topics) = registry.subscriptions.get_mut(&id) {
                topics.remove(topic);
            }
            let (removed, emptied) = registry.unsubscribe(id, topic);
            (registry.on_topic.clone(), removed, emptied)
        };
        if emptied {
            Self::tell(hook, &[(topic.to_owned(), TopicChange::NoSubscribers)]);
        }
        removed
    }

    pub(crate) fn topics_of(&self, id: u64) -> Vec<String> {
        self.lock()
            .subscriptions
            .get(&id)
            .map(|topics| topics.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// How many clients are open.
    pub fn len(&self) -> usize {
        self.lock().clients.len()
    }

    /// Whether no client is open.
    pub fn is_empty(&self) -> bool {
        self.lock().clients.is_empty()
    }

    /// The open clients now.
    pub fn snapshot(&self) -> Vec<Client> {
        self.lock().clients.values().cloned().collect()
    }

    /// The client with this id, if it is open.
    pub fn get(&self, id: u64) -> Option<Client> {
        self.lock().clients.get(&id).cloned()
    }

    /// How many clients listen to `topic` (exactly or by prefix).
    pub fn subscribers(&self, topic: &str) -> usize {
        self.lock().subscribers(topic, 0).len()
    }

    /// Queues `message` for every open client; returns how many queued it. Never waits
    /// for a socket: a slow client's full queue applies its overflow policy to it alone.
    pub fn broadcast(&self, message: &Message) -> usize {
        self.broadcast_except(0, message)
    }

    /// Queues `message` for every open client but the one with id `except` (ws's
    /// "broadcast to everyone else"); returns how many queued it.
    pub fn broadcast_except(&self, except: u64, message: &Message) -> usize {
        let recipients: Vec<Client> = {
            let registry = self.lock();
            registry
                .clients
                .values()
                .filter(|c| c.id() != except)
                .cloned()
                .collect()
        };
        deliver(&recipients, message)
    }

    /// Queues `message` for every subscriber of `topic` (uWebSockets' `publish`); returns
    /// how many queued it.
    pub fn publish(&self, topic: &str, message: &Message) -> usize {
        self.publish_except(topic, 0, message)
    }

    /// Like [`publish`](Self::publish), but not to the client with id `except` (the
    /// publisher, say).
    pub fn publish_except(&self, topic: &str, except: u64, message: &Message) -> usize {
        let recipients = self.lock().subscribers(topic, except);
        deliver(&recipients, message)
    }
}

/// The registry without sockets, for fuzzing and testing (feature `unstable`).
#[cfg(feature = "unstable")]
impl Clients {
    /// Tracks a new client with no connection behind it (see [`Client::take_queued`] and
    /// [`Client::end_detached`]); its queue holds `queue_limit` bytes and overflows as
    /// `overflow` says. `masked` gives it a client-role encoding, so broadcasts cannot
    /// share their frame with it.
    pub fn add_detached(
        &self,
        id: u64,
        masked: bool,
        queue_limit: usize,
        overflow: super::Overflow,
    ) -> Client {
        let policy = super::client::QueuePolicy {
            limit: queue_limit,
            overflow,
            hooks: Default::default(),
        };
        let membership = Box::new(self.clone()) as Box<dyn super::client::Membership>;
        let client = Client::detached(id, masked, policy, Some(membership));
        self.insert(client.clone());
        client
    }

    /// Calls `hook` whenever a topic gains its first subscriber or loses its last (what
    /// [`ServerBuilder::on_topic`](super::ServerBuilder::on_topic) sets).
    pub fn on_topic(&self, hook: impl Fn(&str, TopicChange) + Send + Sync + 'static) {
        self.set_topic_hook(TopicHook(Arc::new(hook)));
    }

    /// Panics unless the registry's maps agree: every subscription a client made is in
    /// the topic maps and nothing else is, no topic is kept without subscribers, and every
    /// subscriber is an open client.
    pub fn assert_consistent(&self) {
        let registry = self.lock();
        let mut listed = 0;
        for (id, topics) in &registry.subscriptions {
            assert!(
                registry.clients.contains_key(id),
                "subscriptions of a gone client {id}"
            );
            for topic in topics {
                let (map, key) = match as_prefix(topic) {
                    Some(prefix) => (&registry.prefixes, prefix),
                    None => (&registry.topics, topic.as_str()),
                };
                assert!(
                    map.get(key).is_some_and(|ids| ids.contains(id)),
                    "{topic} lost {id}"
                );
                listed += 1;
            }
        }
        let stored: usize = registry
            .topics
            .values()
            .chain(registry.prefixes.values())
            .map(HashSet::len)
            .sum();
        assert_eq!(stored, listed, "the topic maps hold subscriptions no client made");
        assert!(
            registry
                .topics
                .values()
                .chain(registry.prefixes.values())
                .all(|ids| !ids.is_empty()),
            "a topic without subscribers was kept"
        );
    }
}

/// Queues `message` for each recipient, framed once; how many queued it.
fn deliver(recipients: &[Client], message: &Message) -> usize {
    let queued = |delivery| matches!(delivery, Ok(super::Delivery::Queued));
    match PreparedMessage::new(message) {
        Ok(mut prepared) => recipients
            .iter()
            .filter(|client| queued(client.send_prepared(&mut prepared)))
            .count(),
        // Control messages (a ping to all) are small: each client frames its own.
        Err(_) => recipients
            .iter()
            .filter(|client| queued(client.send(message.clone())))
            .count(),
    }
}
