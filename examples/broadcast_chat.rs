//! A chat room: every text message goes to everyone else, or to everyone (the sender too) when
//! it starts with `/all ` — ws's two broadcast recipes.
//!
//! ```text
//! cargo run --example broadcast_chat -- 127.0.0.1:8080
//! cargo run --example wscat -- ws://127.0.0.1:8080    (in two terminals)
//! ```

use ferrosocket::server::Server;
use ferrosocket::Message;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let mut server = Server::bind(&addr).await?;
    println!(
        "broadcast_chat listening on ws://{}",
        server.local_addr().expect("bound")
    );
    while let Some(mut incoming) = server.accept().await {
        let clients = server.clients().clone();
        tokio::spawn(async move {
            let me = incoming.client.id();
            while let Some(Ok(message)) = incoming.reader.next().await {
                let Message::Text(text) = &message else { continue };
                match text.as_str().strip_prefix("/all ") {
                    Some(rest) => clients.broadcast(&Message::text(rest.to_owned())),
                    None => clients.broadcast_except(me, &message),
                };
            }
        });
    }
    Ok(())
}
