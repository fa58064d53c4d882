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

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::stream::{self, AsyncTransport};
use crate::{ClientRequest, CloseCode, CloseFrame, Config, Response, Result};

/// The glue between a tokio I/O object and [`stream::WebSocketStream`].
#[derive(Debug)]
pub struct TokioTransport<S>(pub S);

impl<S> TokioTransport<S> {
    /// Wraps a tokio I/O object.
    pub fn new(io: S) -> Self {
        TokioTransport(io)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncTransport for TokioTransport<S> {
    fn poll_read_some(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut read_buf = ReadBuf::new(buf);
        std::task::ready!(Pin::new(&mut self.0).poll_read(cx, &mut read_buf))?;
        Poll::Ready(Ok(read_buf.filled().len()))
    }

    fn poll_read_buf(&mut self, cx: &mut Context<'_>, buf: &mut BytesMut) -> Poll<io::Result<usize>> {
        // tokio's `read_buf` reads into the spare capacity without zeroing it first. Its
        // future holds no state between polls, so one made per poll loses nothing.
        std::pin::pin!(self.0.read_buf(buf)).poll(cx)
    }

    fn poll_write_some(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored_some(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush_transport(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown_transport(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn sleep(&self, duration: Duration) -> stream::Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

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
/// and ends). The same as [`WebSocketStream::set_heartbeat`](crate::stream::WebSocketStream::set_heartbeat).
pub fn heartbeat<S>(ws: &mut WebSocketStream<S>, interval: Duration, timeout: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.set_heartbeat(interval, timeout);
}
