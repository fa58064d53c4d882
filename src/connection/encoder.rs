//! The encoder: frames the application's messages into the outgoing queue.
//!
//! It owns what sending needs and nothing else: the queue, the pong that answers the latest
//! ping, masking keys (client), fragmentation order, compression and whether our Close went
//! out. Whether the connection may send at all is the [`SendingHalf`](super::SendingHalf)'s
//! and the [`Connection`](super::Connection)'s call; the encoder needs no handshake and is
//! tested alone.

use alloc::vec::Vec;

use bytes::Bytes;

use crate::config::Config;
use crate::deflate::Deflater;
use crate::error::{CapacityError, CloseCode, Error, Result};
use crate::frame::{Header, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::mask;
use crate::message::MessageKind;
use crate::outgoing::{Outgoing, SHARE_AT_LEAST};
use crate::prepared::{CompressionSetting, FrameEncoding, PreparedFrame};
use crate::rng::Rng;
use crate::role::Role;

/// Compressed-output scratch buffers larger than this are freed after use, not kept.
const KEEP_SCRATCH: usize = 64 << 10;

/// A payload to send: borrowed, or shared by the application, which lets a server queue a
/// large one without copying it.
#[derive(Clone, Copy)]
pub(crate) enum Payload<'a> {
    Borrowed(&'a [u8]),
    Shared(&'a Bytes),
}

impl Payload<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Payload::Borrowed(bytes) => bytes,
            Payload::Shared(bytes) => bytes,
        }
    }
}

/// The negotiated compressor and when to use it.
#[derive(Debug)]
struct Compression {
    deflater: Deflater,
    /// Messages shorter than this go out uncompressed.
    threshold: usize,
    /// Compressed output of the message being sent; reused.
    scratch: Vec<u8>,
}

/// Frames outgoing messages.
#[derive(Debug)]
pub(crate) struct Encoder {
    /// Masking keys for a client; a server does not mask.
    masking: Option<Rng>,
    out: Outgoing,
    max_buffer: usize,
    /// The payload of the pong that answers the latest ping, not yet written.
    pending_pong: Option<Bytes>,
    /// The fragmented message being sent, if one is, and whether it is compressed.
    fragmented: Option<(MessageKind, bool)>,
    compression: Option<Compression>,
    close_sent: bool,
    /// The peer ended the connection first (its Close, or the end of its input): nothing
    /// more goes out. Here rather than in the sending half, where it would cost a word.
    pub(crate) peer_closed: bool,
}

impl Encoder {
    /// A sender that masks with keys from `masking` (a client) or not at all (a server).
    pub(crate) fn new(config: &Config, masking: Option<Rng>) -> Self {
        Encoder {
            masking,
            out: Outgoing::default(),
            max_buffer: config.max_write_buffer_size,
            pending_pong: None,
            fragmented: None,
            compression: None,
            close_sent: false,
            peer_closed: false,
        }
    }

    /// Compresses messages of at least `threshold` bytes from here on.
    pub(crate) fn enable_deflate(&mut self, deflater: Deflater, threshold: usize) {
        self.compression = Some(Compression {
            deflater,
            threshold,
            scratch: Vec::new(),
        });
    }

    /// Queues raw bytes: the handshake's HTTP head.
    pub(crate) fn queue_raw(&mut self, bytes: &[u8]) {
        self.out.tail().extend_from_slice(bytes);
    }

    /// Queues a whole message; it is compressed if `compress` allows, compression was
    /// negotiated, and it reaches the threshold.
    pub(crate) fn message(&mut self, kind: MessageKind, data: Payload<'_>, compress: bool) -> Result<()> {
        if self.fragmented.is_some() {
            return Err(Error::FragmentOrder);
        }
        let compressed = compress
            && self
                .compression
                .as_ref()
                .is_some_and(|c| data.bytes().len() >= c.threshold);
        self.data(opcode_of(kind), data, true, compressed)
    }

    /// Queues one fragment: the first opens a message of `kind`, the one with `is_last`
    /// ends it. A message of several fragments is compressed whenever compression was
    /// negotiated, as its total size is unknown.
    pub(crate) fn fragment(&mut self, kind: MessageKind, data: &[u8], is_last: bool) -> Result<()> {
        let (opcode, compressed) = match self.fragmented {
            None => {
                let compressed = self
                    .compression
                    .as_ref()
                    .is_some_and(|c| !is_last || data.len() >= c.threshold);
                (opcode_of(kind), compressed)
            }
            Some((current, compressed)) if current == kind => (OpCode::Continuation, compressed),
            Some(_) => return Err(Error::FragmentOrder),
        };
        self.data(opcode, Payload::Borrowed(data), is_last, compressed)?;
        self.fragmented = (!is_last).then_some((kind, compressed));
        Ok(())
    }

    fn data(&mut self, opcode: OpCode, data: Payload<'_>, fin: bool, compressed: bool) -> Result<()> {
        let Some(compression) = self.compression.as_mut().filter(|_| compressed) else {
            return self.write_frame(opcode, fin, false, data);
        };
        // Refuse before the compressor's state moves on; deflate output is about the
        // input's size at worst.
        check_room(&self.out, self.max_buffer, data.bytes().len() + MAX_HEADER_LEN)?;
        let mut scratch = core::mem::take(&mut compression.scratch);
        compression.deflater.compress(data.bytes(), fin, &mut scratch);
        let rsv1 = opcode != OpCode::Continuation;
        self.write_frame_unchecked(opcode, fin, rsv1, Payload::Borrowed(&scratch));
        scratch.clear();
        if let Some(compression) = self
            .compression
            .as_mut()
            .filter(|_| scratch.capacity() <= KEEP_SCRATCH)
        {
            compression.scratch = scratch; // keep small buffers, free large ones
        }
        Ok(())
    }

    /// How this sender frames messages: what a prepared frame must have been made for.
    pub(crate) fn frame_encoding(&self) -> FrameEncoding {
        FrameEncoding {
            masked: self.masking.is_some(),
            compression: self.compression.as_ref().map(|c| {
                let (level, window_bits, fresh_each_message) = c.deflater.setting();
                CompressionSetting {
                    level,
                    window_bits,
                    threshold: c.threshold,
                    fresh_each_message,
                }
            }),
        }
    }

    /// Queues a frame prepared for this sender's encoding (shared by reference when large).
    pub(crate) fn prepared(&mut self, frame: &PreparedFrame) -> Result<()> {
        if self.fragmented.is_some() {
            return Err(Error::FragmentOrder);
        }
        let encoding = self.frame_encoding();
        let fits = !encoding.masked
            && match frame.compressed_for {
                None => true,
                Some(setting) => encoding.compression == Some(setting) && setting.fresh_each_message,
            };
        if !fits {
            return Err(Error::PreparedFrameMismatch);
        }
        check_room(&self.out, self.max_buffer, frame.bytes.len())?;
        if frame.bytes.len() >= SHARE_AT_LEAST {
            self.out.push_shared(frame.bytes.clone());
        } else {
            self.out.tail().extend_from_slice(&frame.bytes);
        }
        Ok(())
    }

    /// Queues a ping or pong of at most 125 bytes.
    pub(crate) fn control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::ControlPayloadTooLong);
        }
        self.write_frame(opcode, true, false, Payload::Borrowed(payload))
    }

    /// Answers a ping: the pong is written when the transport next takes bytes, so only the
    /// latest of several pings is answered. Nothing is answered after our Close.
    pub(crate) fn answer_ping(&mut self, payload: Bytes) {
        if !self.close_sent {
            self.pending_pong = Some(payload);
        }
    }

    /// Queues our Close frame (`None`: without a code), whatever the buffer limit says; the
    /// caller checked `reason` fits. Nothing is sent after it.
    pub(crate) fn close(&mut self, code: Option<CloseCode>, reason: &str) {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            Some(code) => {
                payload[..2].copy_from_slice(&code.0.to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
                2 + reason.len()
            }
            None => 0,
        };
        self.flush_pending_pong();
        self.write_frame_unchecked(OpCode::Close, true, false, Payload::Borrowed(&payload[..len]));
        self.close_sent = true;
    }

    /// Client or server: a client masks.
    pub(crate) fn role(&self) -> Role {
        if self.masking.is_some() {
            Role::Client
        } else {
            Role::Server
        }
    }

    /// Whether our Close frame was queued.
    pub(crate) fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// Encodes a frame into the queue if it fits under the limit.
    fn write_frame(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: Payload<'_>) -> Result<()> {
        check_room(&self.out, self.max_buffer, payload.bytes().len() + MAX_HEADER_LEN)?;
        self.write_frame_unchecked(opcode, fin, rsv1, payload);
        Ok(())
    }

    /// Queues a frame, masked if this is a client; a large shared payload of a server frame
    /// is queued without a copy.
    fn write_frame_unchecked(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: Payload<'_>) {
        let mask = self.masking.as_mut().map(Rng::mask_key);
        let bytes = payload.bytes();
        let mut header = Header::new(opcode, bytes.len() as u64);
        header.fin = fin;
        header.rsv1 = rsv1;
        header.mask = mask;
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        if let (None, Payload::Shared(shared)) = (mask, payload) {
            if shared.len() >= SHARE_AT_LEAST {
                self.out.tail().extend_from_slice(&head[..head_len]);
                self.out.push_shared(shared.clone());
                return;
            }
        }
        let tail = self.out.tail();
        tail.reserve(head_len + bytes.len());
        tail.extend_from_slice(&head[..head_len]);
        let start = tail.len();
        tail.extend_from_slice(bytes);
        if let Some(key) = mask {
            mask::apply(&mut tail[start..], key, 0);
        }
    }

    /// Writes the pending pong, if any, into the queue.
    fn flush_pending_pong(&mut self) {
        if let Some(payload) = self.pending_pong.take() {
            self.write_frame_unchecked(OpCode::Pong, true, false, Payload::Borrowed(&payload));
        }
    }

    /// The queue, with the pending pong written into it: what the transport takes next.
    pub(crate) fn outgoing(&mut self) -> &mut Outgoing {
        self.flush_pending_pong();
        &mut self.out
    }

    /// Marks `n` queued bytes as written.
    pub(crate) fn advance(&mut self, n: usize) {
        self.out.advance(n);
    }

    /// Bytes queued, the pending pong included.
    pub(crate) fn buffered_amount(&self) -> usize {
        self.out.len() + self.pending_pong.as_ref().map_or(0, |p| p.len() + 2)
    }

    /// Drops everything queued; nothing more is sent.
    pub(crate) fn terminate(&mut self) {
        self.out.clear();
        self.pending_pong = None;
        self.close_sent = true;
    }
}

fn opcode_of(kind: MessageKind) -> OpCode {
    match kind {
        MessageKind::Text => OpCode::Text,
        MessageKind::Binary => OpCode::Binary,
    }
}

/// Fails if `len` more bytes would take the queue over `max`.
fn check_room(out: &Outgoing, max: usize, len: usize) -> Result<()> {
    let size = out.len().saturating_add(len);
    if size > max {
        return Err(CapacityError::WriteBufferFull { size, max }.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::connection::decoder::{Decoder, Received};
    use crate::message::Event;
    use crate::role::Role;

    fn server() -> Encoder {
        Encoder::new(&Config::default(), None)
    }

    #[test]
    fn frames_a_server_message_unmasked() {
        let mut sender = server();
        sender
            .message(MessageKind::Text, Payload::Borrowed(b"Hello"), true)
            .unwrap();
        assert_eq!(
            &sender.outgoing().take()[..],
            &[0x81, 0x05, b'H', b'e', b'l', b'l', b'o']
        );
    }

    #[test]
    fn a_client_masks_and_a_server_decodes() {
        let mut client = Encoder::new(&Config::default(), Some(Rng::from_os()));
        client.fragment(MessageKind::Binary, b"ab", false).unwrap();
        client.control(OpCode::Ping, b"x").unwrap();
        client.fragment(MessageKind::Binary, b"cd", true).unwrap();
        let wire = client.outgoing().take();
        let mut receiver = Decoder::new(Role::Server, &Config::default());
        receiver.receive(&wire);
        assert_eq!(
            receiver.poll().unwrap(),
            Some(Received::Ping(Bytes::from_static(b"x")))
        );
        assert_eq!(
            receiver.poll().unwrap(),
            Some(Received::Data(Event::Binary(Bytes::from_static(b"abcd"))))
        );
    }

    #[test]
    fn fragments_keep_their_order() {
        let mut sender = server();
        sender.fragment(MessageKind::Text, b"a", false).unwrap();
        assert!(matches!(
            sender.fragment(MessageKind::Binary, b"b", true),
            Err(Error::FragmentOrder)
        ));
        assert!(matches!(
            sender.message(MessageKind::Text, Payload::Borrowed(b"c"), true),
            Err(Error::FragmentOrder)
        ));
        sender.fragment(MessageKind::Text, b"b", true).unwrap();
        sender
            .message(MessageKind::Text, Payload::Borrowed(b"c"), true)
            .unwrap();
    }

    #[test]
    fn only_the_latest_ping_is_answered_and_none_after_close() {
        let mut sender = server();
        sender.answer_ping(Bytes::from_static(b"1"));
        sender.answer_ping(Bytes::from_static(b"2"));
        assert_eq!(sender.buffered_amount(), 3);
        assert_eq!(&sender.outgoing().take()[..], &[0x8a, 0x01, b'2']);
        sender.close(Some(CloseCode::NORMAL), "");
        sender.answer_ping(Bytes::from_static(b"3"));
        assert_eq!(&sender.outgoing().take()[..], &[0x88, 0x02, 0x03, 0xe8]);
        assert!(sender.close_sent());
    }

    #[test]
    fn the_write_buffer_limit_refuses_without_queueing() {
        let mut sender = Encoder::new(&Config::default().max_write_buffer_size(100), None);
        assert!(matches!(
            sender.message(MessageKind::Binary, Payload::Borrowed(&[0; 200]), true),
            Err(Error::Capacity(CapacityError::WriteBufferFull { .. }))
        ));
        assert_eq!(sender.buffered_amount(), 0);
        // A close goes out whatever the limit says.
        sender
            .message(MessageKind::Binary, Payload::Borrowed(&[0; 80]), true)
            .unwrap();
        sender.close(Some(CloseCode::NORMAL), "bye");
        assert_eq!(sender.buffered_amount(), 82 + 7);
        assert_eq!(
            vec![0x88u8, 5, 0x03, 0xe8, b'b', b'y', b'e'],
            sender.outgoing().take()[82..]
        );
    }
}
