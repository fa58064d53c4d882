//! A sans-IO WebSocket engine (RFC 6455) with thin adapters for real transports.
//!
//! The core, [`Connection`], is a state machine that never touches a socket, a clock or a
//! thread: it takes the bytes your transport read, turns them into [`Event`]s, and queues the
//! bytes your transport must write. The same engine serves both roles, including the HTTP/1.1
//! upgrade handshake, and can be driven from any event loop, a test, or a fuzzer.
//!
//! ```text
//!  transport ──bytes──▶ receive() ─▶ next_event() ─▶ Event::{Request, Open, Text, Binary, Ping, Pong, Close, …}
//!  transport ◀──bytes── outgoing() ◀─ send_text() / send_binary() / ping() / close() / accept()
//! ```
//!
//! # Driving the engine yourself
//!
//! ```
//! use ferrosocket::{Config, Connection, Event, handshake::Accept};
//!
//! let mut server = Connection::server(Config::default());
//! // Bytes as a socket would deliver them: the upgrade request and a masked "Hello" frame.
//! server.receive(b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//!     Sec-WebSocket-Version: 13\r\n\r\n");
//! server.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
//!
//! while let Some(event) = server.next_event()? {
//!     match event {
//!         Event::Request(request) => {
//!             assert_eq!(request.path(), "/chat");
//!             server.accept(Accept::new())?;
//!         }
//!         Event::Text(text) => server.send_text(text.as_str())?, // echo
//!         _ => {}
//!     }
//! }
//! let to_write = server.take_outgoing(); // the 101 response, then the echoed frame
//! assert!(to_write.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
//! assert!(to_write.ends_with(&[0x81, 0x05, b'H', b'e', b'l', b'l', b'o']));
//! # Ok::<(), ferrosocket::Error>(())
//! ```
//!
//! # Adapters
//!
//! - [`blocking`] (feature `blocking`, on by default): any `std::io::Read + Write`.
//! - `tokio` (feature `tokio`): `AsyncRead + AsyncWrite`, `Stream` / `Sink`.
//! - `futures_io` (feature `futures-io`): the futures-io traits (smol, async-std, …), with
//!   `async_std` networking helpers (feature `async-std`).
//!
//! The async adapters share one implementation, `stream::WebSocketStream`, generic over a
//! small poll-style transport trait.
//!
//! # Limits
//!
//! Every buffer the peer can grow is bounded by [`Config`]: the HTTP head
//! (`max_header_bytes`, `max_headers`: 431), frames and messages (`max_frame_size`,
//! `max_message_size`: 1009, checked on the header before any payload is buffered), and pongs
//! (coalesced). Violations fail the connection with the right close code and a typed
//! [`Error`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod config;
pub mod connection;
pub mod deflate;
pub mod error;
pub mod extensions;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod message;
mod rng;
pub mod utf8;

mod adapters;

#[cfg(feature = "blocking")]
pub use adapters::blocking;

#[cfg(feature = "async")]
pub use adapters::{byte_stream, stream};

#[cfg(feature = "tokio")]
pub use adapters::tokio;

#[cfg(feature = "futures-io")]
pub use adapters::futures_io;

#[cfg(feature = "async-std")]
pub use adapters::async_std;

#[cfg(feature = "tokio")]
pub mod server;

pub use config::Config;
pub use connection::{Connection, Role, State};
pub use error::{CapacityError, CloseCode, Error, HandshakeError, ProtocolError, Result};
pub use handshake::{Accept, ClientRequest, Request, Response};
pub use message::{CloseFrame, Event, Fragment, Message, MessageKind, Utf8Bytes};

/// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
