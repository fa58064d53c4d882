//! futures-io adapter: a [`WebSocketStream`] over any `futures_io::AsyncRead + AsyncWrite +
//! Unpin`, so smol, async-std and every futures-io runtime share it. Networking helpers for
//! async-std live in [`async_std`](crate::async_std) (feature `async-std`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::stream::{self, AsyncTransport};

/// The glue between a futures-io object and [`stream::WebSocketStream`].
#[derive(Debug)]
pub struct FuturesIo<S>(pub S);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncTransport for FuturesIo<S> {
    fn poll_read_some(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }

    fn poll_write_some(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush_transport(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown_transport(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

/// A WebSocket over a futures-io transport.
pub type WebSocketStream<S> = stream::WebSocketStream<FuturesIo<S>>;

stream::handshake_entry_points!(FuturesIo, AsyncRead, AsyncWrite);
