//! hyper 1.x servers (feature `hyper`): answer an upgrade request from a hyper service and
//! get the [`WebSocket`] once hyper hands the connection over — over HTTP/1.1 (`Upgrade:
//! websocket`, 101) and over HTTP/2 (RFC 8441 extended CONNECT, 200; serve with
//! `hyper::server::conn::http2::Builder::enable_connect_protocol`).
//!
//! ```no_run
//! use bytes::Bytes;
//! use ferrosocket::hyper::{upgrade, WebSocket};
//! use ferrosocket::{Accept, Config};
//! use futures_util::{SinkExt, StreamExt};
//! use http_body_util::Full;
//!
//! async fn handle(
//!     mut request: hyper::Request<hyper::body::Incoming>,
//! ) -> Result<hyper::Response<Full<Bytes>>, std::convert::Infallible> {
//!     let (response, socket) = upgrade(&mut request, Config::default(), |_| Ok(Accept::new()));
//!     if let Some(socket) = socket {
//!         tokio::spawn(async move {
//!             if let Ok(mut ws) = socket.await {
//!                 while let Some(Ok(message)) = ws.next().await {
//!                     if message.is_data() && ws.send(message).await.is_err() {
//!                         break;
//!                     }
//!                 }
//!             }
//!         });
//!     }
//!     Ok(response)
//! }
//! ```

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;

use crate::{Accept, Config, Connection, Error, Request, Response, Result};

/// A WebSocket over a connection (or HTTP/2 stream) hyper upgraded.
pub type WebSocket = crate::tokio::WebSocketStream<TokioIo<Upgraded>>;

/// Whether `request` asks for a WebSocket: `Upgrade: websocket` over HTTP/1.1, or an HTTP/2
/// extended CONNECT with `:protocol websocket`.
pub fn is_upgrade_request<B>(request: &http::Request<B>) -> bool {
    is_extended_connect(request)
        || request
            .headers()
            .get_all(http::header::UPGRADE)
            .iter()
            .any(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

fn is_extended_connect<B>(request: &http::Request<B>) -> bool {
    request.method() == http::Method::CONNECT
        && request
            .extensions()
            .get::<hyper::ext::Protocol>()
            .is_some_and(|protocol| protocol.as_str().eq_ignore_ascii_case("websocket"))
}

/// Answers the upgrade `request` asks for. `decide` sees the request (path, headers, offered
/// subprotocols) and accepts (choosing a subprotocol, adding headers) or refuses with a
/// response of its own. Returns the response for hyper to send — 101 over HTTP/1.1, 200 over
/// HTTP/2, or the refusal (a malformed request gets its 400/426) — and, when accepted, the
/// future of the WebSocket, which completes once hyper has sent the response and handed the
/// connection over.
pub fn upgrade<T, B>(
    request: &mut http::Request<T>,
    config: Config,
    decide: impl FnOnce(&Request) -> std::result::Result<Accept, Response>,
) -> (http::Response<B>, Option<Upgrading>)
where
    B: From<Bytes>,
{
    match try_upgrade(request, config, decide) {
        Ok((response, upgrading)) => (to_http(response), Some(upgrading)),
        Err(refusal) => (to_http(refusal), None),
    }
}

fn try_upgrade<T>(
    request: &mut http::Request<T>,
    config: Config,
    decide: impl FnOnce(&Request) -> std::result::Result<Accept, Response>,
) -> std::result::Result<(Response, Upgrading), Response> {
    let head = Request::try_from(&*request).map_err(|e| Response::new(400).body(e.to_string()))?;
    let extended_connect = is_extended_connect(request);
    let accept = decide(&head)?;
    let accepted = if extended_connect {
        Connection::accept_extended_connect(&head, accept, config)
    } else {
        Connection::accept_upgrade(head, accept, config)
    };
    let (conn, response) = accepted.map_err(|error| match error {
        Error::Handshake(e) => e.to_response(),
        other => Response::new(500).body(other.to_string()),
    })?;
    let upgrading = Upgrading {
        on_upgrade: hyper::upgrade::on(request),
        conn: Some(conn),
    };
    Ok((response, upgrading))
}

/// Our response as hyper's; a header the `http` crate cannot hold (CR or LF in a value the
/// application added) turns the answer into a 500 rather than a split response.
fn to_http<B: From<Bytes>>(response: Response) -> http::Response<B> {
    match http::Response::<Bytes>::try_from(response) {
        Ok(response) => response.map(B::from),
        Err(e) => {
            let mut refusal = http::Response::new(B::from(Bytes::from(e.to_string())));
            *refusal.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            refusal
        }
    }
}

/// The WebSocket of an accepted upgrade, once hyper hands the connection over.
#[derive(Debug)]
#[must_use = "the WebSocket arrives by awaiting this future"]
pub struct Upgrading {
    on_upgrade: OnUpgrade,
    conn: Option<Connection>,
}

impl Future for Upgrading {
    type Output = Result<WebSocket>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let upgraded = ready!(Pin::new(&mut self.on_upgrade).poll(cx)).map_err(io::Error::other)?;
        let conn = self.conn.take().ok_or(Error::AlreadyClosed)?;
        Poll::Ready(Ok(crate::tokio::from_connection(TokioIo::new(upgraded), conn)))
    }
}
