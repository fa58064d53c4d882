//! Connection settings and limits.

use core::time::Duration;

use crate::deflate::DeflateConfig;

/// Settings and limits of a [`Connection`](crate::Connection).
///
/// The defaults follow Node's `ws` and fibjs: messages up to 64 MiB, automatic pongs, whole
/// messages rather than fragments.
///
/// ```
/// let config = ferrosocket::Config::default()
///     .max_message_size(1 << 20)
///     .fragment_events(true);
/// assert_eq!(config.max_frame_size, 1 << 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Largest incoming message, in bytes, after decompression (default 64 MiB, ws's
    /// `maxPayload`). A message that would grow past it fails the connection with 1009 before
    /// its bytes are buffered.
    pub max_message_size: usize,
    /// Largest incoming frame payload (default: the message limit).
    pub max_frame_size: usize,
    /// Largest outgoing buffer: a send that would grow it further fails with
    /// [`CapacityError::WriteBufferFull`](crate::CapacityError::WriteBufferFull) and queues
    /// nothing (default unlimited; adapters flush before they queue more).
    pub max_write_buffer_size: usize,
    /// Largest HTTP head of the upgrade request or response (default 16 KiB; 431 beyond).
    pub max_header_bytes: usize,
    /// Most header fields in the upgrade request or response (default 100; 431 beyond).
    pub max_headers: usize,
    /// Answer pings with pongs automatically (default on). Pongs not yet taken from the
    /// outgoing buffer are coalesced: only the latest ping is answered, so a ping flood cannot
    /// grow the buffer.
    pub auto_pong: bool,
    /// Deliver messages as [`Event::Fragment`](crate::Event::Fragment) chunks as their bytes
    /// arrive, instead of whole messages (default off). Lets an application stream messages
    /// far larger than it wants to buffer; `max_message_size` still applies.
    pub fragment_events: bool,
    /// Server: accept unmasked client frames (default off, as RFC 6455 requires).
    pub accept_unmasked_frames: bool,
    /// permessage-deflate (RFC 7692): a client offers it and a server accepts offers when
    /// set. Off by default, as in `ws` and fibjs servers.
    pub permessage_deflate: Option<DeflateConfig>,
    /// How long the connection waits for the peer's Close after it failed the connection
    /// or sent its own Close, reading (and, after a failure, discarding) meanwhile, before it
    /// ends the connection (default 5 s; see
    /// [`Connection::poll_timeout`](crate::Connection::poll_timeout)). Dropping a socket with
    /// unread input makes the kernel send a reset, which can destroy the Close frame (and its
    /// code) before the peer reads it.
    pub close_timeout: Duration,
    /// How long the opening handshake may take, from the connection's first
    /// [`handle_timeout`](crate::Connection::handle_timeout) (default 10 s, Python
    /// `websockets`' `open_timeout`, on every adapter: a client that sends its request a
    /// byte a minute cannot hold a connection; `None` waits for ever). When it passes, the
    /// connection ends with [`Error::TimedOut`](crate::Error::TimedOut)`(`[`Timeout::Handshake`](crate::Timeout::Handshake)`)`.
    /// A connection whose handshake happened elsewhere (hyper, axum, HTTP/2) has none: the
    /// HTTP server bounds that (hyper's `header_read_timeout`).
    pub handshake_timeout: Option<Duration>,
    /// End the open connection when nothing arrives from the peer for this long
    /// (uWebSockets' `idleTimeout` with `sendPingsAutomatically`; default none). Any bytes
    /// received count. After half of it in silence a ping goes out, so a peer that is alive
    /// but has nothing to say answers and stays; one that is gone ends with
    /// [`Error::TimedOut`](crate::Error::TimedOut)`(`[`Timeout::Idle`](crate::Timeout::Idle)`)`
    /// after one to one and a half timeouts of silence (the engine looks every half
    /// timeout). Our own sends do not count: the kernel takes writes for a vanished peer
    /// for minutes.
    pub idle_timeout: Option<Duration>,
    /// Close the open connection with 1001 (going away) this long after it opened
    /// (uWebSockets' `maxLifetime`; default none): a closing handshake like
    /// [`Connection::close`](crate::Connection::close), bounded by `close_timeout`, so the
    /// application still reads what was sent before the peer's Close. Spreads long-lived
    /// clients over servers after a deploy, and bounds how long a credential checked at
    /// the handshake stays in use.
    pub max_lifetime: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message_size: 64 << 20,
            max_frame_size: 64 << 20,
            max_write_buffer_size: usize::MAX,
            max_header_bytes: 16 << 10,
            max_headers: 100,
            auto_pong: true,
            fragment_events: false,
            accept_unmasked_frames: false,
            permessage_deflate: None,
            close_timeout: Duration::from_secs(5),
            handshake_timeout: Some(Duration::from_secs(10)),
            idle_timeout: None,
            max_lifetime: None,
        }
    }
}

impl Config {
    /// Limits for a server facing the open internet, like Python `websockets`' defaults,
    /// where [`Config::default`] follows Node's `ws`:
    ///
    /// | setting | default (`ws`) | hardened (`websockets`) |
    /// |---|---|---|
    /// | `max_message_size` / `max_frame_size` | 64 MiB | 1 MiB |
    /// | `max_write_buffer_size` | unlimited | 4 MiB |
    /// | `max_header_bytes` / `max_headers` | 16 KiB / 100 | 8 KiB / 64 |
    /// | `handshake_timeout` | 10 s | 10 s |
    /// | `idle_timeout` | none | 40 s: a ping after 20 s of silence, the end 20 s later |
    /// | `close_timeout` | 5 s | 5 s |
    ///
    /// The idle timeout stands for `websockets`' 20 s ping interval and 20 s pong timeout,
    /// without pinging connections that are busy anyway.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = ferrosocket::Config::hardened();
    /// assert_eq!(config.max_message_size, 1 << 20);
    /// assert_eq!(config.idle_timeout, Some(Duration::from_secs(40)));
    /// ```
    pub fn hardened() -> Self {
        Config::default()
            .max_message_size(1 << 20)
            .max_write_buffer_size(4 << 20)
            .max_header_bytes(8 << 10)
            .max_headers(64)
            .handshake_timeout(Duration::from_secs(10))
            .idle_timeout(Duration::from_secs(40))
    }

    /// Sets `max_message_size`, and `max_frame_size` to the same value.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self.max_frame_size = bytes;
        self
    }

    /// Sets `max_frame_size`.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets `max_write_buffer_size`.
    pub fn max_write_buffer_size(mut self, bytes: usize) -> Self {
        self.max_write_buffer_size = bytes;
        self
    }

    /// Sets `max_header_bytes`.
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes;
        self
    }

    /// Sets `max_headers`.
    pub fn max_headers(mut self, count: usize) -> Self {
        self.max_headers = count;
        self
    }

    /// Sets `auto_pong`.
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Sets `fragment_events`.
    pub fn fragment_events(mut self, on: bool) -> Self {
        self.fragment_events = on;
        self
    }

    /// Enables permessage-deflate with these settings.
    pub fn permessage_deflate(mut self, deflate: DeflateConfig) -> Self {
        self.permessage_deflate = Some(deflate);
        self
    }

    /// Sets `accept_unmasked_frames`.
    pub fn accept_unmasked_frames(mut self, on: bool) -> Self {
        self.accept_unmasked_frames = on;
        self
    }

    /// Sets `close_timeout`.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets `handshake_timeout`.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = Some(timeout);
        self
    }

    /// Sets `idle_timeout`.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Sets `max_lifetime`.
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = Some(lifetime);
        self
    }
}
