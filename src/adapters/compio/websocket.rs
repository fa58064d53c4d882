//! [`WebSocket`]: the engine over a completion-based transport. Reads go straight into the
//! engine's receive buffer, lent out as an owned buffer
//! ([`Connection::lend_receive_buffer`]); writes hand the engine's queued stretches over as
//! owned [`Bytes`] ([`Connection::pop_outgoing`]), in one vectored write, without copying.

use std::io;
use std::pin::pin;
use std::time::Duration;

use ::compio::buf::BufResult;
use ::compio::io::util::Splittable;
use ::compio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use bytes::Bytes;
use futures_util::future::{select, Either};

use crate::adapters::clock;
use crate::adapters::held::Held;
use crate::adapters::read_room::ReadRoom;
use crate::outgoing::MAX_IO_SLICES;
use crate::{
    Accept, ClientRequest, CloseCode, Config, Connection, Error, Event, HandshakeError, Message, Request,
    Response, Result,
};

/// A WebSocket over a completion-based transport (compio's `TcpStream`, `UnixStream`, or any
/// [`Splittable`] pair of owned-buffer halves).
///
/// The transport is split once: a heartbeat ping or a close reply can go out while a read
/// waits. [`read`](Self::read) is not cancel-safe (a completed read whose future was dropped
/// loses its bytes): rather than racing it against other futures, let one task read and
/// reply, or send from another task through [`Connection`]-level queues of your own.
pub struct WebSocket<S: Splittable> {
    reader: S::ReadHalf,
    writer: S::WriteHalf,
    conn: Connection,
    /// The stretches of one vectored write; kept to reuse its allocation.
    runs: Vec<Bytes>,
    /// The room the next read asks for while the engine holds a partial frame.
    read_room: ReadRoom,
    /// `ConnectionClosed` was returned once.
    end_reported: bool,
    /// The transport's write side was shut down.
    shut_down: bool,
    /// Events read while [`ping`](Self::ping) waited for its pong, for the next reads.
    held: Held,
}

impl<S: Splittable> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("conn", &self.conn)
            .field("read_room", &self.read_room)
            .finish_non_exhaustive()
    }
}

impl<S> WebSocket<S>
where
    S: Splittable,
    S::ReadHalf: AsyncRead,
    S::WriteHalf: AsyncWrite,
{
    /// Wraps a transport and a connection whose handshake is done (or that will do it: any
    /// [`read_event`](Self::read_event) drives the handshake too).
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        let (reader, writer) = stream.split();
        WebSocket {
            reader,
            writer,
            conn,
            runs: Vec::new(),
            read_room: ReadRoom::default(),
            end_reported: false,
            held: Held::default(),
            shut_down: false,
        }
    }

    /// Reads the next whole message. Pings are answered before they are returned; a Close is
    /// answered too and returned as `Message::Close(Some(frame))` (code 1006 when the
    /// transport ended without one); the next read fails with [`Error::ConnectionClosed`],
    /// any after it with [`Error::AlreadyClosed`].
    pub async fn read(&mut self) -> Result<Message> {
        loop {
            if let Some(message) = self.read_event().await?.into_message()? {
                return Ok(message);
            }
        }
    }

    /// Reads the next [`Event`] of the engine, reading the transport as needed, writing
    /// every reply (pong, close) the engine queues, and running its deadlines (the
    /// heartbeat, the handshake and close deadlines) on compio's timer.
    pub async fn read_event(&mut self) -> Result<Event> {
        match self.held.pop() {
            Some(event) => Ok(event),
            None => self.read_fresh_event().await,
        }
    }

    /// Pings the peer and waits for its pong: the round-trip time. Messages that arrive
    /// meanwhile are kept, in order, for the next reads, up to `max_message_size` bytes in
    /// all; past that the wait gives up with
    /// [`CapacityError::HeldWhilePinging`](crate::CapacityError::HeldWhilePinging). A Close
    /// arriving first ends it with [`Error::ConnectionClosed`] (the Close is read next).
    pub async fn ping(&mut self) -> Result<Duration> {
        let sent = clock::now();
        self.conn.ping_at(sent)?;
        self.flush().await?;
        let max = self.conn.config().max_message_size;
        loop {
            let event = self.read_fresh_event().await?;
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
    async fn read_fresh_event(&mut self) -> Result<Event> {
        loop {
            match self.conn.next_event() {
                Ok(Some(event)) => {
                    if let Event::Pong(payload) = &event {
                        self.conn.measure_pong(payload, clock::now());
                    }
                    if matches!(event, Event::Ping(_) | Event::Close(_)) {
                        self.flush_quietly().await;
                    }
                    return Ok(event);
                }
                Ok(None) if !self.conn.wants_read() => {
                    self.finish().await;
                    // The end is reported once; reading on is a use after close.
                    let reported = std::mem::replace(&mut self.end_reported, true);
                    return Err(if reported {
                        Error::AlreadyClosed
                    } else {
                        Error::ConnectionClosed
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    // The engine failed the connection and queued its Close: the peer reads
                    // it before the transport goes, then the error is reported.
                    self.flush_quietly().await;
                    self.drain().await;
                    self.finish().await;
                    return Err(e);
                }
            }
            // A failed transport fails every later call alike: the error is reported once
            // and the connection ends without a closing handshake.
            let io = match self.flush().await {
                Ok(()) => self.fill().await,
                failed => failed,
            };
            if let Err(e) = io {
                self.conn.terminate();
                return Err(e);
            }
        }
    }

    /// Pings every `interval` while the connection is read, and ends it (the read fails with
    /// [`Error::TimedOut`]) when no pong follows a ping within `timeout` (Node `ws`'s
    /// heartbeat). The pings go out from within [`read`](Self::read), while it waits.
    pub fn set_heartbeat(&mut self, interval: std::time::Duration, timeout: std::time::Duration) {
        self.conn.set_heartbeat(interval, timeout);
    }

    /// Reads once from the transport into the engine's buffer, running the engine's
    /// deadlines while the read waits (a heartbeat ping goes out meanwhile). Returns early,
    /// the read abandoned, when a deadline ends the connection.
    async fn fill(&mut self) -> Result<()> {
        let WebSocket {
            reader,
            writer,
            conn,
            runs,
            read_room,
            ..
        } = self;
        // A connection whose engine holds nothing waits with a small buffer.
        let room = if conn.receive_capacity() == 0 {
            ReadRoom::FIRST
        } else {
            read_room.get()
        };
        let buf = conn.lend_receive_buffer(room);
        let mut read = pin!(reader.read(buf));
        let BufResult(result, buf) = loop {
            let Some(due) = conn.poll_timeout() else {
                break read.await;
            };
            let now = clock::now();
            if due > now {
                let sleep = pin!(::compio::time::sleep(due - now));
                match select(read.as_mut(), sleep).await {
                    Either::Left((done, _)) => break done,
                    Either::Right(((), _)) => {}
                }
            }
            conn.handle_timeout(clock::now());
            if !conn.wants_read() {
                return Ok(()); // a deadline ended the connection: the engine reports it
            }
            // A heartbeat ping goes out while the read waits.
            if write_all(writer, conn, runs).await.is_err() {
                conn.terminate();
                return Ok(());
            }
        };
        match result {
            Ok(0) => conn.receive_eof(),
            Ok(n) => {
                conn.return_receive_buffer(buf);
                read_room.record(n, room);
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => conn.receive_eof(),
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// After the engine failed the connection and sent its Close: reads and discards until
    /// the peer's Close or the end of the stream, so the transport is not dropped with unread
    /// input (the peer would get a reset and could lose the Close). The engine's close
    /// deadline bounds it.
    async fn drain(&mut self) {
        while self.conn.wants_read() {
            if self.fill().await.is_err() {
                self.conn.terminate();
                break;
            }
            let _ = self.conn.next_event(); // discards what arrived
        }
    }

    /// Once the connection is over: writes what is left (the close reply) and shuts the
    /// write side down if the engine says so.
    async fn finish(&mut self) {
        self.flush_quietly().await;
        if self.conn.wants_shutdown() && !self.shut_down {
            let _ = self.writer.shutdown().await;
            self.shut_down = true;
        }
    }

    /// Sends a message and flushes it.
    pub async fn send(&mut self, message: Message) -> Result<()> {
        self.write(message)?;
        self.flush().await
    }

    /// Queues a message without writing it (batch several, then [`flush`](Self::flush)).
    pub fn write(&mut self, message: Message) -> Result<()> {
        self.conn.send(&message)
    }

    /// Writes everything queued to the transport.
    pub async fn flush(&mut self) -> Result<()> {
        write_all(&mut self.writer, &mut self.conn, &mut self.runs).await
    }

    /// Flushes, ignoring errors: used where a more useful error or event is about to be
    /// returned (a peer that already hung up cannot read our close frame anyway).
    async fn flush_quietly(&mut self) {
        let _ = self.flush().await;
    }

    /// Starts the closing handshake and writes the Close frame. Keep calling
    /// [`read`](Self::read) until it returns the peer's Close.
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        self.conn.close(code, reason)?;
        self.flush().await
    }

    /// The engine, e.g. for [`Connection::state`] or [`Connection::buffered_amount`].
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The engine, mutably, to queue frames directly.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Gives back the transport's halves and the engine.
    pub fn into_parts(self) -> (S::ReadHalf, S::WriteHalf, Connection) {
        (self.reader, self.writer, self.conn)
    }
}

/// Writes everything the engine has queued, the stretches moved out of the engine as owned
/// buffers, up to [`MAX_IO_SLICES`] per vectored write.
async fn write_all<W: AsyncWrite>(
    writer: &mut W,
    conn: &mut Connection,
    runs: &mut Vec<Bytes>,
) -> Result<()> {
    loop {
        while runs.len() < MAX_IO_SLICES {
            match conn.pop_outgoing() {
                Some(run) => runs.push(run),
                None => break,
            }
        }
        let result = match runs.len() {
            0 => return Ok(writer.flush().await?),
            1 => {
                let run = runs.pop().expect("one stretch");
                writer.write_all(run).await.0
            }
            _ => {
                let BufResult(result, mut taken) = writer.write_vectored_all(std::mem::take(runs)).await;
                taken.clear();
                *runs = taken;
                result
            }
        };
        result?;
    }
}

/// Performs the client handshake over an existing transport (TCP, TLS, a proxy tunnel).
pub async fn client<S>(stream: S, request: ClientRequest, config: Config) -> Result<(WebSocket<S>, Response)>
where
    S: Splittable,
    S::ReadHalf: AsyncRead,
    S::WriteHalf: AsyncWrite,
{
    let mut ws = WebSocket::from_connection(stream, Connection::client(request, config));
    match ws.read_event().await? {
        Event::Open(response) => Ok((ws, *response)),
        _ => Err(HandshakeError::Incomplete.into()),
    }
}

/// Performs the server handshake, accepting any valid upgrade request.
pub async fn accept<S>(stream: S) -> Result<WebSocket<S>>
where
    S: Splittable,
    S::ReadHalf: AsyncRead,
    S::WriteHalf: AsyncWrite,
{
    accept_with(stream, Config::default(), |_| Ok(Accept::new())).await
}

/// Performs the server handshake, letting `decide` inspect the request and accept it (choose
/// a subprotocol, add headers) or refuse it with any response (e.g. 401).
///
/// A refusal is written to the transport and returned as [`HandshakeError::Rejected`].
pub async fn accept_with<S, F>(stream: S, config: Config, decide: F) -> Result<WebSocket<S>>
where
    S: Splittable,
    S::ReadHalf: AsyncRead,
    S::WriteHalf: AsyncWrite,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    finish_accept(
        WebSocket::from_connection(stream, Connection::server(config)),
        decide,
    )
    .await
}

/// Like [`accept_with`] for a request an HTTP server already parsed, with the bytes it read
/// past the request head (Node's `handleUpgrade`).
pub async fn accept_request<S, F>(
    stream: S,
    request: Request,
    leftover: &[u8],
    config: Config,
    decide: F,
) -> Result<WebSocket<S>>
where
    S: Splittable,
    S::ReadHalf: AsyncRead,
    S::WriteHalf: AsyncWrite,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    let conn = Connection::from_request(request, leftover, config);
    finish_accept(WebSocket::from_connection(stream, conn), decide).await
}

async fn finish_accept<S, F>(mut ws: WebSocket<S>, decide: F) -> Result<WebSocket<S>>
where
    S: Splittable,
    S::ReadHalf: AsyncRead,
    S::WriteHalf: AsyncWrite,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    let Event::Request(request) = ws.read_event().await? else {
        return Err(HandshakeError::Incomplete.into());
    };
    let decided = ws.conn.decide(decide(&request));
    ws.flush().await?;
    decided.map(|()| ws)
}
