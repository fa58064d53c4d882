//! yawc echo server with permessage-deflate (its balanced profile: the default level, context
//! takeover; built with its `zlib` feature, so flate2 runs on zlib-rs, yawc's fastest
//! backend) for the compressed loopback comparison (`benches/deflate_load.rs`).
//! usage: peer_yawc_echo ADDR — prints a `listening` line once bound.

use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use yawc::{HttpResponse, OpCode, Options, WebSocket};

fn handle(mut request: Request<Incoming>) -> yawc::Result<HttpResponse> {
    let options = Options::default().with_balanced_compression();
    let (response, upgrade) = WebSocket::upgrade_with_options(&mut request, options)?;
    tokio::spawn(async move {
        let Ok(mut ws) = upgrade.await else { return };
        while let Some(frame) = ws.next().await {
            let opcode = frame.opcode();
            if matches!(opcode, OpCode::Close) {
                return;
            }
            if matches!(opcode, OpCode::Text | OpCode::Binary) && ws.send(frame).await.is_err() {
                return;
            }
        }
    });
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9104".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("yawc echo listening on ws://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|request| async move { handle(request) });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}
