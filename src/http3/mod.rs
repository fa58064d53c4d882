//! WebSocket over HTTP/3 (RFC 9220), feature `http3`: the extended CONNECT of RFC 8441 on
//! a QUIC stream, served and opened over [quinn](https://docs.rs/quinn). One QUIC
//! connection carries any number of WebSockets (one bidirectional stream each) with no
//! head-of-line blocking between them.
//!
//! The HTTP/3 layer is the crate's own and deliberately small — frames, SETTINGS, the
//! control streams, QPACK without a dynamic table — because the `h3` crate (0.0.8) refuses
//! `:protocol websocket`. It speaks only what a WebSocket needs: requests that are not
//! extended CONNECTs can be answered (refused) but carry no bodies.
//!
//! A server ([`ServerConnection`], or [`serve`] for a whole endpoint):
//!
//! ```no_run
//! use ferrosocket::http3::{self, Limits};
//! use ferrosocket::{Accept, Config};
//! use futures_util::{SinkExt, StreamExt};
//!
//! # async fn run(certs: Vec<rustls::pki_types::CertificateDer<'static>>, key: rustls::pki_types::PrivateKeyDer<'static>) -> Result<(), Box<dyn std::error::Error>> {
//! let limits = Limits::default();
//! let endpoint = quinn::Endpoint::server(http3::server_config(certs, key, &limits)?, "127.0.0.1:4433".parse()?)?;
//! http3::serve(endpoint, Config::default(), limits, |_request| Ok(Accept::new()), |mut ws, _request| async move {
//!     while let Some(Ok(message)) = ws.next().await {
//!         if message.is_data() && ws.send(message).await.is_err() {
//!             break;
//!         }
//!     }
//! })
//! .await;
//! # Ok(()) }
//! ```
//!
//! A client ([`Client`] for several WebSockets on one connection):
//!
//! ```no_run
//! use ferrosocket::{http3, Message};
//! use futures_util::SinkExt;
//!
//! # async fn run() -> ferrosocket::Result<()> {
//! let (mut ws, _response) = http3::connect("wss://example.com/chat").await?;
//! ws.send(Message::text("over QUIC")).await?;
//! # Ok(()) }
//! ```

mod client;
mod control;
mod frame;
mod qpack;
mod server;
mod stream;

use std::fmt;
use std::io;

pub use client::{client_config, connect, connect_with, Client};
pub use server::{serve, server_config, server_config_with, Limits, ServerConnection, Upgrade};
pub use stream::H3Stream;

/// The HTTP/3 layer's parsers of peer input, for the fuzz targets (feature `unstable`: no
/// stability promise).
#[cfg(feature = "unstable")]
pub mod fuzzing {
    use super::{frame, qpack, server, H3Error};
    use crate::Request;

    /// A field line: name and value bytes.
    pub type Field = (Vec<u8>, Vec<u8>);

    /// A QPACK field section: its fields.
    pub fn field_section(block: &[u8], limit: u64) -> Result<Vec<Field>, H3Error> {
        qpack::decode(block, limit)
    }

    /// A field section as this crate writes it (literals, no Huffman).
    pub fn encode_field_section<'a>(fields: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Vec<u8> {
        qpack::encode(fields)
    }

    /// A request's field section as the server reads it, and whether it asks for a WebSocket.
    pub fn request(block: &[u8], limit: u64) -> Result<(Request, bool), H3Error> {
        server::request_from_fields(block, limit)
    }

    /// A SETTINGS payload: whether extended CONNECT is enabled, and the field section limit.
    pub fn settings(payload: &[u8]) -> Result<(bool, Option<u64>), H3Error> {
        frame::Settings::decode(payload).map(|s| (s.enable_connect_protocol, s.max_field_section_size))
    }
}

/// A WebSocket over an HTTP/3 stream: the tokio adapter's stream, so everything it offers
/// (split halves, heartbeat, the server toolkit's `adopt`) works here too.
pub type WebSocket = crate::tokio::WebSocketStream<H3Stream>;

/// The ALPN protocol id of HTTP/3.
pub const ALPN: &[u8] = b"h3";

/// What went wrong in the HTTP/3 layer: each variant is an HTTP/3 or QPACK error code
/// ([`code`](Self::code)), the one the connection or stream is closed with when the peer
/// caused it. They reach the application inside [`Error::Io`](crate::Error::Io)
/// (`io::Error::get_ref` downcasts to this type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum H3Error {
    /// A frame that does not parse, or a stream that ended inside one (`H3_FRAME_ERROR`).
    Frame,
    /// A frame where it is not allowed (`H3_FRAME_UNEXPECTED`).
    FrameUnexpected,
    /// Invalid SETTINGS (`H3_SETTINGS_ERROR`).
    Settings,
    /// A control stream that did not begin with SETTINGS (`H3_MISSING_SETTINGS`).
    MissingSettings,
    /// The peer closed its control stream (`H3_CLOSED_CRITICAL_STREAM`).
    ClosedCriticalStream,
    /// A unidirectional stream the peer may not open: a second control stream, a push
    /// stream (`H3_STREAM_CREATION_ERROR`).
    StreamCreation,
    /// A request or response that breaks HTTP/3's rules for fields: pseudo-fields missing,
    /// repeated, unknown or after regular fields, uppercase names (`H3_MESSAGE_ERROR`).
    Message,
    /// A field section referring to a dynamic table we never allowed
    /// (`QPACK_DECOMPRESSION_FAILED`).
    QpackDynamicReference,
    /// A static table index past its end (`QPACK_DECOMPRESSION_FAILED`).
    QpackBadIndex,
    /// A field section that ends inside a field, or an integer too long
    /// (`QPACK_DECOMPRESSION_FAILED`).
    QpackTruncated,
    /// A bad Huffman-coded string (`QPACK_DECOMPRESSION_FAILED`).
    QpackBadHuffman,
    /// A field section larger than [`Limits::max_field_section_size`] (a server answers
    /// 431; `H3_EXCESSIVE_LOAD` otherwise).
    FieldSectionTooLarge,
    /// Too much of something: a control frame over its size, more streams cancelled before
    /// their request arrived than [`Limits::max_cancelled_requests`] (`H3_EXCESSIVE_LOAD`).
    ExcessiveLoad,
    /// The request's fields did not arrive within the handshake deadline
    /// (`H3_REQUEST_REJECTED`).
    RequestTimeout,
    /// The server did not announce `SETTINGS_ENABLE_CONNECT_PROTOCOL`, so it takes no
    /// WebSockets over HTTP/3 (RFC 9220 §3) (`H3_SETTINGS_ERROR` is not sent: the client
    /// just does not ask).
    ExtendedConnectDisabled,
    /// The peer reset the stream with this HTTP/3 code.
    Reset(u64),
    /// The QUIC connection failed or closed, of this kind.
    Transport(io::ErrorKind),
}

impl H3Error {
    /// The HTTP/3 (RFC 9114 §8.1) or QPACK (RFC 9204 §6) error code.
    pub fn code(&self) -> u64 {
        match self {
            H3Error::Frame => 0x106,
            H3Error::FrameUnexpected => 0x105,
            H3Error::Settings | H3Error::ExtendedConnectDisabled => 0x109,
            H3Error::MissingSettings => 0x10a,
            H3Error::ClosedCriticalStream => 0x104,
            H3Error::StreamCreation => 0x103,
            H3Error::Message => 0x10e,
            H3Error::QpackDynamicReference
            | H3Error::QpackBadIndex
            | H3Error::QpackTruncated
            | H3Error::QpackBadHuffman => 0x200,
            H3Error::FieldSectionTooLarge | H3Error::ExcessiveLoad => 0x107,
            H3Error::RequestTimeout => 0x10b,
            H3Error::Reset(code) => *code,
            H3Error::Transport(_) => 0x102,
        }
    }
}

impl fmt::Display for H3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            H3Error::Frame => f.write_str("malformed HTTP/3 frame"),
            H3Error::FrameUnexpected => f.write_str("HTTP/3 frame not allowed here"),
            H3Error::Settings => f.write_str("invalid HTTP/3 SETTINGS"),
            H3Error::MissingSettings => f.write_str("HTTP/3 control stream did not begin with SETTINGS"),
            H3Error::ClosedCriticalStream => f.write_str("HTTP/3 control stream closed"),
            H3Error::StreamCreation => f.write_str("HTTP/3 stream the peer may not open"),
            H3Error::Message => f.write_str("malformed HTTP/3 request or response fields"),
            H3Error::QpackDynamicReference => {
                f.write_str("QPACK reference to a dynamic table we never allowed")
            }
            H3Error::QpackBadIndex => f.write_str("QPACK static table index out of range"),
            H3Error::QpackTruncated => f.write_str("truncated QPACK field section"),
            H3Error::QpackBadHuffman => f.write_str("bad Huffman code in a QPACK string"),
            H3Error::FieldSectionTooLarge => f.write_str("HTTP/3 field section too large"),
            H3Error::ExcessiveLoad => f.write_str("HTTP/3 peer exceeded a limit"),
            H3Error::RequestTimeout => f.write_str("HTTP/3 request did not arrive in time"),
            H3Error::ExtendedConnectDisabled => {
                f.write_str("the server does not enable extended CONNECT (no WebSockets over HTTP/3)")
            }
            H3Error::Reset(code) => write!(f, "HTTP/3 stream reset by the peer with code {code:#x}"),
            H3Error::Transport(kind) => write!(f, "QUIC connection failed: {kind}"),
        }
    }
}

impl std::error::Error for H3Error {}

impl From<H3Error> for io::Error {
    fn from(error: H3Error) -> io::Error {
        let kind = match error {
            H3Error::Reset(_) => io::ErrorKind::ConnectionReset,
            H3Error::RequestTimeout => io::ErrorKind::TimedOut,
            H3Error::Transport(kind) => kind,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, error)
    }
}

impl From<H3Error> for crate::Error {
    fn from(error: H3Error) -> crate::Error {
        crate::Error::Io(error.into())
    }
}

/// Runs `future` within `deadline`, if there is one: `None` when the deadline passed first.
async fn within<F: std::future::Future>(
    deadline: Option<std::time::Duration>,
    future: F,
) -> Option<F::Output> {
    match deadline {
        Some(deadline) => tokio::time::timeout(deadline, future).await.ok(),
        None => Some(future.await),
    }
}

/// [`within`] for a handshake step: its deadline passing is [`Timeout::Handshake`](crate::Timeout::Handshake).
async fn within_handshake<F: std::future::Future>(
    deadline: Option<std::time::Duration>,
    future: F,
) -> crate::Result<F::Output> {
    within(deadline, future)
        .await
        .ok_or(crate::Error::TimedOut(crate::Timeout::Handshake))
}

/// A field section as HTTP/3 sends it: pseudo-fields first, then the regular ones with
/// lowercase names, without the fields HTTP/3 forbids (RFC 9114 §4.2).
fn field_section<'a>(pseudo: &'a [(&'a str, &'a str)], headers: &'a crate::handshake::Headers) -> Vec<u8> {
    let lowered: Vec<(String, &str)> = headers
        .iter()
        .filter(|(name, _)| !is_connection_specific(name))
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .collect();
    qpack::encode(
        pseudo
            .iter()
            .map(|(name, value)| (name.as_bytes(), value.as_bytes()))
            .chain(
                lowered
                    .iter()
                    .map(|(name, value)| (name.as_bytes(), value.as_bytes())),
            ),
    )
}

/// Fields of one HTTP/1.1 hop, which HTTP/3 does not carry.
fn is_connection_specific(name: &str) -> bool {
    [
        "connection",
        "upgrade",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "host",
    ]
    .iter()
    .any(|field| name.eq_ignore_ascii_case(field))
}

/// Decoded fields split into pseudo-fields and regular ones, checked as RFC 9114 §4.2–4.3
/// asks: lowercase names, pseudo-fields first and known, none repeated.
struct Fields {
    pseudo: Vec<(String, String)>,
    regular: crate::handshake::Headers,
}

impl Fields {
    fn parse(fields: Vec<qpack::Field>, allowed_pseudo: &[&str]) -> Result<Fields, H3Error> {
        let mut pseudo: Vec<(String, String)> = Vec::new();
        let mut regular = crate::handshake::Headers::default();
        let mut regular_seen = false;
        for (name, value) in fields {
            if name.iter().any(u8::is_ascii_uppercase) || name.is_empty() {
                return Err(H3Error::Message);
            }
            let name = latin1(&name);
            let value = latin1(&value);
            if let Some(stripped) = name.strip_prefix(':') {
                if regular_seen
                    || !allowed_pseudo.contains(&stripped)
                    || pseudo.iter().any(|(n, _)| *n == name)
                {
                    return Err(H3Error::Message);
                }
                pseudo.push((name, value));
            } else {
                if is_connection_specific(&name) && name != "host" {
                    return Err(H3Error::Message);
                }
                regular_seen = true;
                regular.append(name, value);
            }
        }
        Ok(Fields { pseudo, regular })
    }

    fn pseudo(&self, name: &str) -> Option<&str> {
        self.pseudo
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Bytes as the crate's header strings hold them: each byte one character (Latin-1), so
/// nothing a peer sends is lost or refused for its encoding.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}
