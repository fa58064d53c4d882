//! The HTTP/1.1 upgrade handshake (RFC 6455 §4): the request and response types both roles
//! share, and the key/accept computation.
//!
//! The state machine that drives the handshake is [`Connection`](crate::Connection); this
//! module holds what it reads and writes.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

mod client;
mod error;
pub(crate) mod http;
#[cfg(feature = "http")]
mod http_interop;
pub(crate) mod server;

pub use client::ClientRequest;
/// URL pieces the client toolkit's proxy URLs share with `ws://` URLs.
#[cfg(any(
    feature = "blocking",
    feature = "tokio",
    feature = "futures-io",
    feature = "compio"
))]
pub(crate) use client::{bracket, percent_decode, split_host_port};
pub(crate) use client::{check_chosen_protocol, PendingClientHandshake};
pub use error::HandshakeError;
#[cfg(feature = "http")]
pub use http_interop::HttpConversionError;
pub(crate) use server::{validate_request, ValidatedRequest};

use base64::Engine as _;
use bytes::Bytes;
use sha1::{Digest, Sha1};

/// The GUID that RFC 6455 §1.3 appends to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Computes `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
///
/// ```
/// // RFC 6455 §1.3's example.
/// assert_eq!(
///     ferrosocket::handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// Whether `name` may be sent as a header name: a non-empty RFC 9110 token.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` may be sent as a header value or reason phrase: no control characters
/// but horizontal tab (CR, LF and NUL would end or split the head).
fn is_safe_value(value: &str) -> bool {
    value.chars().all(|c| c == '\t' || !c.is_control())
}

/// Checks one field we are about to send.
pub(crate) fn check_field(name: &str, value: &str) -> Result<(), HandshakeError> {
    if is_token(name) && is_safe_value(value) {
        Ok(())
    } else {
        Err(HandshakeError::UnsafeField(name.to_owned()))
    }
}

/// HTTP header fields in arrival order; names compare case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, String)>,
}

impl Headers {
    /// Adds a field, keeping any earlier one of the same name.
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.fields.push((name.into(), value.into()));
    }

    /// Checks every field before it is sent (see [`HandshakeError::UnsafeField`]).
    pub(crate) fn check_outgoing(&self) -> Result<(), HandshakeError> {
        self.iter().try_for_each(|(name, value)| check_field(name, value))
    }

    /// Removes every field named `name`.
    pub(crate) fn remove(&mut self, name: &str) {
        self.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The comma-separated elements of every `name` field, trimmed, empty ones skipped
    /// (RFC 9110 §5.6.1 lists).
    pub fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// Whether the list header `name` contains `token` (case-insensitively).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.list(name).any(|t| t.eq_ignore_ascii_case(token))
    }

    /// All fields as `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        for (name, value) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// An HTTP upgrade request, as the server received it (or as an existing HTTP server hands it
/// over, see [`Connection::from_request`](crate::Connection::from_request)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method; a valid upgrade uses GET.
    pub method: String,
    /// The request target: path and query, e.g. `/chat?room=1`.
    pub target: String,
    /// The minor HTTP/1 version: 1 for HTTP/1.1.
    pub http_minor_version: u8,
    /// The header fields.
    pub headers: Headers,
}

impl Request {
    /// A GET request for `target` with no headers yet.
    pub fn new(method: impl Into<String>, target: impl Into<String>) -> Self {
        Request {
            method: method.into(),
            target: target.into(),
            http_minor_version: 1,
            headers: Headers::default(),
        }
    }

    /// Adds a header field (builder style).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The path part of the target, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query string (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The `Host` header.
    pub fn host(&self) -> Option<&str> {
        self.headers.get("host")
    }

    /// The `Origin` header (`Sec-WebSocket-Origin` for hybi-08 clients).
    pub fn origin(&self) -> Option<&str> {
        self.headers
            .get("origin")
            .or_else(|| self.headers.get("sec-websocket-origin"))
    }

    /// The subprotocols the client offers, in its order of preference.
    pub fn protocols(&self) -> impl Iterator<Item = &str> {
        self.headers.list("sec-websocket-protocol")
    }

    /// The `Sec-WebSocket-Version` the client asked for.
    pub fn version(&self) -> Option<&str> {
        self.headers.get("sec-websocket-version")
    }

    /// The cookies of every `Cookie` header as `(name, value)` pairs.
    pub fn cookies(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .get_all("cookie")
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                Some((name.trim(), value.trim().trim_matches('"')))
            })
    }

    pub(crate) fn from_head(head: http::Head) -> Result<Self, HandshakeError> {
        let [method, target, version] = head.start;
        let http_minor_version = match version.as_str() {
            "HTTP/1.1" => 1,
            "HTTP/1.0" => 0,
            v if v.starts_with("HTTP/") => return Err(HandshakeError::HttpVersion),
            _ => return Err(HandshakeError::MalformedHttp("bad HTTP version")),
        };
        Ok(Request {
            method,
            target,
            http_minor_version,
            headers: head.headers,
        })
    }
}

/// An HTTP response: the server's answer to an upgrade request.
///
/// A server builds one to [`reject`](crate::Connection::reject) a request; a client receives
/// the 101 in [`Event::Open`](crate::Event::Open), or a refusal inside
/// [`HandshakeError::Rejected`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// The header fields.
    pub headers: Headers,
    /// The body (empty for a 101).
    pub body: Bytes,
}

impl Response {
    /// A response with `status`, its standard reason phrase, and no body.
    ///
    /// ```
    /// use ferrosocket::handshake::Response;
    /// let r = Response::new(401).header("WWW-Authenticate", "Bearer").body("token required");
    /// assert_eq!(r.reason, "Unauthorized");
    /// ```
    pub fn new(status: u16) -> Self {
        Response {
            status,
            reason: reason_phrase(status).to_owned(),
            headers: Headers::default(),
            body: Bytes::new(),
        }
    }

    /// Adds a header field (builder style).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Sets the body (builder style).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The subprotocol the server chose (on a 101).
    pub fn protocol(&self) -> Option<&str> {
        self.headers.get("sec-websocket-protocol")
    }

    /// Serializes a refusal: adds `Content-Length` and `Connection: close` unless present.
    /// Checks the reason phrase and headers before the response is sent.
    pub(crate) fn check_outgoing(&self) -> Result<(), HandshakeError> {
        if !is_safe_value(&self.reason) {
            return Err(HandshakeError::UnsafeField("reason phrase".to_owned()));
        }
        self.headers.check_outgoing()
    }

    pub(crate) fn encode_refusal(&self, out: &mut Vec<u8>) {
        self.write_status_and_headers(out);
        if !self.headers.contains("content-length") {
            out.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        if !self.headers.contains("connection") {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }

    /// Serializes the status line and headers (a 101 has no body).
    pub(crate) fn encode_head(&self, out: &mut Vec<u8>) {
        self.write_status_and_headers(out);
        out.extend_from_slice(b"\r\n");
    }

    fn write_status_and_headers(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", self.status, self.reason).as_bytes());
        self.headers.write_to(out);
    }
}

/// How a server accepts an upgrade: the subprotocol it picks and extra response headers
/// (what Node's `ws` calls the `headers` hook and `handleProtocols`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accept {
    /// The subprotocol to select; must be one the client offered.
    pub protocol: Option<String>,
    /// Extra headers for the 101 response, e.g. `Set-Cookie`.
    pub headers: Headers,
}

impl Accept {
    /// Checks the subprotocol and headers before the response carrying them is sent.
    pub(crate) fn check_outgoing(&self) -> Result<(), HandshakeError> {
        if let Some(protocol) = &self.protocol {
            check_field("Sec-WebSocket-Protocol", protocol)?;
        }
        self.headers.check_outgoing()
    }

    /// Accept with no subprotocol and no extra headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Selects a subprotocol (builder style).
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(protocol.into());
        self
    }

    /// Adds a response header (builder style).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.append(name, value);
        self
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}
