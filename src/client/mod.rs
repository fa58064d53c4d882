//! The client toolkit, beside the server one: a [`Connector`] (proxy, redirects, timeout,
//! TLS) for every runtime, and the tokio [`Reconnecting`] client.
//!
//! The protocol parts are sans-IO and written once — the proxies' tunnel exchanges, HTTP
//! `CONNECT` and SOCKS5, and the proxy settings from the environment (`proxy`), which request
//! to try after a redirect ([`Connector`]'s policy) — and each runtime's file (`tokio`,
//! `futures_io`, `blocking`, `compio`) only dials, resolves, moves the bytes and sequences the
//! steps: TCP to the proxy or the host, the tunnel, TLS for `wss://`, the handshake, and again
//! after a redirect.

#[cfg(feature = "blocking")]
mod blocking;
#[cfg(feature = "compio")]
mod compio;
#[cfg(feature = "futures-io")]
mod futures_io;
mod proxy;
#[cfg(feature = "tokio")]
mod reconnecting;
#[cfg(feature = "tokio")]
mod tokio;

use std::time::Duration;

use crate::{ClientRequest, Config, Error, HandshakeError, Result};
#[cfg(feature = "unstable")]
pub use proxy::fuzzing;
pub use proxy::Proxy;
#[cfg(any(feature = "blocking", feature = "tokio", feature = "futures-io"))]
pub(crate) use proxy::MAX_WANTED;
pub(crate) use proxy::{Step, Tunnel};

#[cfg(feature = "tokio")]
pub use reconnecting::{Backoff, Reconnect, Reconnecting};

/// A client connection with every option: a proxy (HTTP `CONNECT` or SOCKS5, given or from
/// the environment, with TLS inside the tunnel for `wss://`), redirects (off by default, like `ws`'s `followRedirects`), a timeout, the TLS
/// configuration. The same options connect on every runtime: [`connect`](Self::connect)
/// (tokio), [`connect_blocking`](Self::connect_blocking), [`connect_smol`](Self::connect_smol),
/// [`connect_async_std`](Self::connect_async_std).
///
/// ```no_run
/// use std::time::Duration;
/// use ferrosocket::{tokio::Connector, ClientRequest};
/// # async fn run() -> ferrosocket::Result<()> {
/// let (ws, response) = Connector::new(ClientRequest::new("ws://example.com/feed")?)
///     .proxy("127.0.0.1:3128", Some("Basic dXNlcjpwYXNz"))
///     .follow_redirects(3)
///     .timeout(Some(Duration::from_secs(10)))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Connector {
    pub(crate) request: ClientRequest,
    pub(crate) config: Config,
    pub(crate) timeout: Option<Duration>,
    proxy: ProxySetting,
    max_redirects: usize,
    pub(crate) tls: crate::tls::TlsChoice,
}

impl Connector {
    /// A connector for `request` with default settings and a 30 s timeout.
    pub fn new(request: ClientRequest) -> Self {
        Connector {
            request,
            config: Config::default(),
            timeout: Some(Duration::from_secs(30)),
            proxy: ProxySetting::Direct,
            max_redirects: 0,
            tls: None,
        }
    }

    /// The TLS for `wss://` — an `Arc<rustls::ClientConfig>` (extra roots, client
    /// certificates, ALPN) or a `native_tls::TlsConnector` — instead of
    /// [`ClientTls::default_config`](crate::tls::ClientTls::default_config).
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    pub fn tls(mut self, tls: impl Into<crate::tls::ClientTls>) -> Self {
        self.tls = Some(tls.into());
        self
    }

    /// Engine settings.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Bounds the whole attempt: TCP connect, proxy, redirects and handshakes (the blocking
    /// connector bounds each connection it opens, and each read and write until the
    /// handshake is done).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Tunnels through an HTTP proxy at `address` (`host:port`) with `CONNECT`, sending
    /// `Proxy-Authorization` when given (shorthand for [`via`](Self::via)).
    pub fn proxy(self, address: impl Into<String>, authorization: Option<&str>) -> Self {
        let proxy = Proxy::http(address);
        self.via(match authorization {
            Some(value) => proxy.authorization(value),
            None => proxy,
        })
    }

    /// Tunnels through `proxy`: HTTP `CONNECT` or SOCKS5 (`"socks5h://127.0.0.1:1080".parse()?`).
    pub fn via(mut self, proxy: Proxy) -> Self {
        self.proxy = ProxySetting::Given(proxy);
        self
    }

    /// Takes the proxy from the environment, as curl does, for each connection it opens
    /// (after a redirect, for the new host): `https_proxy` for `wss://`, `http_proxy` for
    /// `ws://`, else `all_proxy` (each lowercase first, then uppercase; `HTTP_PROXY` is
    /// ignored inside a CGI request), unless `no_proxy` names the host (`*`, domains and their
    /// subdomains, addresses, CIDR blocks, `host:port`). The values are proxy URLs, as
    /// [`Proxy::from_url`] reads them; a bad one fails the connection with
    /// [`ProxyError`](crate::ProxyError) rather than going direct. Opt-in: without it the
    /// environment is not read.
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy = ProxySetting::FromEnvironment;
        self
    }

    /// Follows up to `max` redirects (301, 302, 303, 307, 308 with a `Location`).
    pub fn follow_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }
}

/// Where a connector's proxy comes from.
#[derive(Debug, Clone)]
enum ProxySetting {
    Direct,
    Given(Proxy),
    FromEnvironment,
}

/// What one connection attempt does, as the runtimes' loops carry it out.
impl Connector {
    /// The proxy to reach `request`'s host through, if any.
    pub(crate) fn proxy_for(&self, request: &ClientRequest) -> Result<Option<Proxy>> {
        Ok(match &self.proxy {
            ProxySetting::Direct => None,
            ProxySetting::Given(proxy) => Some(proxy.clone()),
            ProxySetting::FromEnvironment => proxy::proxy_from_env(request, |name| std::env::var(name).ok())?,
        })
    }

    /// The request to try after `error` ended attempt number `redirects`: the target of a
    /// redirect (301, 302, 303, 307, 308 with a `Location`) while redirects are left, else
    /// `None` (the error stands).
    pub(crate) fn redirect(
        &self,
        request: &ClientRequest,
        error: &Error,
        redirects: usize,
    ) -> Option<Result<ClientRequest>> {
        let Error::Handshake(HandshakeError::Rejected(response)) = error else {
            return None;
        };
        if redirects >= self.max_redirects || !matches!(response.status, 301 | 302 | 303 | 307 | 308) {
            return None;
        }
        Some(match response.headers.get("location") {
            Some(location) => request.redirect(location).map_err(Error::from),
            None => Err(HandshakeError::MissingHeader("Location").into()),
        })
    }
}

/// Where to open the TCP connection for `request`: the proxy, or the host itself.
pub(crate) fn dial_address(proxy: Option<&Proxy>, request: &ClientRequest) -> String {
    match proxy {
        Some(proxy) => proxy.address().to_owned(),
        None => request.authority(),
    }
}

/// The error for a name that resolved to no address.
pub(crate) fn no_address() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotFound, "host resolved to no address")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Response;

    fn refused(status: u16, location: Option<&str>) -> Error {
        let mut response = Response::new(status);
        if let Some(location) = location {
            response = response.header("Location", location);
        }
        HandshakeError::Rejected(Box::new(response)).into()
    }

    #[test]
    fn redirects_are_followed_only_when_asked_and_only_so_far() {
        let request = ClientRequest::new("ws://a.example/x").unwrap();
        let connector = Connector::new(request.clone());
        assert!(
            connector
                .redirect(&request, &refused(302, Some("/y")), 0)
                .is_none(),
            "off by default"
        );
        let connector = connector.follow_redirects(2);
        let next = connector.redirect(&request, &refused(307, Some("ws://b.example/y")), 0);
        assert_eq!(next.unwrap().unwrap().host(), "b.example");
        assert!(
            connector
                .redirect(&request, &refused(302, Some("/y")), 2)
                .is_none(),
            "spent"
        );
        assert!(connector.redirect(&request, &refused(404, None), 0).is_none());
        assert!(connector.redirect(&request, &Error::NotOpen, 0).is_none());
        assert!(matches!(
            connector.redirect(&request, &refused(301, None), 0),
            Some(Err(Error::Handshake(HandshakeError::MissingHeader("Location"))))
        ));
    }

    #[test]
    fn the_proxy_is_given_or_none() {
        let request = ClientRequest::new("wss://b.example:8443/").unwrap();
        let direct = Connector::new(request.clone());
        assert_eq!(direct.proxy_for(&request).unwrap(), None);
        let proxied = direct.proxy("127.0.0.1:3128", Some("Basic dTpw"));
        let expected = Proxy::http("127.0.0.1:3128").authorization("Basic dTpw");
        assert_eq!(proxied.proxy_for(&request).unwrap(), Some(expected));
    }
}
