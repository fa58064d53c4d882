//! Client authentication during the upgrade (ws's `verifyClient` / "client authentication"
//! example), decided asynchronously: the bearer token — in `Authorization` or `?token=` — is
//! looked up in a session store that answers after a delay, as a database or an auth service
//! would; without a known token the request is refused with 401 before any WebSocket exists.
//! The handshake timeout covers the lookup.
//!
//! ```text
//! cargo run --example auth_upgrade -- 127.0.0.1:8080
//! cargo run --example wscat -- ws://127.0.0.1:8080 --header 'Authorization: Bearer secret-token'
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ferrosocket::server::Server;
use ferrosocket::{Accept, Message, Request, Response};

/// Sessions by token; a stand-in for a database that takes a while to answer.
#[derive(Clone)]
struct SessionStore(Arc<HashMap<&'static str, &'static str>>);

impl SessionStore {
    async fn user(&self, token: &str) -> Option<&'static str> {
        tokio::time::sleep(Duration::from_millis(20)).await; // the round trip to the store
        self.0.get(token).copied()
    }
}

/// The token from `Authorization: Bearer …` or `?token=…`.
fn token(request: &Request) -> Option<String> {
    let header = request
        .headers
        .get("authorization")
        .and_then(|v| v.strip_prefix("Bearer "));
    let query = request
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("token="));
    header.or(query).map(str::to_owned)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let sessions = SessionStore(Arc::new(HashMap::from([("secret-token", "alice")])));
    let mut server = Server::builder()
        .verify_async(move |request, _peer| {
            let (sessions, token) = (sessions.clone(), token(request));
            async move {
                match token {
                    Some(token) => match sessions.user(&token).await {
                        Some(user) => Ok(Accept::new().header("X-User", user)),
                        None => Err(unauthorized()),
                    },
                    None => Err(unauthorized()),
                }
            }
        })
        .on_handshake_error(|failure| eprintln!("refused {:?}: {}", failure.peer.addr, failure.error))
        .bind(&addr)
        .await?;
    println!(
        "auth_upgrade listening on ws://{}",
        server.local_addr().expect("bound")
    );
    while let Some(mut incoming) = server.accept().await {
        tokio::spawn(async move {
            let _ = incoming.client.send(Message::text("hello, authenticated client"));
            while let Some(Ok(message)) = incoming.reader.next().await {
                if message.is_data() {
                    incoming.client.ready().await; // at the client's pace
                    let _ = incoming.client.send(message);
                }
            }
        });
    }
    Ok(())
}

fn unauthorized() -> Response {
    Response::new(401)
        .header("WWW-Authenticate", "Bearer")
        .header("Content-Type", "text/plain")
        .body("a valid bearer token is required\n")
}
