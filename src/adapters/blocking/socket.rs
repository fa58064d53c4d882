//! What the blocking adapter needs of a transport beyond `Read + Write`: a read timeout for
//! the engine's deadlines, and shutting the write side down.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A blocking transport: `Read + Write`, plus what the engine's deadlines need of a socket.
///
/// Implemented for `TcpStream`, `UnixStream`, the TLS streams and
/// [`MaybeTlsStream`](super::MaybeTlsStream). For a transport of your own,
/// `impl Socket for MyStream {}` is enough: without a read timeout the deadlines are checked
/// between reads only, and nothing is shut down early.
pub trait Socket: Read + Write {
    /// Bounds the next reads (`None`: block). By default unsupported.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let _ = timeout;
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Shuts the write side down (a server ends the TCP connection first, RFC 6455 §7.1.1).
    /// By default nothing: dropping the transport closes it.
    fn shutdown_write(&self) -> io::Result<()> {
        Ok(())
    }
}

impl Socket for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

#[cfg(unix)]
impl Socket for std::os::unix::net::UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl<S: Socket + ?Sized> Socket for &mut S {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        (**self).shutdown_write()
    }
}

impl<S: Socket + ?Sized> Socket for Box<S> {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }
    fn shutdown_write(&self) -> io::Result<()> {
        (**self).shutdown_write()
    }
}
