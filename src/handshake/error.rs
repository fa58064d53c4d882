//! How an opening handshake fails, and the HTTP response a server answers each failure with.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use core::fmt;

use super::Response;

/// The opening handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The bytes are not a well-formed HTTP/1.1 message head.
    MalformedHttp(&'static str),
    /// The head is larger than `max_header_bytes` (server answers 431).
    HeaderTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// The head has more than `max_headers` fields (server answers 431).
    TooManyHeaders {
        /// The configured limit.
        max: usize,
    },
    /// The request method is not GET.
    MethodNotGet,
    /// The HTTP version is below 1.1.
    HttpVersion,
    /// A required header is missing.
    MissingHeader(&'static str),
    /// A header has a value the protocol does not allow.
    InvalidHeader(&'static str),
    /// The client asked for a `Sec-WebSocket-Version` other than 13 or 8 (server answers 426).
    UnsupportedVersion(String),
    /// A header field, reason phrase or subprotocol we were asked to send would break the
    /// HTTP head: a name that is not a token, or CR, LF, NUL or another control character in
    /// a value (response splitting). Nothing was written. Carries the field's name.
    UnsafeField(String),
    /// The server answered with a status other than 101; the whole response is kept.
    Rejected(Box<Response>),
    /// `Sec-WebSocket-Accept` does not match the key the client sent.
    AcceptMismatch,
    /// The server chose a subprotocol the client did not offer.
    UnofferedProtocol(String),
    /// The server application accepted with a subprotocol the client did not offer; nothing
    /// was written and the request still awaits a decision.
    ProtocolNotOffered(String),
    /// The server chose an extension the client did not offer.
    UnofferedExtension(String),
    /// The URL is not a `ws://` or `wss://` URL this crate can connect to.
    InvalidUrl(String),
    /// The transport ended before the handshake did.
    Incomplete,
}

impl HandshakeError {
    /// Whether this side caused it (a field it may not send, a subprotocol the client did
    /// not offer, a URL it cannot connect to) rather than the peer.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            Self::UnsafeField(_) | Self::ProtocolNotOffered(_) | Self::InvalidUrl(_)
        )
    }

    /// The status a server answers a failed request with.
    pub fn status(&self) -> u16 {
        match self {
            Self::HeaderTooLarge { .. } | Self::TooManyHeaders { .. } => 431,
            Self::UnsupportedVersion(_) => 426,
            Self::MethodNotGet => 405,
            Self::UnsafeField(_) | Self::ProtocolNotOffered(_) => 500, // ours, not the client's
            _ => 400,
        }
    }
}

impl HandshakeError {
    /// The HTTP response a server answers a failed request with (status, a plain-text body,
    /// and `Sec-WebSocket-Version: 13` for a 426): for HTTP servers that answer themselves.
    pub fn to_response(&self) -> Response {
        let mut response = Response::new(self.status()).body(format!("{self}\n"));
        if let HandshakeError::UnsupportedVersion(_) = self {
            response = response.header("Sec-WebSocket-Version", "13");
        }
        response.header("Content-Type", "text/plain; charset=utf-8")
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedHttp(what) => write!(f, "malformed HTTP: {what}"),
            Self::HeaderTooLarge { max } => write!(f, "header block over {max} bytes"),
            Self::TooManyHeaders { max } => write!(f, "more than {max} header fields"),
            Self::MethodNotGet => f.write_str("upgrade request method is not GET"),
            Self::HttpVersion => f.write_str("HTTP version below 1.1"),
            Self::MissingHeader(name) => write!(f, "missing header {name}"),
            Self::InvalidHeader(name) => write!(f, "invalid value in header {name}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported Sec-WebSocket-Version {v:?}"),
            Self::Rejected(response) => {
                write!(f, "server rejected the upgrade with status {}", response.status)
            }
            Self::AcceptMismatch => f.write_str("Sec-WebSocket-Accept does not match the key"),
            Self::UnsafeField(name) => write!(
                f,
                "refused to send {name:?}: not a token, or a value with CR, LF or NUL"
            ),
            Self::UnofferedProtocol(p) => write!(f, "server chose subprotocol {p:?} that was not offered"),
            Self::ProtocolNotOffered(p) => write!(
                f,
                "accepted with subprotocol {p:?}, which the client did not offer"
            ),
            Self::UnofferedExtension(e) => write!(f, "server chose extension {e:?} that was not offered"),
            Self::InvalidUrl(url) => write!(f, "invalid WebSocket URL {url:?}"),
            Self::Incomplete => f.write_str("transport closed during the handshake"),
        }
    }
}

impl core::error::Error for HandshakeError {}
