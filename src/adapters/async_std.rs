//! async-std networking on top of the [futures-io adapter](crate::futures_io): TCP connect
//! with a handshake timeout, and graceful close with async-std's timer.

use std::io;
use std::time::Duration;

use async_std::net::TcpStream;

use crate::futures_io::{self, WebSocketStream};
use crate::{ClientRequest, CloseCode, CloseFrame, Config, HandshakeError, Response, Result};

pub use crate::futures_io::{accept, accept_request, accept_with, client};

/// Connects to a `ws://` URL over TCP (30 s handshake timeout).
pub async fn connect(url: &str) -> Result<(WebSocketStream<TcpStream>, Response)> {
    connect_with(
        ClientRequest::new(url)?,
        Config::default(),
        Some(Duration::from_secs(30)),
    )
    .await
}

/// Connects over TCP with a full request and config; the timeout covers the TCP connect and
/// the handshake.
pub async fn connect_with(
    request: ClientRequest,
    config: Config,
    handshake_timeout: Option<Duration>,
) -> Result<(WebSocketStream<TcpStream>, Response)> {
    if request.is_secure() {
        return Err(HandshakeError::InvalidUrl(
            "wss:// needs a TLS stream: use futures_io::client over it".into(),
        )
        .into());
    }
    let attempt = async {
        let stream = TcpStream::connect((request.host(), request.port())).await?;
        stream.set_nodelay(true)?;
        futures_io::client(stream, request, config).await
    };
    match handshake_timeout {
        Some(limit) => async_std::future::timeout(limit, attempt)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "WebSocket handshake timed out"))?,
        None => attempt.await,
    }
}

/// Closes gracefully within `timeout`: the peer's Close, or 1006 if it did not answer.
pub async fn close<S>(
    ws: &mut WebSocketStream<S>,
    code: impl Into<CloseCode>,
    reason: &str,
    timeout: Duration,
) -> Result<CloseFrame>
where
    S: ::futures_io::AsyncRead + ::futures_io::AsyncWrite + Unpin,
{
    ws.close_within(code, reason, async_std::task::sleep(timeout))
        .await
}

/// Pings every `interval` while the stream is read; terminates the connection when a pong
/// does not arrive within `timeout` (the stream then yields a `TimedOut` error and ends).
pub fn heartbeat<S>(ws: &mut WebSocketStream<S>, interval: Duration, timeout: Duration)
where
    S: ::futures_io::AsyncRead + ::futures_io::AsyncWrite + Unpin,
{
    ws.set_heartbeat(
        interval,
        timeout,
        std::sync::Arc::new(|d| Box::pin(async_std::task::sleep(d))),
    );
}
