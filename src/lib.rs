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
//! # Driving the engine from your own event loop
//!
//! The contract, for any loop (epoll, mio, io_uring, a game loop, a test):
//!
//! 1. when the socket is readable, read into [`Connection::receive`] (or
//!    [`Connection::receive_eof`] at the end of the stream); [`Connection::receive_with`] reads
//!    straight into the engine's buffer instead, saving a copy;
//! 2. drain [`Connection::next_event`] until `Ok(None)`, reacting to each event (accepting the
//!    upgrade, handling messages, queueing sends);
//! 3. while [`Connection::outgoing`] is not empty and the socket is writable, write it and
//!    call [`Connection::advance_outgoing`] ([`Connection::outgoing_vectored`] fills
//!    `IoSlice`s for one `write_vectored` when large payloads are queued by reference);
//! 4. once [`Connection::state`] is [`State::Closed`] and nothing is left to write, close the
//!    socket ([`Connection::wants_shutdown`] says when to end the write side; a client may
//!    first wait briefly for the server to close);
//! 5. deadlines (the handshake's, a heartbeat, the wait for the peer's Close): sleep no
//!    longer than [`Connection::poll_timeout`], and tell the engine the time with
//!    [`Connection::handle_timeout`] — it reads no clock, time enters only as a value.
//!
//! This complete server uses only `std::net` non-blocking sockets (it is
//! `examples/custom_event_loop.rs`):
//!
#![doc = concat!("```no_run\n", include_str!("../examples/custom_event_loop.rs"), "\n```")]
//!
//! # Choosing an adapter
//!
//! | you have | use | feature |
//! |---|---|---|
//! | threads and blocking sockets | [`blocking`]: `connect`, `accept_with`, `read`, `send` | `blocking` (default) |
//! | tokio | `tokio`: `connect`, `Connector`, `accept_with`, `WebSocketStream` (`Stream` + `Sink`) | `tokio` |
//! | a ws-style server on tokio (TCP, Unix, TLS, adopted upgrades) | `server::Server` | `tokio` |
//! | smol, async-std, any futures-io runtime | `futures_io`, plus `smol` or `async_std` networking | `futures-io`, `smol`, `async-std` |
//! | compio (io_uring, IOCP: completion-based I/O) | `compio`: `connect`, `accept_with`, `WebSocket` | `compio` |
//! | axum 0.8 (HTTP/1.1 and HTTP/2) | `axum::WebSocketUpgrade` | `axum` |
//! | hyper 1.x (HTTP/1.1 and HTTP/2, server and HTTP/2 client) | `hyper::upgrade`, `hyper::connect_http2` | `hyper` |
//! | `wss://` clients | the connectors, `tls::ClientTls` | `rustls` or `native-tls` |
//! | another HTTP server | `Connection::accept_upgrade` / `accept_extended_connect` + `tokio::from_connection` | `tokio` |
//! | a byte-stream protocol over WebSocket | `byte_stream::ByteStream` | `tokio` or `futures-io` |
//! | your own loop | [`Connection`] directly | none |
//!
//! The async adapters share one implementation, `stream::WebSocketStream`, generic over a
//! small poll-style transport trait, with one receive loop; TLS is any `AsyncRead +
//! AsyncWrite` (or `Read + Write`) stream wrapped around the socket. Clients on every runtime
//! connect through one `client::Connector` (proxy, redirects, timeout, TLS).
//!
//! # Limits
//!
//! Every buffer the peer can grow is bounded by [`Config`]: the HTTP head
//! (`max_header_bytes`, `max_headers`: 431), frames and messages (`max_frame_size`,
//! `max_message_size`, default 64 MiB: 1009, checked on the header before any payload is
//! buffered, and on the inflated size for compressed messages), and pongs (coalesced).
//! Violations fail the connection with the right close code and a typed [`Error`].
//!
//! # Compression
//!
//! permessage-deflate (RFC 7692) is off by default; enable it with
//! [`Config::permessage_deflate`] and a [`deflate::DeflateConfig`] (level, threshold, context
//! takeover and window bits for each direction). A client offers it; a server accepts the
//! first valid offer. [`Connection::send_message`] opts single messages out.
//!
//! # Feature flags
//!
//! - `std` (on with every adapter): OS-seeded masking keys, `std::error::Error` sources,
//!   I/O errors. Without it (`default-features = false`) the engine — handshake, framing,
//!   UTF-8, permessage-deflate, limits — is `#![no_std]` with `alloc`; a client then takes
//!   its masking keys from [`Connection::client_with_randomness`].
//! - `blocking` (default): the std adapter.
//! - `tokio`: the tokio adapter and the `server` toolkit.
//! - `futures-io`: the futures-io adapter (smol, async-std, …).
//! - `smol`: smol networking (`async-net`) on top of `futures-io`.
//! - `async-std`: async-std networking on top of `futures-io` (async-std is discontinued
//!   upstream; prefer `smol`).
//! - `compio`: the completion-based adapter on compio (io_uring on Linux, IOCP on Windows);
//!   `wss://` with `rustls` or `native-tls`. Needs Rust 1.85.
//! - `unstable`: the building blocks (`frame`, `mask`, `utf8`, `extensions`) as public
//!   modules, for benchmarks and property tests; no stability promise.
//! - `zlib-rs`: kept for builds that name it; permessage-deflate runs on zlib-rs wherever
//!   `std` is on (about twice as fast as `miniz_oxide` at level 6), on `miniz_oxide` without
//!   it (see [`deflate`]).
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
// One `unsafe` block in the crate, `Utf8Bytes::as_str` (its invariant and benchmark are
// documented there; its tests run under miri in CI); everything else is safe code.
#![deny(unsafe_code)]
// docs.rs builds with `--cfg docsrs`: every item shows the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod config;
mod connection;
pub mod deflate;
mod error;
pub mod handshake;
mod log;
mod message;
mod outgoing;
mod prepared;
mod rng;
mod role;
mod utf8_bytes;

/// Declares the engine's building blocks: public with the `unstable` feature (for benchmarks,
/// property tests and fuzzing), private otherwise — they are parts, not the product.
macro_rules! building_blocks {
    ($($name:ident;)*) => {$(
        #[cfg(feature = "unstable")]
        pub mod $name;
        #[cfg(not(feature = "unstable"))]
        #[allow(dead_code)]
        mod $name;
    )*};
}

building_blocks! {
    extensions;
    frame;
    mask;
    utf8;
}

mod adapters;
#[allow(unused_imports)] // nothing to re-export without an adapter feature
pub use adapters::*;

#[cfg(feature = "tokio")]
pub mod server;

#[cfg(feature = "http3")]
pub mod http3;

#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub mod web;

#[cfg(any(
    feature = "blocking",
    feature = "tokio",
    feature = "futures-io",
    feature = "compio"
))]
pub mod client;

#[cfg(any(feature = "rustls", feature = "native-tls"))]
pub mod tls;
#[cfg(all(
    not(any(feature = "rustls", feature = "native-tls")),
    any(feature = "blocking", feature = "async", feature = "compio")
))]
mod tls;

pub use config::Config;
pub use connection::{Connection, ReceivingHalf, Replies, Role, SendingHalf, State, Timeout};
pub use error::{
    CapacityError, CloseCode, Error, ErrorKind, HandshakeError, ProtocolError, ProxyError, Result, TlsError,
};
pub use handshake::{Accept, ClientRequest, Request, Response};
pub use message::{CloseFrame, Event, Fragment, Message, MessageKind, Utf8Bytes};
pub use prepared::{FrameEncoding, PreparedFrame, PreparedMessage};

/// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
