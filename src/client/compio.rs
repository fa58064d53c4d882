//! The [`Connector`] on compio.

use std::future::Future;
use std::io;
use std::time::Duration;

use ::compio::io::{AsyncRead, AsyncWriteExt};
use ::compio::net::TcpStream;
use ::compio::BufResult;

use super::proxy::HttpConnect;
use super::Connector;
use crate::adapters::compio::websocket::{client, WebSocket};
use crate::{Response, Result, TlsError};

impl Connector {
    /// Connects and performs the handshake on compio (`ws://`; `wss://` is refused with
    /// [`TlsError::NotEnabled`] on this runtime for now).
    pub async fn connect_compio(self) -> Result<(WebSocket<TcpStream>, Response)> {
        let timeout = self.timeout;
        with_timeout(timeout, self.attempt_compio()).await
    }

    async fn attempt_compio(self) -> Result<(WebSocket<TcpStream>, Response)> {
        let mut request = self.request.clone();
        for redirects in 0.. {
            if request.is_secure() {
                return Err(TlsError::NotEnabled.into());
            }
            let tcp = TcpStream::connect(self.dial_address(&request)).await?;
            tcp.set_nodelay(true)?;
            if let Some((exchange, bytes)) = self.tunnel(&request)? {
                tunnel(&tcp, exchange, bytes).await?;
            }
            match client(tcp, request.clone(), self.config.clone()).await {
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
async fn tunnel(mut stream: &TcpStream, mut exchange: HttpConnect, request: Vec<u8>) -> Result<()> {
    stream.write_all(request).await.0?;
    loop {
        // Room for exactly what the answer's head can still need: nothing past it is read.
        let BufResult(read, buf) = stream.read(Vec::with_capacity(exchange.wanted())).await;
        let n = read?;
        if exchange.receive(&buf[..n])? {
            return Ok(());
        }
    }
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
