//! A chat for the browser: one port serves the page (the seed tutorial's page, grown into a
//! chat) at `/` and the WebSocket at `/ws`; every message is broadcast to everyone.
//!
//! ```text
//! cargo run --example browser_chat -- 127.0.0.1:3000
//! # then open http://127.0.0.1:3000/ in two browser tabs
//! ```

#[path = "support/hyper_glue.rs"]
mod hyper_glue;

use ferrosocket::{Accept, Config, Message, Response};
use futures_util::{SinkExt, StreamExt};
use hyper_glue::{is_upgrade, to_hyper, upgrade, HttpResponse, Socket};
use tokio::sync::broadcast;

const PAGE: &str = r#"<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>websocket</title>
</head>
<body>
  <ul id="messages"></ul>
  <form id="form"><input id="input" autocomplete="off"><button>Send</button></form>
  <script type="text/javascript">
    // The browser provides the WebSocket object; connect back to the server that served us.
    var ws = new WebSocket('ws://' + location.host + '/ws')
    var list = document.getElementById('messages')

    // Send
    ws.onopen = function() {
      ws.send('hello')
    }

    // Receive
    ws.onmessage = function(mes) {
      var item = document.createElement('li')
      item.textContent = mes.data
      list.appendChild(item)
      document.title = 'received: ' + mes.data
    }

    document.getElementById('form').onsubmit = function(event) {
      event.preventDefault()
      var input = document.getElementById('input')
      ws.send(input.value)
      input.value = ''
    }
  </script>
</body>
</html>
"#;

async fn chat(ws: Socket, room: broadcast::Sender<String>) {
    let mut inbox = room.subscribe();
    let (mut sink, mut stream) = ws.split();
    let forward = tokio::spawn(async move {
        while let Ok(text) = inbox.recv().await {
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(message)) = stream.next().await {
        if let Message::Text(text) = message {
            let _ = room.send(text.as_str().to_owned());
        }
    }
    forward.abort();
}

async fn handle(
    request: hyper::Request<hyper::body::Incoming>,
    room: broadcast::Sender<String>,
) -> HttpResponse {
    match (request.uri().path(), is_upgrade(&request)) {
        ("/ws", true) => {
            let config = Config::default().permessage_deflate(Default::default());
            upgrade(request, Accept::new(), config, move |ws| chat(ws, room))
        }
        ("/", false) => to_hyper(
            Response::new(200)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(PAGE),
        ),
        _ => to_hyper(Response::new(404).body("not found\n")),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("browser_chat listening on http://{}", listener.local_addr()?);
    let (room, _) = broadcast::channel::<String>(256);
    hyper_glue::serve(listener, move |request| handle(request, room.clone())).await
}
