//! The browser's WebSocket behind the crate's own types (feature `web`, `wasm32` only): a
//! Rust program compiled to `wasm32-unknown-unknown` cannot open a socket, so it talks through
//! the page's `WebSocket` object — with the same [`Message`], [`CloseFrame`] and [`Error`], as
//! a [`Stream`] and a [`Sink`] with the tokio stream's method names. One program compiles
//! natively (tokio) and for the browser with only the connect call differing.
//!
//! ```ignore
//! use ferrosocket::Message;
//! let mut ws = ferrosocket::web::connect_with_protocols("wss://example.com/chat", &["chat"]).await?;
//! ws.send(Message::text("hello")).await?;
//! while let Some(message) = ws.next().await {
//!     match message? {
//!         Message::Text(text) => log(&text),
//!         Message::Close(frame) => log(&format!("closed: {frame:?}")),
//!         _ => {}
//!     }
//! }
//! ```
//!
//! The browser does TLS (its own roots), ping/pong, permessage-deflate (it offers it; the
//! server decides) and the opening handshake, so what the native adapters configure there
//! does not apply: there is no [`Config`](crate::Config), no response headers (only the
//! negotiated [`protocol`](WebSocket::protocol)), sending `Message::Ping` or `Message::Pong`
//! does nothing (a browser cannot send either; it answers the server's pings itself), and
//! pongs never arrive. A script may close only with 1000 or 3000–4999; other codes are
//! [`Error::InvalidCloseCode`]. A failed connection (refused, unreachable, a bad certificate,
//! a refused upgrade — the browser tells them apart for nobody) is one [`Error::Io`] of kind
//! `ConnectionRefused`. `send` never waits: the browser buffers without limit, so watch
//! [`buffered_amount`](WebSocket::buffered_amount) for backpressure.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, MessageEvent};

use crate::{CloseCode, CloseFrame, Error, HandshakeError, Message, Result};

/// Opens a WebSocket to `url` (`ws://` or `wss://`) through the browser and waits until it
/// is open.
pub async fn connect(url: &str) -> Result<WebSocket> {
    connect_with_protocols(url, &[]).await
}

/// Opens a WebSocket offering `protocols` (most preferred first); the server's choice is
/// [`WebSocket::protocol`].
pub async fn connect_with_protocols(url: &str, protocols: &[&str]) -> Result<WebSocket> {
    let socket = match protocols {
        [] => web_sys::WebSocket::new(url),
        _ => {
            let offered = protocols
                .iter()
                .map(|p| JsValue::from_str(p))
                .collect::<js_sys::Array>();
            web_sys::WebSocket::new_with_str_sequence(url, &offered)
        }
    }
    .map_err(|_| HandshakeError::InvalidUrl(url.to_owned()))?;
    socket.set_binary_type(BinaryType::Arraybuffer);
    let shared = Rc::new(Shared::new(socket));
    poll_fn(|cx| {
        let mut state = shared.state.borrow_mut();
        match state.phase {
            Phase::Open => Poll::Ready(Ok::<(), Error>(())),
            Phase::Closed => {
                let code = state.incoming.back().and_then(|message| match message {
                    Message::Close(Some(frame)) => Some(frame.code.0),
                    _ => None,
                });
                let why = format!(
                    "the browser could not open {url} (close code {})",
                    code.unwrap_or(1006)
                );
                Poll::Ready(Err(io::Error::new(io::ErrorKind::ConnectionRefused, why).into()))
            }
            Phase::Connecting => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    })
    .await?;
    Ok(WebSocket {
        sender: WebSocketSender {
            shared: shared.clone(),
        },
        receiver: WebSocketReceiver { shared, ended: false },
    })
}

/// Where the browser's socket stands, as its events told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Open,
    /// The close event came: its Close is the last message queued.
    Closed,
}

/// What the browser's events leave for the Rust side.
#[derive(Debug)]
struct State {
    phase: Phase,
    /// Messages received, then the Close, in order.
    incoming: VecDeque<Message>,
    /// We sent a Close (or closed): sends are a use after close.
    close_sent: bool,
    /// The task waiting for the socket to open or for a message.
    waker: Option<Waker>,
}

impl State {
    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// The browser's socket, the state its event handlers fill, and the handlers (kept alive
/// as long as the socket can call them).
struct Shared {
    socket: web_sys::WebSocket,
    state: Rc<RefCell<State>>,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Shared {
    fn new(socket: web_sys::WebSocket) -> Shared {
        let state = Rc::new(RefCell::new(State {
            phase: Phase::Connecting,
            incoming: VecDeque::new(),
            close_sent: false,
            waker: None,
        }));
        let opened = state.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            let mut state = opened.borrow_mut();
            state.phase = Phase::Open;
            state.wake();
        });
        let received = state.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let message = match data.dyn_into::<js_sys::ArrayBuffer>() {
                Ok(buffer) => Message::Binary(Bytes::from(js_sys::Uint8Array::new(&buffer).to_vec())),
                Err(data) => Message::text(data.as_string().unwrap_or_default()),
            };
            let mut state = received.borrow_mut();
            state.incoming.push_back(message);
            state.wake();
        });
        let closed = state.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            let mut state = closed.borrow_mut();
            let frame = CloseFrame::new(event.code(), event.reason());
            state.incoming.push_back(Message::Close(Some(frame)));
            state.phase = Phase::Closed;
            state.wake();
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Shared {
            socket,
            state,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        }
    }

    /// Sends a data message, or closes for a Close; pings and pongs do nothing.
    fn send(&self, message: &Message) -> Result<()> {
        let mut state = self.state.borrow_mut();
        if state.close_sent {
            return Err(Error::AlreadyClosed);
        }
        if state.phase == Phase::Closed || self.socket.ready_state() != web_sys::WebSocket::OPEN {
            return Err(Error::ConnectionClosed);
        }
        let sent = match message {
            Message::Text(text) => self.socket.send_with_str(text.as_str()),
            Message::Binary(data) => self.socket.send_with_u8_array(data),
            Message::Ping(_) | Message::Pong(_) => Ok(()),
            Message::Close(frame) => {
                if let Some(frame) = frame {
                    check_close(frame)?;
                }
                state.close_sent = true;
                match frame {
                    Some(frame) => self
                        .socket
                        .close_with_code_and_reason(frame.code.0, frame.reason.as_str()),
                    None => self.socket.close(),
                }
            }
        };
        sent.map_err(|_| Error::ConnectionClosed)
    }
}

/// The codes and reasons a script may close with.
fn check_close(frame: &CloseFrame) -> Result<()> {
    let code = frame.code.0;
    if code != CloseCode::NORMAL.0 && !(3000..=4999).contains(&code) {
        return Err(Error::InvalidCloseCode(code));
    }
    if frame.reason.len() > 123 {
        return Err(Error::ControlPayloadTooLong);
    }
    Ok(())
}

impl Drop for Shared {
    /// The last handle went: the browser's socket closes (1000), and its handlers go
    /// before the closures they call.
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let open = matches!(
            self.socket.ready_state(),
            web_sys::WebSocket::CONNECTING | web_sys::WebSocket::OPEN
        );
        if open {
            let _ = self.socket.close();
        }
    }
}

/// A WebSocket in the browser: a [`Stream`] of incoming [`Message`]s (the peer's Close
/// arrives as `Message::Close(Some(frame))`, then the stream ends) and a [`Sink`] for
/// outgoing ones, with the tokio stream's plain async methods.
pub struct WebSocket {
    sender: WebSocketSender,
    receiver: WebSocketReceiver,
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("url", &self.sender.shared.socket.url())
            .field("protocol", &self.protocol())
            .finish_non_exhaustive()
    }
}

impl WebSocket {
    /// The next message; `None` after the Close.
    pub async fn next(&mut self) -> Option<Result<Message>> {
        self.receiver.next().await
    }

    /// Sends a message (`Message::Close(Some(frame))` closes with its code and reason).
    pub async fn send(&mut self, message: Message) -> Result<()> {
        self.sender.send(message).await
    }

    /// Starts the closing handshake with `code` (1000 or 3000–4999) and `reason`; read on
    /// to receive the server's Close.
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        self.sender.close(code, reason).await
    }

    /// The subprotocol the server chose, if any.
    pub fn protocol(&self) -> Option<String> {
        self.sender.protocol()
    }

    /// Bytes sent but not yet handed to the network (the browser's `bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        self.sender.buffered_amount()
    }

    /// Splits into a sender and a receiver, for two tasks.
    pub fn into_split(self) -> (WebSocketSender, WebSocketReceiver) {
        (self.sender, self.receiver)
    }
}

impl Stream for WebSocket {
    type Item = Result<Message>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.receiver).poll_next(cx)
    }
}

impl Sink<Message> for WebSocket {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.sender).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<()> {
        Pin::new(&mut self.sender).start_send(message)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.sender).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.sender).poll_close(cx)
    }
}

/// The sending half of a split [`WebSocket`].
pub struct WebSocketSender {
    shared: Rc<Shared>,
}

impl std::fmt::Debug for WebSocketSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketSender").finish_non_exhaustive()
    }
}

impl WebSocketSender {
    /// Sends a message (see [`WebSocket::send`]).
    pub async fn send(&mut self, message: Message) -> Result<()> {
        self.shared.send(&message)
    }

    /// Starts the closing handshake (see [`WebSocket::close`]).
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<()> {
        self.shared
            .send(&Message::Close(Some(CloseFrame::new(code, reason))))
    }

    /// The subprotocol the server chose, if any.
    pub fn protocol(&self) -> Option<String> {
        Some(self.shared.socket.protocol()).filter(|protocol| !protocol.is_empty())
    }

    /// Bytes sent but not yet handed to the network (the browser's `bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        self.shared.socket.buffered_amount() as usize
    }
}

impl Sink<Message> for WebSocketSender {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<()> {
        self.shared.send(&message)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes with 1000 unless a Close went out already.
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<()>> {
        let closing = self.shared.state.borrow().close_sent;
        let closed = self.shared.socket.ready_state() == web_sys::WebSocket::CLOSED;
        if !closing && !closed {
            self.shared
                .send(&Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, ""))))?;
        }
        Poll::Ready(Ok(()))
    }
}

/// The receiving half of a split [`WebSocket`].
pub struct WebSocketReceiver {
    shared: Rc<Shared>,
    /// The Close was returned: the stream is over.
    ended: bool,
}

impl std::fmt::Debug for WebSocketReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketReceiver").finish_non_exhaustive()
    }
}

impl WebSocketReceiver {
    /// The next message; `None` after the Close.
    pub async fn next(&mut self) -> Option<Result<Message>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl Stream for WebSocketReceiver {
    type Item = Result<Message>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let mut state = self.shared.state.borrow_mut();
        match state.incoming.pop_front() {
            Some(message) => {
                let last = matches!(message, Message::Close(_));
                drop(state);
                self.ended = last;
                Poll::Ready(Some(Ok(message)))
            }
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
