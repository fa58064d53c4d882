//! The [`Connector`] on futures-io runtimes (smol, async-std): the runtime module brings its
//! TCP (`dial`); the timer is async-io's, which any executor drives.

use std::future::Future;
use std::io;

use std::future::poll_fn;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

use super::proxy::HttpConnect;
use super::Connector;
use crate::futures_io::{client, WebSocketStream};
use crate::tls::futures_io::MaybeTlsStream;
use crate::{Response, Result};

/// What the futures-io connectors return over the TCP stream `S`.
type Connected<S> = (WebSocketStream<MaybeTlsStream<S>>, Response);

impl Connector {
    /// Connects and performs the handshake, on smol (`async-net`'s TCP).
    #[cfg(feature = "smol")]
    pub async fn connect_smol(self) -> Result<Connected<async_net::TcpStream>> {
        connect_over(self, |address| async move {
            let tcp = async_net::TcpStream::connect(address.as_str()).await?;
            tcp.set_nodelay(true)?; // the stream batches its writes itself
            Ok(tcp)
        })
        .await
    }

    /// Connects and performs the handshake, on async-std.
    #[cfg(feature = "async-std")]
    pub async fn connect_async_std(self) -> Result<Connected<async_std::net::TcpStream>> {
        connect_over(self, |address| async move {
            let tcp = async_std::net::TcpStream::connect(address.as_str()).await?;
            tcp.set_nodelay(true)?;
            Ok(tcp)
        })
        .await
    }
}

/// The connector's attempts over streams `dial` opens (to the proxy or the host), within
/// its timeout.
async fn connect_over<S, Dial, Opening>(connector: Connector, dial: Dial) -> Result<Connected<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    Dial: Fn(String) -> Opening,
    Opening: Future<Output = io::Result<S>>,
{
    let Some(limit) = connector.timeout else {
        return attempt(connector, dial).await;
    };
    let timer = async move {
        async_io::Timer::after(limit).await;
        Err(io::Error::new(io::ErrorKind::TimedOut, "WebSocket handshake timed out").into())
    };
    let attempt = attempt(connector, dial);
    futures_util::future::select(std::pin::pin!(attempt), std::pin::pin!(timer))
        .await
        .factor_first()
        .0
}

async fn attempt<S, Dial, Opening>(connector: Connector, dial: Dial) -> Result<Connected<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    Dial: Fn(String) -> Opening,
    Opening: Future<Output = io::Result<S>>,
{
    let mut request = connector.request.clone();
    for redirects in 0.. {
        crate::tls::check_enabled(&request)?;
        let mut tcp = dial(connector.dial_address(&request)).await?;
        if let Some((exchange, bytes)) = connector.tunnel(&request)? {
            tunnel(&mut tcp, exchange, &bytes).await?;
        }
        let stream = if request.is_secure() {
            crate::tls::futures_io::secure(tcp, request.host(), &connector.tls).await?
        } else {
            MaybeTlsStream::Plain(tcp)
        };
        match client(stream, request.clone(), connector.config.clone()).await {
            Err(error) => match connector.redirect(&request, &error, redirects) {
                Some(next) => request = next?,
                None => return Err(error),
            },
            done => return done,
        }
    }
    unreachable!("the loop returns")
}

/// Runs the proxy's `CONNECT` exchange over `stream`.
async fn tunnel<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    mut exchange: HttpConnect,
    request: &[u8],
) -> Result<()> {
    let mut written = 0;
    while written < request.len() {
        match poll_fn(|cx| Pin::new(&mut *stream).poll_write(cx, &request[written..])).await? {
            0 => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
            n => written += n,
        }
    }
    poll_fn(|cx| Pin::new(&mut *stream).poll_flush(cx)).await?;
    let mut buf = [0u8; 4];
    loop {
        let wanted = exchange.wanted();
        let n = poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, &mut buf[..wanted])).await?;
        if exchange.receive(&buf[..n])? {
            return Ok(());
        }
    }
}
