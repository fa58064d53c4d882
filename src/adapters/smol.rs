//! smol networking on top of the [futures-io adapter](crate::futures_io): TCP (and
//! `wss://`) connect with a handshake timeout, graceful close and heartbeat.
//! `smol::net` streams are `async-net`'s, which this module uses (without the rest of
//! smol); the timers are async-io's, which smol runs on.
//!
//! ```no_run
//! use ferrosocket::Message;
//!
//! smol::block_on(async {
//!     let (mut ws, _) = ferrosocket::smol::connect("ws://127.0.0.1:9001/").await?;
//!     ws.send(Message::text("over smol")).await?;
//!     println!("{:?}", ws.next().await);
//!     Ok::<(), ferrosocket::Error>(())
//! });
//! ```

pub use crate::futures_io::{accept, accept_request, accept_with, client, close, heartbeat};

crate::futures_io::connectors!(async_net::TcpStream, connect_smol);
