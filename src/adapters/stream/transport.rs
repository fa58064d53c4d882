//! What a runtime lends the async adapter: poll-style I/O and a timer.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;

/// A timer future, as a runtime makes them.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A transport with poll-style I/O: what [`WebSocketStream`](super::WebSocketStream) needs
/// from a runtime's socket.
///
/// Implemented by the runtime glue types ([`TokioTransport`](crate::tokio::TokioTransport),
/// [`FuturesTransport`](crate::futures_io::FuturesTransport)); implement it to run over anything else.
pub trait AsyncTransport: Unpin {
    /// Reads some bytes into `buf`; `Ok(0)` is the end of the stream.
    fn poll_read_some(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Reads some bytes, appending them to `buf` (empty, with spare capacity): the engine's
    /// own receive buffer, so what is read there is not copied again. `Ok(0)` is the end of
    /// the stream.
    fn poll_read_buf(&mut self, cx: &mut Context<'_>, buf: &mut BytesMut) -> Poll<io::Result<usize>>;
    /// Writes some bytes of `buf`.
    fn poll_write_some(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// Writes some bytes of `bufs`, in order, in one call if the transport can. By default,
    /// writes from the first non-empty slice.
    fn poll_write_vectored_some(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
        self.poll_write_some(cx, first)
    }
    /// Flushes the transport.
    fn poll_flush_transport(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// Shuts down the write side.
    fn poll_shutdown_transport(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// A timer of the transport's runtime that completes after `duration`: the adapter
    /// sleeps on it until the engine's next deadline
    /// ([`Connection::poll_timeout`](crate::Connection::poll_timeout)).
    fn sleep(&self, duration: Duration) -> Sleep;
}
