//! tokio adapter: a [`WebSocketStream`] over any `tokio::io::AsyncRead + AsyncWrite + Unpin`
//! (TcpStream, TLS streams, upgraded hyper connections), with TCP connect and accept helpers.
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use ferrosocket::{tokio as ws, Message};
//!
//! # async fn run() -> ferrosocket::Result<()> {
//! let (mut socket, _response) = ws::connect("ws://127.0.0.1:9001/").await?;
//! socket.send(Message::text("hello")).await?;          // or SinkExt::send
//! while let Some(message) = socket.next().await {       // or StreamExt::next
//!     println!("{:?}", message?);
//! }
//! # Ok(()) }
//! ```

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::stream;
use crate::{ClientRequest, CloseCode, CloseFrame, Config, Response, Result};

pub use transport::TokioTransport;

pub(crate) mod transport;

/// A WebSocket over a tokio transport.
pub type WebSocketStream<S> = stream::WebSocketStream<TokioTransport<S>>;

/// The sending half of a split [`WebSocketStream`] ([`into_split`](stream::WebSocketStream::into_split)).
pub type WebSocketSender<S> = stream::WebSocketSender<TokioTransport<S>>;

/// The receiving half of a split [`WebSocketStream`] ([`into_split`](stream::WebSocketStream::into_split)).
pub type WebSocketReceiver<S> = stream::WebSocketReceiver<TokioTransport<S>>;

/// Connects to a `ws://` or `wss://` URL (30 s handshake timeout). `wss://` needs the
/// `rustls` feature and a root feature (`webpki-roots` or `rustls-native-certs`), or the
/// `native-tls` feature; for other roots use [`Connector::tls`].
pub async fn connect(url: &str) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response)> {
    connect_with(
        ClientRequest::new(url)?,
        Config::default(),
        Some(Duration::from_secs(30)),
    )
    .await
}

/// Connects with a full request and config; the timeout covers the TCP connect, TLS for
/// `wss://` and the handshake.
pub async fn connect_with(
    request: ClientRequest,
    config: Config,
    handshake_timeout: Option<Duration>,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response)> {
    Connector::new(request)
        .config(config)
        .timeout(handshake_timeout)
        .connect()
        .await
}

pub use crate::client::{Backoff, Connector, Reconnect, Reconnecting};

pub use crate::tls::tokio::MaybeTlsStream;

stream::handshake_entry_points!(TokioTransport, AsyncRead, AsyncWrite);

/// Closes gracefully within `timeout`: the peer's Close, or 1006 if it did not answer in time
/// (then drop the stream to close the transport).
pub async fn close<S>(
    ws: &mut WebSocketStream<S>,
    code: impl Into<CloseCode>,
    reason: &str,
    timeout: Duration,
) -> Result<CloseFrame>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.close_within(code, reason, tokio::time::sleep(timeout)).await
}

/// Pings every `interval` while the stream is read; ends the connection when a pong does
/// not arrive within `timeout` (the stream then yields
/// [`Error::TimedOut`](crate::Error::TimedOut)`(`[`Timeout::Pong`](crate::Timeout::Pong)`)`
/// and ends). The same as
/// [`WebSocketStream::set_heartbeat`](crate::stream::WebSocketStream::set_heartbeat).
pub fn heartbeat<S>(ws: &mut WebSocketStream<S>, interval: Duration, timeout: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.set_heartbeat(interval, timeout);
}
