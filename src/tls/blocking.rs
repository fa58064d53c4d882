//! TLS for blocking `Read + Write` streams: the stream the blocking connectors return, and
//! the step that opens TLS over a connected stream.

use std::io::{self, Read, Write};
use std::time::Duration;

use super::TlsChoice;
use crate::adapters::blocking::socket::Socket;
use crate::Result;

/// TLS over `stream` to `host` with the connector's TLS (or the default). rustls shakes
/// hands on the first read or write; native-tls here.
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub(crate) fn secure<S: Read + Write>(stream: S, host: &str, tls: &TlsChoice) -> Result<MaybeTlsStream<S>> {
    use super::ClientTls;
    match super::choose(tls.as_ref())? {
        #[cfg(feature = "rustls")]
        ClientTls::Rustls(config) => {
            let session = rustls::ClientConnection::new(config, super::server_name(host)?)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            Ok(MaybeTlsStream::Rustls(Box::new(rustls::StreamOwned::new(
                session, stream,
            ))))
        }
        #[cfg(feature = "native-tls")]
        ClientTls::NativeTls(connector) => {
            let tls = connector
                .connect(super::bare_host(host), stream)
                .map_err(|e| match e {
                    native_tls::HandshakeError::Failure(e) => io::Error::other(e),
                    // A socket with a read timeout that passed mid-handshake.
                    native_tls::HandshakeError::WouldBlock(_) => io::ErrorKind::TimedOut.into(),
                })?;
            Ok(MaybeTlsStream::NativeTls(Box::new(tls)))
        }
    }
}

/// Without a TLS feature: `wss://` is refused.
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) fn secure<S: Read + Write>(
    _stream: S,
    _host: &str,
    _tls: &TlsChoice,
) -> Result<MaybeTlsStream<S>> {
    Err(crate::TlsError::NotEnabled.into())
}

/// What the connectors return: a TCP stream, or TLS over it for `wss://`.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream<S: Read + Write> {
    /// `ws://`: the stream itself.
    Plain(S),
    /// `wss://` over rustls (boxed: a TLS session is large next to a socket).
    #[cfg(feature = "rustls")]
    Rustls(Box<rustls::StreamOwned<rustls::ClientConnection, S>>),
    /// `wss://` over native-tls.
    #[cfg(feature = "native-tls")]
    NativeTls(Box<native_tls::TlsStream<S>>),
}

impl<S: Read + Write> MaybeTlsStream<S> {
    /// The underlying stream (under TLS, if any).
    pub fn get_ref(&self) -> &S {
        match self {
            MaybeTlsStream::Plain(stream) => stream,
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.get_ref(),
            #[cfg(feature = "native-tls")]
            MaybeTlsStream::NativeTls(tls) => tls.get_ref(),
        }
    }
}

impl<S: Socket> Socket for MaybeTlsStream<S> {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.get_ref().set_read_timeout(timeout)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        match self {
            MaybeTlsStream::Plain(stream) => stream.shutdown_write(),
            // Under TLS the write side ends with the TLS stream (its close_notify goes out
            // when it is dropped); cutting the socket under it would lose that.
            #[cfg(any(feature = "rustls", feature = "native-tls"))]
            _ => Ok(()),
        }
    }
}

#[cfg(feature = "rustls")]
impl<C, S, D> Socket for rustls::StreamOwned<C, S>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>>,
    S: Socket,
    D: rustls::SideData,
{
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.get_ref().set_read_timeout(timeout)
    }
}

#[cfg(feature = "native-tls")]
impl<S: Socket> Socket for native_tls::TlsStream<S> {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.get_ref().set_read_timeout(timeout)
    }
}

impl<S: Read + Write> Read for MaybeTlsStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        delegate!(self, s => s.read(buf))
    }
}

impl<S: Read + Write> Write for MaybeTlsStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        delegate!(self, s => s.write(buf))
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        delegate!(self, s => s.write_vectored(bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        delegate!(self, s => s.flush())
    }
}
