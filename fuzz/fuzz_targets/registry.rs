//! The toolkit's topic registry under any interleaving of clients joining and leaving,
//! subscribing (exactly and by prefix), unsubscribing, publishing, broadcasting, closing and
//! overflowing: against a model, every client gets exactly the messages it is owed, in order,
//! the counts and the topic hook agree, and nothing is left behind once everyone has left.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use arbitrary::Arbitrary;
use ferrosocket::server::{Client, Clients, Overflow, TopicChange};
use ferrosocket::{CloseCode, CloseFrame, Message};
use libfuzzer_sys::fuzz_target;

/// Topics that overlap every way: exact, prefix of each other, prefix subscriptions.
const TOPICS: [&str; 8] = ["a", "a.b", "a.*", "a.b.*", "*", "b", "", "a.b.c"];

fn topic(index: u8) -> &'static str {
    TOPICS[usize::from(index) % TOPICS.len()]
}

#[derive(Debug, Arbitrary)]
enum Op {
    Join {
        masked: bool,
        small_queue: bool,
        close_on_overflow: bool,
    },
    Leave(u8),
    Subscribe(u8, u8),
    Unsubscribe(u8, u8),
    Publish {
        topic: u8,
        except: Option<u8>,
        size: u8,
        ping: bool,
    },
    Broadcast {
        except: Option<u8>,
        size: u8,
    },
    Send(u8, u8),
    Close(u8),
    Drain(u8),
}

/// What the model knows of one client.
struct Member {
    client: Client,
    topics: BTreeSet<String>,
    /// What its queue should hold, in order.
    owed: Vec<Message>,
    /// Closing: sends are refused from now on.
    closing: bool,
    overflow: Overflow,
}

#[derive(Default)]
struct Model {
    members: BTreeMap<u64, Member>,
    next_id: u64,
    serial: u64,
}

impl Model {
    /// The member an arbitrary index picks, if any.
    fn pick(&self, index: u8) -> Option<u64> {
        let n = self.members.len();
        (n > 0).then(|| *self.members.keys().nth(usize::from(index) % n).unwrap())
    }

    fn subscribed(&self, id: u64, topic: &str) -> bool {
        self.members[&id]
            .topics
            .iter()
            .any(|mine| match mine.strip_suffix('*') {
                Some(prefix) => topic.starts_with(prefix),
                None => mine == topic,
            })
    }

    /// How many members hold `subscription` exactly as made (for the hook).
    fn holders(&self, subscription: &str) -> usize {
        self.members
            .values()
            .filter(|m| m.topics.contains(subscription))
            .count()
    }

    /// A message no other is equal to.
    fn message(&mut self, size: u8, ping: bool) -> Message {
        self.serial += 1;
        let text = format!("{}{}", self.serial, "x".repeat(usize::from(size)));
        if ping {
            Message::Ping(text.into_bytes().into())
        } else if size % 2 == 0 {
            Message::Text(text.into())
        } else {
            Message::Binary(text.into_bytes().into())
        }
    }

    /// The member leaves as its connection ends: what it was owed is in its queue, and
    /// each topic it was the last holder of is reported empty.
    fn leave(&mut self, id: u64, expected_hook: &mut Vec<(String, TopicChange)>) {
        let member = self.members.remove(&id).unwrap();
        assert_eq!(member.client.take_queued(), member.owed);
        member.client.end_detached();
        for topic in &member.topics {
            if self.holders(topic) == 0 {
                expected_hook.push((topic.clone(), TopicChange::NoSubscribers));
            }
        }
        assert!(member.client.send(Message::text("late")).is_err());
        assert!(!member.client.subscribe("a"));
    }

    /// Applies what a send to each of `ids` did, from the client's own counters; returns
    /// how many queued it.
    fn delivered(&mut self, ids: &[u64], message: &Message, dropped_before: &[u64]) -> usize {
        let mut queued = 0;
        for (id, before) in ids.iter().zip(dropped_before) {
            let member = self.members.get_mut(id).unwrap();
            if member.closing {
                continue;
            }
            if member.client.dropped() == *before {
                member.owed.push(message.clone());
                queued += 1;
            } else {
                assert_eq!(member.client.dropped(), before + 1);
                if let Overflow::Close(code) = member.overflow {
                    member.closing = true;
                    member.owed = vec![Message::Close(Some(CloseFrame::new(code, "send queue full")))];
                }
            }
        }
        queued
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let clients = Clients::default();
    let heard: Arc<Mutex<Vec<(String, TopicChange)>>> = Arc::default();
    let log = heard.clone();
    clients.on_topic(move |topic, change| log.lock().unwrap().push((topic.to_owned(), change)));
    let mut model = Model::default();
    let mut expected_hook = Vec::new();

    for op in ops.into_iter().take(256) {
        match op {
            Op::Join {
                masked,
                small_queue,
                close_on_overflow,
            } => {
                model.next_id += 1;
                let overflow = if close_on_overflow {
                    Overflow::Close(CloseCode::POLICY_VIOLATION)
                } else {
                    Overflow::Drop
                };
                let limit = if small_queue { 64 } else { 1 << 20 };
                let client = clients.add_detached(model.next_id, masked, limit, overflow);
                let member = Member {
                    client,
                    topics: BTreeSet::new(),
                    owed: Vec::new(),
                    closing: false,
                    overflow,
                };
                model.members.insert(model.next_id, member);
            }
            Op::Leave(index) => {
                let Some(id) = model.pick(index) else { continue };
                model.leave(id, &mut expected_hook);
            }
            Op::Subscribe(index, t) => {
                let Some(id) = model.pick(index) else { continue };
                let topic = topic(t);
                let first = model.holders(topic) == 0;
                let new = model
                    .members
                    .get_mut(&id)
                    .unwrap()
                    .topics
                    .insert(topic.to_owned());
                assert_eq!(model.members[&id].client.subscribe(topic), new);
                if first {
                    expected_hook.push((topic.to_owned(), TopicChange::FirstSubscriber));
                }
            }
            Op::Unsubscribe(index, t) => {
                let Some(id) = model.pick(index) else { continue };
                let topic = topic(t);
                let was = model.members.get_mut(&id).unwrap().topics.remove(topic);
                assert_eq!(model.members[&id].client.unsubscribe(topic), was);
                if was && model.holders(topic) == 0 {
                    expected_hook.push((topic.to_owned(), TopicChange::NoSubscribers));
                }
            }
            Op::Publish {
                topic: t,
                except,
                size,
                ping,
            } => {
                let topic = topic(t);
                let except = except.and_then(|i| model.pick(i)).unwrap_or(0);
                let message = model.message(size, ping);
                let ids: Vec<u64> = model
                    .members
                    .keys()
                    .copied()
                    .filter(|&id| id != except && model.subscribed(id, topic))
                    .collect();
                let before: Vec<u64> = ids.iter().map(|id| model.members[id].client.dropped()).collect();
                let queued = clients.publish_except(topic, except, &message);
                assert_eq!(queued, model.delivered(&ids, &message, &before));
            }
            Op::Broadcast { except, size } => {
                let except = except.and_then(|i| model.pick(i)).unwrap_or(0);
                let message = model.message(size, false);
                let ids: Vec<u64> = model.members.keys().copied().filter(|&id| id != except).collect();
                let before: Vec<u64> = ids.iter().map(|id| model.members[id].client.dropped()).collect();
                let queued = clients.broadcast_except(except, &message);
                assert_eq!(queued, model.delivered(&ids, &message, &before));
            }
            Op::Send(index, size) => {
                let Some(id) = model.pick(index) else { continue };
                let message = model.message(size, false);
                let before = [model.members[&id].client.dropped()];
                let sent = model.members[&id].client.send(message.clone());
                let closing = model.members[&id].closing;
                assert_eq!(sent.is_ok(), !closing);
                if !closing {
                    let queued = model.delivered(&[id], &message, &before);
                    assert_eq!(
                        queued == 1,
                        matches!(sent, Ok(ferrosocket::server::Delivery::Queued))
                    );
                }
            }
            Op::Close(index) => {
                let Some(id) = model.pick(index) else { continue };
                let member = model.members.get_mut(&id).unwrap();
                let closed = member.client.close(CloseCode::NORMAL, "bye");
                assert_eq!(closed.is_ok(), !member.closing);
                if !member.closing {
                    member.closing = true;
                    member
                        .owed
                        .push(Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "bye"))));
                }
            }
            Op::Drain(index) => {
                let Some(id) = model.pick(index) else { continue };
                let member = model.members.get_mut(&id).unwrap();
                assert_eq!(member.client.take_queued(), std::mem::take(&mut member.owed));
                assert_eq!(member.client.buffered_amount(), 0);
            }
        }
        check(&clients, &model);
        assert_eq!(*heard.lock().unwrap(), expected_hook);
    }

    // Everyone leaves: each topic that gained a subscriber is reported empty, nothing is kept.
    while let Some(&id) = model.members.keys().next() {
        model.leave(id, &mut expected_hook);
    }
    check(&clients, &model);
    assert_eq!(*heard.lock().unwrap(), expected_hook);
    let firsts = expected_hook
        .iter()
        .filter(|e| e.1 == TopicChange::FirstSubscriber)
        .count();
    assert_eq!(firsts * 2, expected_hook.len());
});

/// The registry agrees with the model.
fn check(clients: &Clients, model: &Model) {
    clients.assert_consistent();
    assert_eq!(clients.len(), model.members.len());
    for topic in TOPICS {
        let expected = model
            .members
            .keys()
            .filter(|&&id| model.subscribed(id, topic))
            .count();
        assert_eq!(clients.subscribers(topic), expected, "subscribers of {topic:?}");
    }
    for (id, member) in &model.members {
        let topics: Vec<String> = member.topics.iter().cloned().collect();
        assert_eq!(member.client.topics(), topics);
        assert_eq!(member.client.is_closed(), member.closing);
        assert!(clients.get(*id).is_some());
    }
}
