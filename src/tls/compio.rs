//! TLS for the compio adapter. The session is compio-tls's (rustls or native-tls over
//! compio's TCP, which owns the buffers its completion-based I/O needs), driven through its
//! poll-style `futures-io` side; the WebSocket's two halves share it, each borrowing it for
//! one poll at a time, so a heartbeat ping can go out while a read waits. Plain TCP splits
//! without sharing anything.

use std::io;

use ::compio::buf::{BufResult, IoBuf, IoBufMut, IoVectoredBuf};
use ::compio::io::util::Splittable;
use ::compio::io::{AsyncRead, AsyncWrite};
use ::compio::net::TcpStream;

#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub use shared::SharedTls;

/// TLS over `tcp` to `host` with the connector's TLS (or the default).
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub(crate) async fn secure(
    tcp: TcpStream,
    host: &str,
    tls: &super::TlsChoice,
) -> crate::Result<MaybeTlsStream> {
    use super::ClientTls;
    let connector = match super::choose(tls.as_ref())? {
        #[cfg(feature = "rustls")]
        ClientTls::Rustls(config) => ::compio::tls::TlsConnector::from(config),
        #[cfg(feature = "native-tls")]
        ClientTls::NativeTls(connector) => ::compio::tls::TlsConnector::from(connector),
    };
    #[cfg(feature = "rustls")]
    super::server_name(host)?; // a typed error for a name rustls cannot take
    let session = connector.connect(super::bare_host(host), tcp).await?;
    Ok(MaybeTlsStream::Tls(SharedTls::new(session)))
}

/// Without a TLS feature: `wss://` is refused.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) async fn secure(
    _tcp: TcpStream,
    _host: &str,
    _tls: &super::TlsChoice,
) -> crate::Result<MaybeTlsStream> {
    Err(crate::TlsError::NotEnabled.into())
}

/// What the compio connector returns: TCP, or TLS over it for `wss://`.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// `ws://`: the socket itself.
    Plain(TcpStream),
    /// `wss://`: a TLS session the two halves share.
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    Tls(SharedTls),
}

/// One half of a [`MaybeTlsStream`]: the socket (TCP reads and writes need no sharing) or
/// the shared TLS session.
#[derive(Debug)]
pub enum Half {
    /// A handle to the socket.
    Plain(TcpStream),
    /// A handle to the TLS session.
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    Tls(SharedTls),
}

impl Splittable for MaybeTlsStream {
    type ReadHalf = Half;
    type WriteHalf = Half;

    fn split(self) -> (Half, Half) {
        match self {
            MaybeTlsStream::Plain(tcp) => {
                let (read, write) = tcp.into_split();
                (Half::Plain(read), Half::Plain(write))
            }
            #[cfg(any(feature = "rustls", feature = "native-tls"))]
            MaybeTlsStream::Tls(tls) => (Half::Tls(tls.clone()), Half::Tls(tls)),
        }
    }
}

/// `$call` on whichever transport `$half` holds (both take the same owned-buffer calls).
macro_rules! on_either {
    ($half:expr, $io:ident => $call:expr) => {
        match $half {
            Half::Plain($io) => $call,
            #[cfg(any(feature = "rustls", feature = "native-tls"))]
            Half::Tls($io) => $call,
        }
    };
}

impl AsyncRead for Half {
    async fn read<B: IoBufMut>(&mut self, buf: B) -> BufResult<usize, B> {
        on_either!(self, io => io.read(buf).await)
    }
}

impl AsyncWrite for Half {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        on_either!(self, io => io.write(buf).await)
    }

    async fn write_vectored<T: IoVectoredBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        on_either!(self, io => io.write_vectored(buf).await)
    }

    async fn flush(&mut self) -> io::Result<()> {
        on_either!(self, io => io.flush().await)
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        on_either!(self, io => io.shutdown().await)
    }
}

#[cfg(any(feature = "rustls", feature = "native-tls"))]
mod shared {
    use std::cell::RefCell;
    use std::future::poll_fn;
    use std::io::{self, IoSlice};
    use std::pin::Pin;
    use std::rc::Rc;

    use ::compio::buf::{BufResult, IoBuf, IoBufMut, IoVectoredBuf};
    use ::compio::net::TcpStream;
    use ::compio::tls::TlsStream;
    use futures_io::{AsyncRead, AsyncWrite};

    use std::task::Poll;

    /// The most one TLS read hands over (a TLS record's plaintext is at most 16 KiB).
    const CHUNK: usize = 16 * 1024;

    /// A TLS session over compio's TCP, shared by the halves of one connection (on one
    /// thread: compio's tasks stay where they were spawned).
    #[derive(Clone)]
    pub struct SharedTls(Rc<RefCell<TlsStream<TcpStream>>>);

    impl std::fmt::Debug for SharedTls {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("SharedTls").finish_non_exhaustive()
        }
    }

    impl SharedTls {
        pub(crate) fn new(session: TlsStream<TcpStream>) -> Self {
            SharedTls(Rc::new(RefCell::new(session)))
        }

        /// Reads plaintext into `buf`'s spare room (through a stack chunk: the session
        /// reads into initialized memory).
        pub(crate) async fn read<B: IoBufMut>(&self, mut buf: B) -> BufResult<usize, B> {
            let result = poll_fn(|cx| {
                let mut chunk = [0u8; CHUNK];
                let room = (buf.buf_capacity() - buf.buf_len()).clamp(1, CHUNK);
                let mut session = self.0.borrow_mut();
                let n = match Pin::new(&mut *session).poll_read(cx, &mut chunk[..room]) {
                    Poll::Ready(Ok(n)) => n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                };
                Poll::Ready(
                    buf.extend_from_slice(&chunk[..n])
                        .map(|()| n)
                        .map_err(io::Error::other),
                )
            })
            .await;
            BufResult(result, buf)
        }

        pub(crate) async fn write<T: IoBuf>(&self, buf: T) -> BufResult<usize, T> {
            let result =
                poll_fn(|cx| Pin::new(&mut *self.0.borrow_mut()).poll_write(cx, buf.as_init())).await;
            BufResult(result, buf)
        }

        pub(crate) async fn write_vectored<T: IoVectoredBuf>(&self, buf: T) -> BufResult<usize, T> {
            let result = poll_fn(|cx| {
                let slices: Vec<IoSlice<'_>> = buf.iter_slice().map(IoSlice::new).collect();
                Pin::new(&mut *self.0.borrow_mut()).poll_write_vectored(cx, &slices)
            })
            .await;
            BufResult(result, buf)
        }

        pub(crate) async fn flush(&self) -> io::Result<()> {
            poll_fn(|cx| Pin::new(&mut *self.0.borrow_mut()).poll_flush(cx)).await
        }

        /// Sends the TLS close_notify and shuts the socket's write side.
        pub(crate) async fn shutdown(&self) -> io::Result<()> {
            poll_fn(|cx| Pin::new(&mut *self.0.borrow_mut()).poll_close(cx)).await
        }
    }
}
