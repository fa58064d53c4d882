//! A [`WebSocketStream`] in two owned halves for two tasks: a [`WebSocketSender`] (a
//! [`Sink`]) and a [`WebSocketReceiver`] (a [`Stream`]), from
//! [`WebSocketStream::into_split`].
//!
//! The engine splits too ([`Connection::split`](crate::Connection::split)): the receiver owns
//! the decoder and reads, decompresses and validates with no lock held; the sender owns the
//! encoder and its queue. What both must touch is the transport's write side and the queue
//! in front of it — the receiver writes pongs and the close reply there, so they go out
//! while only the receiver is polled. That sits behind a lock taken per write, never held
//! across an await. Reads lock the transport for the length of one read call (TLS streams
//! cannot be read and written at once otherwise); nothing the engine does per message happens
//! under a lock.
//!
//! A transport keeps one waker per direction, so the halves poll it with a waker of their
//! own that wakes every half waiting on it: neither can steal the other's wake-up.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{ready, Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;

use super::driver::{self, ReadState, Reader};
use super::io::{poll_fill, poll_write_all};
use super::transport::{AsyncTransport, Sleep};
use super::websocket::WebSocketStream;
use crate::{
    CloseCode, CloseFrame, Error, Event, FrameEncoding, Message, PreparedFrame, PreparedMessage,
    ReceivingHalf, Result, SendingHalf,
};

/// Locks, shrugging off poisoning: every critical section leaves the state consistent (a
/// panic inside one comes from the transport, between whole writes).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Which half waits on the transport.
#[derive(Clone, Copy)]
enum Half {
    Sender = 0,
    Receiver = 1,
}

/// The wakers of the halves waiting on the transport; woken together.
#[derive(Default)]
struct Waiters {
    slots: [Mutex<Option<Waker>>; 2],
}

impl Waiters {
    fn register(&self, half: Half, waker: &Waker) {
        let mut slot = lock(&self.slots[half as usize]);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    fn clear(&self, half: Half) {
        lock(&self.slots[half as usize]).take();
    }
}

impl Wake for Waiters {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        for slot in &self.slots {
            let waker = lock(slot).take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// The write side: the sending engine (the queue both halves write into) and whether the
/// transport's write side was shut down.
struct Writer {
    sending: SendingHalf,
    shut_down: bool,
}

/// What the halves share. Lock order: `writer`, then `transport`.
struct Shared<T> {
    writer: Mutex<Writer>,
    transport: Mutex<T>,
    waiters: Arc<Waiters>,
    /// Wakes every waiting half; what the transport is polled with.
    waker: Waker,
    /// Our Close went out: the receiver bounds its wait for the peer's.
    close_sent: AtomicBool,
    /// Queues, ahead of the reply to the peer's Close, what a writer of the owner's still
    /// holds (the server toolkit's send queue).
    before_close_reply: OnceLock<Box<BeforeCloseReply>>,
}

/// See [`WebSocketReceiver::before_close_reply`].
pub(crate) type BeforeCloseReply = dyn Fn(&mut SendingHalf) + Send + Sync;

impl<T: AsyncTransport> Shared<T> {
    /// Runs one transport call for `half` with the shared waker; a call that completes
    /// takes `half`'s registration back (it is not waiting any more).
    fn poll_transport<R>(
        &self,
        half: Half,
        cx: &Context<'_>,
        call: impl FnOnce(&mut T, &mut Context<'_>) -> Poll<R>,
    ) -> Poll<R> {
        self.waiters.register(half, cx.waker());
        let mut shared_cx = Context::from_waker(&self.waker);
        let result = call(&mut lock(&self.transport), &mut shared_cx);
        if result.is_ready() {
            self.waiters.clear(half);
        }
        result
    }

    /// Writes everything queued and flushes, with the writer locked.
    fn poll_write_locked(&self, writer: &mut Writer, half: Half, cx: &Context<'_>) -> Poll<Result<()>> {
        self.poll_transport(half, cx, |io, cx| poll_write_all(io, &mut writer.sending, cx))
    }

    fn poll_write_out(&self, half: Half, cx: &Context<'_>) -> Poll<Result<()>> {
        self.poll_write_locked(&mut lock(&self.writer), half, cx)
    }

    /// After the sender queued something: if it was our Close, tell the receiver (and wake
    /// it, so it starts the close deadline even while it waits for input).
    fn note_sent(&self, writer: &Writer) {
        if writer.sending.is_closed() && !self.close_sent.swap(true, Ordering::AcqRel) {
            self.waiters.wake_by_ref();
        }
    }

    /// Shuts the transport's write side down, once, after writing what is queued.
    fn poll_shut_down(&self, half: Half, cx: &Context<'_>) -> Poll<Result<()>> {
        let mut writer = lock(&self.writer);
        ready!(self.poll_write_locked(&mut writer, half, cx))?;
        if !writer.shut_down {
            let _ = ready!(self.poll_transport(half, cx, |io, cx| io.poll_shutdown_transport(cx)));
            writer.shut_down = true;
        }
        Poll::Ready(Ok(()))
    }
}

/// The sending half of a split [`WebSocketStream`]: a [`Sink`] of [`Message`]s, plus plain
/// async methods and backpressure. Made by [`WebSocketStream::into_split`].
pub struct WebSocketSender<T> {
    shared: Arc<Shared<T>>,
    high_water: usize,
}

/// The receiving half of a split [`WebSocketStream`]: a [`Stream`] of [`Message`]s. It
/// answers pings and the peer's Close itself, so they go out even while the sender is idle.
/// After the close reply the sender takes nothing more: messages a writer task of yours has
/// not yet handed to the sender are refused with [`Error::AlreadyClosed`] (the server
/// toolkit's [`Client`](crate::server::Client) queues its sends ahead of the reply instead).
/// Made by [`WebSocketStream::into_split`]; [`reunite`](Self::reunite) joins the halves again.
pub struct WebSocketReceiver<T> {
    shared: Arc<Shared<T>>,
    receiving: ReceivingHalf,
    reading: ReadState,
    /// Replies were queued and not yet written out.
    unflushed: bool,
    /// The receiving half was told our Close went out.
    close_noted: bool,
}

impl<T> std::fmt::Debug for WebSocketSender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketSender")
            .field("high_water", &self.high_water)
            .finish_non_exhaustive()
    }
}

impl<T> std::fmt::Debug for WebSocketReceiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketReceiver")
            .field("receiving", &self.receiving)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncTransport> WebSocketStream<T> {
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
        let waiters = Arc::new(Waiters::default());
        let close_sent = sending.is_closed();
        let shared = Arc::new(Shared {
            writer: Mutex::new(Writer {
                sending,
                shut_down: self.shut_down,
            }),
            transport: Mutex::new(self.io),
            waker: Waker::from(waiters.clone()),
            waiters,
            close_sent: AtomicBool::new(close_sent),
            before_close_reply: OnceLock::new(),
        });
        let sender = WebSocketSender {
            shared: shared.clone(),
            high_water: self.high_water,
        };
        let receiver = WebSocketReceiver {
            shared,
            receiving,
            reading: self.reading,
            unflushed: false,
            close_noted: close_sent,
        };
        (sender, receiver)
    }
}

impl<T: AsyncTransport> WebSocketSender<T> {
    /// Sends a message: waits while the outgoing buffer is over the high-water mark, queues
    /// the message and writes it out.
    ///
    /// # Cancel safety
    ///
    /// Cancelled while waiting for room, the message is not sent; cancelled after it was
    /// queued, it is sent by the next `send`, `flush` or `close`. Never twice, never in part.
    pub async fn send(&mut self, message: Message) -> Result<()> {
        poll_fn(|cx| self.poll_ready_to_send(cx)).await?;
        self.queue(&message)?;
        self.flush().await
    }

    /// Queues a message without writing it; it goes out with the next
    /// [`send`](Self::send) or [`flush`](Self::flush). Waits only while the outgoing buffer
    /// is over the high-water mark.
    ///
    /// # Cancel safety
    ///
    /// As [`send`](Self::send): a message is either queued whole or not at all.
    pub async fn feed(&mut self, message: Message) -> Result<()> {
        poll_fn(|cx| self.poll_ready_to_send(cx)).await?;
        self.queue(&message)
    }

    /// Writes everything queued and flushes the transport.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: what was not written stays queued.
    pub async fn flush(&mut self) -> Result<()> {
        poll_fn(|cx| self.shared.poll_write_out(Half::Sender, cx)).await
    }

    /// Sends a ping stamped with the time it left: when the receiver reads its pong, the
    /// round trip is measured there ([`WebSocketReceiver::round_trip_time`]). (A whole
    /// stream's [`ping`](WebSocketStream::ping) waits for the pong itself; a sender cannot,
    /// since the receiver reads.)
    pub async fn timed_ping(&mut self) -> Result<()> {
        {
            let mut writer = lock(&self.shared.writer);
            writer.sending.ping_at(crate::adapters::clock::now())?;
        }
        self.flush().await
    }

    /// Starts the closing handshake and flushes the Close frame; the receiver then reads
    /// on until the peer's reply ends its stream.
    ///
    /// # Cancel safety
    ///
    /// The Close is queued before the first await: cancelled, it still goes out with the
    /// next write of either half.
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        {
            let mut writer = lock(&self.shared.writer);
            writer.sending.close(code, reason)?;
            self.shared.note_sent(&writer);
        }
        self.flush().await
    }

    /// Queues a message framed once for many connections (see
    /// [`Connection::send_prepared`](crate::Connection::send_prepared)) without writing it.
    pub fn feed_prepared(&mut self, prepared: &mut PreparedMessage) -> Result<()> {
        lock(&self.shared.writer).sending.send_prepared(prepared)
    }

    /// Queues a frame taken from [`PreparedMessage::frame_for`] with this connection's
    /// [`frame_encoding`](Self::frame_encoding), without writing it.
    pub fn feed_prepared_frame(&mut self, frame: &PreparedFrame) -> Result<()> {
        lock(&self.shared.writer).sending.send_prepared_frame(frame)
    }

    /// How this connection frames messages, for [`PreparedMessage::frame_for`].
    pub fn frame_encoding(&self) -> FrameEncoding {
        lock(&self.shared.writer).sending.frame_encoding()
    }

    /// Ends the connection without a closing handshake (Node's `terminate()`): drops what
    /// is queued and shuts the transport's write side down; the receiver then reads the end
    /// of the stream (or whatever the peer still sends) and ends.
    ///
    /// # Cancel safety
    ///
    /// The queue is dropped at the first poll; cancelled later, the shutdown is left to the
    /// transport's drop.
    pub async fn terminate(&mut self) {
        lock(&self.shared.writer).sending.terminate();
        let _ = poll_fn(|cx| self.shared.poll_shut_down(Half::Sender, cx)).await;
    }

    /// Bytes queued but not yet written to the transport (Node's `bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        lock(&self.shared.writer).sending.buffered_amount()
    }

    /// Sets the outgoing high-water mark: sends wait while more than `bytes` are buffered.
    pub fn set_high_water(&mut self, bytes: usize) {
        self.high_water = bytes;
    }

    /// Whether nothing more can be sent: our Close went out, or the peer ended the
    /// connection.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.writer).sending.is_closed()
    }

    /// Whether `receiver` is this sender's other half.
    pub fn is_pair_of(&self, receiver: &WebSocketReceiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &receiver.shared)
    }

    #[cfg(feature = "tokio")] // for the server toolkit
    /// The outgoing high-water mark (see [`set_high_water`](Self::set_high_water)).
    pub(crate) fn high_water(&self) -> usize {
        self.high_water
    }

    #[cfg(feature = "tokio")] // for the server toolkit
    /// Waits until the outgoing buffer is under the high-water mark (writing to get there).
    pub(crate) async fn ready(&mut self) -> Result<()> {
        poll_fn(|cx| self.poll_ready_to_send(cx)).await
    }

    #[cfg(feature = "tokio")] // for the server toolkit
    /// Runs `queue` on the sending engine with the write side locked: what it queues is in
    /// order with the receiver's replies (see
    /// [`WebSocketReceiver::before_close_reply`]).
    pub(crate) fn queue_with<R>(&mut self, queue: impl FnOnce(&mut SendingHalf) -> R) -> R {
        let mut writer = lock(&self.shared.writer);
        let queued = queue(&mut writer.sending);
        self.shared.note_sent(&writer);
        queued
    }

    fn queue(&self, message: &Message) -> Result<()> {
        let mut writer = lock(&self.shared.writer);
        writer.sending.send(message)?;
        if let Message::Close(_) = message {
            self.shared.note_sent(&writer);
        }
        Ok(())
    }

    /// Ready when the outgoing buffer is under the high-water mark (writing to get there).
    fn poll_ready_to_send(&self, cx: &Context<'_>) -> Poll<Result<()>> {
        let mut writer = lock(&self.shared.writer);
        while writer.sending.buffered_amount() > self.high_water {
            ready!(self.shared.poll_write_locked(&mut writer, Half::Sender, cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncTransport> Sink<Message> for WebSocketSender<T> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_ready_to_send(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<()> {
        self.queue(&message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.shared.poll_write_out(Half::Sender, cx)
    }

    /// Starts the closing handshake (1000) if nothing closed the connection yet, and flushes.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut writer = lock(&self.shared.writer);
        if !writer.sending.is_closed() {
            writer.sending.close(CloseCode::NORMAL, "")?;
            self.shared.note_sent(&writer);
        }
        self.shared.poll_write_locked(&mut writer, Half::Sender, cx)
    }
}

impl<T: AsyncTransport> WebSocketReceiver<T> {
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
    /// Cancel-safe, as [`next`](Self::next).
    pub async fn next_event(&mut self) -> Option<Result<Event>> {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Closes gracefully from the receiving side: sends a Close with `code` and `reason`
    /// (unless the connection is closing already), then reads, discarding messages, until
    /// the peer's Close or `deadline`, whichever is first. Returns the peer's Close, or 1006
    /// when the deadline passed first.
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
    ) -> Result<CloseFrame>
    where
        D: Future<Output = ()>,
    {
        {
            let mut writer = lock(&self.shared.writer);
            if !writer.sending.is_closed() {
                writer.sending.close(code, reason)?;
                self.shared.note_sent(&writer);
                self.unflushed = true;
            }
        }
        driver::await_close(self, deadline).await
    }

    /// The engine's receiving half.
    pub fn receiving_half(&self) -> &ReceivingHalf {
        &self.receiving
    }

    /// Joins the halves again; halves of different streams are given back.
    #[allow(clippy::result_large_err)] // the halves come back, as with futures' and tokio's
    pub fn reunite(
        self,
        sender: WebSocketSender<T>,
    ) -> std::result::Result<WebSocketStream<T>, ReuniteError<T>> {
        if !sender.is_pair_of(&self) {
            return Err(ReuniteError(sender, self));
        }
        let high_water = sender.high_water;
        drop(sender);
        let Ok(shared) = Arc::try_unwrap(self.shared) else {
            unreachable!("the halves hold the only two references, and the sender's is gone");
        };
        let writer = shared.writer.into_inner().unwrap_or_else(PoisonError::into_inner);
        let io = shared
            .transport
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let Ok(conn) = crate::Connection::reunite(writer.sending, self.receiving) else {
            unreachable!("halves of one stream come from one connection");
        };
        Ok(WebSocketStream {
            io,
            conn,
            reading: self.reading,
            high_water,
            shut_down: writer.shut_down,
        })
    }

    /// The next engine event, reading the transport (and writing replies) as needed.
    pub fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Event>>> {
        driver::poll_event(self, cx)
    }

    /// The next message (skipping raw events that are not messages).
    pub fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        driver::poll_message(self, cx)
    }

    /// The last round trip measured from a pong this receiver read: to the sender's
    /// [`timed_ping`](WebSocketSender::timed_ping), or to the heartbeat's ping.
    pub fn round_trip_time(&self) -> Option<Duration> {
        self.receiving.round_trip_time()
    }

    /// Pings every `interval` while the receiver is read, and ends the connection (the
    /// receiver yields [`Error::TimedOut`], then ends) when no pong follows a ping within
    /// `timeout` (see [`WebSocketStream::set_heartbeat`]).
    pub fn set_heartbeat(&mut self, interval: Duration, timeout: Duration) {
        self.receiving.set_heartbeat(interval, timeout);
    }

    #[cfg(feature = "tokio")] // for the server toolkit
    /// Sets what runs, with the write side locked, just before the reply to the peer's
    /// Close is queued: an owner whose writer keeps a queue of its own in front of the
    /// sender (the server toolkit) moves it into the `SendingHalf` there, so what it
    /// accepted before the Close was read goes out ahead of the reply instead of being
    /// refused after it. Set once; later calls are ignored.
    pub(crate) fn before_close_reply(&self, hook: Box<BeforeCloseReply>) {
        let _ = self.shared.before_close_reply.set(hook);
    }

    /// Hands the replies made so far to the sending half and writes them (and whatever else
    /// is queued) out. Takes the lock only when there is something to write.
    fn poll_answer(&mut self, cx: &Context<'_>) -> Poll<Result<()>> {
        if !self.unflushed && !self.receiving.has_replies() {
            return Poll::Ready(Ok(()));
        }
        let mut writer = lock(&self.shared.writer);
        let replies = self.receiving.take_replies();
        if replies.echoes_close() {
            if let Some(hook) = self.shared.before_close_reply.get() {
                hook(&mut writer.sending);
                self.shared.note_sent(&writer);
            }
        }
        writer.sending.answer(replies);
        self.unflushed = true;
        let written = self.shared.poll_write_locked(&mut writer, Half::Receiver, cx);
        if written.is_ready() {
            self.unflushed = false;
        }
        written
    }
}

impl<T: AsyncTransport> Reader for WebSocketReceiver<T> {
    type Engine = ReceivingHalf;

    fn engine(&mut self) -> &mut ReceivingHalf {
        &mut self.receiving
    }
    fn state(&mut self) -> &mut ReadState {
        &mut self.reading
    }
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_answer(cx)
    }
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let (receiving, read_room) = (&mut self.receiving, &mut self.reading.read_room);
        self.shared.poll_transport(Half::Receiver, cx, |io, cx| {
            poll_fill(io, receiving, read_room, cx)
        })
    }
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // Whatever the receiving half left for the sender (an abort) is handed over first.
        let _ = ready!(self.poll_answer(cx));
        let _ = ready!(self.shared.poll_shut_down(Half::Receiver, cx));
        Poll::Ready(())
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        lock(&self.shared.transport).sleep(duration)
    }
    fn sync(&mut self) {
        if !self.close_noted && self.shared.close_sent.load(Ordering::Acquire) {
            self.close_noted = true;
            self.receiving.close_sent();
        }
    }
}

impl<T: AsyncTransport> Stream for WebSocketReceiver<T> {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_message(cx)
    }
}

/// The halves given to [`WebSocketReceiver::reunite`] came from different streams; here
/// they are back.
pub struct ReuniteError<T>(pub WebSocketSender<T>, pub WebSocketReceiver<T>);

impl<T> std::fmt::Debug for ReuniteError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<T> std::fmt::Display for ReuniteError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tried to reunite halves of different WebSocket streams")
    }
}

impl<T> std::error::Error for ReuniteError<T> {}
