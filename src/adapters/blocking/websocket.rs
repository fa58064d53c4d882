//! [`WebSocket`]: the engine over a blocking [`Socket`], its read loop (replies, draining
//! after a failure, the engine's deadlines), and the handshakes.

use std::io;
use std::time::Duration;

use super::socket::Socket;
use crate::adapters::clock;
use crate::adapters::held::Held;
use crate::outgoing::MAX_IO_SLICES;
use crate::{
    Accept, ClientRequest, CloseCode, Config, Connection, Error, Event, HandshakeError, Message, Request,
    Response, Result,
};

/// How many bytes one `read` call on the transport asks for, once reads come in bulk.
const READ_CHUNK: usize = 16 * 1024;

/// Reads go to a buffer this size on the stack until one fills it: a connection that sees
/// only small reads, or none (an idle one), holds no read buffer.
const PROBE: usize = 1024;

/// Whether an I/O error is a read timeout (`WouldBlock` on Unix, `TimedOut` on Windows).
fn is_timeout(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// A WebSocket over a blocking transport.
#[derive(Debug)]
pub struct WebSocket<S> {
    stream: S,
    conn: Connection,
    read_buf: Vec<u8>,
    /// `ConnectionClosed` was returned once.
    end_reported: bool,
    /// The read timeout this adapter set for the engine's deadline, if any (a timeout the
    /// application set is left alone).
    read_timeout: Option<Duration>,
    /// The transport's write side was shut down.
    shut_down: bool,
    /// Events read while [`ping`](Self::ping) waited for its pong, for the next reads.
    held: Held,
}

impl<S: Socket> WebSocket<S> {
    /// Wraps a transport and a connection whose handshake is done (or that will do it: any
    /// [`read_event`](Self::read_event) drives the handshake too).
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        WebSocket {
            stream,
            conn,
            read_buf: Vec::new(),
            end_reported: false,
            held: Held::default(),
            read_timeout: None,
            shut_down: false,
        }
    }

    /// Reads the next whole message. Pings are answered before they are returned; a Close is
    /// answered too and returned as `Message::Close(Some(frame))` (code 1006 when the
    /// transport ended without one); the next read fails with [`Error::ConnectionClosed`],
    /// any after it with [`Error::AlreadyClosed`].
    pub fn read(&mut self) -> Result<Message> {
        loop {
            if let Some(message) = self.read_event()?.into_message()? {
                return Ok(message);
            }
        }
    }

    /// Reads the next [`Event`] of the engine, reading the transport as needed, writing
    /// every reply (pong, close) the engine queues, and running its deadlines.
    pub fn read_event(&mut self) -> Result<Event> {
        match self.held.pop() {
            Some(event) => Ok(event),
            None => self.read_fresh_event(),
        }
    }

    /// Pings the peer and waits for its pong: the round-trip time. Messages that arrive
    /// meanwhile are kept, in order, for the next reads, up to `max_message_size` bytes in
    /// all; past that the wait gives up with
    /// [`CapacityError::HeldWhilePinging`](crate::CapacityError::HeldWhilePinging). A Close
    /// arriving first ends it with [`Error::ConnectionClosed`] (the Close is read next).
    pub fn ping(&mut self) -> Result<Duration> {
        let sent = clock::now();
        self.conn.ping_at(sent)?;
        self.flush()?;
        let max = self.conn.config().max_message_size;
        loop {
            let event = self.read_fresh_event()?;
            if self.held.while_pinging(event, sent, max)? {
                return Ok(self.conn.round_trip_time().unwrap_or_else(|| clock::now() - sent));
            }
        }
    }

    /// The last round trip measured: a [`ping`](Self::ping)'s, or the heartbeat's (its
    /// pings are timed too), as pongs are read.
    pub fn round_trip_time(&self) -> Option<Duration> {
        self.conn.round_trip_time()
    }

    /// The next event read from the transport (not one kept by a `ping`).
    fn read_fresh_event(&mut self) -> Result<Event> {
        loop {
            match self.conn.next_event() {
                Ok(Some(event)) => {
                    if let Event::Pong(payload) = &event {
                        self.conn.measure_pong(payload, clock::now());
                    }
                    if matches!(event, Event::Ping(_) | Event::Close(_)) {
                        self.flush_quietly();
                    }
                    return Ok(event);
                }
                Ok(None) if !self.conn.wants_read() => {
                    self.finish();
                    // The end is reported once; reading on is a use after close.
                    let reported = core::mem::replace(&mut self.end_reported, true);
                    return Err(if reported {
                        Error::AlreadyClosed
                    } else {
                        Error::ConnectionClosed
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    self.flush_quietly();
                    self.drain();
                    self.finish();
                    return Err(e);
                }
            }
            self.tick();
            if !self.conn.wants_read() {
                continue; // a deadline ended the connection: the engine reports it
            }
            let io = self.flush().and_then(|()| self.fill());
            if let Err(e) = io {
                // A failed transport fails every later call alike: the error is reported
                // once and the connection ends without a closing handshake. A non-blocking
                // socket's `WouldBlock` (or a timeout of the caller's) is not a failure:
                // the next read goes on.
                if !matches!(&e, Error::Io(io) if is_timeout(io)) {
                    self.conn.terminate();
                }
                return Err(e);
            }
        }
    }

    /// Pings every `interval` while the connection is read, and ends it (the read fails with
    /// [`Error::TimedOut`]) when no pong follows a ping within `timeout` (Node `ws`'s
    /// heartbeat). The pings go out from within [`read`](Self::read), which a socket's read
    /// timeout wakes when one is due.
    pub fn set_heartbeat(&mut self, interval: Duration, timeout: Duration) {
        self.conn.set_heartbeat(interval, timeout);
    }

    /// Runs the engine's due deadlines, and bounds the next read by the time left until the
    /// next one.
    fn tick(&mut self) {
        let Some(due) = self.conn.poll_timeout() else {
            if self.read_timeout.take().is_some() {
                let _ = self.stream.set_read_timeout(None);
            }
            return;
        };
        let mut now = clock::now();
        if due <= now {
            self.conn.handle_timeout(now);
            now = clock::now();
        }
        let wait = self
            .conn
            .poll_timeout()
            .map(|due| due.saturating_sub(now).max(Duration::from_millis(1)));
        // A transport without read timeouts checks the deadlines between reads only.
        if wait != self.read_timeout && self.stream.set_read_timeout(wait).is_ok() {
            self.read_timeout = wait;
        }
    }

    /// After the engine failed the connection and sent its Close: reads and discards until
    /// the peer's Close or the end of the stream, so the transport is not dropped with unread
    /// input (the kernel would answer with a reset, and the peer could lose the Close and
    /// its code). The engine's close deadline bounds it.
    fn drain(&mut self) {
        while self.conn.wants_read() {
            self.tick();
            if !self.conn.wants_read() {
                break;
            }
            if self.fill().is_err() {
                self.conn.terminate();
                break;
            }
            let _ = self.conn.next_event(); // discards what arrived
        }
    }

    /// Once the connection is over: writes what is left (the close reply) and shuts the
    /// write side down if the engine says so.
    fn finish(&mut self) {
        self.flush_quietly();
        if self.conn.wants_shutdown() && !self.shut_down {
            let _ = self.stream.shutdown_write();
            self.shut_down = true;
        }
        if self.read_timeout.take().is_some() {
            let _ = self.stream.set_read_timeout(None);
        }
    }

    /// Reads once from the transport into the engine. A read that times out on the
    /// engine's deadline only runs the deadline.
    fn fill(&mut self) -> Result<()> {
        let mut probe = [0u8; PROBE];
        let buf: &mut [u8] = if self.read_buf.is_empty() {
            &mut probe
        } else {
            &mut self.read_buf
        };
        let n = loop {
            match self.stream.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break 0,
                Err(e) if is_timeout(&e) && self.read_timeout.is_some() => {
                    self.conn.handle_timeout(clock::now());
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        };
        if n == 0 {
            self.conn.receive_eof();
        } else {
            self.conn.receive(&buf[..n]);
        }
        if n == PROBE && self.read_buf.is_empty() {
            self.read_buf = vec![0; READ_CHUNK];
        }
        Ok(())
    }

    /// Sends a message and flushes it.
    pub fn send(&mut self, message: Message) -> Result<()> {
        self.write(message)?;
        self.flush()
    }

    /// Queues a message without flushing (batch several, then [`flush`](Self::flush)).
    pub fn write(&mut self, message: Message) -> Result<()> {
        self.conn.send(&message)
    }

    /// Writes everything queued to the transport.
    pub fn flush(&mut self) -> Result<()> {
        loop {
            let mut slices = [io::IoSlice::new(&[]); MAX_IO_SLICES];
            let filled = self.conn.outgoing_vectored(&mut slices);
            if filled == 0 {
                break;
            }
            match self.stream.write_vectored(&slices[..filled]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => self.conn.advance_outgoing(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.stream.flush()?;
        Ok(())
    }

    /// Flushes, ignoring errors: used where a more useful error or event is about to be
    /// returned (a peer that already hung up cannot read our close frame anyway).
    fn flush_quietly(&mut self) {
        let _ = self.flush();
    }

    /// Starts the closing handshake and flushes the Close frame. Keep calling
    /// [`read`](Self::read) until it returns the peer's Close.
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        self.conn.close(code, reason)?;
        self.flush()
    }

    /// The engine, e.g. for [`Connection::state`] or [`Connection::buffered_amount`].
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The engine, mutably, to queue frames directly.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The transport, mutably (e.g. to change its timeouts).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Gives back the transport and the engine.
    pub fn into_parts(self) -> (S, Connection) {
        (self.stream, self.conn)
    }
}

/// Performs the client handshake over an existing transport (TCP, TLS, a proxy tunnel).
pub fn client<S: Socket>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Response)> {
    let mut ws = WebSocket::from_connection(stream, Connection::client(request, config));
    match ws.read_event()? {
        Event::Open(response) => Ok((ws, *response)),
        _ => Err(HandshakeError::Incomplete.into()),
    }
}

/// Performs the server handshake, accepting any valid upgrade request.
pub fn accept<S: Socket>(stream: S) -> Result<WebSocket<S>> {
    accept_with(stream, Config::default(), |_| Ok(Accept::new()))
}

/// Performs the server handshake, letting `decide` inspect the request and accept it (choose
/// a subprotocol, add headers) or refuse it with any response (e.g. 401).
///
/// A refusal is written to the transport and returned as
/// [`HandshakeError::Rejected`].
pub fn accept_with<S, F>(stream: S, config: Config, decide: F) -> Result<WebSocket<S>>
where
    S: Socket,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    finish_accept(
        WebSocket::from_connection(stream, Connection::server(config)),
        decide,
    )
}

/// Like [`accept_with`] for a request an HTTP server already parsed, with the bytes it read
/// past the request head (Node's `handleUpgrade`).
pub fn accept_request<S, F>(
    stream: S,
    request: Request,
    leftover: &[u8],
    config: Config,
    decide: F,
) -> Result<WebSocket<S>>
where
    S: Socket,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    finish_accept(
        WebSocket::from_connection(stream, Connection::from_request(request, leftover, config)),
        decide,
    )
}

fn finish_accept<S, F>(mut ws: WebSocket<S>, decide: F) -> Result<WebSocket<S>>
where
    S: Socket,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    let Event::Request(request) = ws.read_event()? else {
        return Err(HandshakeError::Incomplete.into());
    };
    let decided = ws.conn.decide(decide(&request));
    ws.flush()?;
    decided.map(|()| ws)
}
