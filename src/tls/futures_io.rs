//! TLS for the futures-io family of I/O traits: the stream smol and async-std connectors
//! return, and the step that opens TLS over a connected stream. native-tls has no
//! futures-io binding: it runs through tokio-native-tls over a two-way bridge of the traits.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::TlsChoice;

/// TLS over `tcp` to `host` with the connector's TLS (or the default).
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub(crate) async fn secure<S>(tcp: S, host: &str, tls: &TlsChoice) -> crate::Result<MaybeTlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use super::ClientTls;
    match super::choose(tls.as_ref())? {
        #[cfg(feature = "rustls")]
        ClientTls::Rustls(config) => {
            let name = super::server_name(host)?;
            let tls = futures_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            Ok(MaybeTlsStream::Rustls(Box::new(tls)))
        }
        #[cfg(feature = "native-tls")]
        ClientTls::NativeTls(connector) => {
            let tls = native::connect(connector, super::bare_host(host), tcp).await?;
            Ok(MaybeTlsStream::NativeTls(Box::new(tls)))
        }
    }
}

/// Without a TLS feature: `wss://` is refused.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) async fn secure<S>(_tcp: S, _host: &str, _tls: &TlsChoice) -> crate::Result<MaybeTlsStream<S>> {
    Err(crate::TlsError::NotEnabled.into())
}

/// What the connectors return: a stream, or TLS over it for `wss://`.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream<S> {
    /// `ws://`: the stream itself.
    Plain(S),
    /// `wss://` over rustls (boxed: a TLS session is large next to a socket).
    #[cfg(feature = "rustls")]
    Rustls(Box<futures_rustls::client::TlsStream<S>>),
    /// `wss://` over native-tls (tokio-native-tls, through a thin bridge between the two
    /// families of I/O traits).
    #[cfg(feature = "native-tls")]
    NativeTls(Box<native::TlsStream<S>>),
}

impl<S> MaybeTlsStream<S> {
    /// The underlying stream (under TLS, if any).
    pub fn get_ref(&self) -> &S {
        match self {
            MaybeTlsStream::Plain(stream) => stream,
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.get_ref().0,
            #[cfg(feature = "native-tls")]
            MaybeTlsStream::NativeTls(tls) => &tls.0.get_ref().get_ref().get_ref().0,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTlsStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
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

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self.get_mut(), s => Pin::new(s).poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self.get_mut(), s => Pin::new(s).poll_close(cx))
    }
}

/// native-tls for futures-io streams: tokio-native-tls over a futures-io stream seen through
/// tokio's traits, seen back through futures-io's. Both bridges only rename poll methods.
#[cfg(feature = "native-tls")]
pub(crate) mod native {
    use std::io;
    use std::pin::Pin;
    use std::task::{ready, Context, Poll};

    use futures_io::{AsyncRead, AsyncWrite};

    /// A TLS client stream over `S`.
    #[derive(Debug)]
    pub struct TlsStream<S>(pub(crate) tokio_native_tls::TlsStream<AsTokio<S>>);

    /// A futures-io stream through tokio's I/O traits.
    #[derive(Debug)]
    pub struct AsTokio<S>(pub(crate) S);

    /// TLS over `stream` to `host` with `connector`.
    pub(crate) async fn connect<S>(
        connector: native_tls::TlsConnector,
        host: &str,
        stream: S,
    ) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let tls = tokio_native_tls::TlsConnector::from(connector)
            .connect(host, AsTokio(stream))
            .await
            .map_err(io::Error::other)?;
        Ok(TlsStream(tls))
    }

    impl<S: AsyncRead + Unpin> tokio::io::AsyncRead for AsTokio<S> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = ready!(Pin::new(&mut self.0).poll_read(cx, buf.initialize_unfilled()))?;
            buf.advance(n);
            Poll::Ready(Ok(()))
        }
    }

    impl<S: AsyncWrite + Unpin> tokio::io::AsyncWrite for AsTokio<S> {
        fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_write(cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_close(cx)
        }
    }

    impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let mut read = tokio::io::ReadBuf::new(buf);
            ready!(tokio::io::AsyncRead::poll_read(
                Pin::new(&mut self.0),
                cx,
                &mut read
            ))?;
            Poll::Ready(Ok(read.filled().len()))
        }
    }

    impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
        fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            tokio::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            tokio::io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
        }

        fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut self.0), cx)
        }
    }
}
