//! async-std networking on top of the [futures-io adapter](crate::futures_io): TCP (and
//! `wss://`) connect with a handshake timeout, graceful close and heartbeat.
//!
//! async-std was discontinued upstream in 2025 (its authors point to smol); this module
//! keeps working and tested, and [`smol`](crate::smol) is the maintained path with the
//! same calls.

pub use crate::futures_io::{accept, accept_request, accept_with, client, close, heartbeat};

crate::futures_io::connectors!(async_std::net::TcpStream, connect_async_std);
