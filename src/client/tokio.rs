//! The [`Connector`] on tokio.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{dial_address, no_address, Connector, Step, Tunnel, MAX_WANTED};
use crate::adapters::tokio::transport::TokioTransport;
use crate::stream::{self, WebSocketStream};
use crate::tls::tokio::MaybeTlsStream;
use crate::{ClientRequest, Response, Result};

/// What the tokio connector returns (`tokio::WebSocketStream<MaybeTlsStream<TcpStream>>`).
pub(crate) type TokioClient = WebSocketStream<TokioTransport<MaybeTlsStream<TcpStream>>>;

impl Connector {
    /// Connects and performs the handshake, on tokio.
    pub async fn connect(self) -> Result<(TokioClient, Response)> {
        let timeout = self.timeout;
        with_timeout(timeout, self.attempt()).await
    }

    /// Opens the TCP connection to the request's host — through the proxy when one applies
    /// ([`via`](Self::via), [`proxy_from_env`](Self::proxy_from_env)) — with no TLS and no
    /// handshake: for a protocol the connector does not speak itself, such as HTTP/2 with
    /// hyper ([`hyper::connect_http2`](crate::hyper::connect_http2)) through a proxy.
    /// Bounded by the connector's [`timeout`](Self::timeout).
    ///
    /// ```no_run
    /// use ferrosocket::client::{Connector, Proxy};
    /// use ferrosocket::ClientRequest;
    ///
    /// # async fn run() -> ferrosocket::Result<()> {
    /// let request = ClientRequest::new("wss://example.com/feed")?;
    /// let proxy = Proxy::from_url("socks5h://127.0.0.1:1080")?;
    /// let tcp = Connector::new(request).via(proxy).dial().await?;
    /// // TLS with ALPN h2 over `tcp`, then the extended CONNECT.
    /// # drop(tcp); Ok(()) }
    /// ```
    pub async fn dial(&self) -> Result<TcpStream> {
        with_timeout(self.timeout, self.dial_for(&self.request)).await
    }

    /// The TCP connection for `request`, tunnelled through its proxy if one applies.
    async fn dial_for(&self, request: &ClientRequest) -> Result<TcpStream> {
        let proxy = self.proxy_for(request)?;
        let address = dial_address(proxy.as_ref(), request);
        let mut tcp = TcpStream::connect(address).await?;
        tcp.set_nodelay(true)?;
        if let Some(proxy) = proxy {
            let resolved = match proxy.resolves_locally(request) {
                true => Some(resolve(&request.authority()).await?),
                false => None,
            };
            let (exchange, bytes) = proxy.tunnel(request, resolved)?;
            tunnel(&mut tcp, exchange, bytes).await?;
        }
        Ok(tcp)
    }

    async fn attempt(self) -> Result<(TokioClient, Response)> {
        let mut request = self.request.clone();
        for redirects in 0.. {
            crate::tls::check_enabled(&request)?;
            let tcp = self.dial_for(&request).await?;
            let stream = if request.is_secure() {
                crate::tls::tokio::secure(tcp, request.host(), &self.tls).await?
            } else {
                MaybeTlsStream::Plain(tcp)
            };
            match stream::client(TokioTransport::new(stream), request.clone(), self.config.clone()).await {
                Err(error) => match self.redirect(&request, &error, redirects) {
                    Some(next) => request = next?,
                    None => return Err(error),
                },
                done => return done,
            }
        }
        unreachable!("the loop returns")
    }
}

/// Runs the proxy's exchange over `stream`, starting with `first`.
async fn tunnel(stream: &mut TcpStream, mut exchange: Tunnel, first: Vec<u8>) -> Result<()> {
    stream.write_all(&first).await?;
    let mut buf = [0u8; MAX_WANTED];
    loop {
        let n = stream.read(&mut buf[..exchange.wanted()]).await?;
        match exchange.receive(&buf[..n])? {
            Step::Read => {}
            Step::Write(bytes) => stream.write_all(&bytes).await?,
            Step::Open => return Ok(()),
        }
    }
}

/// The first address `authority` (`host:port`) resolves to.
async fn resolve(authority: &str) -> io::Result<std::net::IpAddr> {
    let mut addresses = tokio::net::lookup_host(authority).await?;
    addresses.next().map(|a| a.ip()).ok_or_else(no_address)
}

/// `work`, bounded by `timeout` (a `TimedOut` I/O error when it passes).
pub(crate) async fn with_timeout<T>(
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
