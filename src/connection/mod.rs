//! The sans-IO state machine: bytes in, events and bytes out.
//!
//! [`Connection`] is the opening handshake plus two halves, and its state is derived from
//! them. The parts, one module each:
//!
//! - `opening`: the opening handshake as a stage value that each step consumes;
//!   `accept`: the server's decision on a request;
//! - `halves`: the [`ReceivingHalf`] (reading, and the reading side of the control-frame and
//!   close policy) over the `decoder` (bytes to messages, pings, pongs, closes), and the
//!   [`SendingHalf`] (what goes on the wire, in which order) over the `encoder` (frames into
//!   the outgoing queue);
//! - `timers`: the deadlines — handshake, heartbeat, close — as values, driven by
//!   [`Connection::poll_timeout`] and [`Connection::handle_timeout`];
//! - `round_trip`: the stamp a timed ping carries, for the round-trip time;
//! - `outbound`: the send verbs and the outgoing bytes.
//!
//! `ARCHITECTURE.md` walks through the parts.

mod accept;
mod decoder;
mod encoder;
pub(crate) mod halves;
mod opening;
mod outbound;
pub(crate) mod round_trip;
pub(crate) mod timers;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::BytesMut;

use crate::config::Config;
use crate::deflate::DeflateParams;
use crate::error::{Error, Result};
use crate::handshake::{ClientRequest, Request, Response};
use crate::message::Event;
use crate::rng::Rng;

use encoder::Encoder;
pub use halves::{ReceivingHalf, Replies, SendingHalf};
use opening::{Input, Opening, Step};
pub use timers::Timeout;

pub use crate::role::Role;

/// The connection's life cycle, as browsers' `readyState` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    /// The opening handshake is under way.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// This side sent a Close frame and waits for the peer's.
    Closing,
    /// Both Close frames were exchanged, the connection failed, or the transport ended.
    /// Flush what [`Connection::outgoing`] still holds; keep reading while
    /// [`Connection::wants_read`] says so; then the server closes the transport, and the
    /// client waits (briefly) for the server to do so.
    Closed,
}

/// A WebSocket connection, client or server, without I/O.
///
/// Feed it the bytes the transport reads with [`receive`](Self::receive), take
/// [`Event`]s from [`next_event`](Self::next_event), queue messages with the `send_*`
/// methods, and write what [`outgoing`](Self::outgoing) holds to the transport.
///
/// ```
/// use ferrosocket::{ClientRequest, Config, Connection, Event, handshake::Accept};
///
/// let mut client = Connection::client(ClientRequest::new("ws://localhost/chat")?, Config::default());
/// let mut server = Connection::server(Config::default());
///
/// // Move the client's upgrade request to the server; accept it.
/// server.receive(&client.take_outgoing());
/// let Some(Event::Request(request)) = server.next_event()? else { panic!() };
/// assert_eq!(request.path(), "/chat");
/// server.accept(Accept::new())?;
///
/// // Move the 101 back; the client opens.
/// client.receive(&server.take_outgoing());
/// assert!(matches!(client.next_event()?, Some(Event::Open(_))));
///
/// client.send_text("hello")?;
/// server.receive(&client.take_outgoing());
/// assert_eq!(server.next_event()?, Some(Event::Text("hello".into())));
/// # Ok::<(), ferrosocket::Error>(())
/// ```
#[derive(Debug)]
pub struct Connection {
    /// The opening handshake, while it is under way: boxed, so an open connection carries
    /// a pointer rather than the largest stage.
    opening: Option<Box<Opening>>,
    receiving: ReceivingHalf,
    sending: SendingHalf,
}

impl Connection {
    /// A client connection; the upgrade request is queued in [`outgoing`](Self::outgoing).
    /// Masking keys and the handshake nonce come from a generator seeded by the operating
    /// system.
    #[cfg(feature = "std")]
    pub fn client(request: ClientRequest, config: Config) -> Self {
        Connection::client_with_rng(request, config, Rng::from_os())
    }

    /// A client connection whose masking keys and handshake nonce come from `random`, which
    /// fills a buffer with unpredictable bytes (RFC 6455 §5.3): for builds without `std`,
    /// or to use a generator of your choice.
    ///
    /// ```
    /// use ferrosocket::{ClientRequest, Config, Connection};
    /// let mut counter = 0u8; // for a test only: real keys must be unpredictable
    /// let client = Connection::client_with_randomness(
    ///     ClientRequest::new("ws://localhost/")?,
    ///     Config::default(),
    ///     move |buf: &mut [u8]| buf.iter_mut().for_each(|b| { counter = counter.wrapping_add(1); *b = counter }),
    /// );
    /// # Ok::<(), ferrosocket::Error>(())
    /// ```
    pub fn client_with_randomness(
        request: ClientRequest,
        config: Config,
        random: impl FnMut(&mut [u8]) + Send + 'static,
    ) -> Self {
        Connection::client_with_rng(request, config, Rng::from_source(random))
    }

    fn client_with_rng(request: ClientRequest, config: Config, mut rng: Rng) -> Self {
        if let Err(error) = request.check_outgoing() {
            // Nothing is written; the first `next_event` reports the error.
            return Connection::new(Role::Client, config, Opening::Unsendable(error), Some(rng));
        }
        let mut head = Vec::with_capacity(256);
        let offer = config.permessage_deflate.as_ref().map(|d| d.offer());
        let pending = request.encode(rng.nonce(), offer.as_deref(), &mut head);
        let stage = Opening::AwaitingResponse { pending, scanned: 0 };
        let mut conn = Connection::new(Role::Client, config, stage, Some(rng));
        conn.sending.encoder.queue_raw(&head);
        conn
    }

    /// A server connection that reads the upgrade request from the bytes it receives.
    pub fn server(config: Config) -> Self {
        Connection::new(Role::Server, config, Opening::ReadingRequest { scanned: 0 }, None)
    }

    /// A server connection for a request an HTTP server already parsed (Node's `noServer`
    /// mode and `handleUpgrade`), with the bytes the HTTP server read past the request head.
    ///
    /// The first [`next_event`](Self::next_event) validates the request: it yields
    /// [`Event::Request`], or an error with a 400/426 response queued.
    pub fn from_request(request: Request, leftover: &[u8], config: Config) -> Self {
        let stage = Opening::RequestReceived(Box::new(request));
        let mut conn = Connection::new(Role::Server, config, stage, None);
        conn.receiving.decoder.receive(leftover);
        conn
    }

    /// A connection whose opening handshake happened elsewhere: over HTTP/2 (RFC 8441's
    /// extended CONNECT, which has no key and no accept hash), or by an HTTP server that
    /// validated the upgrade and answered it itself. `deflate` is the negotiated
    /// permessage-deflate parameters, if any (`config.permessage_deflate` supplies the
    /// level and threshold, or the defaults if it is `None`). The connection starts open.
    ///
    /// ```
    /// use ferrosocket::{Config, Connection, Role, State};
    /// let mut conn = Connection::open(Role::Server, Config::default(), None);
    /// assert_eq!(conn.state(), State::Open);
    /// conn.receive(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i']);
    /// assert_eq!(conn.next_event()?, Some(ferrosocket::Event::Text("hi".into())));
    /// # Ok::<(), ferrosocket::Error>(())
    /// ```
    #[cfg(feature = "std")]
    pub fn open(role: Role, config: Config, deflate: Option<DeflateParams>) -> Self {
        let rng = (role == Role::Client).then(Rng::from_os);
        Connection::open_with_rng(role, config, deflate, rng)
    }

    /// Client, over HTTP/2 (RFC 8441): your HTTP/2 client sent an extended CONNECT with
    /// [`ClientRequest::extended_connect_headers`] and got `response`. Checks it — a 2xx, a
    /// subprotocol the request offered (or none), extensions as `config` offered — and
    /// returns the open connection to run over the stream. A refusal is
    /// [`HandshakeError::Rejected`](crate::HandshakeError::Rejected) with the response.
    #[cfg(feature = "std")]
    pub fn open_extended_connect(
        request: &ClientRequest,
        response: &Response,
        config: Config,
    ) -> Result<Self> {
        Connection::open_extended_connect_with_rng(request, response, config, Rng::from_os())
    }

    /// Like [`open_extended_connect`](Self::open_extended_connect), with masking keys from
    /// `random` (see [`client_with_randomness`](Self::client_with_randomness)).
    pub fn open_extended_connect_with_randomness(
        request: &ClientRequest,
        response: &Response,
        config: Config,
        random: impl FnMut(&mut [u8]) + Send + 'static,
    ) -> Result<Self> {
        Connection::open_extended_connect_with_rng(request, response, config, Rng::from_source(random))
    }

    fn open_extended_connect_with_rng(
        request: &ClientRequest,
        response: &Response,
        config: Config,
        rng: Rng,
    ) -> Result<Self> {
        let deflate = opening::extended_connect_answered(request, response, &config)?;
        Ok(Connection::open_with_rng(
            Role::Client,
            config,
            deflate,
            Some(rng),
        ))
    }

    /// Like [`open`](Self::open), with masking keys from `random` (see
    /// [`client_with_randomness`](Self::client_with_randomness)); a server ignores it.
    pub fn open_with_randomness(
        role: Role,
        config: Config,
        deflate: Option<DeflateParams>,
        random: impl FnMut(&mut [u8]) + Send + 'static,
    ) -> Self {
        let rng = (role == Role::Client).then(|| Rng::from_source(random));
        Connection::open_with_rng(role, config, deflate, rng)
    }

    fn open_with_rng(role: Role, config: Config, deflate: Option<DeflateParams>, rng: Option<Rng>) -> Self {
        let mut conn = Connection::new(role, config, Opening::ReadingRequest { scanned: 0 }, rng);
        conn.become_open(deflate);
        conn
    }

    /// A connection in `stage`; `masking` supplies a client's masking keys.
    fn new(role: Role, config: Config, stage: Opening, masking: Option<Rng>) -> Self {
        let handshake_timeout = config.handshake_timeout;
        let mut conn = Connection {
            opening: Some(Box::new(stage)),
            sending: SendingHalf::new(Encoder::new(&config, masking)),
            receiving: ReceivingHalf::new(role, config),
        };
        if let Some(length) = handshake_timeout {
            conn.receiving.timers.start_handshake(length);
        }
        conn
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.receiving.role()
    }

    /// Where the connection stands: derived from the handshake, whether frames are still
    /// read, and whether our Close went out.
    pub fn state(&self) -> State {
        if self.opening.is_some() {
            State::Connecting
        } else if !self.receiving.is_reading_frames() {
            State::Closed
        } else if self.sending.close_sent() {
            State::Closing
        } else {
            State::Open
        }
    }

    /// The permessage-deflate parameters, if the extension was negotiated.
    pub fn permessage_deflate(&self) -> Option<DeflateParams> {
        self.receiving.permessage_deflate()
    }

    /// The settings this connection was made with.
    pub fn config(&self) -> &Config {
        self.receiving.config()
    }

    // ---------------------------------------------------------------------------------------
    // Receiving

    /// Hands the engine bytes read from the transport. Nothing is parsed until
    /// [`next_event`](Self::next_event); bytes arriving after the connection stopped
    /// reading are dropped.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.receiving.receive(bytes);
    }

    /// Lends the engine's receive buffer, so a transport reads into it directly instead of
    /// into a buffer of its own that [`receive`](Self::receive) then copies from.
    ///
    /// `fill` gets an empty buffer with spare capacity for at least `room` bytes and appends
    /// what it reads (tokio's `read_buf` does, without zeroing the spare capacity first). It
    /// cannot touch bytes the engine holds already. Returns what `fill` returns.
    ///
    /// ```
    /// use std::io::Read;
    /// # fn demo(conn: &mut ferrosocket::Connection, mut socket: impl Read) -> std::io::Result<()> {
    /// let n = conn.receive_with(4096, |buf| {
    ///     buf.resize(4096, 0);
    ///     let n = socket.read(buf)?;
    ///     buf.truncate(n);
    ///     Ok::<_, std::io::Error>(n)
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn receive_with<R>(&mut self, room: usize, fill: impl FnOnce(&mut BytesMut) -> R) -> R {
        self.receiving.receive_with(room, fill)
    }

    /// Lends the spare room of the receive buffer (at least `room` bytes, fewer when a
    /// message gathered in place misses fewer) as an owned, empty buffer: what a
    /// completion-based transport (io_uring, IOCP) reads into, since it must own the buffer
    /// while the read is in flight. Hand it back filled with
    /// [`return_receive_buffer`](Self::return_receive_buffer); the bytes join the buffered
    /// input without a copy. A buffer that is never returned loses only the room.
    ///
    /// ```
    /// # fn demo(conn: &mut ferrosocket::Connection) {
    /// let mut buf = conn.lend_receive_buffer(4096);
    /// buf.extend_from_slice(b"\x81\x02hi"); // what the transport read
    /// conn.return_receive_buffer(buf);
    /// # }
    /// ```
    pub fn lend_receive_buffer(&mut self, room: usize) -> BytesMut {
        self.receiving.lend_receive_buffer(room)
    }

    /// Takes back a buffer lent by [`lend_receive_buffer`](Self::lend_receive_buffer) with
    /// the bytes the transport read appended (any other buffer is copied in).
    pub fn return_receive_buffer(&mut self, buf: BytesMut) {
        self.receiving.return_receive_buffer(buf);
    }

    /// Room left in the receive buffer: how much a transport can read into it (see
    /// [`receive_with`](Self::receive_with)) before it must grow. Zero when the engine holds
    /// no buffer, as after the handshake: a transport that waits for input can then read into
    /// a small buffer of its own and [`receive`](Self::receive) what arrives, so an idle
    /// connection holds no receive buffer at all.
    pub fn receive_capacity(&self) -> usize {
        self.receiving.receive_capacity()
    }

    /// Tells the engine the transport's read side ended. Once the buffered bytes are
    /// processed, a connection that saw no Close frame reports [`Event::Close`] with 1006.
    pub fn receive_eof(&mut self) {
        self.receiving.receive_eof();
    }

    /// Whether the engine still reads: true until the peer's Close frame or the end of the
    /// stream was seen (or the connection was terminated or refused). After the engine fails
    /// the connection it keeps reading, discarding what arrives, until the peer answers its
    /// Close: a transport closed with unread input sends a reset, and the peer would lose
    /// the Close frame (and its code) in it. Keep reading, bounded by
    /// [`Config::close_timeout`], while this is true.
    pub fn wants_read(&self) -> bool {
        self.receiving.wants_read()
    }

    /// Processes buffered bytes up to the next event.
    ///
    /// `Ok(None)` means more bytes are needed (or the connection is closed). An `Err` fails
    /// the connection: a Close frame with the error's [close code](Error::close_code) (or an
    /// HTTP error response during the handshake) is queued, the state becomes
    /// [`State::Closed`], and later calls return `Ok(None)` (discarding input until the peer
    /// answers: see [`wants_read`](Self::wants_read)).
    pub fn next_event(&mut self) -> Result<Option<Event>> {
        if let Some(timed_out) = self.receiving.take_timeout() {
            self.opening = None;
            return Err(timed_out);
        }
        if self.opening.is_some() {
            return self.opening_step();
        }
        let event = self.receiving.next_event();
        if self.receiving.has_replies() {
            self.sending.answer(self.receiving.take_replies());
        }
        event
    }

    /// Runs the handshake stage; a failure ends the connection (a server queues the HTTP
    /// error response first).
    fn opening_step(&mut self) -> Result<Option<Event>> {
        let Some(mut slot) = self.opening.take() else {
            return Ok(None);
        };
        // The stage moves out for its step; the box waits for the next one.
        let stage = core::mem::replace(&mut *slot, Opening::ReadingRequest { scanned: 0 });
        let input = Input {
            eof: self.receiving.decoder.eof(),
            bytes: self.receiving.decoder.input(),
            config: &self.receiving.config,
        };
        match stage.step(input) {
            Ok(Step::Stay(stage, event)) => {
                *slot = stage;
                self.opening = Some(slot);
                Ok(event)
            }
            Ok(Step::Open(deflate, event)) => {
                self.become_open(deflate);
                Ok(Some(event))
            }
            Err(error) => {
                crate::log::event!(debug, role = ?self.role(), %error, "opening handshake failed");
                if let (Error::Handshake(e), Role::Server) = (&error, self.role()) {
                    self.queue_refusal(&e.to_response());
                }
                self.finish();
                Err(error)
            }
        }
    }

    /// The handshake is done. The buffer that held it goes unless frames follow in it, so a
    /// connection that waits for its first message holds no receive buffer.
    fn become_open(&mut self, deflate: Option<DeflateParams>) {
        if let Some(params) = deflate {
            let defaults = crate::deflate::DeflateConfig::default();
            let config = self.config().permessage_deflate.as_ref().unwrap_or(&defaults);
            let (deflater, inflater) = params.contexts(self.role(), config);
            self.sending.encoder.enable_deflate(deflater, config.threshold);
            self.receiving.decoder.enable_inflate(inflater);
            self.receiving.deflate = Some(params);
        }
        self.opening = None;
        let (idle, lifetime) = (self.config().idle_timeout, self.config().max_lifetime);
        self.receiving.timers.handshake_done(idle, lifetime);
        self.receiving.decoder.release_empty_input();
    }

    /// No more reading or sending after a refused or failed handshake: what is queued (the
    /// HTTP refusal) still goes out.
    fn finish(&mut self) {
        self.opening = None;
        self.receiving.finish();
    }

    // ---------------------------------------------------------------------------------------
    // Time

    /// Pings the peer every `interval` while the connection is open; a pong must follow each
    /// ping within `timeout`, or the connection ends (Node `ws`'s heartbeat): the next
    /// [`next_event`](Self::next_event) returns [`Error::TimedOut`]`(`[`Timeout::Pong`]`)`.
    /// The pings are queued by [`handle_timeout`](Self::handle_timeout); set before the
    /// connection opens, the heartbeat starts when it does.
    pub fn set_heartbeat(&mut self, interval: Duration, timeout: Duration) {
        // Set while connecting, it starts with the open connection: no ping before the 101.
        let open = self.opening.is_none();
        self.receiving.start_heartbeat(interval, timeout, open);
    }

    /// Measures the round trip a pong closes, given the time it arrived on the clock of
    /// [`handle_timeout`](Self::handle_timeout): a pong to [`ping_at`](Self::ping_at)'s ping
    /// carries its send time; an empty one answers the heartbeat's. Adapters call it for
    /// every [`Event::Pong`]; the result is kept as [`round_trip_time`](Self::round_trip_time).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ferrosocket::{Config, Connection, Event, Role};
    ///
    /// let mut client = Connection::open(Role::Client, Config::default(), None);
    /// let mut server = Connection::open(Role::Server, Config::default(), None);
    /// client.ping_at(Duration::from_millis(1_000))?;
    /// server.receive(&client.take_outgoing());
    /// assert!(matches!(server.next_event()?, Some(Event::Ping(_)))); // answered at once
    /// client.receive(&server.take_outgoing());
    /// let Some(Event::Pong(payload)) = client.next_event()? else { panic!() };
    /// let rtt = client.measure_pong(&payload, Duration::from_millis(1_042));
    /// assert_eq!(rtt, Some(Duration::from_millis(42)));
    /// assert_eq!(client.round_trip_time(), rtt);
    /// # Ok::<(), ferrosocket::Error>(())
    /// ```
    pub fn measure_pong(&mut self, payload: &[u8], now: Duration) -> Option<Duration> {
        self.receiving.measure_pong(payload, now)
    }

    /// The last round trip [`measure_pong`](Self::measure_pong) measured (Python
    /// websockets' `latency`).
    pub fn round_trip_time(&self) -> Option<Duration> {
        self.receiving.round_trip_time()
    }

    /// When the engine next needs [`handle_timeout`](Self::handle_timeout), as a time since
    /// an origin the caller picks (an `Instant` taken when the connection was made, say), or
    /// `None` while no deadline runs. The engine reads no clock: sleep until this, then tell
    /// it the time. A deadline that just started is due at once — the engine learns the time
    /// it started from that call.
    ///
    /// The deadlines: the handshake ([`Config::handshake_timeout`]), the heartbeat
    /// ([`set_heartbeat`](Self::set_heartbeat)) and the close deadline: after our Close, or
    /// after a failure, the peer's Close must arrive within [`Config::close_timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use ferrosocket::{Config, Connection, Error, Event, Role, Timeout};
    ///
    /// let mut conn = Connection::open(Role::Server, Config::default(), None);
    /// conn.set_heartbeat(Duration::from_secs(30), Duration::from_secs(10));
    /// conn.handle_timeout(Duration::ZERO); // time 0: the first ping is due at 30 s
    /// assert_eq!(conn.poll_timeout(), Some(Duration::from_secs(30)));
    /// conn.handle_timeout(Duration::from_secs(30));
    /// assert_eq!(&conn.take_outgoing()[..], &[0x89, 0x00]); // the ping
    /// // No pong within 10 s: the connection ends.
    /// conn.handle_timeout(Duration::from_secs(40));
    /// assert!(matches!(conn.next_event(), Err(Error::TimedOut(Timeout::Pong))));
    /// assert!(conn.wants_shutdown());
    /// ```
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.receiving.poll_timeout()
    }

    /// Tells the engine the time (since the same origin as
    /// [`poll_timeout`](Self::poll_timeout)): a due heartbeat ping is queued; a passed
    /// deadline ends the connection without a closing handshake, and the next
    /// [`next_event`](Self::next_event) reports [`Error::TimedOut`] (after a failure, whose
    /// error was reported already, the connection just ends). Calling it early or often is
    /// harmless.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.receiving.handle_timeout(now);
        if self.receiving.has_replies() {
            self.sending.answer(self.receiving.take_replies());
        }
        if !self.receiving.wants_read() {
            self.opening = None;
        }
    }

    /// Whether the transport's write side should be shut down once
    /// [`outgoing`](Self::outgoing) is written: the connection is closed and this is the
    /// server (it ends the TCP connection first, RFC 6455 §7.1.1), or it ended without a
    /// closing handshake (terminated, a deadline passed, a refused handshake).
    pub fn wants_shutdown(&self) -> bool {
        self.opening.is_none() && self.receiving.wants_shutdown()
    }

    // ---------------------------------------------------------------------------------------
    // Two halves

    /// Splits an open (or closing) connection into a sending and a receiving half, to drive
    /// them from two tasks without sharing the engine: the receiving half decodes with no
    /// lock, and hands what the peer's frames call for (a pong, the close reply) to the
    /// sending half through [`ReceivingHalf::take_replies`] and [`SendingHalf::answer`].
    /// A connection whose handshake is still under way is given back.
    ///
    /// ```
    /// use ferrosocket::{Config, Connection, Event, Role};
    /// let conn = Connection::open(Role::Server, Config::default(), None);
    /// let (mut sending, mut receiving) = conn.split().unwrap();
    /// receiving.receive(&[0x89, 0x80, 0, 0, 0, 0]); // a ping
    /// assert!(matches!(receiving.next_event()?, Some(Event::Ping(_))));
    /// sending.answer(receiving.take_replies());
    /// assert_eq!(&sending.take_outgoing()[..], &[0x8a, 0x00]); // its pong
    /// let conn = Connection::reunite(sending, receiving).unwrap();
    /// # Ok::<(), ferrosocket::Error>(())
    /// ```
    #[allow(clippy::result_large_err)] // gives the connection back, as `Arc::try_unwrap` does
    pub fn split(mut self) -> core::result::Result<(SendingHalf, ReceivingHalf), Connection> {
        if self.opening.is_some() {
            return Err(self);
        }
        let pair = next_pair_id();
        self.sending.pair = pair;
        self.receiving.pair = pair;
        Ok((self.sending, self.receiving))
    }

    /// Joins the halves of one [`split`](Self::split) again; halves of different
    /// connections are given back.
    #[allow(clippy::result_large_err)]
    pub fn reunite(
        sending: SendingHalf,
        receiving: ReceivingHalf,
    ) -> core::result::Result<Connection, (SendingHalf, ReceivingHalf)> {
        if sending.pair != receiving.pair {
            return Err((sending, receiving));
        }
        Ok(Connection {
            opening: None,
            receiving,
            sending,
        })
    }
}

/// A number no other split in this process has: it pairs the halves of one connection.
fn next_pair_id() -> usize {
    use core::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
