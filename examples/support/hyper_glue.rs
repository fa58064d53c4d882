//! Glue between hyper 1 and ferrosocket for the examples that share an HTTP server with
//! WebSocket endpoints (Node ws's `noServer` + `handleUpgrade`). Included with `#[path]`.

use std::future::Future;

use bytes::Bytes;
use ferrosocket::{Accept, Config, Connection, Error, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;

/// A WebSocket over a connection hyper upgraded.
pub type Socket = ferrosocket::tokio::WebSocketStream<TokioIo<Upgraded>>;

/// An HTTP response with a full body.
pub type HttpResponse = hyper::Response<Full<Bytes>>;

/// Whether the request asks for a WebSocket upgrade.
pub fn is_upgrade<B>(request: &hyper::Request<B>) -> bool {
    request
        .headers()
        .get(hyper::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// hyper's request head as ferrosocket's [`Request`].
fn to_request<B>(request: &hyper::Request<B>) -> Request {
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut converted = Request::new(request.method().as_str(), target);
    if request.version() == hyper::Version::HTTP_10 {
        converted.http_minor_version = 0;
    }
    for (name, value) in request.headers() {
        converted
            .headers
            .append(name.as_str(), String::from_utf8_lossy(value.as_bytes()));
    }
    converted
}

/// ferrosocket's [`Response`] as hyper's.
pub fn to_hyper(response: Response) -> HttpResponse {
    let mut builder = hyper::Response::builder().status(response.status);
    for (name, value) in response.headers.iter() {
        builder = builder.header(name, value);
    }
    builder.body(Full::new(response.body)).expect("valid response")
}

/// Accepts the upgrade (hyper sends our 101) and runs `handler` on the WebSocket once hyper
/// hands the connection over; a bad request is answered with its 4xx.
pub fn upgrade<F, Fut>(
    mut request: hyper::Request<Incoming>,
    accept: Accept,
    config: Config,
    handler: F,
) -> HttpResponse
where
    F: FnOnce(Socket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    match Connection::accept_upgrade(to_request(&request), accept, config) {
        Ok((conn, response)) => {
            let upgraded = hyper::upgrade::on(&mut request);
            tokio::spawn(async move {
                if let Ok(io) = upgraded.await {
                    handler(ferrosocket::tokio::from_connection(TokioIo::new(io), conn)).await;
                }
            });
            to_hyper(response)
        }
        Err(Error::Handshake(e)) => to_hyper(e.to_response()),
        Err(e) => to_hyper(Response::new(500).body(e.to_string())),
    }
}

/// Serves `handle` on `listener` with HTTP/1.1 and upgrades enabled.
pub async fn serve<H, Fut>(listener: tokio::net::TcpListener, handle: H) -> std::io::Result<()>
where
    H: Fn(hyper::Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + Send + 'static,
{
    loop {
        let (stream, _) = listener.accept().await?;
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let handle = handle.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}
