//! Proxies: what a [`Proxy`] is and how its URL reads, and the tunnel exchanges as sans-IO
//! code — HTTP `CONNECT` (`http`) and SOCKS5 (`socks5`) — behind one [`Tunnel`] that each
//! runtime drives the same way: write what it gives, read what it wants, until it is open.
//! `env` picks a proxy from the environment as curl does.

mod env;
mod http;
mod socks5;

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use base64::Engine as _;

use crate::handshake::{bracket, percent_decode, split_host_port};
use crate::{ClientRequest, ProxyError, Result};
pub(crate) use env::proxy_from_env;
use http::HttpConnect;
use socks5::{Destination, Socks5};

/// A proxy to reach the server through: an HTTP proxy (a `CONNECT` tunnel) or a SOCKS5 one,
/// with credentials if it wants them. TLS for `wss://` runs inside the tunnel, end to end
/// with the server.
///
/// ```
/// use ferrosocket::client::Proxy;
/// let proxy: Proxy = "socks5h://user:secret@127.0.0.1:1080".parse()?;
/// assert_eq!(proxy.address(), "127.0.0.1:1080");
/// assert!(!format!("{proxy:?}").contains("secret"), "Debug hides the password");
/// let http = Proxy::http("proxy.internal:3128").credentials("user", "secret");
/// # Ok::<(), ferrosocket::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: Kind,
    address: String,
}

#[derive(Clone, PartialEq, Eq)]
enum Kind {
    /// `CONNECT`, with a `Proxy-Authorization` value.
    Http { authorization: Option<String> },
    /// SOCKS5; `remote_dns` sends the host name for the proxy to resolve (`socks5h://`).
    Socks5 {
        remote_dns: bool,
        credentials: Option<(Vec<u8>, Vec<u8>)>,
    },
}

impl Proxy {
    /// An HTTP proxy at `address` (`host:port`), tunnelling with `CONNECT`.
    pub fn http(address: impl Into<String>) -> Proxy {
        Proxy {
            kind: Kind::Http { authorization: None },
            address: address.into(),
        }
    }

    /// A SOCKS5 proxy at `address` (`host:port`); the server's name is resolved here and its
    /// address sent to the proxy (`socks5://`).
    pub fn socks5(address: impl Into<String>) -> Proxy {
        Proxy::socks(address.into(), false)
    }

    /// A SOCKS5 proxy at `address` (`host:port`) that resolves the server's name itself
    /// (`socks5h://`): no DNS query leaves this machine, and names only the proxy's network
    /// knows work.
    pub fn socks5h(address: impl Into<String>) -> Proxy {
        Proxy::socks(address.into(), true)
    }

    fn socks(address: String, remote_dns: bool) -> Proxy {
        Proxy {
            kind: Kind::Socks5 {
                remote_dns,
                credentials: None,
            },
            address,
        }
    }

    /// Parses a proxy URL as curl reads one: `http://`, `socks5://` or `socks5h://` (no
    /// scheme means `http://`), optional `user:password@` (percent-encoded), port 1080 unless
    /// named; a path is ignored.
    pub fn from_url(url: &str) -> Result<Proxy, ProxyError> {
        let url = url.trim();
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("http".to_owned(), url),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => (Some(userinfo), host_port),
            None => (None, authority),
        };
        let (host, port) = split_host_port(host_port).ok_or(ProxyError::InvalidUrl("bad host or port"))?;
        if host.is_empty() || host.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(ProxyError::InvalidUrl("no host"));
        }
        let proxy = match scheme.as_str() {
            "http" => Proxy::http(""),
            "socks5" => Proxy::socks5(""),
            "socks5h" => Proxy::socks5h(""),
            _ => return Err(ProxyError::UnsupportedScheme(scheme)),
        };
        let proxy = Proxy {
            address: format!("{}:{}", bracket(host), port.unwrap_or(1080)),
            ..proxy
        };
        Ok(match userinfo {
            Some(userinfo) => {
                let (username, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                proxy.credentials(percent_decode(username), percent_decode(password))
            }
            None => proxy,
        })
    }

    /// Authenticates with `username` and `password`: HTTP Basic in `Proxy-Authorization`,
    /// or SOCKS5's username/password method (RFC 1929).
    pub fn credentials(mut self, username: impl AsRef<[u8]>, password: impl AsRef<[u8]>) -> Proxy {
        let (username, password) = (username.as_ref(), password.as_ref());
        match &mut self.kind {
            Kind::Http { authorization } => {
                let pair = [username, b":", password].concat();
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                *authorization = Some(format!("Basic {encoded}"));
            }
            Kind::Socks5 { credentials, .. } => *credentials = Some((username.to_vec(), password.to_vec())),
        }
        self
    }

    /// An HTTP proxy's `Proxy-Authorization` value, as is (another scheme than Basic).
    pub fn authorization(mut self, value: impl Into<String>) -> Proxy {
        if let Kind::Http { authorization } = &mut self.kind {
            *authorization = Some(value.into());
        }
        self
    }

    /// The proxy's `host:port`, where the TCP connection goes.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether the server's name must be resolved here before the tunnel opens: a SOCKS5
    /// proxy without remote DNS, and a name rather than an address.
    pub(crate) fn resolves_locally(&self, request: &ClientRequest) -> bool {
        matches!(
            self.kind,
            Kind::Socks5 {
                remote_dns: false,
                ..
            }
        ) && request.host().parse::<IpAddr>().is_err()
    }

    /// The tunnel to `request`'s host and the first bytes to write to the proxy;
    /// `resolved` is the host's address when [`resolves_locally`](Self::resolves_locally).
    pub(crate) fn tunnel(
        &self,
        request: &ClientRequest,
        resolved: Option<IpAddr>,
    ) -> Result<(Tunnel, Vec<u8>)> {
        match &self.kind {
            Kind::Http { authorization } => {
                let (exchange, bytes) = HttpConnect::start(&request.authority(), authorization.as_deref())?;
                Ok((Tunnel::Http(exchange), bytes))
            }
            Kind::Socks5 { credentials, .. } => {
                let destination = match (resolved, request.host().parse::<IpAddr>()) {
                    (Some(address), _) | (None, Ok(address)) => Destination::Address(address),
                    (None, Err(_)) => Destination::Name(request.host().to_owned()),
                };
                let credentials = credentials.as_ref().map(|(u, p)| (u.as_slice(), p.as_slice()));
                let (exchange, bytes) = Socks5::start(&destination, request.port(), credentials)?;
                Ok((Tunnel::Socks5(exchange), bytes))
            }
        }
    }
}

impl FromStr for Proxy {
    type Err = ProxyError;

    fn from_str(url: &str) -> Result<Proxy, ProxyError> {
        Proxy::from_url(url)
    }
}

/// Shows the scheme and address; credentials are left out.
impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, authenticated) = match &self.kind {
            Kind::Http { authorization } => ("http", authorization.is_some()),
            Kind::Socks5 {
                remote_dns,
                credentials,
            } => (
                if *remote_dns { "socks5h" } else { "socks5" },
                credentials.is_some(),
            ),
        };
        f.debug_struct("Proxy")
            .field("scheme", &scheme)
            .field("address", &self.address)
            .field("authenticated", &authenticated)
            .finish()
    }
}

/// What a runtime does next in a tunnel's exchange.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Read again, at most [`Tunnel::wanted`] bytes.
    Read,
    /// Write these bytes, then read.
    Write(Vec<u8>),
    /// The tunnel is open: the server's bytes follow.
    Open,
}

/// One tunnel exchange with a proxy, whatever its kind.
#[derive(Debug)]
pub(crate) enum Tunnel {
    Http(HttpConnect),
    Socks5(Socks5),
}

impl Tunnel {
    /// How many bytes the next read may take, so that none of the tunnel's own is consumed.
    pub(crate) fn wanted(&self) -> usize {
        match self {
            Tunnel::Http(exchange) => exchange.wanted(),
            Tunnel::Socks5(exchange) => exchange.wanted(),
        }
    }

    /// Takes bytes read from the proxy (`&[]` at the end of its stream).
    pub(crate) fn receive(&mut self, bytes: &[u8]) -> Result<Step> {
        match self {
            Tunnel::Http(exchange) => exchange.receive(bytes),
            Tunnel::Socks5(exchange) => exchange.receive(bytes),
        }
    }
}

/// The most a single read in a tunnel exchange asks for (a SOCKS5 reply's name and port).
#[cfg(any(
    feature = "blocking",
    feature = "tokio",
    feature = "futures-io",
    feature = "unstable"
))]
pub(crate) const MAX_WANTED: usize = 257;

/// The proxy code's parsers of untrusted input, for the fuzz targets (feature `unstable`: no
/// stability promise): proxy answers, proxy URLs, `no_proxy` lists.
#[cfg(feature = "unstable")]
pub mod fuzzing {
    use super::{Proxy, Step};
    use crate::{ClientRequest, Result};

    /// Plays `answer` as the proxy's bytes in a tunnel exchange through `proxy` to
    /// `request`, reading never more than the exchange asks for: whether the tunnel opened,
    /// and how many bytes of `answer` it took. Panics if a read was asked to overrun.
    pub fn tunnel(proxy: &Proxy, request: &ClientRequest, answer: &[u8]) -> (Result<bool>, usize) {
        let (mut exchange, _) = match proxy.tunnel(request, None) {
            Ok(started) => started,
            Err(error) => return (Err(error), 0),
        };
        let mut taken = 0;
        loop {
            let wanted = exchange.wanted();
            assert!((1..=super::MAX_WANTED).contains(&wanted), "wanted {wanted}");
            let n = wanted.min(answer.len() - taken);
            match exchange.receive(&answer[taken..taken + n]) {
                Ok(Step::Open) => return (Ok(true), taken + n),
                Ok(Step::Read | Step::Write(_)) => taken += n,
                Err(error) => return (Err(error), taken + n),
            }
        }
    }

    /// Whether the `no_proxy` list names `host:port`, as `proxy_from_env` decides.
    pub fn bypasses(list: &str, request: &ClientRequest) -> bool {
        let vars = |name: &str| match name {
            "no_proxy" => Some(list.to_owned()),
            "all_proxy" => Some("http://proxy:1".to_owned()),
            _ => None,
        };
        matches!(super::proxy_from_env(request, vars), Ok(None))
    }

    /// A proxy URL, read as the connector reads `--proxy` and the environment.
    pub fn proxy_url(url: &str) -> Option<Proxy> {
        Proxy::from_url(url).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_read_as_curl_reads_them() {
        let proxy = Proxy::from_url("socks5h://us%40er:p%3Ass@[::1]:9050/").unwrap();
        assert_eq!(proxy.address(), "[::1]:9050");
        assert_eq!(proxy, Proxy::socks5h("[::1]:9050").credentials("us@er", "p:ss"));
        assert_eq!(
            Proxy::from_url("proxy.internal").unwrap(),
            Proxy::http("proxy.internal:1080")
        );
        assert_eq!(
            Proxy::from_url("HTTP://u:p@10.0.0.1:3128").unwrap(),
            Proxy::http("10.0.0.1:3128").authorization("Basic dTpw")
        );
        assert_eq!(Proxy::from_url("socks5://h:1").unwrap(), Proxy::socks5("h:1"));
        assert_eq!(
            Proxy::from_url("https://h:443"),
            Err(ProxyError::UnsupportedScheme("https".into()))
        );
        assert_eq!(
            Proxy::from_url("socks4://h"),
            Err(ProxyError::UnsupportedScheme("socks4".into()))
        );
        assert!(matches!(
            Proxy::from_url("http://h:port"),
            Err(ProxyError::InvalidUrl(_))
        ));
        assert!(matches!(
            Proxy::from_url("http://:80"),
            Err(ProxyError::InvalidUrl(_))
        ));
    }

    #[test]
    fn socks5_resolves_here_only_names_and_only_without_remote_dns() {
        let by_name = ClientRequest::new("wss://b.example:8443/").unwrap();
        let by_address = ClientRequest::new("ws://192.0.2.1/").unwrap();
        assert!(Proxy::socks5("p:1").resolves_locally(&by_name));
        assert!(!Proxy::socks5("p:1").resolves_locally(&by_address));
        assert!(!Proxy::socks5h("p:1").resolves_locally(&by_name));
        assert!(!Proxy::http("p:1").resolves_locally(&by_name));
        let (_, greeting) = Proxy::socks5h("p:1").tunnel(&by_name, None).unwrap();
        assert_eq!(greeting, [5, 1, 0]);
        let (_, connect) = Proxy::http("p:1").tunnel(&by_name, None).unwrap();
        assert!(connect.starts_with(b"CONNECT b.example:8443 HTTP/1.1\r\n"));
    }
}
