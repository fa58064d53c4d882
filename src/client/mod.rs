//! The client toolkit, beside the server one: a [`Connector`] (proxy, redirects, timeout,
//! TLS) for every runtime, and the tokio [`Reconnecting`] client.
//!
//! The protocol parts are sans-IO and written once — the proxy's `CONNECT` exchange
//! (`proxy`), which request to try after a redirect ([`Connector`]'s policy) — and each
//! runtime's file (`tokio`, `futures_io`, `blocking`) only dials, moves the bytes and
//! sequences the steps: TCP to the proxy or the host, the tunnel, TLS for `wss://`, the
//! handshake, and again after a redirect.

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
use proxy::HttpConnect;

#[cfg(feature = "tokio")]
pub use reconnecting::{Backoff, Reconnect, Reconnecting};

/// A client connection with every option: an HTTP proxy (`CONNECT` tunnel, with TLS inside it
/// for `wss://`), redirects (off by default, like `ws`'s `followRedirects`), a timeout, the TLS
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
    proxy: Option<(String, Option<String>)>,
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
            proxy: None,
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
    /// `Proxy-Authorization` when given.
    pub fn proxy(mut self, address: impl Into<String>, authorization: Option<&str>) -> Self {
        self.proxy = Some((address.into(), authorization.map(str::to_owned)));
        self
    }

    /// Follows up to `max` redirects (301, 302, 303, 307, 308 with a `Location`).
    pub fn follow_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }
}

/// What one connection attempt does, as the runtimes' loops carry it out.
impl Connector {
    /// Where to open the TCP connection for `request`: the proxy, or the host itself.
    pub(crate) fn dial_address(&self, request: &ClientRequest) -> String {
        match &self.proxy {
            Some((proxy, _)) => proxy.clone(),
            None => request.authority(),
        }
    }

    /// The `CONNECT` exchange to run first through a proxy, and its request bytes.
    fn tunnel(&self, request: &ClientRequest) -> Result<Option<(HttpConnect, Vec<u8>)>> {
        self.proxy
            .as_ref()
            .map(|(_, authorization)| HttpConnect::start(&request.authority(), authorization.as_deref()))
            .transpose()
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
    fn a_proxy_is_dialled_and_tunnelled_through() {
        let request = ClientRequest::new("wss://b.example:8443/").unwrap();
        let direct = Connector::new(request.clone());
        assert_eq!(direct.dial_address(&request), "b.example:8443");
        assert!(direct.tunnel(&request).unwrap().is_none());
        let proxied = direct.proxy("127.0.0.1:3128", None);
        assert_eq!(proxied.dial_address(&request), "127.0.0.1:3128");
        let (_, bytes) = proxied.tunnel(&request).unwrap().unwrap();
        assert!(bytes.starts_with(b"CONNECT b.example:8443 HTTP/1.1\r\n"));
    }
}
