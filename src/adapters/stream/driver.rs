//! The receive loop, written once for the whole [`WebSocketStream`](super::WebSocketStream)
//! and the split [`WebSocketReceiver`](super::WebSocketReceiver): take the engine's next
//! event; when it has none, write its replies and read once more; after a failure, write its
//! Close and discard input until the peer answers; at the end, shut the write side down when
//! the engine says so and report the failure once. A transport that fails a read or a write
//! ends the connection at once: its error is reported once, then the stream ends. The
//! engine's deadlines run on a timer of the transport's runtime, armed for
//! [`Connection::poll_timeout`](crate::Connection::poll_timeout).

use std::future::Future;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use super::transport::Sleep;
use crate::adapters::held::Held;
use crate::adapters::read_room::ReadRoom;
use crate::{CloseCode, CloseFrame, Connection, Error, Event, Message, ReceivingHalf, Result, State};

/// The engine's reading side as the loop drives it: a whole [`Connection`] or its
/// [`ReceivingHalf`].
pub(crate) trait Engine {
    fn next_event(&mut self) -> Result<Option<Event>>;
    /// Whether input is still read (frames, or discarded while draining).
    fn wants_read(&self) -> bool;
    /// Whether the connection failed and input is discarded until the peer's Close.
    fn is_draining(&self) -> bool;
    fn wants_shutdown(&self) -> bool;
    /// Whether `event` left replies to write at once (a pong, the close reply).
    fn has_replies_after(&self, event: &Event) -> bool;
    fn poll_timeout(&self) -> Option<Duration>;
    fn handle_timeout(&mut self, now: Duration);
    fn measure_pong(&mut self, payload: &[u8], now: Duration) -> Option<Duration>;
    fn round_trip_time(&self) -> Option<Duration>;
    fn max_message_size(&self) -> usize;
    fn terminate(&mut self);
}

impl Engine for Connection {
    fn next_event(&mut self) -> Result<Option<Event>> {
        Connection::next_event(self)
    }
    fn wants_read(&self) -> bool {
        Connection::wants_read(self)
    }
    fn is_draining(&self) -> bool {
        self.state() == State::Closed && self.wants_read()
    }
    fn wants_shutdown(&self) -> bool {
        Connection::wants_shutdown(self)
    }
    fn has_replies_after(&self, event: &Event) -> bool {
        // The whole connection hands replies to its sending side at once; these events
        // are the ones that leave some.
        matches!(event, Event::Ping(_) | Event::Close(_) | Event::Request(_))
    }
    fn poll_timeout(&self) -> Option<Duration> {
        Connection::poll_timeout(self)
    }
    fn handle_timeout(&mut self, now: Duration) {
        Connection::handle_timeout(self, now)
    }
    fn measure_pong(&mut self, payload: &[u8], now: Duration) -> Option<Duration> {
        Connection::measure_pong(self, payload, now)
    }
    fn round_trip_time(&self) -> Option<Duration> {
        Connection::round_trip_time(self)
    }
    fn max_message_size(&self) -> usize {
        self.config().max_message_size
    }
    fn terminate(&mut self) {
        Connection::terminate(self)
    }
}

impl Engine for ReceivingHalf {
    fn next_event(&mut self) -> Result<Option<Event>> {
        ReceivingHalf::next_event(self)
    }
    fn wants_read(&self) -> bool {
        ReceivingHalf::wants_read(self)
    }
    fn is_draining(&self) -> bool {
        ReceivingHalf::is_draining(self)
    }
    fn wants_shutdown(&self) -> bool {
        ReceivingHalf::wants_shutdown(self)
    }
    fn has_replies_after(&self, _: &Event) -> bool {
        self.has_replies()
    }
    fn poll_timeout(&self) -> Option<Duration> {
        ReceivingHalf::poll_timeout(self)
    }
    fn handle_timeout(&mut self, now: Duration) {
        ReceivingHalf::handle_timeout(self, now)
    }
    fn measure_pong(&mut self, payload: &[u8], now: Duration) -> Option<Duration> {
        ReceivingHalf::measure_pong(self, payload, now)
    }
    fn round_trip_time(&self) -> Option<Duration> {
        ReceivingHalf::round_trip_time(self)
    }
    fn max_message_size(&self) -> usize {
        self.config().max_message_size
    }
    fn terminate(&mut self) {
        ReceivingHalf::terminate(self)
    }
}

/// The engine's clock: one runtime timer that sleeps until the engine's next deadline
/// (times since the process-wide origin of `adapters::clock`).
#[derive(Default)]
pub(crate) struct Clock {
    /// The deadline the timer was made for, and the timer.
    sleep: Option<(Duration, Sleep)>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("deadline", &self.sleep.as_ref().map(|(at, _)| at))
            .finish_non_exhaustive()
    }
}

/// What a reader keeps beside its engine: the room of the next read, the failure to report
/// once the peer answered our Close, the clock.
#[derive(Debug, Default)]
pub(crate) struct ReadState {
    /// The room the next read asks for.
    pub(crate) read_room: ReadRoom,
    /// The error that failed the connection, reported once the peer answered our Close (or
    /// the close deadline passed), so the peer reads the Close before the transport goes.
    pub(crate) failure: Option<Error>,
    pub(crate) clock: Clock,
    /// Events read while a `ping()` waited for its pong, for the next reads.
    pub(crate) held: Held,
}

/// A reader the loop drives: its engine, its state, and the transport operations, which
/// for the split receiver go through the shared writer and transport.
pub(crate) trait Reader {
    type Engine: Engine;
    fn engine(&mut self) -> &mut Self::Engine;
    fn state(&mut self) -> &mut ReadState;
    /// Writes the engine's replies and whatever else is queued, and flushes.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>>;
    /// Reads once from the transport into the engine.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>>;
    /// Shuts the transport's write side down (once; later calls are ready at once).
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<()>;
    /// A timer of the transport's runtime.
    fn sleep(&self, duration: Duration) -> Sleep;
    /// Learns what the other half did (the split receiver: whether our Close went out).
    fn sync(&mut self) {}
}

/// Runs the engine's due deadlines and arms the timer for the next one.
fn poll_timers<R: Reader>(reader: &mut R, cx: &mut Context<'_>) {
    // Each round moves a deadline on or ends the connection; a few suffice.
    for _ in 0..8 {
        let Some(deadline) = reader.engine().poll_timeout() else {
            reader.state().clock.sleep = None;
            return;
        };
        let now = crate::adapters::clock::now();
        if deadline > now {
            let rearm = !matches!(&reader.state().clock.sleep, Some((at, _)) if *at == deadline);
            if rearm {
                let sleep = reader.sleep(deadline - now);
                reader.state().clock.sleep = Some((deadline, sleep));
            }
            let Some((_, sleep)) = &mut reader.state().clock.sleep else {
                return;
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return;
            }
            reader.state().clock.sleep = None;
        }
        let now = crate::adapters::clock::now();
        reader.engine().handle_timeout(now);
    }
}

/// The next engine event — first those a `ping()` kept while it waited — reading and
/// writing the transport as needed; `None` once the connection is over (after a failure: its
/// error first, once the peer answered).
pub(crate) fn poll_event<R: Reader>(reader: &mut R, cx: &mut Context<'_>) -> Poll<Option<Result<Event>>> {
    if let Some(event) = reader.state().held.pop() {
        return Poll::Ready(Some(Ok(event)));
    }
    poll_fresh_event(reader, cx)
}

/// Waits for the pong to the ping stamped `sent`, keeping the events read meanwhile for the
/// next reads: the round trip it measured.
pub(crate) fn poll_pong<R: Reader>(
    reader: &mut R,
    sent: Duration,
    cx: &mut Context<'_>,
) -> Poll<Result<Duration>> {
    let max = reader.engine().max_message_size();
    loop {
        let event = match ready!(poll_fresh_event(reader, cx)) {
            Some(Ok(event)) => event,
            Some(Err(e)) => return Poll::Ready(Err(e)),
            None => return Poll::Ready(Err(Error::ConnectionClosed)),
        };
        if reader.state().held.while_pinging(event, sent, max)? {
            let measured = reader.engine().round_trip_time();
            return Poll::Ready(Ok(
                measured.unwrap_or_else(|| crate::adapters::clock::now() - sent)
            ));
        }
    }
}

/// The next event read from the transport (not one kept by a `ping()`).
fn poll_fresh_event<R: Reader>(reader: &mut R, cx: &mut Context<'_>) -> Poll<Option<Result<Event>>> {
    loop {
        reader.sync();
        poll_timers(reader, cx);
        match reader.engine().next_event() {
            Ok(Some(event)) => {
                if let Event::Pong(payload) = &event {
                    reader
                        .engine()
                        .measure_pong(payload, crate::adapters::clock::now());
                }
                if reader.engine().has_replies_after(&event) {
                    // Start writing the reply; it completes on later polls if it must wait.
                    let _ = reader.poll_write(cx);
                }
                return Poll::Ready(Some(Ok(event)));
            }
            Ok(None) if !reader.engine().wants_read() => {
                // Over: write what is left (the close reply), then shut down if asked.
                if ready!(reader.poll_write(cx)).is_ok() && reader.engine().wants_shutdown() {
                    ready!(reader.poll_shutdown(cx));
                }
                return Poll::Ready(reader.state().failure.take().map(Err));
            }
            Ok(None) => {
                // Replies (pongs; after a failure, its Close) go out while we wait for input.
                let draining = reader.engine().is_draining();
                match reader.poll_write(cx) {
                    Poll::Ready(Err(_)) if draining => {
                        reader.engine().terminate(); // the peer is gone: nothing to wait for
                        continue;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(transport_failed(reader, e)))),
                    Poll::Ready(Ok(())) if draining && reader.engine().wants_shutdown() => {
                        ready!(reader.poll_shutdown(cx));
                    }
                    _ => {}
                }
                match ready!(reader.poll_fill(cx)) {
                    Err(_) if draining => reader.engine().terminate(),
                    Err(e) => return Poll::Ready(Some(Err(transport_failed(reader, e)))),
                    Ok(()) => {}
                }
            }
            Err(e) if reader.engine().wants_read() => {
                // The engine failed the connection and queued its Close: drain until the
                // peer answers (or the close deadline passes), then report the error.
                reader.state().failure = Some(e);
            }
            Err(e) => {
                let _ = reader.poll_write(cx);
                return Poll::Ready(Some(Err(e)));
            }
        }
    }
}

/// The transport failed a read or a write: the connection ends without a closing handshake
/// (a failed TLS stream fails every later call alike), so `e` is reported once and the
/// stream ends after it rather than yielding it again on every poll.
fn transport_failed<R: Reader>(reader: &mut R, e: Error) -> Error {
    reader.engine().terminate();
    e
}

/// The next message (skipping events that are not messages).
pub(crate) fn poll_message<R: Reader>(reader: &mut R, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
    loop {
        let event = match ready!(poll_event(reader, cx)) {
            Some(Ok(event)) => event,
            Some(Err(e)) => return Poll::Ready(Some(Err(e))),
            None => return Poll::Ready(None),
        };
        if let Some(message) = event.into_message().transpose() {
            return Poll::Ready(Some(message));
        }
    }
}

/// Reads, discarding messages, until the peer's Close or `deadline`: the peer's Close, or
/// 1006 when the deadline passed or the connection ended without one.
pub(crate) async fn await_close<R: Reader>(
    reader: &mut R,
    deadline: impl Future<Output = ()>,
) -> Result<CloseFrame> {
    let mut deadline = std::pin::pin!(deadline);
    let abnormal = || CloseFrame::new(CloseCode::ABNORMAL, "");
    std::future::poll_fn(|cx| loop {
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ok(abnormal()));
        }
        match ready!(poll_event(reader, cx)) {
            Some(Ok(Event::Close(frame))) => return Poll::Ready(Ok(frame)),
            Some(Ok(_)) => continue,
            Some(Err(Error::AlreadyClosed | Error::ConnectionClosed | Error::TimedOut(_))) | None => {
                return Poll::Ready(Ok(abnormal()))
            }
            Some(Err(e)) => return Poll::Ready(Err(e)),
        }
    })
    .await
}
