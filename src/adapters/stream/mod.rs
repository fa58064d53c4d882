//! The async adapter, written once: a [`WebSocketStream`] over any transport with poll-style
//! reads and writes ([`AsyncTransport`]). The tokio and futures-io modules only supply that
//! trait's glue and the runtime's networking.
//!
//! The parts: `transport` (what a runtime lends), `io` (one read into the engine, everything
//! queued written out), `driver` (the one receive loop, with the engine's deadlines on the
//! runtime's timer), `websocket` (the stream), `handshake` (the opening handshake and the
//! runtime modules' entry points) and `split` (two owned halves for two tasks).

mod driver;
mod handshake;
mod io;
mod split;
mod transport;
mod websocket;

pub(crate) use handshake::handshake_entry_points;
pub use handshake::{client, server};
pub use split::{ReuniteError, WebSocketReceiver, WebSocketSender};
pub use transport::{AsyncTransport, Sleep};
pub use websocket::{WebSocketStream, DEFAULT_HIGH_WATER};
