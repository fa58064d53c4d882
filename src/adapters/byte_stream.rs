//! A byte-stream view of a WebSocket (Node `ws`'s `createWebSocketStream`): reads yield the
//! payloads of incoming messages back to back, each write becomes one binary message, and
//! shutting down starts the closing handshake. Handy for piping, or for running a protocol
//! that expects a byte stream (a codec, TLS-in-WebSocket) over a WebSocket.
//!
//! It implements tokio's `AsyncRead`/`AsyncWrite` (feature `tokio`) and the futures-io ones
//! (feature `futures-io`).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};

use super::stream::{AsyncTransport, WebSocketStream};
use crate::{CloseCode, Error, Message, State};

/// A WebSocket seen as a byte stream.
///
/// ```no_run
/// use ferrosocket::byte_stream::ByteStream;
/// use tokio::io::AsyncWriteExt;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let (ws, _) = ferrosocket::tokio::connect("ws://127.0.0.1:9001/upload").await?;
/// let mut upload = ByteStream::new(ws);
/// let mut file = tokio::fs::File::open("Cargo.toml").await?;
/// tokio::io::copy(&mut file, &mut upload).await?; // each write is a binary message
/// upload.shutdown().await?; // the closing handshake
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ByteStream<T> {
    ws: WebSocketStream<T>,
    /// What is left of the message being read.
    pending: Bytes,
}

impl<T: AsyncTransport> ByteStream<T> {
    /// Wraps an open WebSocket.
    pub fn new(ws: WebSocketStream<T>) -> Self {
        ByteStream {
            ws,
            pending: Bytes::new(),
        }
    }

    /// The WebSocket underneath.
    pub fn get_ref(&self) -> &WebSocketStream<T> {
        &self.ws
    }

    /// Gives the WebSocket back (bytes of a partly read message are dropped).
    pub fn into_inner(self) -> WebSocketStream<T> {
        self.ws
    }

    fn poll_read_bytes(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        while self.pending.is_empty() {
            match ready!(self.ws.poll_message(cx)) {
                Some(Ok(Message::Binary(data))) => self.pending = data,
                Some(Ok(Message::Text(text))) => self.pending = text.into_bytes(),
                Some(Ok(Message::Close(_))) | None => return Poll::Ready(Ok(0)),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Poll::Ready(Err(into_io(e))),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.advance(n);
        Poll::Ready(Ok(n))
    }

    fn poll_write_bytes(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.ws.poll_ready_to_send(cx)).map_err(into_io)?;
        self.ws.connection_mut().send_binary(buf).map_err(into_io)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush_bytes(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.ws.poll_write_out(cx).map_err(into_io)
    }

    fn poll_shutdown_bytes(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.ws.connection().state() == State::Open {
            self.ws
                .connection_mut()
                .close(CloseCode::NORMAL, "")
                .map_err(into_io)?;
        }
        self.ws.poll_write_out(cx).map_err(into_io)
    }
}

fn into_io(error: Error) -> io::Error {
    match error {
        Error::Io(e) => e,
        Error::AlreadyClosed | Error::ConnectionClosed => io::Error::new(io::ErrorKind::BrokenPipe, error),
        other => io::Error::new(io::ErrorKind::InvalidData, other),
    }
}

#[cfg(feature = "tokio")]
impl<T: AsyncTransport> tokio::io::AsyncRead for ByteStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = ready!(self.get_mut().poll_read_bytes(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

#[cfg(feature = "tokio")]
impl<T: AsyncTransport> tokio::io::AsyncWrite for ByteStream<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_bytes(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_bytes(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_shutdown_bytes(cx)
    }
}

#[cfg(feature = "futures-io")]
impl<T: AsyncTransport> futures_io::AsyncRead for ByteStream<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_bytes(cx, buf)
    }
}

#[cfg(feature = "futures-io")]
impl<T: AsyncTransport> futures_io::AsyncWrite for ByteStream<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_bytes(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_bytes(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_shutdown_bytes(cx)
    }
}
