//! The [`Connector`] on blocking sockets.

use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::{dial_address, no_address, Connector, Step, Tunnel, MAX_WANTED};
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
            let proxy = self.proxy_for(&request)?;
            let address = dial_address(proxy.as_ref(), &request);
            let mut tcp = tcp_connect(&address, self.timeout)?;
            if let Some(proxy) = proxy {
                let resolved = match proxy.resolves_locally(&request) {
                    true => Some(resolve(&request.authority())?),
                    false => None,
                };
                let (exchange, bytes) = proxy.tunnel(&request, resolved)?;
                tunnel(&mut tcp, exchange, bytes)?;
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
    let mut last = no_address();
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

/// Runs the proxy's exchange over `stream`, starting with `first`.
fn tunnel(stream: &mut TcpStream, mut exchange: Tunnel, first: Vec<u8>) -> Result<()> {
    stream.write_all(&first)?;
    let mut buf = [0u8; MAX_WANTED];
    loop {
        let n = stream.read(&mut buf[..exchange.wanted()])?;
        match exchange.receive(&buf[..n])? {
            Step::Read => {}
            Step::Write(bytes) => stream.write_all(&bytes)?,
            Step::Open => return Ok(()),
        }
    }
}

/// The first address `authority` (`host:port`) resolves to.
fn resolve(authority: &str) -> io::Result<IpAddr> {
    authority
        .to_socket_addrs()?
        .next()
        .map(|a| a.ip())
        .ok_or_else(no_address)
}
