//! futures-io adapter: a [`WebSocketStream`] over any `futures_io::AsyncRead + AsyncWrite +
//! Unpin`, so smol, async-std and every futures-io runtime share it. Networking helpers for
//! async-std live in [`async_std`](crate::async_std) (feature `async-std`).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::BytesMut;

use futures_io::{AsyncRead, AsyncWrite};

use super::read_room::ReadRoom;
use super::stream::{self, AsyncTransport};

/// The glue between a futures-io object and [`stream::WebSocketStream`].
#[derive(Debug)]
pub struct FuturesTransport<S> {
    /// The I/O object.
    pub io: S,
    /// futures-io reads only into initialized memory: this buffer is zeroed once and reused,
    /// rather than zeroing the engine's spare room on every read.
    scratch: Vec<u8>,
}

impl<S> FuturesTransport<S> {
    /// Wraps a futures-io object.
    pub fn new(io: S) -> Self {
        FuturesTransport {
            io,
            scratch: Vec::new(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncTransport for FuturesTransport<S> {
    fn poll_read_some(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }

    fn poll_read_buf(&mut self, cx: &mut Context<'_>, buf: &mut BytesMut) -> Poll<io::Result<usize>> {
        // No bigger than one read of the tokio glue: the engine's spare room can be a whole
        // message being gathered, and a scratch buffer that size would double it.
        let room = buf.capacity().clamp(1, ReadRoom::MAX);
        if self.scratch.len() < room {
            self.scratch.resize(room, 0);
        }
        let n = ready!(Pin::new(&mut self.io).poll_read(cx, &mut self.scratch[..room]))?;
        buf.extend_from_slice(&self.scratch[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_write_some(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored_some(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn poll_flush_transport(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown_transport(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_close(cx)
    }

    /// `async-io`'s timer: it runs on any executor (smol's own, async-std's, or none).
    fn sleep(&self, duration: Duration) -> stream::Sleep {
        let timer = async_io::Timer::after(duration);
        Box::pin(async move {
            timer.await;
        })
    }
}

/// A WebSocket over a futures-io transport.
pub type WebSocketStream<S> = stream::WebSocketStream<FuturesTransport<S>>;

/// The sending half of a split [`WebSocketStream`] ([`into_split`](stream::WebSocketStream::into_split)).
pub type WebSocketSender<S> = stream::WebSocketSender<FuturesTransport<S>>;

/// The receiving half of a split [`WebSocketStream`] ([`into_split`](stream::WebSocketStream::into_split)).
pub type WebSocketReceiver<S> = stream::WebSocketReceiver<FuturesTransport<S>>;

stream::handshake_entry_points!(FuturesTransport, AsyncRead, AsyncWrite);

pub use crate::tls::futures_io::MaybeTlsStream;

/// Generates a runtime module's connectors over its TCP stream type: `connect`,
/// `connect_with` and (with a TLS feature) `connect_tls`, shorthands for the
/// [`Connector`](crate::client::Connector) on that runtime (`$connect` names its method).
macro_rules! connectors {
    ($tcp:ty, $connect:ident) => {
        /// Connects to a `ws://` or `wss://` URL (30 s handshake timeout). `wss://` needs the
        /// `rustls` feature and a root feature (`webpki-roots` or `rustls-native-certs`), or
        /// the `native-tls` feature; for other roots use `connect_tls`.
        pub async fn connect(
            url: &str,
        ) -> $crate::Result<(
            $crate::futures_io::WebSocketStream<$crate::futures_io::MaybeTlsStream<$tcp>>,
            $crate::Response,
        )> {
            $crate::client::Connector::new($crate::ClientRequest::new(url)?)
                .$connect()
                .await
        }

        /// Connects with a full request and config; the timeout covers the TCP connect, TLS
        /// for `wss://` and the handshake.
        pub async fn connect_with(
            request: $crate::ClientRequest,
            config: $crate::Config,
            handshake_timeout: Option<std::time::Duration>,
        ) -> $crate::Result<(
            $crate::futures_io::WebSocketStream<$crate::futures_io::MaybeTlsStream<$tcp>>,
            $crate::Response,
        )> {
            $crate::client::Connector::new(request)
                .config(config)
                .timeout(handshake_timeout)
                .$connect()
                .await
        }

        /// [`connect_with`] with the TLS for `wss://` — rustls with a `ClientConfig` (extra
        /// roots, client certificates, ALPN) or a native-tls connector; `None` uses
        /// [`ClientTls::default_config`](crate::tls::ClientTls::default_config).
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        pub async fn connect_tls(
            request: $crate::ClientRequest,
            config: $crate::Config,
            handshake_timeout: Option<std::time::Duration>,
            tls: Option<$crate::tls::ClientTls>,
        ) -> $crate::Result<(
            $crate::futures_io::WebSocketStream<$crate::futures_io::MaybeTlsStream<$tcp>>,
            $crate::Response,
        )> {
            let mut connector = $crate::client::Connector::new(request)
                .config(config)
                .timeout(handshake_timeout);
            if let Some(tls) = tls {
                connector = connector.tls(tls);
            }
            connector.$connect().await
        }
    };
}

pub(crate) use connectors;

/// Closes gracefully within `timeout`: the peer's Close, or 1006 if it did not answer.
pub async fn close<S>(
    ws: &mut WebSocketStream<S>,
    code: impl Into<crate::CloseCode>,
    reason: &str,
    timeout: Duration,
) -> crate::Result<crate::CloseFrame>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.close_within(code, reason, async {
        async_io::Timer::after(timeout).await;
    })
    .await
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
