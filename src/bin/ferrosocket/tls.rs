//! Certificates from files: the client's roots (Mozilla's plus `--ca`), the server's chain
//! and key.

use std::path::Path;
use std::sync::Arc;

use ferrosocket::tls::rustls::pki_types::pem::PemObject;
use ferrosocket::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use ferrosocket::tls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};

/// Why certificates could not be loaded: the file and what went wrong.
#[derive(Debug)]
pub struct CertificateError(pub String);

/// Client TLS trusting Mozilla's roots and the certificates in `ca`, offering `alpn`.
pub fn client_config(ca: Option<&Path>, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, CertificateError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca {
        for cert in certificates(path)? {
            roots
                .add(cert)
                .map_err(|e| CertificateError(format!("{}: {e}", path.display())))?;
        }
    }
    let mut config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Server TLS from a PEM chain and key, speaking HTTP/1.1.
pub fn server_config(chain: &Path, key: &Path) -> Result<Arc<ServerConfig>, CertificateError> {
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| CertificateError(format!("{}: {e}", key.display())))?;
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certificates(chain)?, key)
        .map_err(|e: rustls::Error| CertificateError(format!("{}: {e}", chain.display())))?;
    Ok(Arc::new(config))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, CertificateError> {
    let bad = |e: &dyn std::fmt::Display| CertificateError(format!("{}: {e}", path.display()));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&e))?;
    if certs.is_empty() {
        return Err(bad(&"no certificates in the file"));
    }
    Ok(certs)
}
