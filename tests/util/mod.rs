//! A client and a server `Connection` wired together in memory (after quinn-proto's test
//! `Pair`): bytes move only when a test says so, optionally re-chunked.
#![allow(dead_code)]

pub mod broker;
pub mod pki;
pub mod process;
pub mod proxies;

use ferrosocket::{
    Accept, CapacityError, ClientRequest, Config, Connection, Error, Event, HandshakeError, ProtocolError,
};

pub struct Pair {
    pub client: Connection,
    pub server: Connection,
}

impl Pair {
    /// A client and a server with the handshake done.
    pub fn open(client_config: Config, server_config: Config) -> Pair {
        let request = ClientRequest::new("ws://example.com/chat").unwrap();
        let mut pair = Pair {
            client: Connection::client(request, client_config),
            server: Connection::server(server_config),
        };
        pair.deliver_to_server();
        match pair.server.next_event().unwrap() {
            Some(Event::Request(_)) => pair.server.accept(Accept::new()).unwrap(),
            other => panic!("expected the upgrade request, got {other:?}"),
        }
        pair.deliver_to_client();
        assert!(matches!(pair.client.next_event().unwrap(), Some(Event::Open(_))));
        pair
    }

    pub fn default_open() -> Pair {
        Pair::open(Config::default(), Config::default())
    }

    /// Moves everything the client queued to the server.
    pub fn deliver_to_server(&mut self) {
        let bytes = self.client.take_outgoing();
        self.server.receive(&bytes);
    }

    /// Moves everything the server queued to the client.
    pub fn deliver_to_client(&mut self) {
        let bytes = self.server.take_outgoing();
        self.client.receive(&bytes);
    }
}

/// An engine error as a value tests can compare: its variant and the details it carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Protocol(ProtocolError),
    InvalidUtf8,
    InvalidCompressedData,
    Capacity(CapacityError),
    Handshake(HandshakeError),
    /// Errors the engine does not return from `next_event`, by variant name.
    Other(String),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        match error {
            Error::Protocol(e) => Failure::Protocol(e),
            Error::InvalidUtf8 => Failure::InvalidUtf8,
            Error::InvalidCompressedData => Failure::InvalidCompressedData,
            Error::Capacity(e) => Failure::Capacity(e),
            Error::Handshake(e) => Failure::Handshake(e),
            other => Failure::Other(format!("{other:?}")),
        }
    }
}

/// Drains every event a connection has ready; stops at (and includes) an error.
pub fn events(conn: &mut Connection) -> Vec<Result<Event, Failure>> {
    let mut out = Vec::new();
    loop {
        match conn.next_event() {
            Ok(Some(event)) => out.push(Ok(event)),
            Ok(None) => return out,
            Err(e) => {
                out.push(Err(e.into()));
                return out;
            }
        }
    }
}

/// Feeds `bytes` to `conn` in chunks of the given sizes (cycled), draining events after
/// each chunk.
pub fn feed_chunked(conn: &mut Connection, bytes: &[u8], sizes: &[usize]) -> Vec<Result<Event, Failure>> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < bytes.len() {
        let size = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(bytes.len())
            .max(1);
        let end = (pos + size).min(bytes.len());
        // Alternate between the two ways in: copied, and read into the engine's buffer.
        if i % 2 == 0 {
            conn.receive(&bytes[pos..end]);
        } else {
            conn.receive_with(size, |buf| {
                assert!(buf.is_empty() && buf.capacity() > 0);
                buf.extend_from_slice(&bytes[pos..end]);
            });
        }
        out.extend(events(conn));
        pos = end;
        i += 1;
    }
    out.extend(events(conn));
    out
}

/// A server connection that has accepted a request and has nothing queued.
pub fn open_server(config: Config) -> Connection {
    let mut pair = Pair::open(Config::default(), config);
    pair.server.take_outgoing();
    pair.server
}

/// A client connection that is open and has nothing queued.
pub fn open_client(config: Config) -> Connection {
    let pair = Pair::open(config, Config::default());
    pair.client
}

/// Builds a frame: the client side masks with `key` when given.
pub fn frame(first_byte: u8, payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![first_byte];
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if let Some(key) = key {
        out.extend_from_slice(&key);
    }
    let body_start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = key {
        ferrosocket::mask::apply(&mut out[body_start..], key, 0);
    }
    out
}

/// A masked client frame, as a server receives it.
pub fn client_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    frame(first_byte, payload, Some([0x37, 0xfa, 0x21, 0x3d]))
}
