//! [`WebSocketStream`]: a WebSocket over an async transport, a [`Stream`] of messages and a
//! [`Sink`] for them; its receive loop is the shared one (`driver`).

use std::future::poll_fn;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;

use super::driver::{self, ReadState, Reader};
use super::io::{poll_fill, poll_write_all};
use super::transport::{AsyncTransport, Sleep};
use crate::{CloseCode, Connection, Error, Event, Message, Result, State};

/// Default outgoing high-water mark: sends wait while more than this is buffered.
pub const DEFAULT_HIGH_WATER: usize = 1 << 20;

/// A WebSocket over an async transport: a [`Stream`] of incoming [`Message`]s and a
/// [`Sink`] for outgoing ones, plus plain async methods.
///
/// Pings are answered and a peer's Close is replied to while the stream is read; the stream
/// ends (`None`) after the peer's Close (returned as `Message::Close`) or an error.
///
/// ```no_run
/// use ferrosocket::Message;
/// use futures_util::{SinkExt, StreamExt};
///
/// # async fn run() -> ferrosocket::Result<()> {
/// let (mut ws, _response) = ferrosocket::tokio::connect("ws://127.0.0.1:9001/").await?;
/// ws.send(Message::text("hello")).await?; // inherent, or SinkExt::send
/// while let Some(message) = ws.next().await {
///     match message? {
///         Message::Text(text) => println!("{text}"),
///         Message::Close(frame) => println!("closed: {frame:?}"),
///         _ => {}
///     }
/// }
/// // Or as a futures Stream / Sink:
/// let (mut ws, _) = ferrosocket::tokio::connect("ws://127.0.0.1:9001/").await?;
/// let (mut sink, stream) = ws.split();
/// sink.send_all(&mut stream.filter(|m| std::future::ready(matches!(m, Ok(m) if m.is_data())))).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WebSocketStream<T> {
    pub(super) io: T,
    pub(super) conn: Connection,
    pub(super) reading: ReadState,
    pub(super) high_water: usize,
    /// The transport's write side was shut down.
    pub(super) shut_down: bool,
}

impl<T: AsyncTransport> WebSocketStream<T> {
    /// Wraps a transport and an engine (whose handshake may still be under way).
    pub fn from_connection(io: T, conn: Connection) -> Self {
        WebSocketStream {
            io,
            conn,
            reading: ReadState::default(),
            high_water: DEFAULT_HIGH_WATER,
            shut_down: false,
        }
    }

    /// Pings every `interval` while the stream is read, and ends the connection (the stream
    /// yields [`Error::TimedOut`], then ends) when no pong follows a ping within `timeout`.
    /// The engine keeps the deadlines ([`Connection::set_heartbeat`]); the stream sleeps on
    /// the transport's timer.
    pub fn set_heartbeat(&mut self, interval: Duration, timeout: Duration) {
        self.conn.set_heartbeat(interval, timeout);
    }

    /// Sets the outgoing high-water mark: [`send`](Self::send) and the [`Sink`] wait while
    /// more than `bytes` are buffered (default 1 MiB).
    pub fn set_high_water(&mut self, bytes: usize) {
        self.high_water = bytes;
    }

    /// Bytes queued but not yet written to the transport (Node's `bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        self.conn.buffered_amount()
    }

    /// Pings the peer and waits for its pong: the round-trip time (Python websockets'
    /// `await ws.ping()`). Messages that arrive meanwhile are kept, in order, for the next
    /// reads, up to `max_message_size` bytes in all; past that the wait gives up with
    /// [`CapacityError::HeldWhilePinging`](crate::CapacityError::HeldWhilePinging). A Close
    /// arriving first ends it with [`Error::ConnectionClosed`] (the Close is read next).
    ///
    /// # Cancel safety
    ///
    /// Cancelled, nothing is lost: the messages kept are read next, and the pong, when it
    /// comes, is read as a `Message::Pong` (its round trip measured all the same).
    pub async fn ping(&mut self) -> Result<Duration> {
        let sent = crate::adapters::clock::now();
        self.conn.ping_at(sent)?;
        poll_fn(|cx| self.poll_write_out(cx)).await?;
        poll_fn(|cx| driver::poll_pong(self, sent, cx)).await
    }

    /// The last round trip measured: a [`ping`](Self::ping)'s, or the heartbeat's (its pings
    /// are timed too), as pongs are read (Python websockets' `latency`).
    pub fn round_trip_time(&self) -> Option<Duration> {
        self.conn.round_trip_time()
    }

    /// The engine.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The engine, mutably.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The transport glue.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The transport glue, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io
    }

    /// The transport and the engine, to move the connection elsewhere (e.g. into the
    /// server toolkit with another transport type). What the adapter itself keeps — a
    /// heartbeat, an error not yet reported — is dropped.
    pub fn into_parts(self) -> (T, Connection) {
        (self.io, self.conn)
    }

    /// Reads the next message; `None` once the connection has closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: every byte read is kept in the engine, so a `select!` loop that drops
    /// this future mid-message loses nothing; the next call resumes where it stopped.
    pub async fn next(&mut self) -> Option<Result<Message>> {
        poll_fn(|cx| self.poll_message(cx)).await
    }

    /// Reads the next raw engine [`Event`] (fragments included); `None` once closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: every byte read is kept in the engine, so a `select!` loop that drops
    /// this future mid-message loses nothing; the next call resumes where it stopped.
    pub async fn next_event(&mut self) -> Option<Result<Event>> {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Sends a message: waits while the outgoing buffer is over the high-water mark, queues
    /// the message and writes it out.
    ///
    /// # Cancel safety
    ///
    /// Cancelled while waiting for room, the message is not sent (it is dropped with the
    /// future); cancelled after it was queued, it is sent — by the next `send`, `flush` or
    /// read. It is never sent twice or in part.
    pub async fn send(&mut self, message: Message) -> Result<()> {
        poll_fn(|cx| self.poll_ready_to_send(cx)).await?;
        self.conn.send(&message)?;
        poll_fn(|cx| self.poll_write_out(cx)).await
    }

    /// Queues a message without writing it: everything queued goes out in one write when
    /// the stream next waits for input (or on [`flush`](Self::flush)). An echo or
    /// request/response loop that feeds its replies answers a burst of messages with one
    /// system call instead of one per message. Waits only while the outgoing buffer is over
    /// the high-water mark.
    ///
    /// # Cancel safety
    ///
    /// As [`send`](Self::send): a message is either queued whole or not at all.
    pub async fn feed(&mut self, message: Message) -> Result<()> {
        poll_fn(|cx| self.poll_ready_to_send(cx)).await?;
        self.conn.send(&message)
    }

    /// Starts the closing handshake and flushes the Close frame. Keep reading until the
    /// stream ends to receive the peer's reply.
    ///
    /// # Cancel safety
    ///
    /// The Close is queued before the first await: cancelled, it still goes out with the
    /// next write or read.
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        self.conn.close(code, reason)?;
        poll_fn(|cx| self.poll_write_out(cx)).await
    }

    /// Writes everything queued and flushes the transport.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: what was not written stays queued.
    pub async fn flush(&mut self) -> Result<()> {
        poll_fn(|cx| self.poll_write_out(cx)).await
    }

    /// The next engine event, reading and writing the transport as needed.
    pub fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Event>>> {
        driver::poll_event(self, cx)
    }

    /// The next message (skipping handshake events).
    pub fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        driver::poll_message(self, cx)
    }

    /// Writes everything queued and flushes the transport.
    pub(crate) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        poll_write_all(&mut self.io, &mut self.conn, cx)
    }

    /// Ready when the outgoing buffer is under the high-water mark (writing to get there).
    pub(crate) fn poll_ready_to_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        while self.conn.buffered_amount() > self.high_water {
            ready!(self.poll_write_out(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncTransport> Stream for WebSocketStream<T> {
    type Item = Result<Message>;

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_message(cx)
    }
}

impl<T: AsyncTransport> Sink<Message> for WebSocketStream<T> {
    type Error = Error;

    fn poll_ready(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_ready_to_send(cx)
    }

    fn start_send(self: std::pin::Pin<&mut Self>, message: Message) -> Result<()> {
        self.get_mut().conn.send(&message)
    }

    fn poll_flush(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_write_out(cx)
    }

    /// Starts the closing handshake (1000) if it has not begun, and flushes.
    fn poll_close(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        if this.conn.state() == State::Open {
            this.conn.close(CloseCode::NORMAL, "")?;
        }
        this.poll_write_out(cx)
    }
}

impl<T: AsyncTransport> Reader for WebSocketStream<T> {
    type Engine = Connection;

    fn engine(&mut self) -> &mut Connection {
        &mut self.conn
    }
    fn state(&mut self) -> &mut ReadState {
        &mut self.reading
    }
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_write_out(cx)
    }
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        poll_fill(&mut self.io, &mut self.conn, &mut self.reading.read_room, cx)
    }
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.shut_down {
            let _ = std::task::ready!(self.io.poll_shutdown_transport(cx));
            self.shut_down = true;
        }
        Poll::Ready(())
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        self.io.sleep(duration)
    }
}

impl<T: AsyncTransport> WebSocketStream<T> {
    /// Closes gracefully: sends a Close with `code` and `reason`, then reads (discarding
    /// messages) until the peer's Close arrives or `deadline` completes, whichever is first
    /// (the engine's own close deadline, [`Config::close_timeout`](crate::Config::close_timeout),
    /// bounds it too). Returns the peer's Close, or 1006 when a deadline passed first (drop
    /// the transport then). The runtime modules pass their timer as the deadline.
    ///
    /// # Cancel safety
    ///
    /// The Close is queued before the first await; cancelled, the handshake simply goes on
    /// with the next read.
    pub async fn close_within<D>(
        &mut self,
        code: impl Into<CloseCode>,
        reason: &str,
        deadline: D,
    ) -> Result<crate::CloseFrame>
    where
        D: std::future::Future<Output = ()>,
    {
        if self.conn.state() == State::Open {
            self.conn.close(code, reason)?;
        }
        driver::await_close(self, deadline).await
    }
}
