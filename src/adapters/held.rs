//! What an adapter's `ping()` does with the events that arrive while it waits for its pong:
//! it recognises its own pong by the stamp, and keeps everything else, in order, for the
//! next reads — so waiting for a round trip loses no message. The events kept are bounded by
//! `max_message_size` in all: past it the wait gives up (the events stay kept).

use std::collections::VecDeque;
use std::time::Duration;

use crate::connection::round_trip;
use crate::{CapacityError, Error, Event, Result};

/// Events read while a ping waited, for the reads that follow. Boxed when first used:
/// every connection carries the slot, few ever hold anything.
#[derive(Debug, Default)]
pub(crate) struct Held(Option<Box<Kept>>);

#[derive(Debug, Default)]
struct Kept {
    events: VecDeque<Event>,
    /// Payload bytes of the events kept.
    bytes: usize,
}

impl Held {
    /// The oldest event kept, for a read.
    pub(crate) fn pop(&mut self) -> Option<Event> {
        let kept = self.0.as_mut()?;
        let event = kept.events.pop_front()?;
        kept.bytes -= payload_len(&event);
        Some(event)
    }

    /// Takes an event read while the ping stamped `sent` waits: `Ok(true)` when it is that
    /// ping's pong (not kept: the round trip is its news). Any other is kept; a Close ends
    /// the wait ([`Error::ConnectionClosed`]: no pong will come), and so does going past
    /// `max` bytes kept.
    pub(crate) fn while_pinging(&mut self, event: Event, sent: Duration, max: usize) -> Result<bool> {
        if let Event::Pong(payload) = &event {
            if round_trip::sent_at(payload) == Some(sent) {
                return Ok(true);
            }
        }
        let closed = matches!(event, Event::Close(_));
        let kept = self.0.get_or_insert_with(Box::default);
        kept.bytes += payload_len(&event);
        kept.events.push_back(event);
        if closed {
            return Err(Error::ConnectionClosed);
        }
        if kept.bytes > max {
            return Err(CapacityError::HeldWhilePinging {
                size: kept.bytes,
                max,
            }
            .into());
        }
        Ok(false)
    }
}

fn payload_len(event: &Event) -> usize {
    match event {
        Event::Text(text) => text.len(),
        Event::Binary(data) | Event::Ping(data) | Event::Pong(data) => data.len(),
        Event::Fragment(fragment) => fragment.data.len(),
        Event::Close(frame) => frame.reason.len(),
        Event::Request(_) | Event::Open(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn its_own_pong_ends_the_wait_and_the_rest_is_kept_in_order() {
        let sent = Duration::from_secs(3);
        let mut held = Held::default();
        assert!(!held.while_pinging(Event::Text("a".into()), sent, 100).unwrap());
        let other = Bytes::from_static(b"someone else's");
        assert!(!held.while_pinging(Event::Pong(other.clone()), sent, 100).unwrap());
        let ours = Bytes::copy_from_slice(&round_trip::stamp(sent));
        assert!(held.while_pinging(Event::Pong(ours), sent, 100).unwrap());
        assert_eq!(held.pop(), Some(Event::Text("a".into())));
        assert_eq!(held.pop(), Some(Event::Pong(other)));
        assert_eq!(held.pop(), None);
        assert_eq!(held.0.unwrap().bytes, 0);
    }

    #[test]
    fn a_close_or_too_much_ends_the_wait_and_keeps_the_event() {
        let sent = Duration::from_secs(3);
        let mut held = Held::default();
        let big = Event::Binary(Bytes::from(vec![0; 80]));
        assert!(!held.while_pinging(big.clone(), sent, 100).unwrap());
        assert!(matches!(
            held.while_pinging(big.clone(), sent, 100),
            Err(Error::Capacity(CapacityError::HeldWhilePinging {
                size: 160,
                max: 100
            }))
        ));
        let close = Event::Close(crate::CloseFrame::new(crate::CloseCode::NORMAL, ""));
        assert!(matches!(
            held.while_pinging(close.clone(), sent, 1000),
            Err(Error::ConnectionClosed)
        ));
        assert_eq!(
            [held.pop(), held.pop(), held.pop()],
            [Some(big.clone()), Some(big), Some(close)]
        );
    }
}
