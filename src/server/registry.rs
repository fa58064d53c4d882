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
}

impl Registry {
    /// The map and key a subscription lives under.
    fn slot<'a>(&mut self, topic: &'a str) -> (&mut HashMap<String, HashSet<u64>>, &'a str) {
        match topic.strip_suffix('*') {
            Some(prefix) => (&mut self.prefixes, prefix),
            None => (&mut self.topics, topic),
        }
    }

    fn unsubscribe(&mut self, id: u64, topic: &str) -> bool {
        let (map, key) = self.slot(topic);
        let Some(subscribers) = map.get_mut(key) else {
            return false;
        };
        let removed = subscribers.remove(&id);
        if subscribers.is_empty() {
            map.remove(key);
        }
        removed
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

    /// Removes a client and every subscription it had.
    pub(crate) fn remove(&self, id: u64) {
        let mut registry = self.lock();
        registry.clients.remove(&id);
        for topic in registry.subscriptions.remove(&id).unwrap_or_default() {
            registry.unsubscribe(id, &topic);
        }
    }

    pub(crate) fn subscribe(&self, client: &Client, topic: &str) -> bool {
        let id = client.id();
        let mut registry = self.lock();
        if !registry.clients.contains_key(&id) {
            return false; // gone already: nothing to clean up later
        }
        let (map, key) = registry.slot(topic);
        let new = map.entry(key.to_owned()).or_default().insert(id);
        registry
            .subscriptions
            .entry(id)
            .or_default()
            .insert(topic.to_owned());
        new
    }

    pub(crate) fn unsubscribe(&self, id: u64, topic: &str) -> bool {
        let mut registry = self.lock();
        if let Some(topics) = registry.subscriptions.get_mut(&id) {
            topics.remove(topic);
        }
        registry.unsubscribe(id, topic)
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
