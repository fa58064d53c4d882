//! One HTTP server, two WebSocket endpoints (Node ws's "multiple servers sharing a single
//! HTTP server", with `noServer` + `handleUpgrade`): hyper answers plain HTTP and routes
//! upgrades by path; ferrosocket takes over the upgraded connections.
//!
//! - `GET /` — a plain HTTP page listing the endpoints
//! - `ws://…/echo` — echoes every message
//! - `ws://…/shout` — echoes text in upper case
//!
//! ```text
//! cargo run --example multiple_paths -- 127.0.0.1:8080
//! ```

#[path = "support/hyper_glue.rs"]
mod hyper_glue;

use ferrosocket::{Accept, Config, Message, Response};
use hyper_glue::{is_upgrade, to_hyper, upgrade, HttpResponse, Socket};

async fn echo(mut ws: Socket) {
    while let Some(Ok(message)) = ws.next().await {
        if message.is_data() && ws.send(message).await.is_err() {
            break;
        }
    }
}

async fn shout(mut ws: Socket) {
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Text(text) = message {
            if ws
                .send(Message::text(text.as_str().to_uppercase()))
                .await
                .is_err()
            {
                break;
            }
        }
    }
}

async fn handle(request: hyper::Request<hyper::body::Incoming>) -> HttpResponse {
    let path = request.uri().path().to_owned();
    match (path.as_str(), is_upgrade(&request)) {
        ("/echo", true) => upgrade(request, Accept::new(), Config::default(), echo),
        ("/shout", true) => upgrade(request, Accept::new(), Config::default(), shout),
        ("/", false) => to_hyper(
            Response::new(200)
                .header("Content-Type", "text/plain")
                .body("WebSocket endpoints: /echo /shout\n"),
        ),
        _ => to_hyper(Response::new(404).body("not found\n")),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("multiple_paths listening on http://{}", listener.local_addr()?);
    hyper_glue::serve(listener, handle).await
}
