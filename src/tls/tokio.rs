//! TLS for the tokio family of I/O traits: the stream tokio connectors return, and the step
//! that opens TLS over a connected stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::TlsChoice;
use crate::Result;

/// TLS over `stream` to `host` with the connector's TLS (or the default).
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub(crate) async fn secure<S>(stream: S, host: &str, tls: &TlsChoice) -> Result<MaybeTlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use super::ClientTls;
    match super::choose(tls.as_ref())? {
        #[cfg(feature = "rustls")]
        ClientTls::Rustls(config) => {
            let name = super::server_name(host)?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, stream)
                .await?;
            Ok(MaybeTlsStream::Rustls(Box::new(tls)))
        }
        #[cfg(feature = "native-tls")]
        ClientTls::NativeTls(connector) => {
            let tls = tokio_native_tls::TlsConnector::from(connector)
                .connect(super::bare_host(host), stream)
                .await
                .map_err(io::Error::other)?;
            Ok(MaybeTlsStream::NativeTls(Box::new(tls)))
        }
    }
}

/// Without a TLS feature: `wss://` is refused.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) async fn secure<S>(_stream: S, _host: &str, _tls: &TlsChoice) -> Result<MaybeTlsStream<S>> {
    Err(crate::TlsError::NotEnabled.into())
}

/// What the connectors return: a TCP stream, or TLS over it for `wss://`.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream<S> {
    /// `ws://`: the stream itself.
    Plain(S),
    /// `wss://` over rustls (boxed: a TLS session is large next to a socket).
    #[cfg(feature = "rustls")]
    Rustls(Box<tokio_rustls::client::TlsStream<S>>),
    /// `wss://` over native-tls.
    #[cfg(feature = "native-tls")]
    NativeTls(Box<tokio_native_tls::TlsStream<S>>),
}

impl<S> MaybeTlsStream<S> {
    /// The underlying stream (under TLS, if any).
    pub fn get_ref(&self) -> &S {
        match self {
            MaybeTlsStream::Plain(stream) => stream,
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.get_ref().0,
            #[cfg(feature = "native-tls")]
            MaybeTlsStream::NativeTls(tls) => tls.get_ref().get_ref().get_ref(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTlsStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        delegate!(self.get_mut(), s => Pin::new(s).poll_read(cx, buf))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTlsStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        delegate!(self.get_mut(), s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self.get_mut(), s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTlsStream::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(s) => s.is_write_vectored(),
            #[cfg(feature = "native-tls")]
            MaybeTlsStream::NativeTls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self.get_mut(), s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self.get_mut(), s => Pin::new(s).poll_shutdown(cx))
    }
}
