//! TLS for the server toolkit: the acceptor a [`ServerBuilder`](crate::server::ServerBuilder)
//! was given, if any, and the step that runs it over an accepted stream.

use std::io;

use crate::server::Io;

/// The TLS acceptor a server runs over accepted streams, if any (`ServerBuilder::tls`).
#[cfg(feature = "rustls")]
pub(crate) type ServerTls = Option<tokio_rustls::TlsAcceptor>;
/// Without the `rustls` feature a server has no TLS of its own.
#[cfg(not(feature = "rustls"))]
pub(crate) type ServerTls = Option<core::convert::Infallible>;

/// The accepted stream as the toolkit runs it: under TLS when an acceptor is configured.
pub(crate) async fn accept<S: Io>(tls: &ServerTls, stream: S) -> io::Result<Box<dyn Io>> {
    #[cfg(feature = "rustls")]
    if let Some(acceptor) = tls {
        return Ok(Box::new(acceptor.accept(stream).await?));
    }
    let _ = tls; // without the `rustls` feature there is none
    Ok(Box::new(stream))
}
