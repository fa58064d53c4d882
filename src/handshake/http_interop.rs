//! Conversions to and from the `http` crate's types (feature `http`), so requests parsed by
//! hyper, axum or any `http`-based server feed the engine, and our responses go back out.
//!
//! Header values cross over byte for byte: ours hold each byte as one `char` (Latin-1), so
//! `obs-text` bytes survive both ways instead of being replaced as lossy UTF-8 would.
//!
//! ```
//! use ferrosocket::{ClientRequest, Request, Response};
//!
//! let parts = http::Request::get("/chat?room=1")
//!     .header("Upgrade", "websocket")
//!     .body(())
//!     .unwrap()
//!     .into_parts()
//!     .0;
//! let request = Request::try_from(&parts).unwrap();
//! assert_eq!((request.path(), request.headers.get("upgrade")), ("/chat", Some("websocket")));
//!
//! let response = http::Response::<()>::try_from(Response::new(101).header("Upgrade", "websocket")).unwrap();
//! assert_eq!(response.status(), 101);
//!
//! let client = ClientRequest::try_from("wss://example.com/feed".parse::<http::Uri>().unwrap()).unwrap();
//! assert_eq!((client.host(), client.port()), ("example.com", 443));
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use bytes::Bytes;

use super::{ClientRequest, HandshakeError, Headers, Request, Response};

/// A value that the `http` crate's types cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpConversionError {
    /// The method is not a valid HTTP token.
    InvalidMethod(String),
    /// The request target is not a valid URI.
    InvalidUri(String),
    /// The status is outside 100..=999.
    InvalidStatus(u16),
    /// A header name is not a valid token.
    InvalidHeaderName(String),
    /// A header value holds a byte a header may not (CR, LF, NUL, other controls) or a
    /// character beyond one byte.
    InvalidHeaderValue(String),
}

impl fmt::Display for HttpConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidMethod(m) => write!(f, "invalid HTTP method {m:?}"),
            Self::InvalidUri(u) => write!(f, "invalid request target {u:?}"),
            Self::InvalidStatus(s) => write!(f, "invalid HTTP status {s}"),
            Self::InvalidHeaderName(n) => write!(f, "invalid header name {n:?}"),
            Self::InvalidHeaderValue(n) => write!(f, "invalid value for header {n:?}"),
        }
    }
}

impl core::error::Error for HttpConversionError {}

/// The bytes of a value as we hold it: one byte per `char`, or `None` for a wider one.
fn latin1_bytes(value: &str) -> Option<Vec<u8>> {
    value.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// A value from the wire, one `char` per byte.
fn from_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

fn to_header_map(headers: &Headers) -> Result<http::HeaderMap, HttpConversionError> {
    let mut map = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        let header_name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HttpConversionError::InvalidHeaderName(name.to_owned()))?;
        let header_value = latin1_bytes(value)
            .and_then(|bytes| http::HeaderValue::from_bytes(&bytes).ok())
            .ok_or_else(|| HttpConversionError::InvalidHeaderValue(name.to_owned()))?;
        map.append(header_name, header_value);
    }
    Ok(map)
}

fn from_header_map(map: &http::HeaderMap) -> Headers {
    let mut headers = Headers::default();
    for (name, value) in map {
        headers.append(name.as_str(), from_latin1(value.as_bytes()));
    }
    headers
}

/// Our request from the parts of an `http` request head. HTTP/2 and later count as HTTP/1.1
/// for [`Request::http_minor_version`].
fn request_head(
    method: &http::Method,
    uri: &http::Uri,
    version: http::Version,
    headers: &http::HeaderMap,
) -> Request {
    let target = uri
        .path_and_query()
        .map_or("/", |path_and_query| path_and_query.as_str());
    Request {
        method: method.as_str().to_owned(),
        target: target.to_owned(),
        http_minor_version: u8::from(version != http::Version::HTTP_10),
        headers: from_header_map(headers),
    }
}

/// An upgrade request as an `http`-based server parsed it.
impl TryFrom<&http::request::Parts> for Request {
    type Error = HttpConversionError;

    fn try_from(parts: &http::request::Parts) -> Result<Self, Self::Error> {
        Ok(request_head(
            &parts.method,
            &parts.uri,
            parts.version,
            &parts.headers,
        ))
    }
}

/// The head of an `http::Request` (its body is not looked at).
impl<B> TryFrom<&http::Request<B>> for Request {
    type Error = HttpConversionError;

    fn try_from(request: &http::Request<B>) -> Result<Self, Self::Error> {
        Ok(request_head(
            request.method(),
            request.uri(),
            request.version(),
            request.headers(),
        ))
    }
}

impl TryFrom<Request> for http::Request<()> {
    type Error = HttpConversionError;

    fn try_from(request: Request) -> Result<Self, Self::Error> {
        let method = http::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| HttpConversionError::InvalidMethod(request.method.clone()))?;
        let uri: http::Uri = request
            .target
            .parse()
            .map_err(|_| HttpConversionError::InvalidUri(request.target.clone()))?;
        let version = if request.http_minor_version == 0 {
            http::Version::HTTP_10
        } else {
            http::Version::HTTP_11
        };
        let mut out = http::Request::new(());
        *out.method_mut() = method;
        *out.uri_mut() = uri;
        *out.version_mut() = version;
        *out.headers_mut() = to_header_map(&request.headers)?;
        Ok(out)
    }
}

fn http_response(response: &Response) -> Result<http::response::Builder, HttpConversionError> {
    let status = http::StatusCode::from_u16(response.status)
        .map_err(|_| HttpConversionError::InvalidStatus(response.status))?;
    let mut builder = http::Response::builder().status(status);
    if let Some(headers) = builder.headers_mut() {
        *headers = to_header_map(&response.headers)?;
    }
    Ok(builder)
}

/// The head of a response (a 101, or a refusal whose body is dropped: see the `Bytes` form).
impl TryFrom<Response> for http::Response<()> {
    type Error = HttpConversionError;

    fn try_from(response: Response) -> Result<Self, Self::Error> {
        http_response(&response)?
            .body(())
            .map_err(|_| HttpConversionError::InvalidStatus(response.status))
    }
}

/// A response with its body (a refusal's explanation).
impl TryFrom<Response> for http::Response<Bytes> {
    type Error = HttpConversionError;

    fn try_from(response: Response) -> Result<Self, Self::Error> {
        let builder = http_response(&response)?;
        builder
            .body(response.body)
            .map_err(|_| HttpConversionError::InvalidStatus(response.status))
    }
}

/// A response received by an `http`-based client, with its body.
impl From<http::Response<Bytes>> for Response {
    fn from(response: http::Response<Bytes>) -> Self {
        let (parts, body) = response.into_parts();
        let mut ours = Response::from(&parts);
        ours.body = body;
        ours
    }
}

/// The head of a response.
impl From<&http::response::Parts> for Response {
    fn from(parts: &http::response::Parts) -> Self {
        let mut response = Response::new(parts.status.as_u16());
        response.headers = from_header_map(&parts.headers);
        response
    }
}

/// The head of an `http::Response` (its body is not read).
impl<B> From<&http::Response<B>> for Response {
    fn from(response: &http::Response<B>) -> Self {
        let mut ours = Response::new(response.status().as_u16());
        ours.headers = from_header_map(response.headers());
        ours
    }
}

/// A client request for a `ws://`, `wss://`, `http://` or `https://` URI.
impl TryFrom<http::Uri> for ClientRequest {
    type Error = HandshakeError;

    fn try_from(uri: http::Uri) -> Result<Self, Self::Error> {
        ClientRequest::new(&uri.to_string())
    }
}

/// A client request from an `http::Request`: its URI (absolute), its headers (those the
/// handshake writes itself are left to it) and its offered subprotocols.
impl TryFrom<http::Request<()>> for ClientRequest {
    type Error = HandshakeError;

    fn try_from(request: http::Request<()>) -> Result<Self, Self::Error> {
        let mut client = ClientRequest::try_from(request.uri().clone())?;
        for (name, value) in request.headers() {
            let value = from_latin1(value.as_bytes());
            match name.as_str() {
                "host" | "upgrade" | "connection" | "sec-websocket-key" | "sec-websocket-version" => {}
                "sec-websocket-protocol" => {
                    for protocol in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        client = client.protocol(protocol);
                    }
                }
                "origin" => client = client.origin(value),
                _ => client = client.header(name.as_str(), value),
            }
        }
        Ok(client)
    }
}
