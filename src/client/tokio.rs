//! The [`Connector`] on tokio.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::proxy::HttpConnect;
use super::Connector;
use crate::adapters::tokio::transport::TokioTransport;
use crate::stream::{self, WebSocketStream};
use crate::tls::tokio::MaybeTlsStream;
use crate::{Response, Result};

/// What the tokio connector returns (`tokio::WebSocketStream<MaybeTlsStream<TcpStream>>`).
pub(crate) type TokioClient = WebSocketStream<TokioTransport<MaybeTlsStream<TcpStream>>>;

impl Connector {
    /// Connects and performs the handshake, on tokio.
    pub async fn connect(self) -> Result<(TokioClient, Response)> {
        let timeout = self.timeout;
        with_timeout(timeout, self.attempt()).await
    }

    async fn attempt(self) -> Result<(TokioClient, Response)> {
        let mut request = self.request.clone();
        for redirects in 0.. {
            crate::tls::check_enabled(&request)?;
            let mut tcp = TcpStream::connect(self.dial_address(&request)).await?;
            tcp.set_nodelay(true)?;
            if let Some((exchange, bytes)) = self.tunnel(&request)? {
                tunnel(&mut tcp, exchange, &bytes).await?;
            }
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

/// Runs the proxy's `CONNECT` exchange over `stream`.
async fn tunnel(stream: &mut TcpStream, mut exchange: HttpConnect, request: &[u8]) -> Result<()> {
    stream.write_all(request).await?;
    let mut buf = [0u8; 4];
    loop {
        let n = stream.read(&mut buf[..exchange.wanted()]).await?;
        if exchange.receive(&buf[..n])? {
            return Ok(());
        }
    }
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
