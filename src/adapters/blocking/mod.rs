//! Blocking adapter over any `std::io::Read + Write` transport.
//!
//! ```no_run
//! use ferrosocket::{blocking, Message};
//!
//! // Client
//! let (mut ws, _response) = blocking::connect("ws://127.0.0.1:9001/")?;
//! ws.send(Message::text("hello"))?;
//! let reply = ws.read()?;
//! ws.close(1000, "done")?;
//!
//! // Server: a thread per connection
//! let listener = std::net::TcpListener::bind("127.0.0.1:9002")?;
//! for stream in listener.incoming() {
//!     std::thread::spawn(move || -> ferrosocket::Result<()> {
//!         let mut ws = blocking::accept(stream?)?;
//!         loop {
//!             match ws.read()? {
//!                 msg @ (Message::Text(_) | Message::Binary(_)) => ws.send(msg)?,
//!                 Message::Close(_) => return Ok(()),
//!                 _ => {}
//!             }
//!         }
//!     });
//! }
//! # Ok::<(), ferrosocket::Error>(())
//! ```
//!
//! Deadlines come from the engine
//! ([`Connection::poll_timeout`](crate::Connection::poll_timeout)): the handshake's
//! ([`Config::handshake_timeout`]), the heartbeat's ([`WebSocket::set_heartbeat`]) and the
//! close deadline ([`Config::close_timeout`]: after our Close, or after a failure, the peer's
//! Close must arrive in time). While one runs, each blocking read is bounded by the
//! transport's read timeout ([`Socket::set_read_timeout`]) so the call wakes when it is due:
//! a heartbeat ping goes out, or a passed deadline ends the connection with
//! [`Error::TimedOut`](crate::Error::TimedOut). Outside the engine's deadlines the
//! transport's own read timeout, if you set one, is yours.
//!
//! When a read fails the connection (1002, 1007, 1009), the call sends the Close and keeps
//! reading, discarding, until the peer's Close or the end of its stream (within the close
//! deadline), so the peer reads the code instead of a reset.

use std::net::TcpStream;
use std::time::Duration;

use crate::client::Connector;
use crate::{ClientRequest, Config, Response, Result};

pub(crate) mod socket;
pub(crate) mod websocket;

pub use socket::Socket;
pub use websocket::{accept, accept_request, accept_with, client, WebSocket};

pub use crate::tls::blocking::MaybeTlsStream;

/// Connects to a `ws://` or `wss://` URL and performs the handshake. `wss://` needs the
/// `rustls` feature and a root feature (`webpki-roots` or `rustls-native-certs`), or the
/// `native-tls` feature; for other roots use `connect_tls`.
pub fn connect(url: &str) -> Result<(WebSocket<MaybeTlsStream<TcpStream>>, Response)> {
    connect_request(ClientRequest::new(url)?, Config::default(), None)
}

/// Connects with the full request, config, and a timeout covering the TCP connect, TLS for
/// `wss://` and the handshake.
pub fn connect_request(
    request: ClientRequest,
    config: Config,
    handshake_timeout: Option<Duration>,
) -> Result<(WebSocket<MaybeTlsStream<TcpStream>>, Response)> {
    Connector::new(request)
        .config(config)
        .timeout(handshake_timeout)
        .connect_blocking()
}

/// [`connect_request`] with the TLS for `wss://` — rustls with a `ClientConfig` (extra
/// roots, client certificates, ALPN) or a native-tls connector; `None` uses
/// [`ClientTls::default_config`](crate::tls::ClientTls::default_config).
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub fn connect_tls(
    request: ClientRequest,
    config: Config,
    handshake_timeout: Option<Duration>,
    tls: Option<crate::tls::ClientTls>,
) -> Result<(WebSocket<MaybeTlsStream<TcpStream>>, Response)> {
    let mut connector = Connector::new(request).config(config).timeout(handshake_timeout);
    if let Some(tls) = tls {
        connector = connector.tls(tls);
    }
    connector.connect_blocking()
}
