//! A WebSocket as a byte stream (ws's `createWebSocketStream`): the client pipes a file into
//! a [`ByteStream`](ferrosocket::byte_stream::ByteStream) with `tokio::io::copy` — each
//! write becomes a binary message, shutdown closes the WebSocket — and the server pipes what
//! it reads into a file of its own, then both compare.
//!
//! ```text
//! cargo run --example pipe_file -- FILE
//! ```
//! Without FILE it sends this example's own source.

use ferrosocket::byte_stream::ByteStream;
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let source = std::env::args().nth(1).unwrap_or_else(|| file!().to_owned());
    let copy = std::env::temp_dir().join(format!("pipe_file-{}.out", std::process::id()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let target = copy.clone();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let ws = ferrosocket::tokio::accept(tcp).await?;
        let mut incoming = ByteStream::new(ws);
        let mut file = tokio::fs::File::create(&target).await?;
        let received = tokio::io::copy(&mut incoming, &mut file).await?; // to the Close
        file.flush().await?;
        Ok::<u64, Box<dyn std::error::Error + Send + Sync>>(received)
    });

    let (ws, _) = ferrosocket::tokio::connect(&format!("ws://{addr}/upload")).await?;
    let mut outgoing = ByteStream::new(ws);
    let mut file = tokio::fs::File::open(&source).await?;
    let sent = tokio::io::copy(&mut file, &mut outgoing).await?;
    outgoing.shutdown().await?; // the closing handshake
    let received = server.await??;

    let same = tokio::fs::read(&source).await? == tokio::fs::read(&copy).await?;
    tokio::fs::remove_file(&copy).await?;
    println!("sent {sent} bytes, the server wrote {received}; identical: {same}");
    if !same || sent != received {
        return Err("the copy differs".into());
    }
    Ok(())
}
