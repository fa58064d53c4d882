//! TLS for `wss://` clients, over rustls (feature `rustls`).
//!
//! The connectors ([`tokio::connect`](crate::tokio::connect),
//! [`tokio::Connector`](crate::tokio::Connector), [`blocking::connect`](crate::blocking::connect))
//! open TLS themselves for `wss://` URLs. By default they trust the roots the crate was built
//! with: Mozilla's (feature `webpki-roots`) and the operating system's (feature
//! `rustls-native-certs`). For extra roots, client certificates or ALPN, build a
//! [`rustls::ClientConfig`] and hand it to the connector.
//!
//! ```no_run
//! use std::sync::Arc;
//! use ferrosocket::tls::rustls::{ClientConfig, RootCertStore};
//! use ferrosocket::{tokio::Connector, ClientRequest};
//!
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

use std::sync::{Arc, OnceLock};

pub use rustls;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};

use crate::error::TlsError;

/// The client configuration the connectors use unless given one: the roots of the enabled
/// root features, built once per process.
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
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|_| TlsError::InvalidServerName(host.to_owned()))
}

/// The configuration to use: the caller's, or the default one.
pub(crate) fn client_config(custom: Option<&Arc<ClientConfig>>) -> Result<Arc<ClientConfig>, TlsError> {
    match custom {
        Some(config) => Ok(Arc::clone(config)),
        None => default_client_config(),
    }
}
