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

use crate::{Accept, ClientRequest, Config, Connection, Error, Request, Response, Result};

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
    is_websocket_connect(request.method(), request.extensions())
}

/// An HTTP/2 extended CONNECT whose `:protocol` (which hyper keeps in the extensions) is
/// `websocket`.
pub(crate) fn is_websocket_connect(method: &http::Method, extensions: &http::Extensions) -> bool {
    method == http::Method::CONNECT
        && extensions
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
    let (conn, response) = open(head, extended_connect, accept, config)?;
    Ok((response, Upgrading::new(hyper::upgrade::on(request), conn)))
}

/// Validates and accepts `head` — an HTTP/1.1 upgrade, or an HTTP/2 extended CONNECT —
/// returning the open engine and the answer, or the refusal to answer with.
pub(crate) fn open(
    head: Request,
    extended_connect: bool,
    accept: Accept,
    config: Config,
) -> std::result::Result<(Connection, Response), Response> {
    let accepted = if extended_connect {
        Connection::accept_extended_connect(&head, accept, config)
    } else {
        Connection::accept_upgrade(head, accept, config)
    };
    accepted.map_err(|error| match error {
        Error::Handshake(e) => e.to_response(),
        other => Response::new(500).body(other.to_string()),
    })
}

/// Our response as hyper's; a header the `http` crate cannot hold (CR or LF in a value the
/// application added) turns the answer into a 500 rather than a split response.
pub(crate) fn to_http<B: From<Bytes>>(response: Response) -> http::Response<B> {
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

impl Upgrading {
    pub(crate) fn new(on_upgrade: OnUpgrade, conn: Connection) -> Self {
        Upgrading {
            on_upgrade,
            conn: Some(conn),
        }
    }
}

impl Future for Upgrading {
    type Output = Result<WebSocket>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let upgraded = ready!(Pin::new(&mut self.on_upgrade).poll(cx)).map_err(io::Error::other)?;
        let conn = self.conn.take().ok_or(Error::AlreadyClosed)?;
        Poll::Ready(Ok(crate::tokio::from_connection(TokioIo::new(upgraded), conn)))
    }
}

/// Opens a WebSocket over an HTTP/2 connection you hold (RFC 8441): sends an extended
/// `CONNECT` for `request` on `sender` — a hyper HTTP/2 client connection to a server that
/// announced `SETTINGS_ENABLE_CONNECT_PROTOCOL` — with the subprotocols, headers and the
/// permessage-deflate offer of `config`, checks the answer as over HTTP/1.1, and runs the
/// engine on the stream. WebSockets and ordinary requests can share the connection.
///
/// ```no_run
/// use ferrosocket::{ClientRequest, Config, Message};
/// use hyper_util::rt::{TokioExecutor, TokioIo};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let tcp = tokio::net::TcpStream::connect("127.0.0.1:8080").await?;
/// let (mut sender, connection) =
///     hyper::client::conn::http2::Builder::new(TokioExecutor::new())
///         .handshake::<_, http_body_util::Empty<bytes::Bytes>>(TokioIo::new(tcp))
///         .await?;
/// tokio::spawn(connection);
/// let request = ClientRequest::new("ws://127.0.0.1:8080/chat")?;
/// let (mut ws, _response) = ferrosocket::hyper::connect_http2(&mut sender, &request, Config::default()).await?;
/// ws.send(Message::text("over HTTP/2")).await?;
/// # Ok(()) }
/// ```
pub async fn connect_http2<B>(
    sender: &mut hyper::client::conn::http2::SendRequest<B>,
    request: &ClientRequest,
    config: Config,
) -> Result<(WebSocket, Response)>
where
    B: hyper::body::Body + Default + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let offer = config.permessage_deflate.as_ref().map(|deflate| deflate.offer());
    let headers = request.extended_connect_headers(offer.as_deref())?;
    let scheme = if request.is_secure() { "https" } else { "http" };
    let host = request.host();
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let mut connect = http::Request::builder()
        .method(http::Method::CONNECT)
        .version(http::Version::HTTP_2)
        .uri(format!(
            "{scheme}://{host}:{}{}",
            request.port(),
            request.target()
        ))
        .extension(hyper::ext::Protocol::from_static("websocket"));
    for (name, value) in headers.iter() {
        connect = connect.header(name, value);
    }
    let connect = connect.body(B::default()).map_err(io::Error::other)?;
    sender.ready().await.map_err(io::Error::other)?;
    let mut answer = sender.send_request(connect).await.map_err(io::Error::other)?;
    let response = Response::from(&answer);
    let conn = Connection::open_extended_connect(request, &response, config)?;
    let upgraded = hyper::upgrade::on(&mut answer).await.map_err(io::Error::other)?;
    Ok((
        crate::tokio::from_connection(TokioIo::new(upgraded), conn),
        response,
    ))
}
