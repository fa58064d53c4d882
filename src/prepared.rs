//! Encode once, send to many: a message framed (and compressed) once and shared by
//! [`Bytes`] across every connection it goes to.
//!
//! A server's frame has no mask, so the same bytes suit every client that reads frames the
//! same way. Uncompressed, that is every client. Compressed, it is every client whose
//! permessage-deflate compressor starts each message fresh (`server_no_context_takeover`)
//! with the same window and level: the output depends on nothing else, so it is computed
//! once per such setting and cached here. A connection with context takeover compresses
//! against its own history and must compress the message itself; a client masks every frame
//! with its own key. [`PreparedMessage::frame_for`] says which case a connection is in.

use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use crate::deflate::Deflater;
use crate::error::{Error, Result};
use crate::frame::{Header, OpCode, MAX_HEADER_LEN};
use crate::message::{Message, MessageKind};

/// How a connection frames what it sends: what a prepared frame must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameEncoding {
    /// A client masks every frame with a key of its own: nothing can be shared.
    pub(crate) masked: bool,
    pub(crate) compression: Option<CompressionSetting>,
}

/// A connection's permessage-deflate compressor, as far as its output depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct CompressionSetting {
    pub(crate) level: u8,
    pub(crate) window_bits: u8,
    /// Messages shorter than this go out uncompressed.
    pub(crate) threshold: usize,
    /// The compressor starts every message fresh (no context takeover).
    pub(crate) fresh_each_message: bool,
}

/// A data message framed once for many connections (uWebSockets' and `ws`'s "prepared
/// message"): build it with [`new`](Self::new), then hand it to
/// [`Connection::send_prepared`](crate::Connection::send_prepared) on each connection — or,
/// to queue frames for other tasks, take each connection's frame with
/// [`frame_for`](Self::frame_for).
///
/// ```
/// use ferrosocket::{Config, Connection, Message, PreparedMessage, Role};
/// let mut prepared = PreparedMessage::new(&Message::text("to everyone"))?;
/// let mut a = Connection::open(Role::Server, Config::default(), None);
/// let mut b = Connection::open(Role::Server, Config::default(), None);
/// a.send_prepared(&mut prepared)?;
/// b.send_prepared(&mut prepared)?;
/// assert_eq!(a.take_outgoing(), b.take_outgoing()); // the same bytes, framed once
/// # Ok::<(), ferrosocket::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    /// The message as given (a text or binary message).
    message: Message,
    kind: MessageKind,
    payload: Bytes,
    /// The unmasked, uncompressed frame, made on first use.
    plain: Option<Bytes>,
    /// Compressed frames, one per compressor setting met so far.
    compressed: Vec<(CompressionSetting, Bytes)>,
}

/// One connection's frame of a [`PreparedMessage`]: cheap to clone and to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedFrame {
    pub(crate) bytes: Bytes,
    /// The compressor setting it was compressed for, if it was.
    pub(crate) compressed_for: Option<CompressionSetting>,
}

impl PreparedFrame {
    /// The frame's bytes as they go on the wire.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }
}

impl PreparedMessage {
    /// Prepares a text or binary message; control messages are refused with
    /// [`Error::NotData`].
    pub fn new(message: &Message) -> Result<Self> {
        let (kind, payload) = match message {
            Message::Text(text) => (MessageKind::Text, text.as_shared().clone()),
            Message::Binary(data) => (MessageKind::Binary, data.clone()),
            _ => return Err(Error::NotData),
        };
        Ok(PreparedMessage {
            message: message.clone(),
            kind,
            payload,
            plain: None,
            compressed: Vec::new(),
        })
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The message's payload, uncompressed.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The message itself, for a connection that must encode it on its own (a cheap clone:
    /// the payload is shared).
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The frame for a connection that frames as `encoding`
    /// ([`Connection::frame_encoding`](crate::Connection::frame_encoding)), or `None` when that
    /// connection must encode the message itself (a client, or compression with context
    /// takeover).
    pub fn frame_for(&mut self, encoding: FrameEncoding) -> Option<PreparedFrame> {
        if encoding.masked {
            return None;
        }
        match encoding.compression {
            Some(setting) if self.payload.len() >= setting.threshold => {
                if !setting.fresh_each_message {
                    return None;
                }
                let bytes = self.compressed_frame(setting);
                Some(PreparedFrame {
                    bytes,
                    compressed_for: Some(setting),
                })
            }
            _ => Some(PreparedFrame {
                bytes: self.plain_frame(),
                compressed_for: None,
            }),
        }
    }

    fn plain_frame(&mut self) -> Bytes {
        let (kind, payload) = (self.kind, &self.payload);
        self.plain
            .get_or_insert_with(|| frame(kind, false, payload))
            .clone()
    }

    fn compressed_frame(&mut self, setting: CompressionSetting) -> Bytes {
        if let Some((_, bytes)) = self.compressed.iter().find(|(s, _)| *s == setting) {
            return bytes.clone();
        }
        let mut deflater = Deflater::new(setting.level, setting.window_bits, true);
        let mut compressed = Vec::with_capacity(self.payload.len() / 2 + 16);
        deflater.compress(&self.payload, true, &mut compressed);
        let bytes = frame(self.kind, true, &compressed);
        self.compressed.push((setting, bytes.clone()));
        bytes
    }
}

/// An unmasked single frame of `kind` with `payload`, RSV1 set if `compressed`.
fn frame(kind: MessageKind, compressed: bool, payload: &[u8]) -> Bytes {
    let opcode = match kind {
        MessageKind::Text => OpCode::Text,
        MessageKind::Binary => OpCode::Binary,
    };
    let mut header = Header::new(opcode, payload.len() as u64);
    header.rsv1 = compressed;
    let mut head = [0u8; MAX_HEADER_LEN];
    let head_len = header.encode(&mut head);
    let mut out = BytesMut::with_capacity(head_len + payload.len());
    out.extend_from_slice(&head[..head_len]);
    out.extend_from_slice(payload);
    out.freeze()
}
