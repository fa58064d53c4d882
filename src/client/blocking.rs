//! The [`Connector`] on blocking sockets.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::proxy::HttpConnect;
use super::Connector;
use crate::adapters::blocking::websocket::{client, WebSocket};
use crate::tls::blocking::MaybeTlsStream;
use crate::{Response, Result};

impl Connector {
    /// Connects and performs the handshake on a blocking socket. The timeout bounds each
    /// TCP connect, and each read and write until the handshake is done; then the socket
    /// has no timeouts.
    pub fn connect_blocking(self) -> Result<(WebSocket<MaybeTlsStream<TcpStream>>, Response)> {
        let mut request = self.request.clone();
        for redirects in 0.. {
            crate::tls::check_enabled(&request)?;
            let mut tcp = tcp_connect(&self.dial_address(&request), self.timeout)?;
            if let Some((exchange, bytes)) = self.tunnel(&request)? {
                tunnel(&mut tcp, exchange, &bytes)?;
            }
            let stream = if request.is_secure() {
                crate::tls::blocking::secure(tcp, request.host(), &self.tls)?
            } else {
                MaybeTlsStream::Plain(tcp)
            };
            match client(stream, request.clone(), self.config.clone()) {
                Err(error) => match self.redirect(&request, &error, redirects) {
                    Some(next) => request = next?,
                    None => return Err(error),
                },
                Ok((ws, response)) => {
                    ws.get_ref().get_ref().set_read_timeout(None)?;
                    ws.get_ref().get_ref().set_write_timeout(None)?;
                    return Ok((ws, response));
                }
            }
        }
        unreachable!("the loop returns")
    }
}

/// TCP to `address` (`host:port`, any address it resolves to), Nagle off; the connect,
/// reads and writes bounded by `timeout`.
fn tcp_connect(address: &str, timeout: Option<Duration>) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host resolved to no address");
    for addr in address.to_socket_addrs()? {
        let attempt = match timeout {
            Some(t) => TcpStream::connect_timeout(&addr, t),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                stream.set_read_timeout(timeout)?;
                stream.set_write_timeout(timeout)?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Runs the proxy's `CONNECT` exchange over `stream`.
fn tunnel(stream: &mut TcpStream, mut exchange: HttpConnect, request: &[u8]) -> Result<()> {
    stream.write_all(request)?;
    let mut buf = [0u8; 4];
    loop {
        let n = stream.read(&mut buf[..exchange.wanted()])?;
        if exchange.receive(&buf[..n])? {
            return Ok(());
        }
    }
}
