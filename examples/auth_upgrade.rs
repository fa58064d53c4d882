//! Client authentication during the upgrade (ws's `verifyClient` / "client authentication"
//! example): a request without the right bearer token — in `Authorization` or `?token=` — is
//! refused with 401 before any WebSocket exists.
//!
//! ```text
//! cargo run --example auth_upgrade -- 127.0.0.1:8080
//! cargo run --example wscat -- ws://127.0.0.1:8080 --header 'Authorization: Bearer secret-token'
//! ```

use ferrosocket::server::Server;
use ferrosocket::{Accept, Message, Request, Response};

const TOKEN: &str = "secret-token";

fn authenticated(request: &Request) -> bool {
    let header = request
        .headers
        .get("authorization")
        .and_then(|v| v.strip_prefix("Bearer "));
    let query = request
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("token="));
    header.or(query) == Some(TOKEN)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let mut server = Server::builder()
        .verify(|request, _peer| {
            if authenticated(request) {
                Ok(Accept::new())
            } else {
                Err(Response::new(401)
                    .header("WWW-Authenticate", "Bearer")
                    .header("Content-Type", "text/plain")
                    .body("a valid bearer token is required\n"))
            }
        })
        .bind(&addr)
        .await?;
    println!(
        "auth_upgrade listening on ws://{}",
        server.local_addr().expect("bound")
    );
    while let Some(mut incoming) = server.accept().await {
        tokio::spawn(async move {
            let _ = incoming
                .client
                .send(Message::text("hello, authenticated client"))
                .await;
            while let Some(Ok(message)) = incoming.reader.next().await {
                if message.is_data() {
                    let _ = incoming.client.send(message).await;
                }
            }
        });
    }
    Ok(())
}
