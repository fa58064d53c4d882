//! The [`Connector`] on futures-io runtimes (smol, async-std): the runtime module brings its
//! TCP (`dial`); the timer is async-io's, which any executor drives.

use std::future::Future;
use std::io;
use std::net::IpAddr;

use std::future::poll_fn;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

use super::{dial_address, no_address, Connector, Step, Tunnel, MAX_WANTED};
use crate::futures_io::{client, WebSocketStream};
use crate::tls::futures_io::MaybeTlsStream;
use crate::{Response, Result};

/// What the futures-io connectors return over the TCP stream `S`.
type Connected<S> = (WebSocketStream<MaybeTlsStream<S>>, Response);

impl Connector {
    /// Connects and performs the handshake, on smol (`async-net`'s TCP).
    #[cfg(feature = "smol")]
    pub async fn connect_smol(self) -> Result<Connected<async_net::TcpStream>> {
        let net = Net {
            dial: |address: String| async move {
                let tcp = async_net::TcpStream::connect(address.as_str()).await?;
                tcp.set_nodelay(true)?; // the stream batches its writes itself
                Ok(tcp)
            },
            resolve: |authority: String| async move {
                let addresses = async_net::resolve(authority.as_str()).await?;
                addresses.first().map(|a| a.ip()).ok_or_else(no_address)
            },
        };
        connect_over(self, net).await
    }

    /// Connects and performs the handshake, on async-std.
    #[cfg(feature = "async-std")]
    pub async fn connect_async_std(self) -> Result<Connected<async_std::net::TcpStream>> {
        use async_std::net::ToSocketAddrs;
        let net = Net {
            dial: |address: String| async move {
                let tcp = async_std::net::TcpStream::connect(address.as_str()).await?;
                tcp.set_nodelay(true)?;
                Ok(tcp)
            },
            resolve: |authority: String| async move {
                let mut addresses = authority.as_str().to_socket_addrs().await?;
                addresses.next().map(|a| a.ip()).ok_or_else(no_address)
            },
        };
        connect_over(self, net).await
    }
}

/// What a runtime brings to the connector: TCP to an address (`host:port`), and a name's
/// first address (for SOCKS5 without remote DNS).
struct Net<Dial, Resolve> {
    dial: Dial,
    resolve: Resolve,
}

/// The connector's attempts over streams `net` opens (to the proxy or the host), within
/// its timeout.
async fn connect_over<S, Dial, Opening, Resolve, Resolving>(
    connector: Connector,
    net: Net<Dial, Resolve>,
) -> Result<Connected<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    Dial: Fn(String) -> Opening,
    Opening: Future<Output = io::Result<S>>,
    Resolve: Fn(String) -> Resolving,
    Resolving: Future<Output = io::Result<IpAddr>>,
{
    let Some(limit) = connector.timeout else {
        return attempt(connector, net).await;
    };
    let timer = async move {
        async_io::Timer::after(limit).await;
        Err(io::Error::new(io::ErrorKind::TimedOut, "WebSocket handshake timed out").into())
    };
    let attempt = attempt(connector, net);
    futures_util::future::select(std::pin::pin!(attempt), std::pin::pin!(timer))
        .await
        .factor_first()
        .0
}

async fn attempt<S, Dial, Opening, Resolve, Resolving>(
    connector: Connector,
    net: Net<Dial, Resolve>,
) -> Result<Connected<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    Dial: Fn(String) -> Opening,
    Opening: Future<Output = io::Result<S>>,
    Resolve: Fn(String) -> Resolving,
    Resolving: Future<Output = io::Result<IpAddr>>,
{
    let mut request = connector.request.clone();
    for redirects in 0.. {
        crate::tls::check_enabled(&request)?;
        let proxy = connector.proxy_for(&request)?;
        let address = dial_address(proxy.as_ref(), &request);
        let mut tcp = (net.dial)(address).await?;
        if let Some(proxy) = proxy {
            let resolved = match proxy.resolves_locally(&request) {
                true => Some((net.resolve)(request.authority()).await?),
                false => None,
            };
            let (exchange, bytes) = proxy.tunnel(&request, resolved)?;
            tunnel(&mut tcp, exchange, bytes).await?;
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

/// Runs the proxy's exchange over `stream`, starting with `first`.
async fn tunnel<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    mut exchange: Tunnel,
    first: Vec<u8>,
) -> Result<()> {
    write_all(stream, &first).await?;
    let mut buf = [0u8; MAX_WANTED];
    loop {
        let wanted = exchange.wanted();
        let n = poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, &mut buf[..wanted])).await?;
        match exchange.receive(&buf[..n])? {
            Step::Read => {}
            Step::Write(bytes) => write_all(stream, &bytes).await?,
            Step::Open => return Ok(()),
        }
    }
}

/// Writes and flushes all of `bytes`.
async fn write_all<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> io::Result<()> {
    let mut written = 0;
    while written < bytes.len() {
        match poll_fn(|cx| Pin::new(&mut *stream).poll_write(cx, &bytes[written..])).await? {
            0 => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            n => written += n,
        }
    }
    poll_fn(|cx| Pin::new(&mut *stream).poll_flush(cx)).await
}
