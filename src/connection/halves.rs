//! An open connection's two halves: what reading needs and what sending needs, so each can
//! live on its own task ([`Connection::split`](super::Connection::split)).
//!
//! The [`ReceivingHalf`] decodes and decides what the peer's control frames call for — a
//! pong, an echoed Close, the Close that fails the connection — and records it as
//! [`Replies`]. The [`SendingHalf`] frames messages and carries those replies out, so only
//! it decides what goes on the wire and in which order: a pong never follows our Close, and
//! a Close is echoed only if ours did not go out first. A whole [`Connection`](super::Connection)
//! is the two halves plus the opening handshake; it hands each reply over as soon as it is
//! made, so both modes share one policy.

use alloc::boxed::Box;
use alloc::string::{String, ToString};

use bytes::{Bytes, BytesMut};

use core::time::Duration;

use super::decoder::{Decoder, Received};
use super::encoder::{Encoder, Payload};
use super::round_trip;
use super::timers::{Expired, Timeout, Timers};
use crate::config::Config;
use crate::deflate::DeflateParams;
use crate::error::{CloseCode, Error, Result};
use crate::frame::{OpCode, MAX_CONTROL_PAYLOAD};
use crate::message::{CloseFrame, Event, Message, MessageKind};
use crate::prepared::{FrameEncoding, PreparedFrame, PreparedMessage};
use crate::role::Role;

/// The reason of the Close sent when [`Config::max_lifetime`] passes.
const RETIRED: &str = "maximum lifetime reached";

/// Where reading stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Frames are decoded.
    Frames,
    /// We failed the connection: input is discarded until the peer's Close or the end of
    /// the stream, so the peer reads our Close instead of a reset.
    Draining,
    /// Nothing more is read.
    Done,
}

/// What the peer's frames ask the sending side to do, in the order it must happen.
///
/// Made by the [`ReceivingHalf`], carried out by [`SendingHalf::answer`]. Opaque: all that
/// matters outside is whether there is anything to carry.
#[derive(Debug, Default)]
pub struct Replies {
    /// The payload of the latest ping, to answer with a pong.
    pong: Option<Bytes>,
    /// Boxed: it happens once per connection, and every idle connection carries the slot.
    close: Option<Box<CloseReply>>,
    /// The heartbeat asks for a ping.
    ping: bool,
}

/// How the peer's side of the connection ended.
#[derive(Debug)]
enum CloseReply {
    /// The peer's Close: echo it unless ours went out first.
    Echo(CloseFrame),
    /// The peer broke the protocol: send our Close with this code and reason.
    Fail(CloseCode, String),
    /// The connection reached its maximum lifetime: send our Close (1001) and read on until
    /// the peer's.
    Retire,
    /// The transport ended without a Close.
    Ended,
    /// A deadline ended the connection: drop what is queued, send nothing more.
    Abort(Timeout),
}

impl Replies {
    /// Whether there is nothing to carry out.
    pub fn is_empty(&self) -> bool {
        self.pong.is_none() && self.close.is_none() && !self.ping
    }

    /// Whether these replies answer the peer's Close: whatever is to go out before the
    /// reply (messages a writer of the caller's holds) must be queued first, since after it
    /// the sending half takes nothing more.
    pub fn echoes_close(&self) -> bool {
        matches!(self.close.as_deref(), Some(CloseReply::Echo(_)))
    }
}

/// The receiving half of an open connection: bytes in, events out.
///
/// Replies the peer's frames call for accumulate until [`take_replies`](Self::take_replies)
/// hands them to the [`SendingHalf`]; only the latest ping is answered.
#[derive(Debug)]
pub struct ReceivingHalf {
    role: Role,
    pub(super) config: Config,
    pub(super) decoder: Decoder,
    reading: Reading,
    replies: Replies,
    /// The negotiated permessage-deflate parameters.
    pub(super) deflate: Option<DeflateParams>,
    /// Which split this half came from, so only its own sending half reunites with it.
    pub(super) pair: usize,
    /// The deadlines: handshake, heartbeat, close.
    pub(super) timers: Timers,
    /// A deadline ended the connection; the next `next_event` reports it.
    timed_out: Option<Timeout>,
    /// The connection ended without a closing handshake (terminated, or a deadline passed):
    /// the transport's write side goes down whatever the role.
    ended_abruptly: bool,
}

impl ReceivingHalf {
    pub(super) fn new(role: Role, config: Config) -> Self {
        ReceivingHalf {
            role,
            decoder: Decoder::new(role, &config),
            config,
            reading: Reading::Frames,
            replies: Replies::default(),
            deflate: None,
            pair: 0,
            timers: Timers::default(),
            timed_out: None,
            ended_abruptly: false,
        }
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The settings the connection was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The permessage-deflate parameters, if the extension was negotiated.
    pub fn permessage_deflate(&self) -> Option<DeflateParams> {
        self.deflate
    }

    /// Hands the engine bytes read from the transport (see
    /// [`Connection::receive`](super::Connection::receive)).
    pub fn receive(&mut self, bytes: &[u8]) {
        if self.wants_read() {
            if !bytes.is_empty() {
                self.timers.heard();
            }
            self.decoder.receive(bytes);
        }
    }

    /// Lends the receive buffer to `fill` (see
    /// [`Connection::receive_with`](super::Connection::receive_with)).
    pub fn receive_with<R>(&mut self, room: usize, fill: impl FnOnce(&mut BytesMut) -> R) -> R {
        let keep = self.wants_read();
        let mut got_bytes = false;
        let result = self.decoder.receive_with(room, keep, |fresh| {
            let result = fill(fresh);
            got_bytes = !fresh.is_empty(); // it came empty: anything in it was read
            result
        });
        if keep && got_bytes {
            self.timers.heard();
        }
        result
    }

    /// Lends the receive buffer's spare room as an owned buffer (see
    /// [`Connection::lend_receive_buffer`](super::Connection::lend_receive_buffer)).
    pub fn lend_receive_buffer(&mut self, room: usize) -> BytesMut {
        self.decoder.lend(room)
    }

    /// Takes back a buffer lent by [`lend_receive_buffer`](Self::lend_receive_buffer).
    pub fn return_receive_buffer(&mut self, buf: BytesMut) {
        let keep = self.wants_read();
        if keep && !buf.is_empty() {
            self.timers.heard();
        }
        self.decoder.take_back(buf, keep);
    }

    /// Room left in the receive buffer (see
    /// [`Connection::receive_capacity`](super::Connection::receive_capacity)).
    pub fn receive_capacity(&self) -> usize {
        self.decoder.capacity()
    }

    /// Tells the engine the transport's read side ended.
    pub fn receive_eof(&mut self) {
        self.decoder.receive_eof();
    }

    /// Whether the engine still reads (see
    /// [`Connection::wants_read`](super::Connection::wants_read)).
    pub fn wants_read(&self) -> bool {
        self.reading != Reading::Done
    }

    /// Whether the connection failed and input is being discarded until the peer's Close.
    pub fn is_draining(&self) -> bool {
        self.reading == Reading::Draining
    }

    /// Whether frames are still decoded: neither Close nor failure nor the end of input yet.
    pub(super) fn is_reading_frames(&self) -> bool {
        self.reading == Reading::Frames
    }

    /// Processes buffered bytes up to the next event (see
    /// [`Connection::next_event`](super::Connection::next_event)); the replies it calls for
    /// wait in [`take_replies`](Self::take_replies).
    pub fn next_event(&mut self) -> Result<Option<Event>> {
        if let Some(error) = self.take_timeout() {
            return Err(error);
        }
        match self.reading {
            Reading::Frames => match self.decoder.poll() {
                Ok(Some(received)) => Ok(Some(self.on_received(received))),
                Ok(None) => Ok(None),
                Err(error) => Err(self.fail(error)),
            },
            Reading::Draining => {
                if self.decoder.drain() {
                    self.finish();
                }
                Ok(None)
            }
            Reading::Done => Ok(None),
        }
    }

    /// Whether replies wait for the sending half.
    pub fn has_replies(&self) -> bool {
        !self.replies.is_empty()
    }

    /// The replies made since the last call, for [`SendingHalf::answer`].
    pub fn take_replies(&mut self) -> Replies {
        core::mem::take(&mut self.replies)
    }

    /// The control-frame and close policy, reading side: pings are answered (`auto_pong`),
    /// the peer's Close is to be echoed, and the end of input without a Close is 1006.
    fn on_received(&mut self, received: Received) -> Event {
        match received {
            Received::Data(event) => event,
            Received::Ping(payload) => {
                if self.config.auto_pong {
                    self.replies.pong = Some(payload.clone());
                }
                Event::Ping(payload)
            }
            Received::Pong(payload) => {
                self.timers.pong_received();
                Event::Pong(payload)
            }
            Received::Close(frame) => {
                crate::log::event!(debug, role = ?self.role, code = frame.code.0, reason = frame.reason.as_str(), "peer closed");
                self.replies.close = Some(Box::new(CloseReply::Echo(frame.clone())));
                self.finish();
                Event::Close(frame)
            }
            Received::End => {
                crate::log::event!(debug, role = ?self.role, "transport ended without a Close (1006)");
                self.replies.close = Some(Box::new(CloseReply::Ended));
                self.finish();
                Event::Close(CloseFrame::new(CloseCode::ABNORMAL, ""))
            }
        }
    }

    /// Fails the connection for an error found in the peer's frames: asks for the Close the
    /// error calls for and drains the rest of the input.
    fn fail(&mut self, error: Error) -> Error {
        let Some((code, reason)) = failure_close(&error) else {
            self.finish();
            return error;
        };
        crate::log::event!(warn, role = ?self.role, code = code.0, %error, "peer broke the protocol; closing");
        self.replies.close = Some(Box::new(CloseReply::Fail(code, reason)));
        self.decoder.start_draining();
        self.reading = Reading::Draining;
        self.timers.start_close(self.config.close_timeout);
        if self.decoder.drain() {
            self.finish(); // the fault was the peer's Close, or its input ended already
        }
        error
    }

    /// Stops reading at once (the transport is being dropped): buffered input is dropped
    /// and no more events come.
    pub fn terminate(&mut self) {
        self.finish();
        self.ended_abruptly = true;
    }

    /// No more reading: drops buffered input, state and deadlines.
    pub(super) fn finish(&mut self) {
        self.reading = Reading::Done;
        self.decoder.clear();
        self.timers.clear();
    }

    // ---------------------------------------------------------------------------------------
    // Time (see `Connection::poll_timeout`)

    /// Pings every `interval` while the connection is open; a pong must follow each within
    /// `timeout`, or the connection ends with [`Error::TimedOut`]`(`[`Timeout::Pong`]`)`.
    /// The pings wait in [`take_replies`](Self::take_replies) like pongs do.
    pub fn set_heartbeat(&mut self, interval: Duration, timeout: Duration) {
        self.start_heartbeat(interval, timeout, true);
    }

    /// Starts the heartbeat now (`open`) or once the opening handshake is done.
    pub(super) fn start_heartbeat(&mut self, interval: Duration, timeout: Duration, open: bool) {
        if self.is_reading_frames() {
            self.timers.set_heartbeat(interval, timeout, open);
        }
    }

    /// Our Close went out (the sending half sent it): the wait for the peer's is bounded by
    /// [`Config::close_timeout`], and the heartbeat stops. A whole
    /// [`Connection`](super::Connection) tells its half itself.
    pub fn close_sent(&mut self) {
        if self.is_reading_frames() {
            self.timers.start_close(self.config.close_timeout);
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next, as a time since the
    /// caller's origin (see [`Connection::poll_timeout`](super::Connection::poll_timeout)).
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.timers.next_deadline()
    }

    /// Tells the half the time (see
    /// [`Connection::handle_timeout`](super::Connection::handle_timeout)): a heartbeat ping
    /// joins the replies; a passed deadline ends the connection.
    pub fn handle_timeout(&mut self, now: Duration) {
        match self.timers.expire(now) {
            Expired::Nothing => {}
            Expired::Ping => self.replies.ping = true,
            Expired::Retire => {
                crate::log::event!(debug, role = ?self.role, "maximum lifetime reached; closing with 1001");
                if self.replies.close.is_none() {
                    self.replies.close = Some(Box::new(CloseReply::Retire));
                }
                self.timers.start_close(self.config.close_timeout);
            }
            Expired::End(timeout) => {
                crate::log::event!(debug, role = ?self.role, ?timeout, "deadline passed; ending the connection");
                // After a failure the failure is what gets reported; otherwise the timeout.
                if self.is_reading_frames() || timeout == Timeout::Handshake {
                    self.timed_out = Some(timeout);
                }
                self.terminate();
                self.replies.pong = None;
                self.replies.ping = false;
                self.replies.close = Some(Box::new(CloseReply::Abort(timeout)));
            }
        }
    }

    /// Measures the round trip a pong closes, given the time it arrived (on the clock
    /// `handle_timeout` and [`SendingHalf::ping_at`] use): a pong to a ping from `ping_at`
    /// carries its send time; an empty one answers the heartbeat's ping. The result is kept
    /// as [`round_trip_time`](Self::round_trip_time); `None` for other pongs.
    pub fn measure_pong(&mut self, payload: &[u8], now: Duration) -> Option<Duration> {
        let sent = match round_trip::sent_at(payload) {
            Some(sent) => sent,
            None if payload.is_empty() => self.timers.take_answered_ping()?,
            None => return None,
        };
        let round_trip = now.checked_sub(sent)?;
        self.timers.set_round_trip(round_trip);
        Some(round_trip)
    }

    /// The last round trip [`measure_pong`](Self::measure_pong) measured, while the
    /// connection is open.
    pub fn round_trip_time(&self) -> Option<Duration> {
        self.timers.round_trip()
    }

    /// The timeout that ended the connection, once.
    pub(super) fn take_timeout(&mut self) -> Option<Error> {
        self.timed_out.take().map(Error::TimedOut)
    }

    /// Whether the transport's write side should be shut down once what is queued is
    /// written: reading is over and this is the server (it closes the TCP connection first,
    /// RFC 6455 §7.1.1), or the connection ended without a closing handshake.
    pub fn wants_shutdown(&self) -> bool {
        !self.is_reading_frames() && (self.role == Role::Server || self.ended_abruptly)
    }
}

/// The sending half of an open connection: messages in, bytes for the transport out.
#[derive(Debug)]
pub struct SendingHalf {
    /// Also keeps whether the peer ended the connection first (sends then fail with
    /// `ConnectionClosed`) and the role, where they cost no word of their own.
    pub(super) encoder: Encoder,
    /// Why this side ended the connection when the application did not ask it to: sends
    /// then fail with that cause rather than `AlreadyClosed`. Boxed: rare.
    cause: Option<Box<Cause>>,
    /// Which split this half came from (see [`ReceivingHalf`]).
    pub(super) pair: usize,
}

/// The Close a failure with `error` sends: its code and, as the reason, the error's text cut
/// to fit a control frame. `None` for errors that close with nothing.
fn failure_close(error: &Error) -> Option<(CloseCode, String)> {
    let code = error.close_code()?;
    let reason = error.to_string();
    Some((code, truncate_utf8(&reason, MAX_CONTROL_PAYLOAD - 2).into()))
}

/// What ended the connection on this side, besides the application.
#[derive(Debug, Clone)]
pub(crate) enum Cause {
    /// The peer broke the protocol or a limit; our Close said so.
    Failed(CloseFrame),
    /// A deadline passed.
    TimedOut(Timeout),
}

impl Cause {
    /// The cause behind an error a connection's reading side reported, if it ended the
    /// connection: a failure (with the Close it sent) or a deadline. (The server toolkit's.)
    #[cfg(feature = "tokio")]
    pub(crate) fn of(error: &Error) -> Option<Cause> {
        match error {
            Error::TimedOut(timeout) => Some(Cause::TimedOut(*timeout)),
            Error::Failed(frame) => Some(Cause::Failed(frame.clone())),
            error => {
                let (code, reason) = failure_close(error)?;
                Some(Cause::Failed(CloseFrame::new(
                    code,
                    crate::Utf8Bytes::from(reason),
                )))
            }
        }
    }

    /// The error a send gets once this ended the connection.
    pub(crate) fn error(&self) -> Error {
        match self {
            Cause::Failed(frame) => Error::Failed(frame.clone()),
            Cause::TimedOut(timeout) => Error::TimedOut(*timeout),
        }
    }
}

impl SendingHalf {
    pub(super) fn new(encoder: Encoder) -> Self {
        SendingHalf {
            encoder,
            cause: None,
            pair: 0,
        }
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.encoder.role()
    }

    /// Carries out what the receiving half decided: answers the latest ping (unless our
    /// Close went out), echoes the peer's Close unless ours went out first, or sends the
    /// Close that fails the connection.
    pub fn answer(&mut self, replies: Replies) {
        if let Some(payload) = replies.pong {
            self.encoder.answer_ping(payload);
        }
        if replies.ping && !self.is_closed() {
            // The heartbeat's ping; an empty one cannot fail.
            let _ = self.encoder.control(OpCode::Ping, b"");
        }
        let first = !self.encoder.close_sent();
        match replies.close.map(|close| *close) {
            None => {}
            Some(CloseReply::Echo(frame)) => {
                self.encoder.peer_closed = first;
                if first {
                    // Echo the code and reason (RFC 6455 §5.5.1, as `ws` and `websockets`
                    // do); an empty Close is answered with an empty one.
                    let code = (frame.code != CloseCode::NO_STATUS).then_some(frame.code);
                    self.encoder.close(code, frame.reason.as_str());
                }
            }
            Some(CloseReply::Fail(code, reason)) if first => {
                self.encoder.close(Some(code), &reason);
                let frame = CloseFrame::new(code, crate::Utf8Bytes::from(reason.as_str()));
                self.cause = Some(Box::new(Cause::Failed(frame)));
            }
            Some(CloseReply::Fail(..)) => {}
            Some(CloseReply::Retire) if first => {
                self.encoder.close(Some(CloseCode::GOING_AWAY), RETIRED);
            }
            Some(CloseReply::Retire) => {}
            Some(CloseReply::Ended) => self.encoder.peer_closed = first,
            Some(CloseReply::Abort(timeout)) => {
                self.encoder.terminate();
                if !self.encoder.peer_closed {
                    self.cause.get_or_insert(Box::new(Cause::TimedOut(timeout)));
                }
            }
        }
    }

    /// Whether our Close went out (or the peer ended the connection): nothing more is sent.
    pub fn is_closed(&self) -> bool {
        self.encoder.close_sent() || self.encoder.peer_closed
    }

    /// Whether our Close frame was queued.
    pub(super) fn close_sent(&self) -> bool {
        self.encoder.close_sent()
    }

    /// The error a send gets once the connection is closing or closed: who closed first
    /// tells a normal end from a use after our own close, and a failure or a deadline that
    /// ended it is named, not reported as a use after close.
    pub(super) fn closed_error(&self) -> Error {
        match self.cause.as_deref() {
            _ if self.encoder.peer_closed => Error::ConnectionClosed,
            Some(cause) => cause.error(),
            None => Error::AlreadyClosed,
        }
    }

    fn check_can_send(&self) -> Result<()> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        Ok(())
    }

    /// Queues a text message.
    pub fn send_text(&mut self, text: &str) -> Result<()> {
        self.send_message(MessageKind::Text, text.as_bytes(), true)
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<()> {
        self.send_message(MessageKind::Binary, data, true)
    }

    /// Queues a message, choosing whether it may be compressed (see
    /// [`Connection::send_message`](super::Connection::send_message)).
    pub fn send_message(&mut self, kind: MessageKind, data: &[u8], compress: bool) -> Result<()> {
        self.check_can_send()?;
        self.encoder.message(kind, Payload::Borrowed(data), compress)
    }

    /// Queues one fragment of a message (see
    /// [`Connection::send_fragment`](super::Connection::send_fragment)).
    pub fn send_fragment(&mut self, kind: MessageKind, data: &[u8], is_last: bool) -> Result<()> {
        self.check_can_send()?;
        self.encoder.fragment(kind, data, is_last)
    }

    /// Queues a ping (at most 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<()> {
        self.check_can_send()?;
        self.encoder.control(OpCode::Ping, payload)
    }

    /// Queues a ping stamped with `now` (the clock of `handle_timeout`): handed to
    /// [`ReceivingHalf::measure_pong`] when it arrives, its pong gives the round trip.
    pub fn ping_at(&mut self, now: Duration) -> Result<()> {
        self.ping(&round_trip::stamp(now))
    }

    /// Queues an unsolicited pong (at most 125 bytes).
    pub fn pong(&mut self, payload: &[u8]) -> Result<()> {
        self.check_can_send()?;
        self.encoder.control(OpCode::Pong, payload)
    }

    /// Starts the closing handshake with `code` and `reason` (at most 123 bytes).
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        let code = code.into();
        self.check_can_send()?;
        check_close(code, reason)?;
        self.send_close(Some(code), reason);
        Ok(())
    }

    fn send_close(&mut self, code: Option<CloseCode>, reason: &str) {
        crate::log::event!(debug, role = ?self.encoder.role(), code = code.map(|c| c.0), reason, "closing");
        self.encoder.close(code, reason);
    }

    /// Queues any [`Message`] (see [`Connection::send`](super::Connection::send)).
    pub fn send(&mut self, message: &Message) -> Result<()> {
        match message {
            Message::Text(text) => {
                self.check_can_send()?;
                self.encoder
                    .message(MessageKind::Text, Payload::Shared(text.as_shared()), true)
            }
            Message::Binary(data) => {
                self.check_can_send()?;
                self.encoder
                    .message(MessageKind::Binary, Payload::Shared(data), true)
            }
            Message::Ping(data) => self.ping(data),
            Message::Pong(data) => self.pong(data),
            Message::Close(Some(frame)) => self.close(frame.code, frame.reason.as_str()),
            Message::Close(None) => {
                self.check_can_send()?;
                self.send_close(None, "");
                Ok(())
            }
        }
    }

    /// How this half frames messages (see [`PreparedMessage::frame_for`]).
    pub fn frame_encoding(&self) -> FrameEncoding {
        self.encoder.frame_encoding()
    }

    /// Queues a [`PreparedMessage`]: its shared frame when it suits this connection, else
    /// the message encoded here (see
    /// [`Connection::send_prepared`](super::Connection::send_prepared)).
    pub fn send_prepared(&mut self, prepared: &mut PreparedMessage) -> Result<()> {
        self.check_can_send()?;
        match prepared.frame_for(self.frame_encoding()) {
            Some(frame) => self.encoder.prepared(&frame),
            None => self
                .encoder
                .message(prepared.kind(), Payload::Shared(prepared.payload()), true),
        }
    }

    /// Queues a frame taken from [`PreparedMessage::frame_for`] with this half's
    /// [`frame_encoding`](Self::frame_encoding); a frame made for another encoding is
    /// refused with [`Error::PreparedFrameMismatch`].
    pub fn send_prepared_frame(&mut self, frame: &PreparedFrame) -> Result<()> {
        self.check_can_send()?;
        self.encoder.prepared(frame)
    }

    /// The next contiguous stretch of bytes waiting to be written (see
    /// [`Connection::outgoing`](super::Connection::outgoing)).
    pub fn outgoing(&mut self) -> &[u8] {
        self.encoder.outgoing().front()
    }

    /// Fills `slices` with the stretches waiting to be written (see
    /// [`Connection::outgoing_vectored`](super::Connection::outgoing_vectored)).
    #[cfg(feature = "std")]
    pub fn outgoing_vectored<'a>(&'a mut self, slices: &mut [std::io::IoSlice<'a>]) -> usize {
        self.encoder.outgoing().io_slices(slices)
    }

    /// Marks `n` bytes of [`outgoing`](Self::outgoing) as written.
    pub fn advance_outgoing(&mut self, n: usize) {
        self.encoder.advance(n);
    }

    /// Takes all waiting outgoing bytes at once.
    pub fn take_outgoing(&mut self) -> Bytes {
        self.encoder.outgoing().take()
    }

    /// Takes the next stretch of waiting bytes without copying (see
    /// [`Connection::pop_outgoing`](super::Connection::pop_outgoing)).
    pub fn pop_outgoing(&mut self) -> Option<Bytes> {
        self.encoder.outgoing().pop_front()
    }

    /// Bytes queued but not yet taken by the transport (Node's `bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        self.encoder.buffered_amount()
    }

    /// Whether anything waits to be written.
    pub fn wants_write(&self) -> bool {
        self.buffered_amount() > 0
    }

    /// Drops everything queued; nothing more is sent (see
    /// [`Connection::terminate`](super::Connection::terminate)).
    pub fn terminate(&mut self) {
        self.encoder.terminate();
    }
}

/// Whether the application may send a Close with `code` and `reason`: a code allowed on
/// the wire, a reason of at most 123 bytes.
pub(crate) fn check_close(code: CloseCode, reason: &str) -> Result<()> {
    if !code.is_allowed_on_wire() {
        return Err(Error::InvalidCloseCode(code.0));
    }
    if reason.len() > MAX_CONTROL_PAYLOAD - 2 {
        return Err(Error::ControlPayloadTooLong);
    }
    Ok(())
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
