//! One connection in the toolkit: a [`Client`] handle whose sends go into a queue bounded in
//! bytes, drained by a writer task of its own, and a [`Reader`] for its messages.
//!
//! Sending never waits for the client's socket: a broadcast to ten thousand clients is ten
//! thousand pushes, and one client that stops reading fills only its own queue. What happens
//! then is the server's [`Overflow`] policy (uWebSockets' `maxBackpressure` and
//! `closeOnBackpressureLimit`).

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_core::Stream;
use tokio::sync::Notify;

use super::{Io, Peer};
use crate::connection::halves::Cause;
use crate::tokio::{WebSocketReceiver, WebSocketSender};
use crate::{
    CloseCode, CloseFrame, Error, FrameEncoding, Message, PreparedFrame, PreparedMessage, Result, SendingHalf,
};

/// What a [`Client`] whose send queue is full does with one more message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Drop the message for this client (counted by [`Client::dropped`]); the client stays.
    Drop,
    /// Close the client with this code — 1008 (policy) or 1013 (try again later) — and drop
    /// what it has queued: the slow consumer goes, everyone else carries on.
    Close(CloseCode),
}

/// What became of a message handed to [`Client::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Queued; the client's writer sends it.
    Queued,
    /// The client's queue was full: the message was dropped ([`Overflow::Drop`]).
    Dropped,
    /// The client's queue was full and the client is being closed ([`Overflow::Close`]).
    Closed,
}

/// Locks, shrugging off poisoning: the queue is consistent between statements.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A message on its way to the writer.
enum Outbound {
    Message(Message),
    Frame(PreparedFrame),
    Close(CloseFrame),
}

impl Outbound {
    /// What it counts against the queue's limit: about its size on the wire.
    fn cost(&self) -> usize {
        match self {
            Outbound::Message(message) => message.len() + 14,
            Outbound::Frame(frame) => frame.as_bytes().len(),
            Outbound::Close(frame) => frame.reason.len() + 8,
        }
    }
}

/// The queue between the client's handles and its writer.
#[derive(Default)]
struct Queue {
    items: VecDeque<Outbound>,
    /// Queued or handed to the writer and not yet written.
    bytes: usize,
    /// A Close was queued: nothing more is accepted.
    closing: bool,
}

/// Settings a client's queue follows.
#[derive(Clone)]
pub(crate) struct QueuePolicy {
    pub(crate) limit: usize,
    pub(crate) overflow: Overflow,
    /// The operator's hooks, shared by every client of a server.
    pub(crate) hooks: Arc<QueueHooks>,
}

/// Called with a client and the size of a message it could not queue.
pub(crate) type OnDropped = dyn Fn(&Client, usize) + Send + Sync;
/// Called with a client whose queue fell below the drain mark.
pub(crate) type OnDrain = dyn Fn(&Client) + Send + Sync;

/// What the operator wants to hear of clients' queues (uWebSockets' `dropped` and `drain`).
#[derive(Default)]
pub(crate) struct QueueHooks {
    pub(crate) dropped: Option<Box<OnDropped>>,
    /// The mark, and the hook called when a queue at or above it falls below.
    pub(crate) drain: Option<(usize, Box<OnDrain>)>,
}

/// What a client's handles, reader and writer share.
pub(crate) struct Shared {
    id: u64,
    peer: Peer,
    encoding: FrameEncoding,
    policy: QueuePolicy,
    queue: Mutex<Queue>,
    /// Wakes the writer (new items, a termination); outlives `Shared` in the writer's hands.
    wake_writer: Arc<Notify>,
    /// Signals writes (room freed) and the writer's end.
    progress: Notify,
    dropped: AtomicU64,
    terminated: AtomicBool,
    /// The writer ended: nothing more goes out.
    finished: AtomicBool,
    /// The connection's reading side ended (closed, failed or terminated): the writer stops.
    read_done: AtomicBool,
    /// Why the connection ended, when a failure or a deadline ended it: what sends then
    /// report instead of `AlreadyClosed`.
    cause: Mutex<Option<Cause>>,
    reader_waker: Mutex<Option<Waker>>,
    /// The last round trip the reader measured, in nanoseconds; 0 before the first.
    round_trip: AtomicU64,
    /// The registry that tracks this client, for topics and to leave it at the end.
    pub(crate) clients: Option<Box<dyn Membership>>,
}

/// What a client asks of the registry that tracks it ([`Clients`](super::Clients)
/// implements it), so this module needs nothing of the registry's.
pub(crate) trait Membership: Send + Sync {
    fn subscribe(&self, client: &Client, topic: &str) -> bool;
    fn unsubscribe(&self, id: u64, topic: &str) -> bool;
    fn topics_of(&self, id: u64) -> Vec<String>;
    fn remove(&self, id: u64);
}

/// A handle for sending to one connection; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.shared.id)
            .field("peer", &self.shared.peer)
            .field("buffered_amount", &self.buffered_amount())
            .finish()
    }
}

/// How long a terminated client's writer waits for its transport to shut down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

impl Client {
    /// Splits `socket` into a client handle (with its writer task spawned) and a reader.
    pub(crate) fn start(
        socket: super::Socket,
        id: u64,
        peer: Peer,
        policy: QueuePolicy,
        clients: Option<Box<dyn Membership>>,
    ) -> (Client, Reader) {
        let (sender, receiver) = socket.into_split();
        let shared = Arc::new(Shared::new(id, peer, sender.frame_encoding(), policy, clients));
        // What `send` accepted before the peer's Close was read goes out ahead of the reply;
        // after it, sends are refused.
        let queue_owner = Arc::downgrade(&shared);
        receiver.before_close_reply(Box::new(move |sending| {
            if let Some(shared) = queue_owner.upgrade() {
                lock(&shared.queue).closing = true;
                move_queued(&shared, sending, None);
            }
        }));
        tokio::spawn(write_loop(
            Arc::downgrade(&shared),
            shared.wake_writer.clone(),
            sender,
        ));
        let reader = Reader {
            receiver: Some(receiver),
            shared: shared.clone(),
            untracked: false,
        };
        (Client { shared }, reader)
    }

    /// A number unique to this connection within the process.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// Who this client is.
    pub fn peer(&self) -> Peer {
        self.shared.peer
    }

    /// Queues a message for this client without waiting for its socket. A full queue
    /// (see [`ServerBuilder::send_queue_limit`](super::ServerBuilder::send_queue_limit))
    /// applies the server's [`Overflow`] policy. Once the client is closing or gone the
    /// message is refused with [`Error::AlreadyClosed`].
    pub fn send(&self, message: impl Into<Message>) -> Result<Delivery> {
        match message.into() {
            Message::Close(frame) => {
                let frame = frame.unwrap_or_else(|| CloseFrame::new(CloseCode::NORMAL, ""));
                self.close(frame.code, frame.reason.as_str())
                    .map(|()| Delivery::Queued)
            }
            message => self.push(Outbound::Message(message)),
        }
    }

    /// Queues a message framed once for many clients: this client's frame of it if its
    /// connection can share one, else the message (see [`PreparedMessage::frame_for`]).
    pub fn send_prepared(&self, prepared: &mut PreparedMessage) -> Result<Delivery> {
        match prepared.frame_for(self.shared.encoding) {
            Some(frame) => self.push(Outbound::Frame(frame)),
            None => self.push(Outbound::Message(prepared.message().clone())),
        }
    }

    fn push(&self, item: Outbound) -> Result<Delivery> {
        let shared = &self.shared;
        let cost = item.cost();
        {
            let mut queue = lock(&shared.queue);
            if queue.closing || shared.is_closed() {
                return Err(shared.closed_error());
            }
            if queue.bytes + cost > shared.policy.limit && queue.bytes > 0 {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                crate::log::event!(debug, client = shared.id, queued = queue.bytes, "send queue full");
                match shared.policy.overflow {
                    Overflow::Drop => {
                        drop(queue);
                        self.tell_dropped(cost);
                        return Ok(Delivery::Dropped);
                    }
                    Overflow::Close(code) => {
                        // The backlog goes; the Close goes out first thing.
                        queue.items.clear();
                        queue.closing = true;
                        let close = Outbound::Close(CloseFrame::new(code, "send queue full"));
                        queue.bytes = close.cost();
                        queue.items.push_back(close);
                        drop(queue);
                        shared.wake_writer.notify_one();
                        self.tell_dropped(cost);
                        return Ok(Delivery::Closed);
                    }
                }
            }
            queue.bytes += cost;
            queue.items.push_back(item);
        }
        shared.wake_writer.notify_one();
        Ok(Delivery::Queued)
    }

    /// Calls the server's `on_dropped` hook, if any (with no lock held).
    fn tell_dropped(&self, cost: usize) {
        if let Some(hook) = &self.shared.policy.hooks.dropped {
            hook(self, cost);
        }
    }

    /// Starts the closing handshake: the Close is queued after what is queued already
    /// (whatever the limit) and nothing more is accepted; the client's [`Reader`] ends once
    /// the peer answers.
    pub fn close(&self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        let code = code.into();
        crate::connection::halves::check_close(code, reason)?;
        let frame = CloseFrame::new(code, crate::Utf8Bytes::from(reason));
        {
            let mut queue = lock(&self.shared.queue);
            if queue.closing || self.shared.is_closed() {
                return Err(Error::AlreadyClosed);
            }
            queue.closing = true;
            let close = Outbound::Close(frame);
            queue.bytes += close.cost();
            queue.items.push_back(close);
        }
        self.shared.wake_writer.notify_one();
        Ok(())
    }

    /// Ends the connection at once, without a closing handshake (ws's `terminate()`): the
    /// queue is dropped, the transport shut down, and the [`Reader`] ends.
    pub fn terminate(&self) {
        let shared = &self.shared;
        shared.terminated.store(true, Ordering::Release);
        {
            let mut queue = lock(&shared.queue);
            queue.items.clear();
            queue.bytes = 0;
        }
        shared.wake_writer.notify_one();
        if let Some(waker) = lock(&shared.reader_waker).take() {
            waker.wake();
        }
    }

    /// Bytes queued for this client and not yet written to its socket (ws's
    /// `bufferedAmount`): the signal to stop sending to a slow consumer.
    pub fn buffered_amount(&self) -> usize {
        lock(&self.shared.queue).bytes
    }

    /// Queues a ping stamped with the time: when the client's [`Reader`] reads the pong, the
    /// round trip — queueing and the network, as this client sees the server — is measured
    /// ([`round_trip_time`](Self::round_trip_time)).
    pub fn timed_ping(&self) -> Result<Delivery> {
        let stamp = crate::connection::round_trip::stamp(crate::adapters::clock::now());
        self.send(Message::Ping(bytes::Bytes::copy_from_slice(&stamp)))
    }

    /// The last round trip measured from a pong the [`Reader`] read: to a
    /// [`timed_ping`](Self::timed_ping), or to the server's heartbeat ping.
    pub fn round_trip_time(&self) -> Option<Duration> {
        match self.shared.round_trip.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }

    /// Messages dropped for this client because its queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Whether nothing more can be sent: closing, terminated, or its writer ended.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared.queue).closing || self.shared.is_closed()
    }

    /// Waits until the queue is at most half full (or the client is closed): the way to
    /// send a long stream to one client at its own pace, where [`send`](Self::send) alone
    /// would overflow.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only waits.
    pub async fn ready(&self) {
        loop {
            let progress = self.shared.progress.notified();
            if self.buffered_amount() <= self.shared.policy.limit / 2 || self.is_closed() {
                return;
            }
            progress.await;
        }
    }

    /// Whether the client's writer has ended.
    pub(crate) fn is_finished(&self) -> bool {
        self.shared.finished.load(Ordering::Acquire)
    }

    /// Waits until the client's writer has ended (after its Close went out, a termination,
    /// or a failed write).
    pub(crate) async fn finished(&self) {
        loop {
            let progress = self.shared.progress.notified();
            if self.shared.finished.load(Ordering::Acquire) {
                return;
            }
            progress.await;
        }
    }

    /// Subscribes to `topic`; a topic ending in `*` subscribes to every topic that starts
    /// with what precedes it (`"prices.*"`). True if it was new. Needs client tracking
    /// (the default); untracked clients subscribe to nothing.
    pub fn subscribe(&self, topic: &str) -> bool {
        match &self.shared.clients {
            Some(clients) => clients.subscribe(self, topic),
            None => false,
        }
    }

    /// Unsubscribes from `topic` (as it was subscribed, `*` included); true if it was
    /// subscribed.
    pub fn unsubscribe(&self, topic: &str) -> bool {
        match &self.shared.clients {
            Some(clients) => clients.unsubscribe(self.id(), topic),
            None => false,
        }
    }

    /// The topics this client is subscribed to.
    pub fn topics(&self) -> Vec<String> {
        match &self.shared.clients {
            Some(clients) => clients.topics_of(self.id()),
            None => Vec::new(),
        }
    }
}

impl Shared {
    fn new(
        id: u64,
        peer: Peer,
        encoding: FrameEncoding,
        policy: QueuePolicy,
        clients: Option<Box<dyn Membership>>,
    ) -> Self {
        Shared {
            id,
            peer,
            encoding,
            policy,
            queue: Mutex::new(Queue::default()),
            wake_writer: Arc::new(Notify::new()),
            progress: Notify::new(),
            dropped: AtomicU64::new(0),
            terminated: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            read_done: AtomicBool::new(false),
            cause: Mutex::new(None),
            reader_waker: Mutex::new(None),
            round_trip: AtomicU64::new(0),
            clients,
        }
    }

    /// What a send gets once the connection is over: the failure or deadline that ended
    /// it, else `AlreadyClosed`.
    fn closed_error(&self) -> Error {
        lock(&self.cause)
            .as_ref()
            .map_or(Error::AlreadyClosed, Cause::error)
    }

    fn is_closed(&self) -> bool {
        self.terminated.load(Ordering::Acquire)
            || self.finished.load(Ordering::Acquire)
            || self.read_done.load(Ordering::Acquire)
    }
}

impl Drop for Shared {
    /// The last handle is gone: the writer, which holds the client weakly, ends.
    fn drop(&mut self) {
        self.wake_writer.notify_one();
    }
}

/// The client's writer: moves what is queued into the connection and writes it, repeats.
/// Holds the client weakly, so it ends when every handle is gone, and ends too after the
/// Close went out, on termination, or when a write fails.
async fn write_loop(client: Weak<Shared>, wake: Arc<Notify>, mut sender: WebSocketSender<Box<dyn Io>>) {
    loop {
        let woken = wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let Some(shared) = client.upgrade() else {
            break;
        };
        if shared.terminated.load(Ordering::Acquire) {
            terminate(&mut sender).await;
            finish(&shared);
            return;
        }
        if shared.read_done.load(Ordering::Acquire) {
            finish(&shared); // the connection is over: nothing more can go out
            return;
        }
        if lock(&shared.queue).items.is_empty() {
            drop(shared); // wait without keeping the client alive
            woken.await;
            continue;
        }
        // A slow client can keep this write waiting for ever: a termination cuts it short.
        let Some((moved, done)) = or_terminated(write_some(&mut sender, &shared), &shared, &wake).await
        else {
            terminate(&mut sender).await;
            finish(&shared);
            return;
        };
        let (before, after) = {
            let mut queue = lock(&shared.queue);
            let before = queue.bytes;
            queue.bytes = before.saturating_sub(moved);
            (before, queue.bytes)
        };
        shared.progress.notify_waiters();
        if let Some((mark, hook)) = &shared.policy.hooks.drain {
            if before >= *mark && after < *mark {
                hook(&Client {
                    shared: shared.clone(),
                });
            }
        }
        if done {
            finish(&shared);
            return;
        }
    }
}

/// Waits for room under the sender's high-water mark, moves what is queued into it up to
/// that mark, and writes it out: the cost moved, and whether the writer is done (a Close
/// went out, the connection refused more, or the write failed).
async fn write_some(sender: &mut WebSocketSender<Box<dyn Io>>, shared: &Shared) -> (usize, bool) {
    if sender.ready().await.is_err() {
        return (0, true);
    }
    let room = sender.high_water();
    let (moved, closed) = sender.queue_with(|sending| move_queued(shared, sending, Some(room)));
    let flushed = sender.flush().await;
    (moved, closed || flushed.is_err())
}

/// Moves queued items, in order, into the connection's sending engine while it holds at
/// most `room` bytes (`None`: all of them; the first always fits): their cost, and whether
/// nothing more can follow (a Close was queued, or the connection refused a message).
fn move_queued(shared: &Shared, sending: &mut SendingHalf, room: Option<usize>) -> (usize, bool) {
    let mut queue = lock(&shared.queue);
    let mut moved = 0;
    while room.is_none_or(|room| sending.buffered_amount() <= room) {
        let Some(item) = queue.items.pop_front() else {
            break;
        };
        moved += item.cost();
        let (queued, closing) = match item {
            Outbound::Message(message) => (sending.send(&message), false),
            Outbound::Frame(frame) => (sending.send_prepared_frame(&frame), false),
            Outbound::Close(frame) => (sending.close(frame.code, frame.reason.as_str()), true),
        };
        if queued.is_err() {
            crate::log::event!(debug, error = ?queued, "client writer stops");
            return (moved, true);
        }
        if closing {
            return (moved, true);
        }
    }
    (moved, false)
}

/// Runs `work` unless the client is terminated first (`None`).
async fn or_terminated<T>(
    work: impl std::future::Future<Output = T>,
    shared: &Shared,
    wake: &Notify,
) -> Option<T> {
    tokio::pin!(work);
    loop {
        let woken = wake.notified();
        tokio::select! {
            done = &mut work => return Some(done),
            _ = woken => {
                if shared.terminated.load(Ordering::Acquire) {
                    return None;
                }
                // Woken by a new message: it waits for the next round.
            }
        }
    }
}

/// Drops what is queued and shuts the transport down, bounded in time.
async fn terminate(sender: &mut WebSocketSender<Box<dyn Io>>) {
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, sender.terminate()).await;
}

/// The writer ended: tell those waiting.
fn finish(shared: &Shared) {
    shared.finished.store(true, Ordering::Release);
    lock(&shared.queue).bytes = 0;
    shared.progress.notify_waiters();
}

/// Reads one connection's messages; removes the client from the tracked set (and its
/// topics) when the connection ends or the reader is dropped.
pub struct Reader {
    receiver: Option<WebSocketReceiver<Box<dyn Io>>>,
    shared: Arc<Shared>,
    untracked: bool,
}

impl Reader {
    /// The next message; `None` once the connection has closed (or the client was
    /// terminated).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe, as the stream's `next`.
    pub async fn next(&mut self) -> Option<Result<Message>> {
        std::future::poll_fn(|cx| self.poll_message(cx)).await
    }

    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        if self.shared.terminated.load(Ordering::Acquire) {
            self.end();
            return Poll::Ready(None);
        }
        let Some(receiver) = self.receiver.as_mut() else {
            return Poll::Ready(None);
        };
        {
            let mut waker = lock(&self.shared.reader_waker);
            if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *waker = Some(cx.waker().clone());
            }
        }
        let message = std::task::ready!(receiver.poll_message(cx));
        if let (Some(Ok(Message::Pong(_))), Some(rtt)) = (&message, receiver.round_trip_time()) {
            let nanos = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX).max(1);
            self.shared.round_trip.store(nanos, Ordering::Relaxed);
        }
        // A failure or a deadline is reported once the connection is over (the failure's
        // Close went out and was answered, or its deadline passed): record why, and end.
        let cause = match &message {
            Some(Err(error)) => Cause::of(error),
            _ => None,
        };
        if let Some(cause) = cause {
            lock(&self.shared.cause).get_or_insert(cause);
            self.end();
        } else if message.is_none() {
            self.end();
        }
        Poll::Ready(message)
    }

    /// The connection is over: the receiver goes (with it, once the writer is done, the
    /// transport) and the client leaves the tracked set.
    fn end(&mut self) {
        self.receiver = None;
        self.shared.read_done.store(true, Ordering::Release);
        self.shared.wake_writer.notify_one();
        self.untrack();
    }

    fn untrack(&mut self) {
        if !self.untracked {
            self.untracked = true;
            if let Some(clients) = &self.shared.clients {
                clients.remove(self.shared.id);
            }
        }
    }
}

/// Clients with no connection behind them, for fuzzing and testing the registry without
/// sockets (feature `unstable`): what is sent to one stays in its queue until
/// [`take_queued`](Client::take_queued) takes it, as its writer would.
#[cfg(feature = "unstable")]
impl Client {
    /// A client with no connection; `masked` gives it a client-role encoding (nothing
    /// framed once can be shared with it), else a server's (it shares every frame).
    pub(crate) fn detached(
        id: u64,
        masked: bool,
        policy: QueuePolicy,
        clients: Option<Box<dyn Membership>>,
    ) -> Client {
        let encoding = FrameEncoding {
            masked,
            compression: None,
        };
        let peer = Peer {
            addr: None,
            forwarded_for: None,
            trusted: false,
        };
        let shared = Shared::new(id, peer, encoding, policy, clients);
        Client {
            shared: Arc::new(shared),
        }
    }

    /// Takes what is queued, as the writer would (frames framed once come back as the
    /// messages they carry), and frees its room in the queue.
    pub fn take_queued(&self) -> Vec<Message> {
        let items = {
            let mut queue = lock(&self.shared.queue);
            queue.bytes = 0;
            std::mem::take(&mut queue.items)
        };
        items
            .into_iter()
            .map(|item| match item {
                Outbound::Message(message) => message,
                Outbound::Close(frame) => Message::Close(Some(frame)),
                Outbound::Frame(frame) => unframe(frame.as_bytes()),
            })
            .collect()
    }

    /// Ends the client as its reader does when the connection ends: nothing more can be
    /// sent, and it leaves the registry and its topics.
    pub fn end_detached(&self) {
        self.shared.read_done.store(true, Ordering::Release);
        if let Some(clients) = &self.shared.clients {
            clients.remove(self.shared.id);
        }
    }
}

/// The message an unmasked, uncompressed data frame carries.
#[cfg(feature = "unstable")]
fn unframe(wire: &bytes::Bytes) -> Message {
    use crate::frame::{Header, OpCode};
    let Ok(Some((header, len))) = Header::parse(wire) else {
        unreachable!("a prepared frame starts with a whole header")
    };
    let payload = wire.slice(len..);
    match header.opcode {
        OpCode::Text => Message::Text(crate::Utf8Bytes::from_validated(payload)),
        _ => Message::Binary(payload),
    }
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("id", &self.shared.id)
            .finish_non_exhaustive()
    }
}

/// The messages, as a `Stream` (for `StreamExt` combinators, `select!`, `forward`).
impl Stream for Reader {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_message(cx)
    }
}

impl Drop for Reader {
    /// Dropping the reader ends the connection's reading; what is queued still goes out,
    /// then the writer stops and the transport closes.
    fn drop(&mut self) {
        self.untrack();
    }
}
