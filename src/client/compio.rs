//! The [`Connector`] on compio.

use std::future::Future;
use std::io;
use std::time::Duration;

use ::compio::io::{AsyncRead, AsyncWriteExt};
use ::compio::net::{TcpStream, ToSocketAddrsAsync};
use ::compio::BufResult;

use super::{dial_address, no_address, Connector, Step, Tunnel};
use crate::adapters::compio::websocket::{client, WebSocket};
use crate::tls::compio::MaybeTlsStream;
use crate::{Response, Result};

impl Connector {
    /// Connects and performs the handshake on compio.
    pub async fn connect_compio(self) -> Result<(WebSocket<MaybeTlsStream>, Response)> {
        let timeout = self.timeout;
        with_timeout(timeout, self.attempt_compio()).await
    }

    async fn attempt_compio(self) -> Result<(WebSocket<MaybeTlsStream>, Response)> {
        let mut request = self.request.clone();
        for redirects in 0.. {
            crate::tls::check_enabled(&request)?;
            let proxy = self.proxy_for(&request)?;
            let address = dial_address(proxy.as_ref(), &request);
            let tcp = TcpStream::connect(address).await?;
            tcp.set_nodelay(true)?;
            if let Some(proxy) = proxy {
                let resolved = match proxy.resolves_locally(&request) {
                    true => Some(resolve(&request.authority()).await?),
                    false => None,
                };
                let (exchange, bytes) = proxy.tunnel(&request, resolved)?;
                tunnel(&tcp, exchange, bytes).await?;
            }
            let stream = if request.is_secure() {
                crate::tls::compio::secure(tcp, request.host(), &self.tls).await?
            } else {
                MaybeTlsStream::Plain(tcp)
            };
            match client(stream, request.clone(), self.config.clone()).await {
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
async fn tunnel(mut stream: &TcpStream, mut exchange: Tunnel, first: Vec<u8>) -> Result<()> {
    stream.write_all(first).await.0?;
    loop {
        // Room for exactly what the answer can still need: nothing past it is read.
        let BufResult(read, buf) = stream.read(Vec::with_capacity(exchange.wanted())).await;
        let n = read?;
        match exchange.receive(&buf[..n])? {
            Step::Read => {}
            Step::Write(bytes) => stream.write_all(bytes).await.0?,
            Step::Open => return Ok(()),
        }
    }
}

/// The first address `authority` (`host:port`) resolves to.
async fn resolve(authority: &str) -> io::Result<std::net::IpAddr> {
    let mut addresses = authority.to_socket_addrs_async().await?;
    addresses.next().map(|a| a.ip()).ok_or_else(no_address)
}

/// `work`, bounded by `timeout` (a `TimedOut` I/O error when it passes).
async fn with_timeout<T>(timeout: Option<Duration>, work: impl Future<Output = Result<T>>) -> Result<T> {
    match timeout {
        Some(limit) => ::compio::time::timeout(limit, work)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "WebSocket handshake timed out"))?,
        None => work.await,
    }
}
