//! Where the toolkit's connections come from ([`Listener`]) and what they run over ([`Io`],
//! [`Socket`]).

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use crate::tokio::WebSocketStream;

/// A byte stream the toolkit can run a WebSocket over: TCP, TLS, a Unix socket, a
/// connection an HTTP server upgraded.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// The toolkit's WebSocket, whatever the transport under it: one type, so one set of
/// clients can mix TCP, TLS, Unix sockets and adopted connections.
pub type Socket = WebSocketStream<Box<dyn Io>>;

/// Where a [`Server`](super::Server)'s connections come from. Implemented for tokio's `TcpListener` and
/// (on Unix) `UnixListener`; implement it for any other source of streams.
pub trait Listener: Send + 'static {
    /// The stream of one accepted connection.
    type Io: Io;

    /// Waits for the next connection: its stream, and the peer's address if it has one.
    fn accept(&mut self) -> impl Future<Output = io::Result<(Self::Io, Option<SocketAddr>)>> + Send;

    /// The address bound, if it is an IP one.
    fn local_addr(&self) -> Option<SocketAddr> {
        None
    }
}

impl Listener for TcpListener {
    type Io = TcpStream;

    async fn accept(&mut self) -> io::Result<(TcpStream, Option<SocketAddr>)> {
        let (stream, addr) = TcpListener::accept(self).await?;
        // Small messages go out at once; the stream batches writes itself.
        stream.set_nodelay(true)?;
        Ok((stream, Some(addr)))
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        TcpListener::local_addr(self).ok()
    }
}

#[cfg(unix)]
impl Listener for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;

    async fn accept(&mut self) -> io::Result<(tokio::net::UnixStream, Option<SocketAddr>)> {
        let (stream, _) = tokio::net::UnixListener::accept(self).await?;
        Ok((stream, None))
    }
}
