//! The decoder: bytes to data messages, pings, pongs and closes, and nothing else.
//!
//! It knows frames, reassembly, UTF-8 and inflating, and the limits on all of them; what to
//! do about a ping or a close (answer it, stop reading, fail the connection) is the
//! [`ReceivingHalf`](super::ReceivingHalf)'s policy. It needs no handshake: a test can build
//! one and feed it frames.

use bytes::{Buf, Bytes, BytesMut};

use crate::config::Config;
use crate::deflate::{InflateError, Inflater};
use crate::error::{CapacityError, CloseCode, Error, ProtocolError, Result};
use crate::frame::{self, Header, OpCode, MAX_CONTROL_PAYLOAD};
use crate::mask;
use crate::message::{CloseFrame, Event, Fragment, MessageKind, Utf8Bytes};
use crate::role::Role;
use crate::utf8;

/// What the decoder found in the input.
#[derive(Debug, PartialEq)]
pub(crate) enum Received {
    /// A data message or, with `fragment_events`, a piece of one: an [`Event::Text`],
    /// [`Event::Binary`] or [`Event::Fragment`].
    Data(Event),
    /// A ping with its payload.
    Ping(Bytes),
    /// A pong with its payload.
    Pong(Bytes),
    /// A valid Close frame.
    Close(CloseFrame),
    /// The transport ended with no Close frame.
    End,
}

/// The decoder's settings, taken from the [`Config`] and the role once.
#[derive(Debug, Clone, Copy)]
struct Limits {
    role: Role,
    max_frame_size: usize,
    max_message_size: usize,
    fragment_events: bool,
    accept_unmasked_frames: bool,
}

/// The data frame whose payload is being received.
#[derive(Debug, Clone, Copy)]
struct FrameInProgress {
    fin: bool,
    mask: Option<[u8; 4]>,
    remaining: u64,
    /// Payload bytes of this frame already consumed (the masking offset).
    consumed: usize,
    /// A single-frame message gathered in the input buffer itself: the `consumed` bytes stay
    /// there, unmasked and validated, and the whole payload is split off without a copy.
    in_place: bool,
}

impl FrameInProgress {
    /// How many bytes from the front of the input buffer still belong to this frame.
    fn left_in_input(&self) -> u64 {
        if self.in_place {
            self.consumed as u64 + self.remaining
        } else {
            self.remaining
        }
    }
}

/// The data message being received.
#[derive(Debug)]
struct MessageInProgress {
    kind: MessageKind,
    /// Payload bytes received so far, over all frames.
    size: u64,
    /// No chunk of it has been delivered yet (fragment events).
    first_chunk: bool,
    /// RSV1 was set: the payload is deflated.
    compressed: bool,
    /// Bytes of it already handed out as fragments.
    delivered: usize,
}

/// What starting a frame led to.
enum Progress {
    Done(Received),
    Continue,
    NeedMore,
}

/// Decodes the frames a peer sends.
#[derive(Debug)]
pub(crate) struct Decoder {
    limits: Limits,
    /// Received bytes not yet consumed.
    input: BytesMut,
    /// The transport's read side ended.
    eof: bool,
    frame: Option<FrameInProgress>,
    message: Option<MessageInProgress>,
    /// Reassembles fragmented and compressed messages; reused from message to message.
    assembly: BytesMut,
    utf8: utf8::Validator,
    /// Present once permessage-deflate is negotiated: RSV1 is then allowed.
    inflater: Option<Inflater>,
    /// Bytes of input to discard while draining before the next frame header.
    skip: u64,
    /// The peer's Close frame arrived (valid or not): it sends nothing more.
    close_received: bool,
    /// While draining, until the failed frame's rest has been skipped: the peer may abandon
    /// that frame to answer our Close at once (Autobahn's client does), so new input may
    /// begin with its Close instead of the rest.
    close_may_cut_in: bool,
}

impl Decoder {
    /// A decoder for `role` with `config`'s limits.
    pub(crate) fn new(role: Role, config: &Config) -> Self {
        Decoder {
            limits: Limits {
                role,
                max_frame_size: config.max_frame_size,
                max_message_size: config.max_message_size,
                fragment_events: config.fragment_events,
                accept_unmasked_frames: config.accept_unmasked_frames,
            },
            input: BytesMut::new(),
            eof: false,
            frame: None,
            message: None,
            assembly: BytesMut::new(),
            utf8: utf8::Validator::default(),
            inflater: None,
            skip: 0,
            close_received: false,
            close_may_cut_in: false,
        }
    }

    /// Accepts compressed messages from here on, inflating them with `inflater`.
    pub(crate) fn enable_inflate(&mut self, inflater: Inflater) {
        self.inflater = Some(inflater);
    }

    /// The bytes received and not yet consumed: the handshake reads its head from here.
    pub(crate) fn input(&mut self) -> &mut BytesMut {
        &mut self.input
    }

    /// Appends bytes read from the transport.
    pub(crate) fn receive(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// Lends the spare room of the input buffer to `fill` (see
    /// [`Connection::receive_with`](super::Connection::receive_with)); the bytes it appends
    /// are kept unless `keep` is false.
    pub(crate) fn receive_with<R>(
        &mut self,
        room: usize,
        keep: bool,
        fill: impl FnOnce(&mut BytesMut) -> R,
    ) -> R {
        let held = self.input.len();
        // A message gathered in place already has its room: asking for more than it misses
        // would move the whole message to a bigger buffer.
        let room = match self.frame {
            Some(frame) if frame.in_place => {
                let missing = (frame.consumed as u64 + frame.remaining).saturating_sub(held as u64);
                room.min(usize::try_from(missing).unwrap_or(usize::MAX).max(1))
            }
            _ => room,
        };
        self.input.reserve(room);
        // The spare room, split off so `fill` only sees it; joined back without a copy.
        let mut fresh = self.input.split_off(held);
        let result = fill(&mut fresh);
        if keep {
            self.input.unsplit(fresh);
        }
        result
    }

    /// The spare room of the input buffer (at least `room`, bounded like
    /// [`receive_with`](Self::receive_with)'s), lent out as an owned, empty buffer.
    pub(crate) fn lend(&mut self, room: usize) -> BytesMut {
        self.receive_with(room, false, core::mem::take)
    }

    /// Appends a lent buffer's bytes, without a copy when it is the room that was lent.
    pub(crate) fn take_back(&mut self, buf: BytesMut, keep: bool) {
        if keep && !buf.is_empty() {
            self.input.unsplit(buf);
        }
    }

    /// Room left in the input buffer before it must grow.
    pub(crate) fn capacity(&self) -> usize {
        self.input.capacity() - self.input.len()
    }

    /// Records the end of the transport's read side.
    pub(crate) fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// Whether the transport's read side ended.
    pub(crate) fn eof(&self) -> bool {
        self.eof
    }

    /// Frees the input buffer if it holds nothing, so an idle connection keeps no buffer.
    pub(crate) fn release_empty_input(&mut self) {
        if self.input.is_empty() {
            self.input = BytesMut::new();
        }
    }

    /// Drops everything buffered and every message in progress: nothing more is decoded.
    pub(crate) fn clear(&mut self) {
        self.input = BytesMut::new();
        self.assembly = BytesMut::new();
        self.frame = None;
        self.message = None;
        self.skip = 0;
    }

    /// Decodes buffered input up to the next thing worth reporting. `Ok(None)`: more input
    /// is needed. An error leaves the decoder where the fault was found; see
    /// [`start_draining`](Self::start_draining).
    pub(crate) fn poll(&mut self) -> Result<Option<Received>> {
        loop {
            let Some(frame) = self.frame else {
                match self.start_frame()? {
                    Progress::Done(received) => return Ok(Some(received)),
                    Progress::Continue => continue,
                    Progress::NeedMore => return Ok(self.eof.then_some(Received::End)),
                }
            };
            let fresh = self.input.len() - if frame.in_place { frame.consumed } else { 0 };
            if frame.remaining > 0 && fresh == 0 {
                return Ok(self.eof.then_some(Received::End));
            }
            if let Some(received) = self.continue_frame(frame)? {
                return Ok(Some(received));
            }
        }
    }

    /// After a failure: forgets the message in progress and, from the next
    /// [`drain`](Self::drain) on, discards input while looking for the peer's Close frame.
    /// The frame being received is skipped by its announced length.
    pub(crate) fn start_draining(&mut self) {
        self.skip = self.frame.map_or(0, |frame| frame.left_in_input());
        self.skip_buffered();
        self.close_may_cut_in = true;
        self.frame = None;
        self.message = None;
        self.assembly = BytesMut::new();
        self.utf8 = utf8::Validator::default();
    }

    /// Discards buffered input frame by frame, unread; true once the peer's Close frame has
    /// begun (or was the fault itself) or the transport ended. Input that does not parse as
    /// frames (the fault may have been in the framing itself) is dropped until the transport
    /// ends.
    pub(crate) fn drain(&mut self) -> bool {
        if self.close_received {
            return true;
        }
        if self.close_may_cut_in && self.skip > 0 && !self.input.is_empty() {
            // New input where the rest of the failed frame was due.
            match self.close_at_front() {
                Some(true) => return true,
                Some(false) => self.close_may_cut_in = false,
                // The candidate is not whole yet (at most 131 bytes); but the input may be the
                // frame's rest after all, its first byte merely looking like a Close's: a Close
                // among the frames after that rest ends the drain as well.
                None => return self.close_follows_skip() || self.eof,
            }
        }
        loop {
            if self.skip > 0 {
                self.skip_buffered();
                if self.skip > 0 {
                    return self.eof;
                }
                self.close_may_cut_in = false;
            }
            // Frames are skipped by their lengths alone: the one that failed may carry a
            // reserved opcode or bits, and the peer's Close may follow it.
            match frame::extent(&self.input) {
                Some(_) if OpCode::from_bits(self.input[0] & 0x0F) == Some(OpCode::Close) => return true,
                Some((header_len, payload_len)) if payload_len >> 63 == 0 => {
                    self.input.advance(header_len);
                    self.skip = payload_len;
                }
                Some(_) => {
                    // A length no frame can have: the input is not frames any more.
                    self.input.clear();
                    return self.eof;
                }
                None => return self.eof,
            }
        }
    }

    /// Discards what is buffered of the bytes to skip.
    fn skip_buffered(&mut self) {
        let n = usize::try_from(self.skip)
            .unwrap_or(usize::MAX)
            .min(self.input.len());
        self.input.advance(n);
        self.skip -= n as u64;
    }

    /// Whether, past the bytes still to skip, the whole frames buffered include a Close.
    fn close_follows_skip(&self) -> bool {
        let mut rest = usize::try_from(self.skip)
            .ok()
            .and_then(|skip| self.input.get(skip..))
            .unwrap_or_default();
        while let Some((header_len, payload_len)) = frame::extent(rest) {
            if OpCode::from_bits(rest[0] & 0x0F) == Some(OpCode::Close) {
                return true;
            }
            let Some(next) = usize::try_from(payload_len)
                .ok()
                .and_then(|len| rest.get(header_len.checked_add(len)?..))
            else {
                return false;
            };
            rest = next;
        }
        false
    }

    /// Whether the input starts with a whole, valid Close frame as the peer would send it
    /// (`None`: it might, once more bytes arrive).
    fn close_at_front(&self) -> Option<bool> {
        if self.input[0] != 0x88 {
            return Some(false); // not FIN + Close without reserved bits
        }
        let (header, header_len) = match Header::parse(&self.input) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return None,
            Err(_) => return Some(false),
        };
        let masked_as_expected = header.mask.is_some() == (self.limits.role == Role::Server);
        if !masked_as_expected || header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Some(false);
        }
        let end = header_len + header.payload_len as usize;
        let framed = self.input.get(header_len..end)?;
        let mut payload = BytesMut::from(framed);
        if let Some(key) = header.mask {
            mask::apply(&mut payload, key, 0);
        }
        Some(parse_close_payload(payload.freeze()).is_ok())
    }

    /// Parses the next frame header and handles what can be handled at once.
    fn start_frame(&mut self) -> Result<Progress> {
        let Some((header, header_len)) = Header::parse(&self.input)? else {
            return Ok(Progress::NeedMore);
        };
        self.check_header(&header)?;
        let payload_len = header.payload_len as usize; // checked against the limits
        let available = self.input.len() - header_len;
        if header.opcode.is_control() {
            if available < payload_len {
                return Ok(Progress::NeedMore);
            }
            self.input.advance(header_len);
            self.close_received |= header.opcode == OpCode::Close;
            let payload = self.take_payload(payload_len, header.mask);
            return control_frame(header.opcode, payload).map(Progress::Done);
        }
        let kind = match header.opcode {
            OpCode::Text => Some(MessageKind::Text),
            OpCode::Binary => Some(MessageKind::Binary),
            _ => None,
        };
        self.input.advance(header_len);
        let whole = !self.limits.fragment_events && header.fin && !header.rsv1;
        // Fast path: a whole single-frame uncompressed message is already here.
        if let (Some(kind), true, true) = (kind, whole, available >= payload_len) {
            let payload = self.take_payload(payload_len, header.mask);
            return whole_message(kind, payload).map(Progress::Done);
        }
        if let Some(kind) = kind {
            self.message = Some(MessageInProgress {
                kind,
                size: 0,
                first_chunk: true,
                compressed: header.rsv1,
                delivered: 0,
            });
        }
        // A single-frame message still arriving is gathered where it lands. Room for it is
        // made once, up to 1 MiB: a header alone must not make us reserve more.
        let in_place = kind.is_some() && whole;
        if in_place {
            self.input
                .reserve(payload_len.min(1 << 20).saturating_sub(self.input.len()));
        }
        self.frame = Some(FrameInProgress {
            fin: header.fin,
            mask: header.mask,
            remaining: header.payload_len,
            consumed: 0,
            in_place,
        });
        Ok(Progress::Continue)
    }

    /// Enforces RFC 6455 §5 and the configured limits on a header before any payload is read.
    fn check_header(&self, header: &Header) -> Result<()> {
        // RSV1 marks a compressed message, on its first frame only.
        let rsv1_allowed = self.inflater.is_some() && matches!(header.opcode, OpCode::Text | OpCode::Binary);
        if header.rsv2 || header.rsv3 || (header.rsv1 && !rsv1_allowed) {
            return Err(ProtocolError::ReservedBits.into());
        }
        match (self.limits.role, header.mask.is_some()) {
            (Role::Server, false) if !self.limits.accept_unmasked_frames => {
                return Err(ProtocolError::UnmaskedFrame.into())
            }
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame.into()),
            _ => {}
        }
        if header.opcode.is_control() {
            if !header.fin {
                return Err(ProtocolError::FragmentedControlFrame.into());
            }
            if header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong.into());
            }
            return Ok(());
        }
        match (header.opcode, &self.message) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation.into()),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation.into())
            }
            _ => {}
        }
        if header.payload_len > self.limits.max_frame_size as u64 {
            return Err(CapacityError::FrameTooLarge {
                size: header.payload_len,
                max: self.limits.max_frame_size,
            }
            .into());
        }
        let size = self.message.as_ref().map_or(0, |m| m.size) + header.payload_len;
        if size > self.limits.max_message_size as u64 {
            return Err(CapacityError::MessageTooLarge {
                size,
                max: self.limits.max_message_size,
            }
            .into());
        }
        Ok(())
    }

    /// Splits `len` bytes off the input and unmasks them in place.
    fn take_payload(&mut self, len: usize, mask: Option<[u8; 4]>) -> Bytes {
        let mut payload = self.input.split_to(len);
        if let Some(key) = mask {
            mask::apply(&mut payload, key, 0);
        }
        payload.freeze()
    }

    /// Unmasks and validates in place what has arrived of a single-frame message; splits the
    /// payload off once complete.
    fn continue_in_place(
        &mut self,
        mut frame: FrameInProgress,
        kind: MessageKind,
    ) -> Result<Option<Received>> {
        let total = frame.consumed + frame.remaining as usize;
        let end = self.input.len().min(total);
        if let Some(key) = frame.mask {
            mask::apply(&mut self.input[frame.consumed..end], key, frame.consumed);
        }
        if kind == MessageKind::Text {
            // Fail fast, as with any other frame.
            self.utf8.feed(&self.input[frame.consumed..end])?;
        }
        frame.remaining -= (end - frame.consumed) as u64;
        frame.consumed = end;
        if frame.remaining > 0 {
            self.frame = Some(frame);
            return Ok(None);
        }
        self.frame = None;
        self.message = None;
        // Split off before the last check: a failure must not leave the payload in the
        // input, where draining would read it as frame headers.
        let payload = self.input.split_to(total).freeze();
        if kind == MessageKind::Text {
            self.utf8.finish()?;
        }
        Ok(Some(Received::Data(assembled(kind, payload))))
    }

    /// Consumes what has arrived of the current data frame's payload.
    fn continue_frame(&mut self, mut frame: FrameInProgress) -> Result<Option<Received>> {
        // A data frame always belongs to a message: `start_frame` opens one for a first
        // frame, and `check_header` refuses a continuation without one.
        let Some(message) = self.message.as_ref() else {
            return Err(ProtocolError::UnexpectedContinuation.into());
        };
        let (kind, compressed, delivered) = (message.kind, message.compressed, message.delivered);
        if frame.in_place {
            return self.continue_in_place(frame, kind);
        }
        let take = frame.remaining.min(self.input.len() as u64) as usize;
        let mut chunk = self.input.split_to(take);
        if let Some(key) = frame.mask {
            mask::apply(&mut chunk, key, frame.consumed);
        }
        frame.consumed += take;
        frame.remaining -= take as u64;
        let frame_done = frame.remaining == 0;
        let message_done = frame_done && frame.fin;
        self.frame = if frame_done { None } else { Some(frame) };
        if let Some(message) = self.message.as_mut() {
            message.size += take as u64;
        }

        if compressed {
            let start = self.assembly.len();
            self.inflate(&chunk, message_done, delivered)?;
            if kind == MessageKind::Text {
                self.utf8.feed(&self.assembly[start..])?;
            }
        } else if kind == MessageKind::Text {
            // Fail fast: reject invalid UTF-8 as soon as it arrives.
            self.utf8.feed(&chunk)?;
        }
        if message_done && kind == MessageKind::Text {
            self.utf8.finish()?;
        }

        if self.limits.fragment_events {
            let data = if compressed { self.assembly.split() } else { chunk };
            return Ok(self.fragment(kind, data.freeze(), message_done));
        }
        if !compressed {
            if self.assembly.is_empty() && message_done {
                // A message that was one frame after all: hand over the chunk itself.
                self.message = None;
                return Ok(Some(Received::Data(assembled(kind, chunk.freeze()))));
            }
            self.assembly.extend_from_slice(&chunk);
        }
        if !message_done {
            return Ok(None);
        }
        self.message = None;
        let payload = if compressed {
            // The whole buffer goes with the message: spare inflate room kept here would
            // share its allocation and hold it while the connection sits idle. One allocation
            // per message is noise beside inflating it.
            core::mem::take(&mut self.assembly).freeze()
        } else {
            // Reassembled plain fragments: the buffer is reused once the message is dropped.
            self.assembly.split().freeze()
        };
        Ok(Some(Received::Data(assembled(kind, payload))))
    }

    /// A piece of the message as a fragment event; nothing for an empty middle piece.
    fn fragment(&mut self, kind: MessageKind, data: Bytes, is_last: bool) -> Option<Received> {
        let message = self.message.as_mut()?;
        if data.is_empty() && !is_last && !message.first_chunk {
            return None;
        }
        message.delivered += data.len();
        let is_first = core::mem::replace(&mut message.first_chunk, false);
        if is_last {
            self.message = None;
        }
        Some(Received::Data(Event::Fragment(Fragment {
            kind,
            data,
            is_first,
            is_last,
        })))
    }

    /// Inflates a chunk of a compressed message into the assembly buffer, enforcing the
    /// message limit on the inflated size (`delivered` bytes were already handed out).
    fn inflate(&mut self, chunk: &[u8], message_done: bool, delivered: usize) -> Result<()> {
        let Some(inflater) = self.inflater.as_mut() else {
            return Err(ProtocolError::ReservedBits.into());
        };
        let max = self.limits.max_message_size;
        let limit = max.saturating_sub(delivered);
        let mut result = inflater.inflate(chunk, &mut self.assembly, limit);
        if message_done && result.is_ok() {
            result = inflater.finish(&mut self.assembly, limit);
        }
        result.map_err(|e| match e {
            InflateError::Invalid => Error::InvalidCompressedData,
            InflateError::TooLarge => CapacityError::MessageTooLarge {
                size: (delivered + self.assembly.len()) as u64,
                max,
            }
            .into(),
        })
    }
}

/// A whole message that arrived in one piece: validated now.
fn whole_message(kind: MessageKind, payload: Bytes) -> Result<Received> {
    if kind == MessageKind::Text {
        utf8::validate(&payload)?;
    }
    Ok(Received::Data(assembled(kind, payload)))
}

/// A reassembled message, already validated chunk by chunk.
fn assembled(kind: MessageKind, payload: Bytes) -> Event {
    match kind {
        MessageKind::Text => Event::Text(Utf8Bytes::from_validated(payload)),
        MessageKind::Binary => Event::Binary(payload),
    }
}

/// A whole control frame, decoded.
fn control_frame(opcode: OpCode, payload: Bytes) -> Result<Received> {
    Ok(match opcode {
        OpCode::Ping => Received::Ping(payload),
        OpCode::Pong => Received::Pong(payload),
        _ => Received::Close(parse_close_payload(payload)?),
    })
}

/// Decodes and checks a Close frame's payload (RFC 6455 §5.5.1, §7.4).
fn parse_close_payload(payload: Bytes) -> Result<CloseFrame> {
    match payload.len() {
        0 => Ok(CloseFrame::new(CloseCode::NO_STATUS, "")),
        1 => Err(ProtocolError::InvalidClosePayload.into()),
        _ => {
            let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
            if !code.is_allowed_on_wire() {
                return Err(ProtocolError::InvalidCloseCode(code.0).into());
            }
            let reason = Utf8Bytes::try_from_bytes(payload.slice(2..))?;
            Ok(CloseFrame { code, reason })
        }
    }
}

/// Frames as a client would send them (masked), for the tests here and in `encoder.rs`.
#[cfg(test)]
pub(crate) fn masked_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> alloc::vec::Vec<u8> {
    let mut header = Header::new(opcode, payload.len() as u64);
    header.fin = fin;
    header.mask = Some([1, 2, 3, 4]);
    let mut out = [0u8; crate::frame::MAX_HEADER_LEN];
    let len = header.encode(&mut out);
    let mut frame = alloc::vec::Vec::from(&out[..len]);
    let start = frame.len();
    frame.extend_from_slice(payload);
    mask::apply(&mut frame[start..], [1, 2, 3, 4], 0);
    frame
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;

    fn server(config: &Config) -> Decoder {
        Decoder::new(Role::Server, config)
    }

    fn decode_all(receiver: &mut Decoder) -> Result<Vec<Received>> {
        let mut out = Vec::new();
        while let Some(received) = receiver.poll()? {
            let end = received == Received::End;
            out.push(received);
            if end {
                break;
            }
        }
        Ok(out)
    }

    #[test]
    fn decodes_frames_without_a_handshake() {
        let mut receiver = server(&Config::default());
        receiver.receive(&masked_frame(OpCode::Text, false, b"Hel"));
        receiver.receive(&masked_frame(OpCode::Ping, true, b"p"));
        receiver.receive(&masked_frame(OpCode::Continuation, true, b"lo"));
        receiver.receive(&masked_frame(OpCode::Close, true, &[0x03, 0xe8, b'o', b'k']));
        assert_eq!(
            decode_all(&mut receiver).unwrap(),
            vec![
                Received::Ping(Bytes::from_static(b"p")),
                Received::Data(Event::Text("Hello".into())),
                Received::Close(CloseFrame::new(CloseCode::NORMAL, "ok")),
            ]
        );
    }

    #[test]
    fn every_split_point_gives_the_same_message() {
        let frame = masked_frame(OpCode::Binary, true, &[7u8; 300]);
        for split in 0..frame.len() {
            let mut receiver = server(&Config::default());
            receiver.receive(&frame[..split]);
            let first = receiver.poll().unwrap();
            receiver.receive(&frame[split..]);
            let got = first.or_else(|| receiver.poll().unwrap());
            assert_eq!(
                got,
                Some(Received::Data(Event::Binary(vec![7u8; 300].into()))),
                "{split}"
            );
        }
    }

    #[test]
    fn the_end_of_input_is_reported_once_buffered_frames_are_out() {
        let mut receiver = server(&Config::default());
        receiver.receive(&masked_frame(OpCode::Binary, true, b"x"));
        receiver.receive_eof();
        assert_eq!(
            decode_all(&mut receiver).unwrap(),
            vec![
                Received::Data(Event::Binary(Bytes::from_static(b"x"))),
                Received::End
            ]
        );
    }

    #[test]
    fn faults_are_typed() {
        let cases: [(Vec<u8>, Error); 4] = [
            (
                masked_frame(OpCode::Continuation, true, b"x"),
                ProtocolError::UnexpectedContinuation.into(),
            ),
            (masked_frame(OpCode::Text, true, &[0xff]), Error::InvalidUtf8),
            (
                masked_frame(OpCode::Close, true, &[0x03]),
                ProtocolError::InvalidClosePayload.into(),
            ),
            (
                masked_frame(OpCode::Binary, true, &[0; 11]),
                CapacityError::MessageTooLarge { size: 11, max: 10 }.into(),
            ),
        ];
        for (bytes, expected) in cases {
            let mut receiver = server(&Config::default().max_message_size(10));
            receiver.receive(&bytes);
            let error = receiver.poll().unwrap_err();
            assert_eq!(error.close_code(), expected.close_code());
            assert_eq!(
                core::mem::discriminant(&error),
                core::mem::discriminant(&expected)
            );
        }
    }

    #[test]
    fn draining_skips_the_failed_frame_and_stops_at_the_peer_close() {
        let mut receiver = server(&Config::default().max_message_size(1000));
        let big = masked_frame(OpCode::Binary, true, &[0; 5000]);
        receiver.receive(&big[..100]);
        assert!(matches!(
            receiver.poll(),
            Err(Error::Capacity(CapacityError::FrameTooLarge { .. }))
        ));
        receiver.start_draining();
        assert!(!receiver.drain());
        // The rest of the oversized frame and another message are discarded unread.
        receiver.receive(&big[100..]);
        receiver.receive(&masked_frame(OpCode::Text, true, &[0xff, 0xfe]));
        assert!(!receiver.drain());
        assert!(receiver.input.is_empty(), "input is discarded, not kept");
        receiver.receive(&masked_frame(OpCode::Close, true, &[0x03, 0xf1]));
        assert!(receiver.drain());
    }

    #[test]
    fn draining_skips_frames_with_reserved_opcodes_and_bits() {
        // Autobahn 4.1.5: a reserved opcode with a payload, then a ping, then the peer's
        // answer to our Close.
        let mut receiver = server(&Config::default());
        receiver.receive(&masked_frame(OpCode::Text, true, b"ok"));
        let mut reserved = masked_frame(OpCode::Binary, true, &[7; 300]);
        reserved[0] = 0x87;
        receiver.receive(&reserved);
        assert!(receiver.poll().unwrap().is_some());
        assert!(matches!(
            receiver.poll(),
            Err(Error::Protocol(ProtocolError::ReservedOpcode(7)))
        ));
        receiver.start_draining();
        let mut rsv = masked_frame(OpCode::Ping, true, b"p");
        rsv[0] |= 0x20;
        receiver.receive(&rsv);
        assert!(!receiver.drain());
        assert!(receiver.input.is_empty());
        receiver.receive(&masked_frame(OpCode::Close, true, b""));
        assert!(receiver.drain());
    }

    #[test]
    fn draining_after_text_that_ends_mid_character_finds_the_close() {
        // A text frame gathered in place whose last character is cut short (Autobahn 6.x):
        // its payload must not be mistaken for frame headers while draining.
        let mut receiver = server(&Config::default());
        let mut payload = vec![b'a'; 40];
        payload.extend_from_slice(&[0xce, 0xba, 0xe1, 0xbd]);
        let frame = masked_frame(OpCode::Text, true, &payload);
        receiver.receive(&frame[..10]);
        assert!(receiver.poll().unwrap().is_none());
        receiver.receive(&frame[10..]);
        assert!(matches!(receiver.poll(), Err(Error::InvalidUtf8)));
        receiver.start_draining();
        receiver.receive(&masked_frame(OpCode::Close, true, b""));
        assert!(receiver.drain());
    }

    #[test]
    fn draining_after_a_fault_mid_frame_finds_the_close() {
        // Autobahn 6.4.3: one text frame in three chunks, the fault in the second.
        let payload = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64";
        let frame = masked_frame(OpCode::Text, true, payload);
        let header = frame.len() - payload.len();
        for split in [
            (header + 11, header + 15),
            (header + 2, header + 13),
            (3, header + 14),
        ] {
            let mut receiver = server(&Config::default());
            receiver.receive(&frame[..split.0]);
            assert!(receiver.poll().unwrap().is_none());
            receiver.receive(&frame[split.0..split.1]);
            assert!(matches!(receiver.poll(), Err(Error::InvalidUtf8)), "{split:?}");
            receiver.start_draining();
            assert!(!receiver.drain());
            receiver.receive(&frame[split.1..]);
            assert!(!receiver.drain());
            receiver.receive(&masked_frame(OpCode::Close, true, b""));
            assert!(receiver.drain(), "{split:?}");
        }
    }

    #[test]
    fn a_rest_that_looks_like_the_start_of_a_close_does_not_hide_the_real_one() {
        // The failed frame's last 4 payload bytes begin with 0x88 and read as the header of a
        // long masked Close; the peer's real Close follows them.
        let mut receiver = Decoder::new(Role::Server, &Config::default());
        let mut failed = alloc::vec![0x81, 0x86, 0, 0, 0, 0, b'a', b'b', 0x88, 0xdf, 0xb5, 0x56];
        receiver.receive(&failed[..8]);
        receiver.start_draining();
        assert!(!receiver.drain());
        failed.drain(..8);
        receiver.receive(&failed);
        receiver.receive(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
        assert!(receiver.drain());
    }

    #[test]
    fn a_close_that_cuts_the_failed_frame_short_ends_the_drain() {
        // Autobahn's client answers our Close at once, abandoning the frame it was sending.
        let payload = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64";
        let frame = masked_frame(OpCode::Text, true, payload);
        let close = masked_frame(OpCode::Close, true, &[0x03, 0xe8]);
        for cut in 1..close.len() {
            let mut receiver = server(&Config::default());
            receiver.receive(&frame[..frame.len() - 6]);
            assert!(matches!(receiver.poll(), Err(Error::InvalidUtf8)));
            receiver.start_draining();
            assert!(!receiver.drain());
            receiver.receive(&close[..cut]);
            assert!(!receiver.drain(), "half a Close is not one yet");
            receiver.receive(&close[cut..]);
            assert!(receiver.drain());
        }
        // Anything else there is the rest of the frame: skipped, not mistaken for a Close.
        let mut receiver = server(&Config::default());
        receiver.receive(&frame[..frame.len() - 6]);
        assert!(receiver.poll().is_err());
        receiver.start_draining();
        let mut rest = frame[frame.len() - 6..].to_vec();
        rest[0] = 0x88; // looks like a Close opcode, but no masked Close frame follows
        receiver.receive(&rest);
        assert!(!receiver.drain());
        assert!(receiver.input.is_empty());
        receiver.receive(&close);
        assert!(receiver.drain());
    }

    #[test]
    fn a_faulty_close_ends_the_input_at_once() {
        // Close frames that are themselves the fault: the peer sends nothing after them.
        for payload in [&[0x03][..], &[0x03, 0xe8, 0xff], &[0x00, 0x05]] {
            let mut receiver = server(&Config::default());
            receiver.receive(&masked_frame(OpCode::Close, true, payload));
            assert!(receiver.poll().is_err());
            receiver.start_draining();
            assert!(receiver.drain(), "no wait after a faulty Close {payload:?}");
        }
    }

    #[test]
    fn draining_a_message_gathered_in_place_skips_all_of_it() {
        let mut receiver = server(&Config::default());
        let frame = masked_frame(OpCode::Text, true, &[b'a'; 200]);
        let mut bad = frame.clone();
        bad[50] ^= 0x80; // an invalid byte in the middle of the payload
        receiver.receive(&bad[..20]);
        assert_eq!(receiver.poll().unwrap(), None);
        receiver.receive(&bad[20..60]);
        assert!(matches!(receiver.poll(), Err(Error::InvalidUtf8)));
        receiver.start_draining();
        receiver.receive(&bad[60..]);
        assert!(!receiver.drain());
        receiver.receive(&masked_frame(OpCode::Close, true, b""));
        assert!(receiver.drain());
    }

    #[test]
    fn draining_unparseable_input_waits_for_the_end() {
        let mut receiver = server(&Config::default());
        // A 64-bit length with its top bit set: no frame boundary can be trusted after it.
        receiver.receive(&[0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(
            receiver.poll(),
            Err(Error::Protocol(ProtocolError::InvalidPayloadLength))
        ));
        receiver.start_draining();
        receiver.receive(&masked_frame(OpCode::Close, true, b""));
        assert!(!receiver.drain(), "a frame after lost framing is not trusted");
        assert!(receiver.input.is_empty());
        receiver.receive_eof();
        assert!(receiver.drain());
    }
}
