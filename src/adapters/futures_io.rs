//! futures-io adapter: a [`WebSocketStream`] over any `futures_io::AsyncRead + AsyncWrite +
//! Unpin`, so smol, async-std and every futures-io runtime share it. Networking helpers for
//! async-std live in [`async_std`](crate::async_std) (feature `async-std`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::stream::{self, AsyncTransport};
use crate::{Accept, ClientRequest, Config, Connection, Request, Response, Result};

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

/// Performs the client handshake over an existing transport.
pub async fn client<S>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocketStream<S>, Response)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream::client(FuturesIo(stream), request, config).await
}

/// Performs the server handshake, accepting any valid request.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> Result<WebSocketStream<S>> {
    accept_with(stream, Config::default(), |_| Ok(Accept::new())).await
}

/// Performs the server handshake; `decide` accepts or refuses the request.
pub async fn accept_with<S, F>(stream: S, config: Config, decide: F) -> Result<WebSocketStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    stream::server(FuturesIo(stream), Connection::server(config), decide).await
}

/// Like [`accept_with`] for a request an HTTP server already parsed.
pub async fn accept_request<S, F>(
    stream: S,
    request: Request,
    leftover: &[u8],
    config: Config,
    decide: F,
) -> Result<WebSocketStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    stream::server(
        FuturesIo(stream),
        Connection::from_request(request, leftover, config),
        decide,
    )
    .await
}
