//! tokio adapter: a [`WebSocketStream`] over any `tokio::io::AsyncRead + AsyncWrite + Unpin`
//! (TcpStream, TLS streams, upgraded hyper connections), with TCP connect and accept helpers.
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use ferrosocket::{tokio as ws, Message};
//!
//! # async fn run() -> ferrosocket::Result<()> {
//! let (mut socket, _response) = ws::connect("ws://127.0.0.1:9001/").await?;
//! socket.send(Message::text("hello")).await?;          // or SinkExt::send
//! while let Some(message) = socket.next().await {       // or StreamExt::next
//!     println!("{:?}", message?);
//! }
//! # Ok(()) }
//! ```

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::stream::{self, AsyncTransport};
use crate::Message;
use crate::{ClientRequest, CloseCode, CloseFrame, Config, HandshakeError, Response, Result};

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

/// A WebSocket over a tokio transport.
pub type WebSocketStream<S> = stream::WebSocketStream<TokioTransport<S>>;

/// The sending half of a split [`WebSocketStream`] ([`into_split`](stream::WebSocketStream::into_split)).
pub type WebSocketSender<S> = stream::WebSocketSender<TokioTransport<S>>;

/// The receiving half of a split [`WebSocketStream`] ([`into_split`](stream::WebSocketStream::into_split)).
pub type WebSocketReceiver<S> = stream::WebSocketReceiver<TokioTransport<S>>;

/// Connects to a `ws://` or `wss://` URL (30 s handshake timeout). `wss://` needs the
/// `rustls` feature and a root feature (`webpki-roots` or `rustls-native-certs`), or the
/// `native-tls` feature; for other roots use [`Connector::tls`].
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
    Connector::new(request)
        .config(config)
        .timeout(handshake_timeout)
        .connect()
        .await
}

/// A client connection with every option: an HTTP proxy (`CONNECT` tunnel, with TLS inside it
/// for `wss://`), redirects (off by default, like `ws`'s `followRedirects`), a timeout, the TLS
/// configuration.
///
/// ```no_run
/// use std::time::Duration;
/// use ferrosocket::{tokio::Connector, ClientRequest};
/// # async fn run() -> ferrosocket::Result<()> {
/// let (ws, response) = Connector::new(ClientRequest::new("ws://example.com/feed")?)
///     .proxy("127.0.0.1:3128", Some("Basic dXNlcjpwYXNz"))
///     .follow_redirects(3)
///     .timeout(Some(Duration::from_secs(10)))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Connector {
    request: ClientRequest,
    config: Config,
    timeout: Option<Duration>,
    proxy: Option<(String, Option<String>)>,
    max_redirects: usize,
    tls: crate::tls::TlsChoice,
}

impl Connector {
    /// A connector for `request` with default settings and a 30 s timeout.
    pub fn new(request: ClientRequest) -> Self {
        Connector {
            request,
            config: Config::default(),
            timeout: Some(Duration::from_secs(30)),
            proxy: None,
            max_redirects: 0,
            tls: None,
        }
    }

    /// The TLS for `wss://` — an `Arc<rustls::ClientConfig>` (extra roots, client
    /// certificates, ALPN) or a `native_tls::TlsConnector` — instead of
    /// [`ClientTls::default_config`](crate::tls::ClientTls::default_config).
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    pub fn tls(mut self, tls: impl Into<crate::tls::ClientTls>) -> Self {
        self.tls = Some(tls.into());
        self
    }

    /// Engine settings.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Bounds the whole attempt: TCP connect, proxy, redirects and handshakes.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Tunnels through an HTTP proxy at `address` (`host:port`) with `CONNECT`, sending
    /// `Proxy-Authorization` when given.
    pub fn proxy(mut self, address: impl Into<String>, authorization: Option<&str>) -> Self {
        self.proxy = Some((address.into(), authorization.map(str::to_owned)));
        self
    }

    /// Follows up to `max` redirects (301, 302, 303, 307, 308 with a `Location`).
    pub fn follow_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// Connects and performs the handshake.
    pub async fn connect(self) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response)> {
        let timeout = self.timeout;
        with_timeout(timeout, self.attempt()).await
    }

    async fn attempt(self) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response)> {
        let mut request = self.request.clone();
        let mut redirects = 0;
        loop {
            crate::tls::check_enabled(&request)?;
            let tcp = match &self.proxy {
                Some((proxy, authorization)) => {
                    let mut stream = TcpStream::connect(proxy.as_str()).await?;
                    tunnel(&mut stream, &request.authority(), authorization.as_deref()).await?;
                    stream
                }
                None => TcpStream::connect((request.host(), request.port())).await?,
            };
            tcp.set_nodelay(true)?;
            let stream = if request.is_secure() {
                crate::tls::tokio::secure(tcp, request.host(), &self.tls).await?
            } else {
                MaybeTlsStream::Plain(tcp)
            };
            match client(stream, request.clone(), self.config.clone()).await {
                Err(crate::Error::Handshake(HandshakeError::Rejected(response)))
                    if redirects < self.max_redirects
                        && matches!(response.status, 301 | 302 | 303 | 307 | 308) =>
                {
                    let location = response
                        .headers
                        .get("location")
                        .ok_or(HandshakeError::MissingHeader("Location"))?;
                    request = request.redirect(location)?;
                    redirects += 1;
                }
                result => return result,
            }
        }
    }
}

pub use crate::tls::tokio::MaybeTlsStream;

/// Opens an HTTP `CONNECT` tunnel to `authority` through the proxy on `stream`.
async fn tunnel(stream: &mut TcpStream, authority: &str, authorization: Option<&str>) -> Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if let Some(authorization) = authorization {
        crate::handshake::check_field("Proxy-Authorization", authorization)?;
    }
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(authorization) = authorization {
        head.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    // Read the proxy's answer byte by byte: nothing past its head may be consumed.
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() > 16 << 10 {
            return Err(HandshakeError::HeaderTooLarge { max: 16 << 10 }.into());
        }
        let byte = stream.read_u8().await.map_err(|_| HandshakeError::Incomplete)?;
        answer.push(byte);
    }
    let status_line = answer.split(|&b| b == b'\r').next().unwrap_or_default();
    let status = std::str::from_utf8(status_line)
        .ok()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(200..=299) => Ok(()),
        Some(code) => Err(HandshakeError::Rejected(Box::new(Response::new(code))).into()),
        None => Err(HandshakeError::MalformedHttp("bad proxy response").into()),
    }
}

stream::handshake_entry_points!(TokioTransport, AsyncRead, AsyncWrite);

/// Closes gracefully within `timeout`: the peer's Close, or 1006 if it did not answer in time
/// (then drop the stream to close the transport).
pub async fn close<S>(
    ws: &mut WebSocketStream<S>,
    code: impl Into<CloseCode>,
    reason: &str,
    timeout: Duration,
) -> Result<CloseFrame>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.close_within(code, reason, tokio::time::sleep(timeout)).await
}

/// Pings every `interval` while the stream is read; ends the connection when a pong does
/// not arrive within `timeout` (the stream then yields
/// [`Error::TimedOut`](crate::Error::TimedOut)`(`[`Timeout::Pong`](crate::Timeout::Pong)`)`
/// and ends). The same as [`WebSocketStream::set_heartbeat`](crate::stream::WebSocketStream::set_heartbeat).
pub fn heartbeat<S>(ws: &mut WebSocketStream<S>, interval: Duration, timeout: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.set_heartbeat(interval, timeout);
}

async fn with_timeout<T>(
    timeout: Option<Duration>,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match timeout {
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "WebSocket handshake timed out"))?,
        None => work.await,
    }
}

/// How long a [`Reconnecting`] client waits between attempts: `initial`, multiplied by
/// `factor` after every failure, capped at `max`; `max_attempts` failures in a row give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
    /// Growth per failed attempt.
    pub factor: u32,
    /// Consecutive failures before giving up (`None`: never).
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
            factor: 2,
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// The delay before attempt number `attempt` (1 = the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let growth = self.factor.max(1).saturating_pow(attempt.saturating_sub(1));
        self.initial.saturating_mul(growth).min(self.max)
    }
}

/// What a [`Reconnecting`] client reports.
#[derive(Debug)]
pub enum Reconnect {
    /// A connection was (re-)established.
    Connected(Box<Response>),
    /// A message arrived.
    Message(Message),
    /// The connection ended (the peer's Close, or `None` when it broke); a new attempt
    /// follows after the backoff delay.
    Disconnected(Option<CloseFrame>),
}

/// A client that reconnects with [`Backoff`] whenever the connection ends, until
/// [`close`](Self::close) is called or `max_attempts` is reached.
///
/// ```no_run
/// use ferrosocket::tokio::{Backoff, Connector, Reconnect, Reconnecting};
/// use ferrosocket::{ClientRequest, Message};
/// # async fn run() -> ferrosocket::Result<()> {
/// let connector = Connector::new(ClientRequest::new("ws://127.0.0.1:9001/feed")?);
/// let mut client = Reconnecting::new(connector, Backoff::default());
/// while let Some(event) = client.next().await {
///     match event {
///         Ok(Reconnect::Connected(_)) => client.send(Message::text("subscribe")).await?,
///         Ok(Reconnect::Message(message)) => println!("{message:?}"),
///         Ok(Reconnect::Disconnected(_)) | Err(_) => {} // retried automatically
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Reconnecting {
    connector: Connector,
    backoff: Backoff,
    ws: Option<WebSocketStream<MaybeTlsStream<TcpStream>>>,
    /// Consecutive failed or ended connections since the last success.
    attempt: u32,
    stopped: bool,
}

impl Reconnecting {
    /// A client that connects on the first [`next`](Self::next).
    pub fn new(connector: Connector, backoff: Backoff) -> Self {
        Reconnecting {
            connector,
            backoff,
            ws: None,
            attempt: 0,
            stopped: false,
        }
    }

    /// Whether a connection is open now.
    pub fn is_connected(&self) -> bool {
        self.ws.is_some()
    }

    /// The next event: connects (after the backoff delay) when disconnected. A failed attempt
    /// is returned as an error and retried on the next call; `None` once closed or given up.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe while connected (it reads with the stream's cancel-safe `next`).
    /// Cancelled during the backoff delay or a connection attempt, that attempt is dropped
    /// and the next call starts a new one.
    pub async fn next(&mut self) -> Option<Result<Reconnect>> {
        if self.stopped {
            return None;
        }
        let Some(ws) = self.ws.as_mut() else {
            if self.attempt > 0 {
                tokio::time::sleep(self.backoff.delay(self.attempt)).await;
            }
            return Some(match self.connector.clone().connect().await {
                Ok((ws, response)) => {
                    self.ws = Some(ws);
                    self.attempt = 0;
                    Ok(Reconnect::Connected(Box::new(response)))
                }
                Err(e) => {
                    self.attempt += 1;
                    if self.backoff.max_attempts.is_some_and(|max| self.attempt >= max) {
                        self.stopped = true;
                    }
                    Err(e)
                }
            });
        };
        let ended = match ws.next().await {
            Some(Ok(Message::Close(frame))) => frame,
            Some(Ok(message)) => return Some(Ok(Reconnect::Message(message))),
            Some(Err(_)) | None => None,
        };
        self.ws = None;
        self.attempt = 1;
        Some(Ok(Reconnect::Disconnected(ended)))
    }

    /// Sends on the current connection; [`Error::NotOpen`](crate::Error::NotOpen) while
    /// disconnected.
    ///
    /// # Cancel safety
    ///
    /// As [`WebSocketStream::send`](crate::stream::WebSocketStream::send).
    pub async fn send(&mut self, message: Message) -> Result<()> {
        match self.ws.as_mut() {
            Some(ws) => ws.send(message).await,
            None => Err(crate::Error::NotOpen),
        }
    }

    /// Stops reconnecting and closes the current connection (waiting up to 5 s for the
    /// close handshake).
    ///
    /// # Cancel safety
    ///
    /// Reconnecting stops at the first poll; cancelled later, the connection is dropped
    /// (its Close may not have gone out).
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        self.stopped = true;
        if let Some(mut ws) = self.ws.take() {
            close(&mut ws, code, reason, Duration::from_secs(5)).await?;
        }
        Ok(())
    }
}
