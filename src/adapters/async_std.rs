//! async-std networking on top of the [futures-io adapter](crate::futures_io): TCP (and
//! `wss://`) connect with a handshake timeout, and graceful close with async-std's timer.

use std::io;
use std::time::Duration;

use async_std::net::TcpStream;

use crate::futures_io::{self, MaybeTlsStream, WebSocketStream};
use crate::{ClientRequest, CloseCode, CloseFrame, Config, Response, Result, TlsError};

pub use crate::futures_io::{accept, accept_request, accept_with, client};

/// Connects to a `ws://` or `wss://` URL (30 s handshake timeout). `wss://` needs the
/// `rustls` feature and a root feature (`webpki-roots` or `rustls-native-certs`); for other
/// roots use [`connect_tls`].
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
    with_timeout(handshake_timeout, attempt(request, config, None)).await
}

/// [`connect_with`] with the TLS configuration for `wss://` (extra roots, client certificates,
/// ALPN); `None` uses [`tls::default_client_config`](crate::tls::default_client_config).
#[cfg(feature = "rustls")]
pub async fn connect_tls(
    request: ClientRequest,
    config: Config,
    handshake_timeout: Option<Duration>,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response)> {
    with_timeout(handshake_timeout, attempt(request, config, tls)).await
}

#[cfg(feature = "rustls")]
type TlsConfig = Option<std::sync::Arc<rustls::ClientConfig>>;
#[cfg(not(feature = "rustls"))]
type TlsConfig = Option<core::convert::Infallible>;

async fn attempt(
    request: ClientRequest,
    config: Config,
    tls: TlsConfig,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response)> {
    if request.is_secure() && !cfg!(feature = "rustls") {
        return Err(TlsError::NotEnabled.into());
    }
    let tcp = TcpStream::connect((request.host(), request.port())).await?;
    tcp.set_nodelay(true)?;
    let stream = if request.is_secure() {
        secure(tcp, request.host(), tls).await?
    } else {
        MaybeTlsStream::Plain(tcp)
    };
    futures_io::client(stream, request, config).await
}

#[cfg(feature = "rustls")]
async fn secure(tcp: TcpStream, host: &str, tls: TlsConfig) -> Result<MaybeTlsStream<TcpStream>> {
    let config = crate::tls::client_config(tls.as_ref())?;
    let name = crate::tls::server_name(host)?;
    let tls = futures_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?;
    Ok(MaybeTlsStream::Rustls(Box::new(tls)))
}

#[cfg(not(feature = "rustls"))]
async fn secure(_tcp: TcpStream, _host: &str, _tls: TlsConfig) -> Result<MaybeTlsStream<TcpStream>> {
    Err(TlsError::NotEnabled.into())
}

async fn with_timeout<T>(
    limit: Option<Duration>,
    attempt: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match limit {
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
