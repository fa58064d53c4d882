//! futures-io adapter: a [`WebSocketStream`] over any `futures_io::AsyncRead + AsyncWrite +
//! Unpin`, so smol, async-std and every futures-io runtime share it. Networking helpers for
//! async-std live in [`async_std`](crate::async_std) (feature `async-std`).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::BytesMut;

use futures_io::{AsyncRead, AsyncWrite};

use super::stream::{self, AsyncTransport};

/// The glue between a futures-io object and [`stream::WebSocketStream`].
#[derive(Debug)]
pub struct FuturesIo<S> {
    /// The I/O object.
    pub io: S,
    /// futures-io reads only into initialized memory: this buffer is zeroed once and reused,
    /// rather than zeroing the engine's spare room on every read.
    scratch: Vec<u8>,
}

impl<S> FuturesIo<S> {
    /// Wraps a futures-io object.
    pub fn new(io: S) -> Self {
        FuturesIo {
            io,
            scratch: Vec::new(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncTransport for FuturesIo<S> {
    fn poll_read_some(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }

    fn poll_read_buf(&mut self, cx: &mut Context<'_>, buf: &mut BytesMut) -> Poll<io::Result<usize>> {
        // No bigger than one read of the tokio glue: the engine's spare room can be a whole
        // message being gathered, and a scratch buffer that size would double it.
        let room = buf.capacity().clamp(1, stream::MAX_READ);
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
pub type WebSocketStream<S> = stream::WebSocketStream<FuturesIo<S>>;

stream::handshake_entry_points!(FuturesIo, AsyncRead, AsyncWrite);
