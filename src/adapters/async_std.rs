//! async-std networking on top of the [futures-io adapter](crate::futures_io): TCP (and
//! `wss://`) connect with a handshake timeout, and graceful close with async-std's timer.

use std::io;
use std::time::Duration;

use async_std::net::TcpStream;

use crate::futures_io::{self, MaybeTlsStream, WebSocketStream};
use crate::{ClientRequest, CloseCode, CloseFrame, Config, Response, Result, TlsError};

pub use crate::futures_io::{accept, accept_request, accept_with, client};

/// Connects to a `ws://` or `wss://` URL (30 s handshake timeout). `wss://` needs the
/// `rustls` feature and a root feature (`webpki-roots` or `rustls-native-certs`), or the
/// `native-tls` feature; for other roots use `connect_tls`.
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

/// [`connect_with`] with the TLS for `wss://` — rustls with a `ClientConfig` (extra roots,
/// client certificates, ALPN) or a native-tls connector; `None` uses
/// [`ClientTls::default_config`](crate::tls::ClientTls::default_config).
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub async fn connect_tls(
    request: ClientRequest,
    config: Config,
    handshake_timeout: Option<Duration>,
    tls: Option<crate::tls::ClientTls>,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response)> {
    with_timeout(handshake_timeout, attempt(request, config, tls)).await
}

#[cfg(any(feature = "rustls", feature = "native-tls"))]
type TlsConfig = Option<crate::tls::ClientTls>;
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
type TlsConfig = Option<core::convert::Infallible>;

async fn attempt(
    request: ClientRequest,
    config: Config,
    tls: TlsConfig,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response)> {
    if request.is_secure() && !crate::TLS_ENABLED {
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

#[cfg(any(feature = "rustls", feature = "native-tls"))]
async fn secure(tcp: TcpStream, host: &str, tls: TlsConfig) -> Result<MaybeTlsStream<TcpStream>> {
    use crate::tls::ClientTls;
    match crate::tls::choose(tls.as_ref())? {
        #[cfg(feature = "rustls")]
        ClientTls::Rustls(config) => {
            let name = crate::tls::server_name(host)?;
            let tls = futures_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            Ok(MaybeTlsStream::Rustls(Box::new(tls)))
        }
        #[cfg(feature = "native-tls")]
        ClientTls::NativeTls(connector) => {
            let tls = futures_io::native::connect(connector, crate::tls::bare_host(host), tcp).await?;
            Ok(MaybeTlsStream::NativeTls(Box::new(tls)))
        }
    }
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
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
