//! The glue between tokio's I/O traits and the async adapter's [`AsyncTransport`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

use crate::stream::{self, AsyncTransport};

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
