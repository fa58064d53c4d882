//! Messages and events: what the engine hands to the application.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;

use crate::error::CloseCode;
use crate::handshake::{Request, Response};
pub use crate::utf8_bytes::Utf8Bytes;

/// The two kinds of data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

/// The code and reason of a Close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code; [`CloseCode::NO_STATUS`] (1005) when the frame had none, and
    /// [`CloseCode::ABNORMAL`] (1006) when the transport ended without a Close frame.
    pub code: CloseCode,
    /// The reason, at most 123 bytes of UTF-8.
    pub reason: Utf8Bytes,
}

impl CloseFrame {
    /// A close frame with `code` and `reason`.
    pub fn new(code: impl Into<CloseCode>, reason: impl Into<Utf8Bytes>) -> Self {
        CloseFrame {
            code: code.into(),
            reason: reason.into(),
        }
    }
}

/// A whole message, as the adapters send and receive them (the names are tungstenite's).
///
/// ```
/// use ferrosocket::Message;
/// let line = String::from("hello");
/// let message = Message::text(line.as_str()); // or Message::from(line)
/// assert!(message.is_text() && message.len() == 5);
/// assert_eq!(message.to_text()?, "hello");
/// assert_eq!(Message::from(vec![1u8, 2]).into_data(), &[1u8, 2][..]);
/// # Ok::<(), ferrosocket::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping; when received, the engine has already queued the pong (unless disabled).
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// A close frame; when received, the engine has already queued the reply.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// A ping with `payload` (at most 125 bytes).
    pub fn ping(payload: impl Into<Bytes>) -> Self {
        Message::Ping(payload.into())
    }

    /// A pong with `payload` (at most 125 bytes).
    pub fn pong(payload: impl Into<Bytes>) -> Self {
        Message::Pong(payload.into())
    }

    /// Whether this is a text or binary message (not a control frame).
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// Whether this is a ping.
    pub fn is_ping(&self) -> bool {
        matches!(self, Message::Ping(_))
    }

    /// Whether this is a pong.
    pub fn is_pong(&self) -> bool {
        matches!(self, Message::Pong(_))
    }

    /// Whether this is a close.
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(_))
    }

    /// The payload's length in bytes (a close's reason).
    pub fn len(&self) -> usize {
        match self {
            Message::Text(text) => text.len(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data.len(),
            Message::Close(frame) => frame.as_ref().map_or(0, |frame| frame.reason.len()),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload as bytes, without a copy (a close's reason).
    pub fn into_data(self) -> Bytes {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(frame) => frame.map(|frame| frame.reason.into_bytes()).unwrap_or_default(),
        }
    }

    /// The payload as text, without a copy: a text message's as is, others' if they are
    /// UTF-8 ([`Error::InvalidUtf8`](crate::Error::InvalidUtf8) if not).
    pub fn into_text(self) -> crate::Result<Utf8Bytes> {
        match self {
            Message::Text(text) => Ok(text),
            Message::Close(frame) => Ok(frame.map(|frame| frame.reason).unwrap_or_default()),
            other => Utf8Bytes::try_from_bytes(other.into_data()).map_err(|_| crate::Error::InvalidUtf8),
        }
    }

    /// The payload as `&str`: a text message's in O(1), others' if they are UTF-8
    /// ([`Error::InvalidUtf8`](crate::Error::InvalidUtf8) if not).
    pub fn to_text(&self) -> crate::Result<&str> {
        match self {
            Message::Text(text) => Ok(text.as_str()),
            Message::Close(frame) => Ok(frame.as_ref().map_or("", |frame| frame.reason.as_str())),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => {
                simdutf8::basic::from_utf8(data).map_err(|_| crate::Error::InvalidUtf8)
            }
        }
    }
}

impl From<Utf8Bytes> for Message {
    fn from(text: Utf8Bytes) -> Self {
        Message::Text(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text.into())
    }
}

/// A text message; copies the text.
impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.into())
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Message::Binary(data)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Message::Binary(data.into())
    }
}

/// A binary message; copies the bytes.
impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Self {
        Message::Binary(Bytes::copy_from_slice(data))
    }
}

/// A piece of a message, delivered when fragment events are enabled
/// ([`Config::fragment_events`](crate::Config::fragment_events)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// Text or binary, from the message's first frame.
    pub kind: MessageKind,
    /// The bytes, unmasked (and inflated). For text they have been validated, but a chunk may
    /// end inside a multi-byte character that the next chunk completes.
    pub data: Bytes,
    /// This is the first chunk of the message.
    pub is_first: bool,
    /// This is the last chunk of the message.
    pub is_last: bool,
}

/// What the engine reports after consuming bytes.
///
/// ```
/// use ferrosocket::{Config, Connection, Event, Role};
/// let mut server = Connection::open(Role::Server, Config::default(), None);
/// server.receive(&[0x89, 0x80, 0, 0, 0, 0]); // a masked, empty ping
/// match server.next_event()? {
///     Some(Event::Ping(payload)) => assert!(payload.is_empty()), // the pong is queued
///     other => panic!("{other:?}"),
/// }
/// assert!(!server.take_outgoing().is_empty());
/// # Ok::<(), ferrosocket::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Server: an upgrade request arrived and awaits
    /// [`accept`](crate::Connection::accept) or [`reject`](crate::Connection::reject).
    Request(Box<Request>),
    /// Client: the server accepted the upgrade; the connection is open.
    Open(Box<Response>),
    /// A whole text message.
    Text(Utf8Bytes),
    /// A whole binary message.
    Binary(Bytes),
    /// A chunk of a message (only with fragment events enabled).
    Fragment(Fragment),
    /// A ping; the pong is already queued if auto-pong is on.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The connection closed: the peer's Close frame (its reply already queued), or 1006 when
    /// the transport ended without one. No event follows.
    Close(CloseFrame),
}

impl Event {
    /// The message this event carries, for APIs that deal in whole [`Message`]s (every
    /// adapter's `read` / `next`): `Ok(None)` for the handshake's events, which carry none,
    /// and [`Error::FragmentEventsEnabled`](crate::Error::FragmentEventsEnabled) for a
    /// fragment, which a whole-message API cannot deliver.
    ///
    /// ```
    /// use ferrosocket::{Event, Message};
    /// assert_eq!(Event::Text("hi".into()).into_message()?, Some(Message::text("hi")));
    /// # Ok::<(), ferrosocket::Error>(())
    /// ```
    pub fn into_message(self) -> crate::Result<Option<Message>> {
        Ok(Some(match self {
            Event::Text(text) => Message::Text(text),
            Event::Binary(data) => Message::Binary(data),
            Event::Ping(data) => Message::Ping(data),
            Event::Pong(data) => Message::Pong(data),
            Event::Close(frame) => Message::Close(Some(frame)),
            Event::Fragment(_) => return Err(crate::Error::FragmentEventsEnabled),
            Event::Request(_) | Event::Open(_) => return Ok(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::vec;

    #[test]
    fn conversions_and_accessors_as_tungstenite_names_them() {
        let line = "κόσμε".to_owned();
        for message in [
            Message::from(line.as_str()),
            Message::from(line.clone()),
            Message::text(&line),
        ] {
            assert!(message.is_text() && message.is_data() && !message.is_binary());
            assert_eq!((message.len(), message.is_empty()), (10, false));
            assert_eq!(message.to_text().unwrap(), "κόσμε");
            assert_eq!(message.clone().into_text().unwrap(), "κόσμε");
            assert_eq!(message.into_data(), line.as_bytes());
        }
        for message in [
            Message::from(vec![1u8, 2, 3]),
            Message::from(&[1u8, 2, 3][..]),
            Message::from(Bytes::from_static(&[1, 2, 3])),
        ] {
            assert!(message.is_binary() && !message.is_text());
            assert_eq!(message.len(), 3);
            assert_eq!(message.to_text().unwrap(), "\u{1}\u{2}\u{3}");
            assert_eq!(message.into_data(), &[1u8, 2, 3][..]);
        }
        let invalid = Message::binary(vec![0xff]);
        assert!(matches!(invalid.to_text(), Err(crate::Error::InvalidUtf8)));
        assert!(matches!(invalid.into_text(), Err(crate::Error::InvalidUtf8)));
        assert_eq!(Message::binary(&b"ok"[..]).into_text().unwrap(), "ok");
        assert!(Message::ping(&b"p"[..]).is_ping() && Message::pong(&b""[..]).is_pong());
        assert!(Message::pong(Bytes::new()).is_empty());
        let close = Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "bye")));
        assert!(close.is_close());
        assert_eq!((close.len(), close.to_text().unwrap()), (3, "bye"));
        assert_eq!(Message::Close(None).into_data(), Bytes::new());
        assert_eq!(Message::from(Utf8Bytes::from_static("x")), Message::text("x"));
    }

    #[cfg(feature = "std")]
    #[test]
    fn text_the_engine_received_reads_as_str() {
        use crate::{Config, Connection, Event, Role};
        let mut server = Connection::open(Role::Server, Config::default(), None);
        // "κό" masked with a zero key, split across two receives.
        let mut frame = vec![0x81, 0x84, 0, 0, 0, 0];
        frame.extend_from_slice("κό".as_bytes());
        server.receive(&frame[..7]);
        assert_eq!(server.next_event().unwrap(), None);
        server.receive(&frame[7..]);
        match server.next_event().unwrap() {
            Some(Event::Text(text)) => assert_eq!((text.as_str(), text.chars().count()), ("κό", 2)),
            other => panic!("{other:?}"),
        }
    }
}
