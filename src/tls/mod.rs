//! TLS for `wss://` clients: rustls (feature `rustls`) or the platform's TLS through
//! native-tls (feature `native-tls`).
//!
//! Everything TLS lives here, each backend gated once: [`ClientTls`] (what a connector
//! speaks) and, for each family of I/O traits, the stream the connectors return and the
//! step that opens it — `blocking` (`Read + Write`), `tokio` and `futures_io` — which the
//! runtime modules re-export as their `MaybeTlsStream`. Built without a TLS feature, the
//! streams have only their `Plain` variant and `wss://` is refused with
//! [`TlsError::NotEnabled`].
//!
//! The connectors ([`tokio::connect`](crate::tokio::connect),
//! [`tokio::Connector`](crate::tokio::Connector), [`blocking::connect`](crate::blocking::connect),
//! `async_std::connect`) open TLS themselves for `wss://` URLs, as [`ClientTls::default_config`]
//! says: rustls when it is enabled, trusting the roots the crate was built with — Mozilla's
//! (feature `webpki-roots`) and the operating system's (feature `rustls-native-certs`) — else
//! native-tls with the system's roots. For extra roots, client certificates or ALPN, build a
//! `rustls::ClientConfig` or a `native_tls::TlsConnector` and hand it to the connector.
//!
//! ```no_run
//! use std::sync::Arc;
//! use ferrosocket::tls::rustls::{ClientConfig, RootCertStore};
//! use ferrosocket::{tokio::Connector, ClientRequest};
//!
//! # #[cfg(feature = "rustls")]
//! # async fn run(my_ca: ferrosocket::tls::rustls::pki_types::CertificateDer<'static>) -> ferrosocket::Result<()> {
//! let mut roots = RootCertStore::empty();
//! roots.add(my_ca).expect("a valid CA certificate");
//! let tls = ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
//! let (ws, _response) = Connector::new(ClientRequest::new("wss://internal.example/feed")?)
//!     .tls(Arc::new(tls))
//!     .connect()
//!     .await?;
//! # Ok(()) }
//! ```

/// Runs `$call` on whichever stream a `MaybeTlsStream` holds, named `$stream`: each family's
/// wrapper matches its backends in this one place. (Defined before the family modules, so
/// they see it.)
#[cfg(any(feature = "blocking", feature = "tokio", feature = "futures-io"))]
macro_rules! delegate {
    ($value:expr, $stream:ident => $call:expr) => {
        match $value {
            MaybeTlsStream::Plain($stream) => $call,
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls($stream) => $call,
            #[cfg(feature = "native-tls")]
            MaybeTlsStream::NativeTls($stream) => $call,
        }
    };
}

#[cfg(feature = "blocking")]
pub(crate) mod blocking;
#[cfg(feature = "compio")]
pub(crate) mod compio;
#[cfg(feature = "futures-io")]
pub(crate) mod futures_io;
#[cfg(feature = "tokio")]
pub(crate) mod server;
#[cfg(feature = "tokio")]
pub(crate) mod tokio;

#[cfg(feature = "rustls")]
use std::sync::{Arc, OnceLock};

#[cfg(feature = "native-tls")]
pub use native_tls;
#[cfg(feature = "rustls")]
pub use rustls;
#[cfg(feature = "rustls")]
use rustls::{ClientConfig, RootCertStore};

#[cfg(any(feature = "rustls", feature = "native-tls"))]
use crate::error::TlsError;

/// Whether the connectors can speak `wss://` in this build.
#[cfg(any(
    feature = "blocking",
    feature = "tokio",
    feature = "futures-io",
    feature = "compio"
))]
const ENABLED: bool = cfg!(any(feature = "rustls", feature = "native-tls"));

/// Refuses a `wss://` request before anything is connected when this build has no TLS.
#[cfg(any(
    feature = "blocking",
    feature = "tokio",
    feature = "futures-io",
    feature = "compio"
))]
pub(crate) fn check_enabled(request: &crate::ClientRequest) -> Result<(), crate::TlsError> {
    refuse_without(request, ENABLED)
}

#[cfg(any(
    feature = "blocking",
    feature = "tokio",
    feature = "futures-io",
    feature = "compio"
))]
fn refuse_without(request: &crate::ClientRequest, enabled: bool) -> Result<(), crate::TlsError> {
    if request.is_secure() && !enabled {
        return Err(crate::TlsError::NotEnabled);
    }
    Ok(())
}

/// The TLS a connector was given for `wss://`, if any: `None` takes
/// [`ClientTls::default_config`]. (Without a TLS feature there is nothing to give.)
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub(crate) type TlsChoice = Option<ClientTls>;
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) type TlsChoice = Option<core::convert::Infallible>;

/// The TLS a connector speaks for `wss://`.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub enum ClientTls {
    /// rustls with this configuration (roots, client certificates, ALPN).
    #[cfg(feature = "rustls")]
    Rustls(Arc<rustls::ClientConfig>),
    /// The platform's TLS through native-tls, with this connector.
    #[cfg(feature = "native-tls")]
    NativeTls(native_tls::TlsConnector),
}

#[cfg(any(feature = "rustls", feature = "native-tls"))]
impl ClientTls {
    /// What the connectors use unless given one: rustls with
    /// [`default_client_config`] when the `rustls` feature is on, else native-tls with the
    /// system's roots.
    pub fn default_config() -> Result<ClientTls, TlsError> {
        #[cfg(feature = "rustls")]
        return default_client_config().map(ClientTls::Rustls);
        #[cfg(not(feature = "rustls"))]
        native_tls::TlsConnector::new()
            .map(ClientTls::NativeTls)
            .map_err(|e| TlsError::Setup(e.to_string()))
    }
}

#[cfg(feature = "rustls")]
impl From<Arc<rustls::ClientConfig>> for ClientTls {
    fn from(config: Arc<rustls::ClientConfig>) -> Self {
        ClientTls::Rustls(config)
    }
}

#[cfg(feature = "rustls")]
impl From<rustls::ClientConfig> for ClientTls {
    fn from(config: rustls::ClientConfig) -> Self {
        ClientTls::Rustls(Arc::new(config))
    }
}

#[cfg(feature = "native-tls")]
impl From<native_tls::TlsConnector> for ClientTls {
    fn from(connector: native_tls::TlsConnector) -> Self {
        ClientTls::NativeTls(connector)
    }
}

/// The TLS to use: the caller's, or the default.
#[cfg(all(
    any(feature = "rustls", feature = "native-tls"),
    any(
        feature = "blocking",
        feature = "tokio",
        feature = "futures-io",
        feature = "compio"
    )
))]
pub(crate) fn choose(custom: Option<&ClientTls>) -> Result<ClientTls, TlsError> {
    match custom {
        Some(tls) => Ok(tls.clone()),
        None => ClientTls::default_config(),
    }
}

/// The URL's host as TLS names it: without an IPv6 literal's brackets.
#[cfg(all(
    any(feature = "rustls", feature = "native-tls"),
    any(
        feature = "blocking",
        feature = "tokio",
        feature = "futures-io",
        feature = "compio"
    )
))]
pub(crate) fn bare_host(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// The rustls configuration the connectors use unless given one: the roots of the enabled
/// root features, built once per process.
#[cfg(feature = "rustls")]
pub fn default_client_config() -> Result<Arc<ClientConfig>, TlsError> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, TlsError>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = default_roots();
            if roots.is_empty() {
                return Err(TlsError::NoRootCertificates);
            }
            let config =
                ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .expect("ring supports rustls' default protocol versions")
                    .with_root_certificates(roots)
                    .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
}

/// Mozilla's roots and the system's, as far as the features allow.
#[cfg(feature = "rustls")]
fn default_roots() -> RootCertStore {
    #[allow(unused_mut)]
    let mut roots = RootCertStore::empty();
    #[cfg(feature = "webpki-roots")]
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[cfg(feature = "rustls-native-certs")]
    for cert in rustls_native_certs::load_native_certs().certs {
        // A system certificate rustls cannot parse is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    roots
}

/// The name the server's certificate must carry: a DNS name or an IP address.
#[cfg(all(
    feature = "rustls",
    any(
        feature = "blocking",
        feature = "tokio",
        feature = "futures-io",
        feature = "compio"
    )
))]
pub(crate) fn server_name(host: &str) -> Result<rustls::pki_types::ServerName<'static>, TlsError> {
    let host = bare_host(host);
    rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|_| TlsError::InvalidServerName(host.to_owned()))
}

#[cfg(all(test, any(feature = "blocking", feature = "tokio", feature = "futures-io")))]
mod tests {
    use super::*;

    #[test]
    fn wss_without_tls_is_a_typed_error_that_names_the_feature() {
        let secure = crate::ClientRequest::new("wss://127.0.0.1:1/").unwrap();
        let error = crate::Error::from(refuse_without(&secure, false).unwrap_err());
        assert!(
            matches!(error, crate::Error::Tls(crate::TlsError::NotEnabled)),
            "{error:?}"
        );
        assert!(error.to_string().contains("`rustls` or the `native-tls` feature"));
        let plain = crate::ClientRequest::new("ws://127.0.0.1:1/").unwrap();
        assert!(refuse_without(&plain, false).is_ok());
        assert!(refuse_without(&secure, true).is_ok());
    }
}
