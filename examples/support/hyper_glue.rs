//! Glue between hyper 1 and ferrosocket for the examples that share an HTTP server with
//! WebSocket endpoints (Node ws's `noServer` + `handleUpgrade`): the upgrade itself is
//! `ferrosocket::hyper::upgrade`; this adds a spawn per socket and a serve loop. Included with
//! `#[path]`.

use std::future::Future;

use bytes::Bytes;
use ferrosocket::{Accept, Config, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

pub use ferrosocket::hyper::is_upgrade_request as is_upgrade;

/// A WebSocket over a connection hyper upgraded.
pub type Socket = ferrosocket::hyper::WebSocket;

/// An HTTP response with a full body.
pub type HttpResponse = hyper::Response<Full<Bytes>>;

/// ferrosocket's [`Response`] as hyper's.
pub fn to_hyper(response: Response) -> HttpResponse {
    let response = hyper::Response::<Bytes>::try_from(response).expect("a valid response");
    response.map(Full::new)
}

/// Accepts the upgrade with `accept` (ferrosocket's hyper integration answers it) and runs
/// `handler` on the WebSocket once hyper hands the connection over; a bad request is answered
/// with its 4xx.
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
    let (response, socket) = ferrosocket::hyper::upgrade(&mut request, config, |_| Ok(accept));
    if let Some(socket) = socket {
        tokio::spawn(async move {
            if let Ok(ws) = socket.await {
                handler(ws).await;
            }
        });
    }
    response
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
