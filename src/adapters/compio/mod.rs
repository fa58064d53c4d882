//! The compio adapter: completion-based I/O — io_uring on Linux (polling where the kernel
//! lacks it), IOCP on Windows — on compio's thread-per-core runtime.
//!
//! The transport owns its buffers while an operation is in flight, so the adapter lends it
//! the engine's own: a read fills the engine's receive buffer
//! ([`Connection::lend_receive_buffer`](crate::Connection::lend_receive_buffer)), a write
//! takes the engine's queued stretches as [`Bytes`](bytes::Bytes)
//! ([`Connection::pop_outgoing`](crate::Connection::pop_outgoing)) — no copy either way, no
//! `AsyncRead` bridge in between, and no limit on message size beyond the engine's.
//!
//! ```no_run
//! use compio::net::TcpListener;
//! use ferrosocket::{compio as ws, Message};
//!
//! # async fn demo() -> ferrosocket::Result<()> {
//! // Client
//! let (mut socket, _response) = ws::connect("ws://127.0.0.1:9001/").await?;
//! socket.send(Message::text("hello")).await?;
//! let reply = socket.read().await?;
//! socket.close(1000, "done").await?;
//!
//! // Server: a task per connection, on this thread
//! let listener = TcpListener::bind("127.0.0.1:9002").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     compio::runtime::spawn(async move {
//!         let mut socket = ws::accept(stream).await?;
//!         loop {
//!             match socket.read().await? {
//!                 msg @ (Message::Text(_) | Message::Binary(_)) => socket.send(msg).await?,
//!                 Message::Close(_) => return Ok::<_, ferrosocket::Error>(()),
//!                 _ => {}
//!             }
//!         }
//!     })
//!     .detach();
//! }
//! # }
//! ```
//!
//! The engine's deadlines run on compio's timer while a read waits: the handshake's
//! ([`Config::handshake_timeout`](crate::Config::handshake_timeout)), the heartbeat's
//! ([`WebSocket::set_heartbeat`]) and the close deadline
//! ([`Config::close_timeout`](crate::Config::close_timeout)). When a read fails the
//! connection (1002, 1007, 1009), the call sends the Close and reads on, discarding, until
//! the peer's Close or the close deadline, so the peer reads the code instead of a reset.

pub(crate) mod websocket;

use crate::client::Connector;
use crate::{ClientRequest, Response, Result};

pub use websocket::{accept, accept_request, accept_with, client, WebSocket};

#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub use crate::tls::compio::SharedTls;
pub use crate::tls::compio::{Half, MaybeTlsStream};

/// Connects to a `ws://` or `wss://` URL and performs the handshake. `wss://` needs the
/// `rustls` feature and a root feature, or `native-tls`, as for the other runtimes; for every
/// option — TLS roots, a proxy, redirects, a timeout — use [`Connector::connect_compio`].
pub async fn connect(url: &str) -> Result<(WebSocket<MaybeTlsStream>, Response)> {
    Connector::new(ClientRequest::new(url)?).connect_compio().await
}
