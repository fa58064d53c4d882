//! Messages and events: what the engine hands to the application.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

use bytes::Bytes;

use crate::error::CloseCode;
use crate::handshake::{Request, Response};

/// Bytes that are known to be valid UTF-8: the payload of a text message.
///
/// It is a [`Bytes`] underneath, so it is cheap to clone and was split off the receive buffer
/// without a copy.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps `bytes` if they are valid UTF-8.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, crate::utf8::InvalidUtf8> {
        crate::utf8::validate(&bytes)?;
        Ok(Utf8Bytes(bytes))
    }

    /// Wraps bytes the engine has already validated.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        Utf8Bytes(bytes)
    }

    /// The text.
    ///
    /// The crate has no `unsafe` code, so this re-checks the bytes with `simdutf8`, which runs
    /// at many GB/s; the check cannot fail.
    pub fn as_str(&self) -> &str {
        simdutf8::basic::from_utf8(&self.0).unwrap_or_default()
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying [`Bytes`], shared.
    pub(crate) fn as_shared(&self) -> &Bytes {
        &self.0
    }

    /// Gives up the UTF-8 guarantee for the underlying [`Bytes`].
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Utf8Bytes(Bytes::from(s))
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(s: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

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

/// A whole message, as the adapters send and receive them.
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

    /// Whether this is a text or binary message (not a control frame).
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
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
