//! The async adapter, written once: a [`WebSocketStream`] over any transport with poll-style
//! reads and writes. The tokio and futures-io modules only supply the trait glue
//! ([`AsyncTransport`]) and the runtime's networking and timers.

use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use futures_core::Stream;
use futures_sink::Sink;

pub use super::split::{ReuniteError, WebSocketReceiver, WebSocketSender};
use crate::outgoing::MAX_IO_SLICES;
use crate::{
    Accept, ClientRequest, CloseCode, Connection, Error, Event, HandshakeError, Message, Request, Response,
    Result, Role, State,
};

/// The room made for the first read: a handshake fits, and an idle connection holds little.
const FIRST_READ: usize = 1024;

/// The most room made for one read; reads that fill their room double it up to this.
pub(crate) const MAX_READ: usize = 64 * 1024;

/// Default outgoing high-water mark: sends wait while more than this is buffered.
pub const DEFAULT_HIGH_WATER: usize = 1 << 20;

/// A transport with poll-style I/O: what [`WebSocketStream`] needs from a runtime's socket.
///
/// Implemented by the runtime glue types ([`TokioTransport`](crate::tokio::TokioTransport),
/// [`FuturesTransport`](crate::futures_io::FuturesTransport)); implement it to run over anything else.
pub trait AsyncTransport: Unpin {
    /// Reads some bytes into `buf`; `Ok(0)` is the end of the stream.
    fn poll_read_some(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Reads some bytes, appending them to `buf` (empty, with spare capacity): the engine's
    /// own receive buffer, so what is read there is not copied again. `Ok(0)` is the end of
    /// the stream.
    fn poll_read_buf(&mut self, cx: &mut Context<'_>, buf: &mut BytesMut) -> Poll<io::Result<usize>>;
    /// Writes some bytes of `buf`.
    fn poll_write_some(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// Writes some bytes of `bufs`, in order, in one call if the transport can. By default,
    /// writes from the first non-empty slice.
    fn poll_write_vectored_some(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
        self.poll_write_some(cx, first)
    }
    /// Flushes the transport.
    fn poll_flush_transport(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// Shuts down the write side.
    fn poll_shutdown_transport(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// A timer of the transport's runtime that completes after `duration`: it bounds the
    /// wait for the peer's Close after a failure ([`Config::close_timeout`](crate::Config::close_timeout)).
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The adapter state a stream keeps beside its transport and engine, carried into its
/// halves ([`WebSocketStream::into_split`]) and back ([`WebSocketStream::reunited`]).
pub(crate) struct AdapterState {
    pub(crate) read_size: usize,
    pub(crate) high_water: usize,
    pub(crate) heartbeat: Option<Heartbeat>,
    pub(crate) shut_down: bool,
    pub(crate) terminated: bool,
    pub(crate) failure: Option<Error>,
}

/// A timer future, as a runtime makes them.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Makes timers: how a runtime module lends its clock to the shared adapter.
pub type Timer = Arc<dyn Fn(Duration) -> Sleep + Send + Sync>;

/// Pings the peer every `interval` and terminates the connection when a pong does not follow
/// within `timeout` (Node `ws`'s heartbeat pattern).
pub(crate) struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    timer: Timer,
    sleep: Sleep,
    awaiting_pong: bool,
}

impl std::fmt::Debug for Heartbeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heartbeat")
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("awaiting_pong", &self.awaiting_pong)
            .finish_non_exhaustive()
    }
}

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
    io: T,
    conn: Connection,
    /// The room the next read asks for.
    read_size: usize,
    high_water: usize,
    /// The transport's write side was shut down.
    shut_down: bool,
    heartbeat: Option<Heartbeat>,
    /// Ended without a closing handshake (heartbeat timeout): shut the transport down.
    terminated: bool,
    /// The error that failed the connection, reported once the peer answered our Close (or
    /// the close timeout passed), so the peer reads the Close before the transport goes.
    failure: Option<Error>,
    /// While draining after a failure: when to stop waiting for the peer.
    drain_deadline: Option<Deadline>,
}

/// A pending timer, shown in `Debug` output by name only.
pub(crate) struct Deadline(pub(crate) Sleep);

impl std::fmt::Debug for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Deadline")
    }
}

/// What the heartbeat asks for when its timer fires.
pub(crate) enum Beat {
    /// Send a ping.
    Ping,
    /// The peer missed its pong: terminate the connection.
    Missed,
}

impl Heartbeat {
    /// Polls the timer; what is due, if anything. `open` says whether the connection is
    /// open (no pings once it is closing).
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, open: bool) -> Option<Beat> {
        if !open || self.sleep.as_mut().poll(cx).is_pending() {
            return None;
        }
        if self.awaiting_pong {
            return Some(Beat::Missed);
        }
        self.awaiting_pong = true;
        self.sleep = (self.timer)(self.timeout);
        // Register the new timer with this task.
        let _ = self.sleep.as_mut().poll(cx);
        Some(Beat::Ping)
    }

    /// A pong (or any sign of life) resets the heartbeat.
    pub(crate) fn alive(&mut self) {
        self.awaiting_pong = false;
        self.sleep = (self.timer)(self.interval);
    }

    /// The error a missed pong ends the connection with.
    pub(crate) fn missed() -> Error {
        io::Error::new(io::ErrorKind::TimedOut, "no pong within the heartbeat timeout").into()
    }
}

/// The engine's receiving side as an adapter reads into it: a whole [`Connection`] or its
/// [`ReceivingHalf`](crate::ReceivingHalf).
pub(crate) trait Inbox {
    fn receive_capacity(&self) -> usize;
    fn receive_with<R>(&mut self, room: usize, fill: impl FnOnce(&mut BytesMut) -> R) -> R;
    fn receive_eof(&mut self);
}

/// The engine's sending side as an adapter writes from it: a whole [`Connection`] or its
/// [`SendingHalf`](crate::SendingHalf).
pub(crate) trait Outbox {
    fn outgoing_vectored<'a>(&'a mut self, slices: &mut [IoSlice<'a>]) -> usize;
    fn advance_outgoing(&mut self, n: usize);
}

macro_rules! engine_io {
    ($($engine:ty),*) => {$(
        impl Inbox for $engine {
            fn receive_capacity(&self) -> usize {
                <$engine>::receive_capacity(self)
            }
            fn receive_with<R>(&mut self, room: usize, fill: impl FnOnce(&mut BytesMut) -> R) -> R {
                <$engine>::receive_with(self, room, fill)
            }
            fn receive_eof(&mut self) {
                <$engine>::receive_eof(self)
            }
        }
    )*};
}
engine_io!(Connection, crate::ReceivingHalf);

impl Outbox for Connection {
    fn outgoing_vectored<'a>(&'a mut self, slices: &mut [IoSlice<'a>]) -> usize {
        Connection::outgoing_vectored(self, slices)
    }
    fn advance_outgoing(&mut self, n: usize) {
        Connection::advance_outgoing(self, n)
    }
}

impl Outbox for crate::SendingHalf {
    fn outgoing_vectored<'a>(&'a mut self, slices: &mut [IoSlice<'a>]) -> usize {
        crate::SendingHalf::outgoing_vectored(self, slices)
    }
    fn advance_outgoing(&mut self, n: usize) {
        crate::SendingHalf::advance_outgoing(self, n)
    }
}

/// Reads once from the transport, straight into the engine's buffer; a read that fills its
/// room doubles `read_size` (up to [`MAX_READ`]).
pub(crate) fn poll_fill<T: AsyncTransport>(
    io: &mut T,
    engine: &mut impl Inbox,
    read_size: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<Result<()>> {
    let read = if engine.receive_capacity() == 0 {
        // The engine holds no buffer (an idle connection): wait with a buffer on the
        // stack, and give the engine one only once data arrives.
        let mut probe = [0u8; FIRST_READ];
        ready!(io.poll_read_some(cx, &mut probe)).map(|n| {
            engine.receive_with(*read_size, |buf| buf.extend_from_slice(&probe[..n]));
            (n, FIRST_READ)
        })
    } else {
        ready!(engine.receive_with(*read_size, |buf| {
            let room = buf.capacity();
            io.poll_read_buf(cx, buf).map_ok(|n| (n, room))
        }))
    };
    match read {
        Ok((0, _)) => engine.receive_eof(),
        Ok((n, room)) => {
            if n == room {
                *read_size = (*read_size * 2).min(MAX_READ);
            }
        }
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => engine.receive_eof(),
        Err(e) => return Poll::Ready(Err(e.into())),
    }
    Poll::Ready(Ok(()))
}

/// What discarding input after a failure needs of a reader (a whole stream, or the
/// receiving half), so the loop is written once: [`poll_discard`].
pub(crate) trait Discard {
    /// Whether the engine still reads.
    fn still_reading(&self) -> bool;
    /// Reads once from the transport into the engine.
    fn poll_fill_once(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>>;
    /// Lets the engine discard what arrived (looking for the peer's Close).
    fn discard(&mut self);
    /// Gives up on the peer's answer: the transport is closed as it is.
    fn give_up(&mut self);
}

/// Reads and discards until the peer's Close or the end of the stream, or until `deadline`.
pub(crate) fn poll_discard(
    reader: &mut impl Discard,
    deadline: &mut Sleep,
    cx: &mut Context<'_>,
) -> Poll<()> {
    while reader.still_reading() {
        if deadline.as_mut().poll(cx).is_ready() {
            reader.give_up();
            break;
        }
        match ready!(reader.poll_fill_once(cx)) {
            Err(_) => reader.give_up(),
            Ok(()) => reader.discard(),
        }
    }
    Poll::Ready(())
}

impl<T: AsyncTransport> Discard for WebSocketStream<T> {
    fn still_reading(&self) -> bool {
        self.conn.wants_read()
    }
    fn poll_fill_once(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_fill(cx)
    }
    fn discard(&mut self) {
        let _ = self.conn.next_event();
    }
    fn give_up(&mut self) {
        self.stop_draining();
    }
}

/// Writes everything the engine has queued and flushes the transport.
pub(crate) fn poll_write_all<T: AsyncTransport>(
    io: &mut T,
    engine: &mut impl Outbox,
    cx: &mut Context<'_>,
) -> Poll<Result<()>> {
    loop {
        let mut slices = [IoSlice::new(&[]); MAX_IO_SLICES];
        let filled = engine.outgoing_vectored(&mut slices);
        if filled == 0 {
            break;
        }
        match ready!(io.poll_write_vectored_some(cx, &slices[..filled])) {
            Ok(0) => return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into())),
            Ok(n) => engine.advance_outgoing(n),
            Err(e) => return Poll::Ready(Err(e.into())),
        }
    }
    Poll::Ready(ready!(io.poll_flush_transport(cx)).map_err(Error::from))
}

impl<T: AsyncTransport> WebSocketStream<T> {
    /// Wraps a transport and an engine (whose handshake may still be under way).
    pub fn from_connection(io: T, conn: Connection) -> Self {
        WebSocketStream {
            io,
            conn,
            read_size: FIRST_READ,
            high_water: DEFAULT_HIGH_WATER,
            shut_down: false,
            heartbeat: None,
            terminated: false,
            failure: None,
            drain_deadline: None,
        }
    }

    /// Pings every `interval` while the stream is read, and terminates the connection (the
    /// stream yields a `TimedOut` error, then ends) when no pong arrives within `timeout`.
    /// `timer` is the runtime's sleep; the runtime modules have a ready-made
    /// `heartbeat` function.
    pub fn set_heartbeat(&mut self, interval: Duration, timeout: Duration, timer: Timer) {
        let sleep = timer(interval);
        self.heartbeat = Some(Heartbeat {
            interval,
            timeout,
            timer,
            sleep,
            awaiting_pong: false,
        });
    }

    /// Drives the heartbeat: sends due pings; an error once the peer missed its pong.
    fn poll_heartbeat(&mut self, cx: &mut Context<'_>) -> Result<()> {
        let open = self.conn.state() == State::Open;
        match self
            .heartbeat
            .as_mut()
            .and_then(|heartbeat| heartbeat.poll(cx, open))
        {
            None => Ok(()),
            Some(Beat::Ping) => self.conn.ping(b""),
            Some(Beat::Missed) => {
                self.heartbeat = None;
                self.conn.terminate();
                self.terminated = true;
                Err(Heartbeat::missed())
            }
        }
    }

    /// A pong (or any sign of life) resets the heartbeat.
    fn heartbeat_alive(&mut self) {
        if let Some(heartbeat) = self.heartbeat.as_mut() {
            heartbeat.alive();
        }
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

    /// Splits the stream into owned halves for two tasks, shaped like those of
    /// `futures::StreamExt::split` (and tokio-tungstenite's): a [`WebSocketSender`] (a
    /// [`Sink`] with `buffered_amount` and backpressure) and a [`WebSocketReceiver`] (a
    /// [`Stream`] that answers pings and the peer's Close on its own), joined again by
    /// [`WebSocketReceiver::reunite`].
    ///
    /// Unlike futures' `split`, the halves share no lock on the receive path: the engine
    /// splits too, and the receiver parses, inflates and validates on its own. The halves
    /// lock only around writes to the transport (and the transport around each read call).
    ///
    /// ```no_run
    /// use ferrosocket::Message;
    /// use futures_util::{SinkExt, StreamExt};
    ///
    /// # async fn run() -> ferrosocket::Result<()> {
    /// let (ws, _) = ferrosocket::tokio::connect("ws://127.0.0.1:9001/").await?;
    /// let (mut sender, mut receiver) = ws.into_split();
    /// let writer = tokio::spawn(async move {
    ///     for n in 0..10 {
    ///         sender.send(Message::text(format!("tick {n}"))).await?;
    ///     }
    ///     SinkExt::close(&mut sender).await?; // starts the closing handshake
    ///     Ok::<_, ferrosocket::Error>(sender)
    /// });
    /// while let Some(message) = receiver.next().await {
    ///     println!("{:?}", message?);
    /// }
    /// let sender = writer.await.expect("the writer task")?;
    /// let ws = receiver.reunite(sender).expect("halves of one stream");
    /// # Ok(()) }
    /// ```
    ///
    /// # Panics
    ///
    /// If the opening handshake has not finished (a stream made with
    /// [`from_connection`](Self::from_connection) from a connecting engine); streams from the
    /// `connect` and `accept` functions are open.
    pub fn into_split(self) -> (WebSocketSender<T>, WebSocketReceiver<T>) {
        let Ok((sending, receiving)) = self.conn.split() else {
            panic!("WebSocketStream::into_split before the opening handshake finished");
        };
        let state = AdapterState {
            read_size: self.read_size,
            high_water: self.high_water,
            heartbeat: self.heartbeat,
            shut_down: self.shut_down,
            terminated: self.terminated,
            failure: self.failure,
        };
        super::split::split(self.io, sending, receiving, state)
    }

    /// A stream from reunited halves.
    pub(crate) fn reunited(io: T, conn: Connection, kept: AdapterState) -> Self {
        WebSocketStream {
            io,
            conn,
            read_size: kept.read_size,
            high_water: kept.high_water,
            shut_down: kept.shut_down,
            heartbeat: kept.heartbeat,
            terminated: kept.terminated,
            failure: kept.failure,
            drain_deadline: None,
        }
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
        if let Err(e) = self.poll_heartbeat(cx) {
            return Poll::Ready(Some(Err(e)));
        }
        loop {
            match self.conn.next_event() {
                Ok(Some(event)) => {
                    if matches!(event, Event::Pong(_)) {
                        self.heartbeat_alive();
                    }
                    if matches!(event, Event::Ping(_) | Event::Close(_) | Event::Request(_)) {
                        // Start writing the reply; it completes on later polls if it must wait.
                        let _ = self.poll_write_out(cx);
                    }
                    return Poll::Ready(Some(Ok(event)));
                }
                Ok(None) if self.conn.state() == State::Closed => {
                    if self.conn.wants_read() {
                        ready!(self.poll_drain(cx));
                        continue;
                    }
                    ready!(self.poll_finish(cx));
                    return Poll::Ready(self.failure.take().map(Err));
                }
                Ok(None) => {
                    // Replies (pongs) go out while we wait for input.
                    if let Poll::Ready(Err(e)) = self.poll_write_out(cx) {
                        return Poll::Ready(Some(Err(e)));
                    }
                    if let Err(e) = ready!(self.poll_fill(cx)) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Err(e) if self.conn.wants_read() => {
                    // The engine failed the connection and queued its Close: drain until
                    // the peer answers, then report the error.
                    self.failure = Some(e);
                }
                Err(e) => {
                    let _ = self.poll_write_out(cx);
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }

    /// The next message (skipping handshake events).
    pub fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        loop {
            let event = match ready!(self.poll_event(cx)) {
                Some(Ok(event)) => event,
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            };
            if let Some(message) = event.into_message().transpose() {
                return Poll::Ready(Some(message));
            }
        }
    }

    /// After the engine failed the connection: writes its Close (a server then ends its
    /// write side), and reads and discards until the peer's Close or the end of the stream,
    /// within the close timeout. Dropping a socket with unread input would make the kernel
    /// send a reset, and the peer could lose the Close and its code.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if ready!(self.poll_write_out(cx)).is_err() {
            self.conn.terminate(); // the peer is gone: nothing to wait for
            return Poll::Ready(());
        }
        if self.conn.role() == Role::Server && !self.shut_down {
            let _ = ready!(self.io.poll_shutdown_transport(cx));
            self.shut_down = true;
        }
        let mut deadline = match self.drain_deadline.take() {
            Some(Deadline(deadline)) => deadline,
            None => self.io.sleep(self.conn.config().close_timeout),
        };
        let drained = poll_discard(self, &mut deadline, cx);
        if drained.is_pending() {
            self.drain_deadline = Some(Deadline(deadline));
        }
        drained
    }

    /// Gives up on the peer's answer: the transport is closed as it is.
    fn stop_draining(&mut self) {
        self.conn.terminate();
        self.terminated = true;
    }

    /// Once closed: writes what is left (the close reply), then, as the server or once the
    /// peer hung up, shuts the transport's write side down.
    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if ready!(self.poll_write_out(cx)).is_err() {
            return Poll::Ready(());
        }
        if (self.conn.role() == Role::Server || self.terminated) && !self.shut_down {
            let _ = ready!(self.io.poll_shutdown_transport(cx));
            self.shut_down = true;
        }
        Poll::Ready(())
    }

    /// Reads once from the transport, straight into the engine's buffer.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        poll_fill(&mut self.io, &mut self.conn, &mut self.read_size, cx)
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

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_message(cx)
    }
}

impl<T: AsyncTransport> Sink<Message> for WebSocketStream<T> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_ready_to_send(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<()> {
        self.get_mut().conn.send(&message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().poll_write_out(cx)
    }

    /// Starts the closing handshake (1000) if it has not begun, and flushes.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let this = self.get_mut();
        if this.conn.state() == State::Open {
            this.conn.close(CloseCode::NORMAL, "")?;
        }
        this.poll_write_out(cx)
    }
}

/// Client handshake over `io`: sends the request, waits for the 101.
pub async fn client<T: AsyncTransport>(
    io: T,
    request: ClientRequest,
    config: crate::Config,
) -> Result<(WebSocketStream<T>, Response)> {
    let mut ws = WebSocketStream::from_connection(io, Connection::client(request, config));
    ws.flush().await?;
    match ws.next_event().await {
        Some(Ok(Event::Open(response))) => Ok((ws, *response)),
        Some(Err(e)) => Err(e),
        _ => Err(HandshakeError::Incomplete.into()),
    }
}

/// Server handshake over a stream whose engine reads (or was given) the request: `decide`
/// accepts or refuses it. A refusal is written out and returned as
/// [`HandshakeError::Rejected`].
///
/// It takes the stream whole, rather than a transport and an engine to combine, so the
/// future holds one copy of them while it waits: that future is most of what an idle
/// connection's task weighs.
#[allow(clippy::manual_async_fn)] // on purpose: see the comment in the body
pub fn server<T, F>(mut ws: WebSocketStream<T>, decide: F) -> impl Future<Output = Result<WebSocketStream<T>>>
where
    T: AsyncTransport,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    // An async block that uses the captured stream in place: an `async fn` would keep its
    // argument and a working copy, doubling what the task weighs while it waits.
    async move {
        ws.answer_request(decide).await?;
        Ok(ws)
    }
}

impl<T: AsyncTransport> WebSocketStream<T> {
    /// Reads the upgrade request and answers it as `decide` says.
    async fn answer_request<F>(&mut self, decide: F) -> Result<()>
    where
        F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
    {
        let request = self.read_request().await?;
        self.answer(decide(&request)).await
    }

    /// Reads the upgrade request (a server whose decision takes a while, e.g. an async
    /// lookup, answers later with [`answer`](Self::answer)).
    pub(crate) async fn read_request(&mut self) -> Result<Box<Request>> {
        match self.next_event().await {
            Some(Ok(Event::Request(request))) => Ok(request),
            Some(Err(e)) => Err(e),
            _ => Err(HandshakeError::Incomplete.into()),
        }
    }

    /// Answers the pending request; a refusal is written out, the transport shut down,
    /// and the refusal returned as [`HandshakeError::Rejected`].
    pub(crate) async fn answer(&mut self, decision: std::result::Result<Accept, Response>) -> Result<()> {
        let decided = self.conn.decide(decision);
        self.flush().await?;
        if decided.is_err() {
            let _ = poll_fn(|cx| self.io.poll_shutdown_transport(cx)).await;
        }
        decided
    }
}

impl<T: AsyncTransport> WebSocketStream<T> {
    /// Closes gracefully: sends a Close with `code` and `reason`, then reads (discarding
    /// messages) until the peer's Close arrives or `deadline` completes, whichever is first.
    /// Returns the peer's Close, or 1006 when the deadline passed first (drop the transport
    /// then). The runtime modules pass their timer as the deadline.
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
        let mut deadline = std::pin::pin!(deadline);
        poll_fn(|cx| loop {
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(crate::CloseFrame::new(CloseCode::ABNORMAL, "")));
            }
            match ready!(self.poll_event(cx)) {
                Some(Ok(Event::Close(frame))) => return Poll::Ready(Ok(frame)),
                Some(Ok(_)) => continue,
                Some(Err(Error::AlreadyClosed | Error::ConnectionClosed)) | None => {
                    return Poll::Ready(Ok(crate::CloseFrame::new(CloseCode::ABNORMAL, "")))
                }
                Some(Err(e)) => return Poll::Ready(Err(e)),
            }
        })
        .await
    }
}

/// Generates a runtime module's handshake entry points over its glue type, so the tokio and
/// futures-io modules share one definition: `client`, `from_connection`, `accept`,
/// `accept_with` and `accept_request`.
macro_rules! handshake_entry_points {
    ($glue:ident, $read:path, $write:path) => {
        /// Performs the client handshake over an existing transport (TCP, TLS, a proxy tunnel).
        pub async fn client<S>(
            stream: S,
            request: $crate::ClientRequest,
            config: $crate::Config,
        ) -> $crate::Result<(WebSocketStream<S>, $crate::Response)>
        where
            S: $read + $write + Unpin,
        {
            $crate::stream::client($glue::new(stream), request, config).await
        }

        /// Wraps a transport whose handshake an HTTP server already did (see
        /// [`Connection::accept_upgrade`](crate::Connection::accept_upgrade)), e.g. a hyper
        /// upgrade wrapped in `hyper_util::rt::TokioIo`.
        pub fn from_connection<S: $read + $write + Unpin>(
            stream: S,
            conn: $crate::Connection,
        ) -> WebSocketStream<S> {
            $crate::stream::WebSocketStream::from_connection($glue::new(stream), conn)
        }

        // The server entry points return the handshake future itself rather than wrapping
        // it in an `async fn` of their own: it stays as small as it can be (see
        // `stream::server`).

        /// Performs the server handshake, accepting any valid request.
        pub fn accept<S: $read + $write + Unpin>(
            stream: S,
        ) -> impl std::future::Future<Output = $crate::Result<WebSocketStream<S>>> {
            accept_with(stream, $crate::Config::default(), |_| {
                Ok($crate::Accept::new())
            })
        }

        /// Performs the server handshake; `decide` accepts (subprotocol, headers) or refuses
        /// with any response. Wrap it in the runtime's timeout to bound the handshake.
        pub fn accept_with<S, F>(
            stream: S,
            config: $crate::Config,
            decide: F,
        ) -> impl std::future::Future<Output = $crate::Result<WebSocketStream<S>>>
        where
            S: $read + $write + Unpin,
            F: FnOnce(&$crate::Request) -> std::result::Result<$crate::Accept, $crate::Response>,
        {
            let conn = $crate::Connection::server(config);
            $crate::stream::server(from_connection(stream, conn), decide)
        }

        /// Like [`accept_with`] for a request an HTTP server already parsed, with the bytes
        /// it read past the head (Node's `noServer` + `handleUpgrade`).
        pub fn accept_request<S, F>(
            stream: S,
            request: $crate::Request,
            leftover: &[u8],
            config: $crate::Config,
            decide: F,
        ) -> impl std::future::Future<Output = $crate::Result<WebSocketStream<S>>>
        where
            S: $read + $write + Unpin,
            F: FnOnce(&$crate::Request) -> std::result::Result<$crate::Accept, $crate::Response>,
        {
            let conn = $crate::Connection::from_request(request, leftover, config);
            $crate::stream::server(from_connection(stream, conn), decide)
        }
    };
}

pub(crate) use handshake_entry_points;
