//! axum 0.8 (feature `axum`): the [`WebSocketUpgrade`] extractor, in the spirit of
//! `axum::extract::ws::WebSocketUpgrade`, that answers an HTTP/1.1 upgrade (101) and an
//! HTTP/2 extended CONNECT (RFC 8441, 200) alike and hands the handler's callback a
//! [`WebSocket`] running this crate's engine.
//!
//! `axum::serve` accepts HTTP/2 extended CONNECT out of the box; route with `any(…)` (or a
//! fallback) rather than `get(…)`, since over HTTP/2 the method is `CONNECT`.
//!
//! ```no_run
//! use axum::{response::Response, routing::any, Router};
//! use ferrosocket::axum::{WebSocket, WebSocketUpgrade};
//! use futures_util::{SinkExt, StreamExt};
//!
//! async fn handler(upgrade: WebSocketUpgrade) -> Response {
//!     upgrade
//!         .protocols(["chat", "superchat"]) // the first the client offered among these
//!         .on_failed_upgrade(|error| eprintln!("upgrade failed: {error}"))
//!         .on_upgrade(echo)
//! }
//!
//! async fn echo(mut socket: WebSocket) {
//!     while let Some(Ok(message)) = socket.next().await {
//!         if message.is_data() && socket.send(message).await.is_err() {
//!             break;
//!         }
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let app = Router::new().route("/ws", any(handler));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

use std::fmt;
use std::future::Future;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::IntoResponse;
use http::request::Parts;
use hyper::upgrade::OnUpgrade;

use super::hyper::{is_websocket_connect, open, to_http, Upgrading};
use crate::handshake::server::{validate_extended_connect, validate_request};
use crate::handshake::HttpConversionError;
use crate::{Accept, Config, Error, HandshakeError, Request, Response};

pub use super::hyper::WebSocket;

/// Extracts a WebSocket upgrade — HTTP/1.1 `Upgrade: websocket` or HTTP/2 extended CONNECT
/// with `:protocol websocket` — already checked against RFC 6455 / RFC 8441, so a handler
/// that takes it only runs for valid requests. Choose a subprotocol, set the engine's
/// [`Config`] and response headers, then answer with [`on_upgrade`](Self::on_upgrade).
pub struct WebSocketUpgrade<F = IgnoreFailedUpgrade> {
    request: Request,
    extended_connect: bool,
    on_upgrade: OnUpgrade,
    config: Config,
    accept: Accept,
    on_failed_upgrade: F,
}

impl<F> fmt::Debug for WebSocketUpgrade<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketUpgrade")
            .field("request", &self.request)
            .field("extended_connect", &self.extended_connect)
            .field("config", &self.config)
            .field("accept", &self.accept)
            .finish_non_exhaustive()
    }
}

impl<F> WebSocketUpgrade<F> {
    /// The request's head: path, query, headers, cookies, origin.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Whether the request came as an HTTP/2 extended CONNECT (RFC 8441) rather than an
    /// HTTP/1.1 upgrade.
    pub fn is_extended_connect(&self) -> bool {
        self.extended_connect
    }

    /// The subprotocols the client offered, in its order of preference.
    pub fn offered_protocols(&self) -> impl Iterator<Item = &str> {
        self.request.protocols()
    }

    /// Selects the first subprotocol the client offered that is among `supported`; if
    /// there is none, no subprotocol is selected (the client decides whether to go on).
    pub fn protocols<I>(mut self, supported: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let supported: Vec<I::Item> = supported.into_iter().collect();
        let chosen = self
            .request
            .protocols()
            .find(|offered| supported.iter().any(|s| s.as_ref() == *offered))
            .map(str::to_owned);
        self.accept.protocol = chosen;
        self
    }

    /// The selected subprotocol, if any.
    pub fn selected_protocol(&self) -> Option<&str> {
        self.accept.protocol.as_deref()
    }

    /// Engine settings for this connection: limits, permessage-deflate (negotiated from
    /// the client's offer when set), close timeout.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The largest message accepted (a shortcut for [`Config::max_message_size`]).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config = self.config.max_message_size(bytes);
        self
    }

    /// Adds a header to the response (checked when answering: a field with CR, LF or NUL
    /// turns the answer into a 500, never into a split response).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.accept = self.accept.header(name, value);
        self
    }

    /// What to do when the upgrade fails after the response was sent (hyper could not
    /// hand the connection over). By default the error is dropped.
    pub fn on_failed_upgrade<G: OnFailedUpgrade>(self, callback: G) -> WebSocketUpgrade<G> {
        WebSocketUpgrade {
            request: self.request,
            extended_connect: self.extended_connect,
            on_upgrade: self.on_upgrade,
            config: self.config,
            accept: self.accept,
            on_failed_upgrade: callback,
        }
    }

    /// Answers the request and, once hyper hands the connection over, runs `callback` with
    /// the [`WebSocket`] on a task of its own. Returns the response for the handler to
    /// return: 101 over HTTP/1.1, 200 over HTTP/2, or a refusal (500 for a response header
    /// that could not be sent).
    pub fn on_upgrade<C, Fut>(self, callback: C) -> axum::response::Response
    where
        F: OnFailedUpgrade,
        C: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (conn, response) = match open(self.request, self.extended_connect, self.accept, self.config) {
            Ok(opened) => opened,
            Err(refusal) => return to_http(refusal),
        };
        let upgrading = Upgrading::new(self.on_upgrade, conn);
        let on_failed_upgrade = self.on_failed_upgrade;
        tokio::spawn(async move {
            match upgrading.await {
                Ok(socket) => callback(socket).await,
                Err(error) => on_failed_upgrade.call(error),
            }
        });
        to_http(response)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = WebSocketUpgradeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request = Request::try_from(&*parts).map_err(WebSocketUpgradeRejection::Head)?;
        let extended_connect = is_websocket_connect(&parts.method, &parts.extensions);
        if extended_connect {
            validate_extended_connect(&request)?;
        } else {
            validate_request(&request)?;
        }
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(WebSocketUpgradeRejection::ConnectionNotUpgradable)?;
        Ok(WebSocketUpgrade {
            request,
            extended_connect,
            on_upgrade,
            config: Config::default(),
            accept: Accept::new(),
            on_failed_upgrade: IgnoreFailedUpgrade,
        })
    }
}

/// Why a request is not a WebSocket upgrade this extractor can answer. As a response it is
/// the status RFC 6455 asks for (400, 405, 426 with `Sec-WebSocket-Version: 13`, …).
#[derive(Debug)]
#[non_exhaustive]
pub enum WebSocketUpgradeRejection {
    /// The request is not a valid upgrade: wrong method, a missing or invalid header, an
    /// unsupported version.
    Handshake(HandshakeError),
    /// The request head could not be read.
    Head(HttpConversionError),
    /// The server cannot hand this connection over (it was not served with upgrades, or
    /// another extractor took the upgrade); answered with 426.
    ConnectionNotUpgradable,
}

impl From<HandshakeError> for WebSocketUpgradeRejection {
    fn from(error: HandshakeError) -> Self {
        WebSocketUpgradeRejection::Handshake(error)
    }
}

impl fmt::Display for WebSocketUpgradeRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Handshake(e) => write!(f, "not a WebSocket upgrade: {e}"),
            Self::Head(e) => write!(f, "unreadable request head: {e}"),
            Self::ConnectionNotUpgradable => f.write_str("this connection cannot be upgraded"),
        }
    }
}

impl std::error::Error for WebSocketUpgradeRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Handshake(e) => Some(e),
            Self::Head(e) => Some(e),
            Self::ConnectionNotUpgradable => None,
        }
    }
}

impl IntoResponse for WebSocketUpgradeRejection {
    fn into_response(self) -> axum::response::Response {
        let response = match &self {
            Self::Handshake(e) => e.to_response(),
            Self::Head(e) => Response::new(400).body(format!("{e}\n")),
            Self::ConnectionNotUpgradable => Response::new(426)
                .header("Content-Type", "text/plain; charset=utf-8")
                .body(format!("{self}\n")),
        };
        to_http::<Body>(response)
    }
}

/// Receives the error of an upgrade that failed after its response went out.
pub trait OnFailedUpgrade: Send + 'static {
    /// Called with the error, on the task that awaited the upgrade.
    fn call(self, error: Error);
}

impl<F: FnOnce(Error) + Send + 'static> OnFailedUpgrade for F {
    fn call(self, error: Error) {
        self(error)
    }
}

/// The default [`OnFailedUpgrade`]: drops the error.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct IgnoreFailedUpgrade;

impl OnFailedUpgrade for IgnoreFailedUpgrade {
    fn call(self, _error: Error) {}
}
