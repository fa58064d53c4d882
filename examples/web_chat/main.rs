//! One chat client, two builds: in a browser page through `ferrosocket::web` (wasm32), and
//! in a terminal on tokio. The chat itself — lines typed go out as text messages, messages
//! that arrive are shown — is one function over the crate's `Message` stream and sink; only
//! connecting and the typing and showing around it differ.
//!
//! ```text
//! ferrosocket serve 127.0.0.1:8080 --broadcast               # a chat server (feature cli)
//! cargo run --example web_chat -- ws://127.0.0.1:8080        # the terminal build
//! # the browser build (wasm-bindgen-cli of Cargo.lock's wasm-bindgen version):
//! cargo build --example web_chat --target wasm32-unknown-unknown --no-default-features --features web
//! wasm-bindgen --target web --out-dir examples/web_chat/pkg \
//!     target/wasm32-unknown-unknown/debug/examples/web_chat.wasm
//! python3 -m http.server -d examples/web_chat 8000   # open http://127.0.0.1:8000/?server=ws://127.0.0.1:8080
//! ```

use ferrosocket::{Error, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};

/// What the chat loop meets next: a line typed, or something from the server.
enum Next {
    Typed(String),
    Received(Result<Message, Error>),
}

/// The chat, whatever runs it: each line `typed` goes out as a text message; each message
/// that arrives is handed to `show`, and so is how the connection ended.
async fn chat<W>(
    ws: W,
    typed: impl Stream<Item = String> + Unpin,
    mut show: impl FnMut(&str),
) -> Result<(), Error>
where
    W: Stream<Item = Result<Message, Error>> + Sink<Message, Error = Error> + Unpin,
{
    let (mut outgoing, incoming) = ws.split();
    let mut next = futures_util::stream::select(typed.map(Next::Typed), incoming.map(Next::Received));
    while let Some(event) = next.next().await {
        match event {
            Next::Typed(line) => outgoing.send(Message::text(line)).await?,
            Next::Received(Ok(Message::Text(text))) => show(text.as_str()),
            Next::Received(Ok(Message::Close(frame))) => {
                show(&format!("* closed: {frame:?}"));
                break;
            }
            Next::Received(Ok(_)) => {}
            Next::Received(Err(error)) => return Err(error),
        }
    }
    Ok(())
}

/// The terminal build: standard input's lines in, messages out to standard output.
#[cfg(not(target_arch = "wasm32"))]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    use tokio::io::AsyncBufReadExt;
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:8080".to_owned());
    let (ws, _) = ferrosocket::tokio::connect(&url).await?;
    let lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let typed = futures_util::stream::unfold(lines, |mut lines| async move {
        let line = lines.next_line().await.ok().flatten()?;
        Some((line, lines))
    });
    chat(ws, Box::pin(typed), |text| println!("{text}")).await
}

/// The browser build: the page's form in, its log out (and the last line in the tab's
/// title); the server from `?server=`, and `?say=` sends a first line by itself.
#[cfg(target_arch = "wasm32")]
fn main() {
    wasm_bindgen_futures::spawn_local(async {
        if let Err(error) = browser().await {
            show(&format!("* error: {error}"));
        }
    });
}

#[cfg(target_arch = "wasm32")]
async fn browser() -> Result<(), Error> {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let document = web_sys::window().and_then(|w| w.document()).expect("a page");
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let param = |name: &str| {
        let mut pairs = search.trim_start_matches('?').split('&');
        let value = pairs.find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?;
        js_sys::decode_uri_component(value).ok()?.as_string()
    };
    let url = param("server").unwrap_or_else(|| "ws://127.0.0.1:8080".to_owned());
    let ws = ferrosocket::web::connect(&url).await?;
    show(&format!("* connected to {url}"));
    // Each submit of the form puts the input's line on the channel the chat reads.
    let (typed, lines) = futures_channel::mpsc::unbounded::<String>();
    if let Some(first) = param("say") {
        let _ = typed.unbounded_send(first);
    }
    let form: web_sys::HtmlFormElement = document
        .get_element_by_id("form")
        .expect("#form")
        .unchecked_into();
    let input: web_sys::HtmlInputElement = document
        .get_element_by_id("line")
        .expect("#line")
        .unchecked_into();
    let on_submit = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        event.prevent_default();
        let _ = typed.unbounded_send(input.value());
        input.set_value("");
    });
    form.set_onsubmit(Some(on_submit.as_ref().unchecked_ref()));
    on_submit.forget(); // the form lives as long as the page
    chat(ws, lines, show).await
}

/// Appends a line to the page's log.
#[cfg(target_arch = "wasm32")]
fn show(text: &str) {
    let document = web_sys::window().and_then(|w| w.document()).expect("a page");
    let log = document.get_element_by_id("log").expect("#log");
    let line = document.create_element("div").expect("a div");
    line.set_text_content(Some(text));
    let _ = log.append_child(&line);
    document.set_title(&format!("web chat: {text}"));
}
