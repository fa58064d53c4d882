//! What the application sends and what the transport takes: the send verbs (the sending
//! half's, once the connection is open) and the outgoing bytes.

use bytes::Bytes;
use core::time::Duration;

use super::{Connection, State};
use crate::error::{CloseCode, Error, Result};
use crate::message::{Message, MessageKind};
use crate::prepared::{FrameEncoding, PreparedFrame, PreparedMessage};
#[cfg(doc)]
use crate::{message::Event, SendingHalf};

/// Writes the send verbs a [`Connection`] forwards to its sending half once it is open: the
/// list below, each with its documentation, instead of a hand-written copy per verb.
macro_rules! forward_sends {
    ($($(#[doc = $doc:expr])* $name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        $(#[doc = $doc])*
        #[inline]
        pub fn $name(&mut self, $($arg: $ty),*) -> Result<()> {
            self.check_open()?;
            self.sending.$name($($arg),*)
        }
    )*};
}

impl Connection {
    // Sending (the verbs the sending half has, once the connection is open)

    forward_sends! {
        /// Queues a text message.
        send_text(text: &str);
        /// Queues a binary message.
        send_binary(data: &[u8]);
        /// Queues a message, choosing whether it may be compressed (Node `ws`'s `compress`
        /// option). With `compress` on, it is compressed if permessage-deflate was negotiated and
        /// it reaches the configured threshold.
        ///
        /// A text message's `data` must be UTF-8; [`send_text`](Self::send_text) guarantees it.
        send_message(kind: MessageKind, data: &[u8], compress: bool);
        /// Queues one fragment of a message: the first call opens a message of `kind`, the call
        /// with `is_last` ends it. Control frames may be sent between fragments; other messages
        /// may not.
        send_fragment(kind: MessageKind, data: &[u8], is_last: bool);
        /// Queues a ping (at most 125 bytes).
        ping(payload: &[u8]);
        /// Queues a ping stamped with `now` (the clock of
        /// [`handle_timeout`](Self::handle_timeout)): its pong, handed to
        /// [`measure_pong`](Self::measure_pong), gives the round-trip time.
        ping_at(now: Duration);
        /// Queues an unsolicited pong (at most 125 bytes), e.g. a unidirectional heartbeat.
        pong(payload: &[u8]);
        /// Queues a message framed once for many connections: the [`PreparedMessage`]'s shared
        /// frame when it suits this connection (a server without compression, or compressing
        /// each message afresh), else the message encoded here as [`send`](Self::send) would.
        send_prepared(prepared: &mut PreparedMessage);
        /// Queues a frame from [`PreparedMessage::frame_for`]; see
        /// [`SendingHalf::send_prepared_frame`].
        send_prepared_frame(frame: &PreparedFrame);
    }

    /// Starts the closing handshake with `code` and `reason` (at most 123 bytes). Keep
    /// reading: messages the peer sent before its Close still arrive, then [`Event::Close`].
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        self.check_open()?;
        self.sending.close(code, reason)?;
        self.receiving.close_sent();
        Ok(())
    }

    /// Queues any [`Message`]; `Message::Close(None)` sends a Close frame without a code.
    ///
    /// A server queues a large uncompressed payload by reference (a clone of its [`Bytes`])
    /// instead of copying it; [`outgoing_vectored`](Self::outgoing_vectored) then writes it
    /// with its header in one call.
    pub fn send(&mut self, message: &Message) -> Result<()> {
        self.check_open()?;
        self.sending.send(message)?;
        if let Message::Close(_) = message {
            self.receiving.close_sent();
        }
        Ok(())
    }

    /// How this connection frames messages, for [`PreparedMessage::frame_for`].
    pub fn frame_encoding(&self) -> FrameEncoding {
        self.sending.frame_encoding()
    }

    /// Sends are refused while connecting and once the connection is closing or closed.
    #[inline]
    fn check_open(&self) -> Result<()> {
        match self.state() {
            State::Connecting => Err(Error::NotOpen),
            State::Open => Ok(()),
            State::Closing | State::Closed => Err(self.sending.closed_error()),
        }
    }

    // ---------------------------------------------------------------------------------------
    // Outgoing bytes

    /// The next contiguous stretch of bytes waiting to be written to the transport (empty
    /// when nothing waits). After writing some of them, call
    /// [`advance_outgoing`](Self::advance_outgoing), and repeat until it is empty.
    ///
    /// Usually everything waiting is one stretch; a large payload queued by reference (see
    /// [`send`](Self::send)) is a stretch of its own.
    pub fn outgoing(&mut self) -> &[u8] {
        self.sending.outgoing()
    }

    /// Fills `slices` with the stretches of bytes waiting to be written, in order, for one
    /// vectored write (`write_vectored`); returns how many it filled. Then call
    /// [`advance_outgoing`](Self::advance_outgoing) with the count written.
    ///
    /// ```
    /// use std::io::{IoSlice, Write};
    /// # fn demo(conn: &mut ferrosocket::Connection, socket: &mut impl Write) -> std::io::Result<()> {
    /// while conn.wants_write() {
    ///     let mut slices = [IoSlice::new(&[]); 16];
    ///     let filled = conn.outgoing_vectored(&mut slices);
    ///     let written = socket.write_vectored(&slices[..filled])?;
    ///     conn.advance_outgoing(written);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "std")]
    pub fn outgoing_vectored<'a>(&'a mut self, slices: &mut [std::io::IoSlice<'a>]) -> usize {
        self.sending.outgoing_vectored(slices)
    }

    /// Marks `n` bytes of [`outgoing`](Self::outgoing) as written.
    pub fn advance_outgoing(&mut self, n: usize) {
        self.sending.advance_outgoing(n);
    }

    /// Takes all waiting outgoing bytes at once.
    pub fn take_outgoing(&mut self) -> Bytes {
        self.sending.take_outgoing()
    }

    /// Takes the next stretch of waiting bytes, in order, without copying: for transports
    /// that must own what they write (completion-based I/O). A large payload queued by
    /// reference comes out as its own stretch; everything else queued is one.
    pub fn pop_outgoing(&mut self) -> Option<Bytes> {
        self.sending.pop_outgoing()
    }

    /// Bytes queued but not yet taken by the transport (Node's `bufferedAmount`), the
    /// signal for backpressure.
    pub fn buffered_amount(&self) -> usize {
        self.sending.buffered_amount()
    }

    /// Whether anything waits to be written.
    pub fn wants_write(&self) -> bool {
        self.buffered_amount() > 0
    }

    /// Ends the connection at once, without a closing handshake (Node's `terminate()`):
    /// everything queued is dropped and the state becomes [`State::Closed`]. Close the
    /// transport next.
    pub fn terminate(&mut self) {
        self.opening = None;
        self.receiving.terminate();
        self.sending.terminate();
    }
}
