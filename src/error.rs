//! Errors and close codes.
//!
//! Every error the peer can cause knows the close code the connection is failed with
//! ([`Error::close_code`]): 1002 for protocol violations, 1007 for invalid UTF-8 and 1009 for
//! exceeded limits. Handshake failures carry the HTTP status the server answers with.

use crate::message::CloseFrame;
use alloc::string::String;
use core::fmt;

pub use crate::connection::Timeout;
pub use crate::handshake::HandshakeError;

/// A close status code (RFC 6455 §7.4 and the IANA registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint goes away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: reported locally when a Close frame carried no code; never sent.
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: reported locally when the transport ended without a Close frame; never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: a text message (or close reason) was not valid UTF-8.
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client needed an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway got an invalid response upstream.
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);

    /// Whether this code may appear in a Close frame on the wire.
    ///
    /// The registered codes 1000–1003 and 1007–1014 and the application ranges 3000–4999 may;
    /// 1004 (reserved), 1005, 1006 and 1015 (local-only) and the unassigned rest may not. A
    /// received Close frame with any other code is a protocol error.
    pub fn is_allowed_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The peer broke RFC 6455 framing rules; the connection is failed with 1002.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A frame used one of the reserved opcodes 3–7 or 11–15.
    ReservedOpcode(u8),
    /// A frame set an RSV bit that no negotiated extension claims.
    ReservedBits,
    /// A client sent an unmasked frame.
    UnmaskedFrame,
    /// A server sent a masked frame.
    MaskedFrame,
    /// A control frame had FIN clear.
    FragmentedControlFrame,
    /// A control frame carried more than 125 bytes.
    ControlFrameTooLong,
    /// A 64-bit payload length had its most significant bit set.
    InvalidPayloadLength,
    /// A continuation frame arrived with no message in progress.
    UnexpectedContinuation,
    /// A new Text or Binary frame arrived while a fragmented message was unfinished.
    ExpectedContinuation,
    /// A Close frame carried a one-byte payload.
    InvalidClosePayload,
    /// A Close frame carried a code that may not be sent.
    InvalidCloseCode(u16),
    /// A frame arrived after the peer's Close frame.
    FrameAfterClose,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            Self::ReservedBits => f.write_str("RSV bit set without a negotiated extension"),
            Self::UnmaskedFrame => f.write_str("client frame is not masked"),
            Self::MaskedFrame => f.write_str("server frame is masked"),
            Self::FragmentedControlFrame => f.write_str("fragmented control frame"),
            Self::ControlFrameTooLong => f.write_str("control frame payload over 125 bytes"),
            Self::InvalidPayloadLength => f.write_str("payload length has its top bit set"),
            Self::UnexpectedContinuation => f.write_str("continuation frame without a message"),
            Self::ExpectedContinuation => f.write_str("new message inside a fragmented message"),
            Self::InvalidClosePayload => f.write_str("close frame with a one-byte payload"),
            Self::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
            Self::FrameAfterClose => f.write_str("frame received after the close frame"),
        }
    }
}

/// A configured limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CapacityError {
    /// A frame announced a payload over `max_frame_size` (close code 1009).
    FrameTooLarge {
        /// The announced payload length.
        size: u64,
        /// The configured limit.
        max: usize,
    },
    /// A message grew past `max_message_size` (close code 1009).
    MessageTooLarge {
        /// The size the message would reach.
        size: u64,
        /// The configured limit.
        max: usize,
    },
    /// Sending would grow the outgoing buffer past `max_write_buffer_size`; nothing was queued.
    WriteBufferFull {
        /// The size the buffer would reach.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// An adapter's `ping()` kept the messages that arrived while it waited for its pong,
    /// and they would grow past `max_message_size` in all: it stopped waiting (the messages
    /// are still read next; the connection goes on).
    HeldWhilePinging {
        /// The bytes the held messages would reach.
        size: usize,
        /// The configured limit.
        max: usize,
    },
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FrameTooLarge { size, max } => {
                write!(f, "frame of {size} bytes exceeds max_frame_size {max}")
            }
            Self::MessageTooLarge { size, max } => {
                write!(f, "message of {size} bytes exceeds max_message_size {max}")
            }
            Self::WriteBufferFull { size, max } => {
                write!(
                    f,
                    "outgoing buffer would reach {size} bytes, over max_write_buffer_size {max}"
                )
            }
            Self::HeldWhilePinging { size, max } => write!(
                f,
                "messages held while waiting for a pong would reach {size} bytes, over max_message_size {max}"
            ),
        }
    }
}

/// Who or what an [`Error`] comes from (as wsproto's local/remote and h2's initiator tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The peer: it broke the protocol or a limit, sent a bad handshake, or refused ours.
    Remote,
    /// This side: the API was used in a way the protocol or the connection's state does not
    /// allow (nothing was sent), or a configuration is unusable.
    Local,
    /// The transport or TLS failed.
    Io,
    /// The peer ended the connection normally ([`Error::ConnectionClosed`]).
    Closed,
}

/// Everything that can go wrong on a WebSocket connection.
///
/// ```
/// use ferrosocket::{Config, Connection, Error, ErrorKind, ProtocolError, Role};
/// let mut server = Connection::open(Role::Server, Config::default(), None);
/// server.receive(&[0x81, 0x02, b'h', b'i']); // unmasked: clients must mask
/// let error = server.next_event().unwrap_err();
/// assert!(matches!(error, Error::Protocol(ProtocolError::UnmaskedFrame)));
/// assert_eq!(error.kind(), ErrorKind::Remote);
/// assert_eq!(error.close_code().map(|code| code.0), Some(1002)); // queued for the peer
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke the protocol (close code 1002).
    Protocol(ProtocolError),
    /// A text message or close reason was not valid UTF-8 (close code 1007).
    InvalidUtf8,
    /// A compressed message was not a valid deflate stream (close code 1007, as `ws` sends).
    InvalidCompressedData,
    /// A limit was exceeded (close code 1009 for incoming data).
    Capacity(CapacityError),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// The operation needs an open connection, and the handshake has not finished.
    NotOpen,
    /// The peer ended the connection — its Close arrived first (or its transport ended) —
    /// so nothing more can be sent; a blocking `read` reports it once after the Close
    /// message. The normal end of a connection, not a fault.
    ConnectionClosed,
    /// The connection was used after it was closed: a send after this side's Close, a read
    /// after the end was reported.
    AlreadyClosed,
    /// A send after this side failed the connection because the peer broke the protocol or
    /// a limit: the Close we sent, with its code (1002, 1007, 1009, …) and reason. The
    /// error that caused it was reported where it was read.
    Failed(CloseFrame),
    /// A close code the application may not send (1005, 1006, 1015, unassigned codes).
    InvalidCloseCode(u16),
    /// A control payload over 125 bytes, or a close reason over 123 bytes.
    ControlPayloadTooLong,
    /// A fragment was sent out of order (a continuation without a started message, or a new
    /// message while another is still being sent).
    FragmentOrder,
    /// `accept` or `reject` was called when no upgrade request awaited a decision.
    NoPendingRequest,
    /// A whole-message API met a fragment event: it needs `fragment_events` off.
    FragmentEventsEnabled,
    /// Only text and binary messages can be prepared.
    NotData,
    /// A prepared frame was made for another way of framing (compressed for another
    /// compressor setting, or sent by a client, which must mask): take the connection's own
    /// with `PreparedMessage::frame_for`.
    PreparedFrameMismatch,
    /// A deadline passed (see [`Connection::poll_timeout`](crate::Connection::poll_timeout)):
    /// the handshake took too long, the peer missed a heartbeat pong, or it did not answer
    /// our Close. The connection ended without a closing handshake.
    TimedOut(Timeout),
    /// A `wss://` connection could not be set up (the TLS handshake's own failures, such as
    /// an untrusted certificate, arrive as [`Error::Io`]).
    Tls(TlsError),
    /// The proxy could not be used: a bad proxy URL, or a SOCKS5 proxy that refused (an HTTP
    /// proxy's refusal is [`HandshakeError::Rejected`] with its status and headers).
    Proxy(ProxyError),
    /// An I/O error from the transport (adapters only; the engine does no I/O).
    #[cfg(feature = "std")]
    Io(std::io::Error),
}

/// Why a `wss://` connection could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsError {
    /// The crate was built without TLS: enable the `rustls` feature (with `webpki-roots` or
    /// `rustls-native-certs` for default roots) or the `native-tls` feature.
    NotEnabled,
    /// No root certificates to verify the server with: enable `webpki-roots` or
    /// `rustls-native-certs`, or pass a `rustls::ClientConfig` to the connector.
    NoRootCertificates,
    /// The URL's host is neither a DNS name nor an IP address a certificate can name.
    InvalidServerName(String),
    /// The platform's TLS library could not be set up (native-tls), with its message.
    Setup(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotEnabled => f.write_str("wss:// needs TLS: enable the `rustls` or the `native-tls` feature"),
            Self::NoRootCertificates => f.write_str(
                "no root certificates: enable `webpki-roots` or `rustls-native-certs`, or pass a rustls ClientConfig",
            ),
            Self::InvalidServerName(host) => write!(f, "{host:?} is not a valid TLS server name"),
            Self::Setup(why) => write!(f, "TLS could not be set up: {why}"),
        }
    }
}

impl core::error::Error for TlsError {}

/// Why a proxy could not be used (see `client::Proxy`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL (given, or from the environment) could not be parsed: what is wrong.
    InvalidUrl(&'static str),
    /// A proxy scheme the crate does not speak (`https`, `socks4`, …): `http`, `socks5` and
    /// `socks5h` are.
    UnsupportedScheme(String),
    /// The SOCKS5 proxy accepted none of the authentication methods offered (no
    /// authentication, and username/password when credentials were given).
    NoAcceptableMethod,
    /// The SOCKS5 proxy refused the username and password (RFC 1929).
    AuthenticationFailed,
    /// The SOCKS5 proxy refused the connection, with its reply code (RFC 1928 §6): 1 general
    /// failure, 2 not allowed by its rules, 3 network unreachable, 4 host unreachable,
    /// 5 connection refused, 6 TTL expired, 7 command not supported, 8 address type not
    /// supported.
    Refused(u8),
    /// A field does not fit SOCKS5's one-byte length (a host name, username or password
    /// over 255 bytes): which one.
    TooLong(&'static str),
    /// The proxy's answer was not SOCKS5, or it closed the connection midway: what was wrong.
    Malformed(&'static str),
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(why) => write!(f, "invalid proxy URL: {why}"),
            Self::UnsupportedScheme(scheme) => write!(f, "proxy scheme {scheme:?} is not supported"),
            Self::NoAcceptableMethod => f.write_str("the SOCKS5 proxy accepts none of the offered methods"),
            Self::AuthenticationFailed => f.write_str("the SOCKS5 proxy refused the username and password"),
            Self::Refused(code) => {
                let why = match code {
                    1 => "general failure",
                    2 => "not allowed by its rules",
                    3 => "network unreachable",
                    4 => "host unreachable",
                    5 => "connection refused",
                    6 => "TTL expired",
                    7 => "command not supported",
                    8 => "address type not supported",
                    _ => "unknown reply",
                };
                write!(f, "the SOCKS5 proxy refused the connection: {why} ({code})")
            }
            Self::TooLong(field) => write!(f, "the {field} is too long for SOCKS5 (over 255 bytes)"),
            Self::Malformed(why) => write!(f, "bad SOCKS5 answer: {why}"),
        }
    }
}

impl core::error::Error for ProxyError {}

impl From<ProxyError> for Error {
    fn from(e: ProxyError) -> Self {
        Error::Proxy(e)
    }
}

impl From<TlsError> for Error {
    fn from(e: TlsError) -> Self {
        Error::Tls(e)
    }
}

impl Error {
    /// Who or what the error comes from: the peer, this side's use of the API, the
    /// transport, or the connection's normal end.
    ///
    /// ```
    /// use ferrosocket::{Error, ErrorKind, ProtocolError};
    /// assert_eq!(Error::Protocol(ProtocolError::UnmaskedFrame).kind(), ErrorKind::Remote);
    /// assert_eq!(Error::AlreadyClosed.kind(), ErrorKind::Local);
    /// assert_eq!(Error::ConnectionClosed.kind(), ErrorKind::Closed);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Protocol(_) | Self::InvalidUtf8 | Self::InvalidCompressedData => ErrorKind::Remote,
            Self::Capacity(
                CapacityError::WriteBufferFull { .. } | CapacityError::HeldWhilePinging { .. },
            ) => ErrorKind::Local,
            Self::Capacity(_) => ErrorKind::Remote,
            Self::Handshake(e) if e.is_local() => ErrorKind::Local,
            Self::Handshake(_) | Self::TimedOut(_) => ErrorKind::Remote,
            Self::ConnectionClosed => ErrorKind::Closed,
            Self::Failed(_) => ErrorKind::Remote,
            Self::NotOpen
            | Self::AlreadyClosed
            | Self::InvalidCloseCode(_)
            | Self::ControlPayloadTooLong
            | Self::FragmentOrder
            | Self::NoPendingRequest
            | Self::FragmentEventsEnabled
            | Self::NotData
            | Self::PreparedFrameMismatch => ErrorKind::Local,
            Self::Tls(_) => ErrorKind::Local, // the handshake's own failures arrive as `Io`
            Self::Proxy(
                ProxyError::InvalidUrl(_) | ProxyError::UnsupportedScheme(_) | ProxyError::TooLong(_),
            ) => ErrorKind::Local,
            Self::Proxy(_) => ErrorKind::Remote,
            #[cfg(feature = "std")]
            Self::Io(_) => ErrorKind::Io,
        }
    }

    /// The close code the connection is failed with, for errors the peer caused.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Protocol(_) => Some(CloseCode::PROTOCOL_ERROR),
            Self::InvalidUtf8 | Self::InvalidCompressedData => Some(CloseCode::INVALID_PAYLOAD),
            Self::Capacity(CapacityError::FrameTooLarge { .. } | CapacityError::MessageTooLarge { .. }) => {
                Some(CloseCode::MESSAGE_TOO_BIG)
            }
            Self::Failed(frame) => Some(frame.code),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "protocol error: {e}"),
            Self::InvalidUtf8 => f.write_str("invalid UTF-8 in a text message or close reason"),
            Self::InvalidCompressedData => f.write_str("invalid compressed data"),
            Self::Capacity(e) => write!(f, "limit exceeded: {e}"),
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::NotOpen => f.write_str("the connection is not open yet"),
            Self::ConnectionClosed => f.write_str("the peer closed the connection"),
            Self::AlreadyClosed => f.write_str("the connection was used after it was closed"),
            Self::Failed(frame) => write!(
                f,
                "the connection failed: we closed it with {} ({})",
                frame.code.0, frame.reason
            ),
            Self::InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
            Self::ControlPayloadTooLong => f.write_str("control payload over 125 bytes"),
            Self::FragmentOrder => f.write_str("fragment sent out of order"),
            Self::NoPendingRequest => f.write_str("no upgrade request awaits a decision"),
            Self::FragmentEventsEnabled => f.write_str("whole-message read with fragment_events on"),
            Self::NotData => f.write_str("only text and binary messages can be prepared"),
            Self::PreparedFrameMismatch => {
                f.write_str("the prepared frame was made for another connection's framing")
            }
            Self::TimedOut(timeout) => write!(f, "timed out: {timeout}"),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Proxy(e) => write!(f, "proxy: {e}"),
            #[cfg(feature = "std")]
            Self::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Tls(e) => Some(e),
            Self::Proxy(e) => Some(e),
            #[cfg(feature = "std")]
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}

impl From<CapacityError> for Error {
    fn from(e: CapacityError) -> Self {
        Error::Capacity(e)
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Error::Handshake(e)
    }
}

impl From<crate::utf8::InvalidUtf8> for Error {
    fn from(_: crate::utf8::InvalidUtf8) -> Self {
        Error::InvalidUtf8
    }
}

#[cfg(feature = "std")]
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl core::error::Error for ProtocolError {}
impl core::error::Error for CapacityError {}
