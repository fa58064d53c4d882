//! tokio-websockets echo server for the loopback comparison (`benches/echo_load.rs`), as its
//! own echo example has it (its SIMD masking and UTF-8 validation are on by default).
//! usage: peer_tokio_websockets_echo ADDR [--batched] — prints a `listening` line once bound.
//! `--batched` forwards the stream into the sink (`StreamExt::forward`), which flushes only
//! when no message is waiting, instead of `send` (one flush per message).

use futures_util::{SinkExt, StreamExt, TryStreamExt};
use tokio_websockets::{Config, Limits, ServerBuilder};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9103".into());
    let batched = std::env::args().any(|a| a == "--batched");
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "tokio-websockets echo listening on ws://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(async move {
            let accepted = ServerBuilder::new()
                .config(Config::default().frame_size(usize::MAX))
                .limits(Limits::unlimited())
                .accept(stream)
                .await;
            let Ok((_request, mut ws)) = accepted else {
                return;
            };
            if batched {
                let (sink, stream) = ws.split();
                let _ = stream
                    .try_filter(|m| std::future::ready(m.is_text() || m.is_binary()))
                    .forward(sink)
                    .await;
                return;
            }
            while let Some(Ok(message)) = ws.next().await {
                if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
                    break;
                }
            }
        });
    }
}
