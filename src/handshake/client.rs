//! Client side: building the upgrade request and checking the server's answer.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use bytes::Bytes;

use super::HandshakeError;
use super::{accept_key, http, Headers, Response};

/// What a client asks for: the URL's parts plus the optional headers of the upgrade request.
///
/// ```
/// use ferrosocket::ClientRequest;
/// let req = ClientRequest::new("wss://example.com/chat?room=1")
///     .unwrap()
///     .origin("https://example.com")
///     .protocol("chat.v2")
///     .header("Authorization", "Bearer abc");
/// assert_eq!((req.host(), req.port(), req.target()), ("example.com", 443, "/chat?room=1"));
/// assert!(req.is_secure());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    host: String,
    port: u16,
    secure: bool,
    target: String,
    host_header: String,
    origin: Option<String>,
    protocols: Vec<String>,
    headers: Headers,
    version: u8,
    /// The `Authorization` in `headers` came from the URL's `user:password@`.
    url_credentials: bool,
}

impl ClientRequest {
    /// Parses a `ws://` or `wss://` URL.
    pub fn new(url: &str) -> Result<Self, HandshakeError> {
        let invalid = || HandshakeError::InvalidUrl(url.to_owned());
        let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
        let secure = match scheme.to_ascii_lowercase().as_str() {
            "ws" | "http" => false,
            "wss" | "https" => true,
            _ => return Err(invalid()),
        };
        if rest.contains('#') {
            return Err(invalid());
        }
        let (authority, target) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'?' => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        // `user:password@` becomes Basic authorization, as Node ws and browsers do.
        let (userinfo, authority) = match authority.rsplit_once('@') {
            Some((userinfo, authority)) => (Some(userinfo), authority),
            None => (None, authority),
        };
        let (host, port) = split_host_port(authority).ok_or_else(invalid)?;
        let default_port = if secure { 443 } else { 80 };
        let port = port.unwrap_or(default_port);
        let host_header = if port == default_port {
            bracket(host)
        } else {
            format!("{}:{port}", bracket(host))
        };
        let unsafe_byte = |b: u8| b <= b' ' || b == 0x7f;
        if host.is_empty() || host.bytes().any(unsafe_byte) || target.bytes().any(unsafe_byte) {
            return Err(invalid());
        }
        let mut headers = Headers::default();
        if let Some(userinfo) = userinfo {
            let credentials = base64::engine::general_purpose::STANDARD.encode(percent_decode(userinfo));
            headers.append("Authorization", format!("Basic {credentials}"));
        }
        Ok(ClientRequest {
            host: host.to_owned(),
            port,
            secure,
            target,
            host_header,
            origin: None,
            protocols: Vec::new(),
            headers,
            version: 13,
            url_credentials: userinfo.is_some(),
        })
    }

    /// Sends an `Origin` header (builder style).
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Offers a subprotocol; call again to offer several, most preferred first.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Adds a header to the request (builder style). An `Authorization` header replaces the
    /// one made from the URL's `user:password@`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        if self.url_credentials && name.eq_ignore_ascii_case("authorization") {
            self.headers.remove("authorization");
            self.url_credentials = false;
        }
        self.headers.append(name, value);
        self
    }

    /// Speaks hybi-08 (`Sec-WebSocket-Version: 8`, `Sec-WebSocket-Origin`) instead of RFC 6455's
    /// version 13; pass 13 to go back.
    pub fn version(mut self, version: u8) -> Self {
        self.version = if version == 8 { 8 } else { 13 };
        self
    }

    /// The request a redirect to `location` leads to: the new URL (absolute, or a path on
    /// the same host) with the same headers, subprotocols, origin and version — except
    /// `Authorization`, `Cookie` and `Proxy-Authorization` when the host or port changes or
    /// the scheme goes from `wss` to `ws`.
    pub fn redirect(&self, location: &str) -> Result<ClientRequest, HandshakeError> {
        let url = if location.contains("://") {
            location.to_owned()
        } else if location.starts_with('/') {
            let scheme = if self.secure { "wss" } else { "ws" };
            format!("{scheme}://{}{location}", self.host_header)
        } else {
            return Err(HandshakeError::InvalidUrl(location.to_owned()));
        };
        let target = ClientRequest::new(&url)?;
        let mut headers = self.headers.clone();
        // Credentials go to the origin they were meant for only (as Node ws does): not to
        // another host or port, and not over a downgrade from wss to ws.
        let same_origin = target.host.eq_ignore_ascii_case(&self.host) && target.port == self.port;
        if !same_origin || (self.secure && !target.secure) {
            for name in ["authorization", "cookie", "proxy-authorization"] {
                headers.remove(name);
            }
        }
        // Credentials in the new URL are the ones to send there.
        if target.url_credentials {
            headers.remove("authorization");
            for value in target.headers.get_all("authorization") {
                headers.append("Authorization", value);
            }
        }
        let url_credentials =
            target.url_credentials || (self.url_credentials && headers.contains("authorization"));
        Ok(ClientRequest {
            origin: self.origin.clone(),
            protocols: self.protocols.clone(),
            headers,
            version: self.version,
            url_credentials,
            ..target
        })
    }

    /// The `host:port` authority, as a proxy's `CONNECT` names it.
    pub fn authority(&self) -> String {
        format!("{}:{}", bracket(&self.host), self.port)
    }

    /// Host name or IP address to connect to (without IPv6 brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Port to connect to (80 / 443 unless the URL names one).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the URL asked for TLS (`wss://`).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The request target: path and query.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The subprotocols offered.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The header fields to send with an HTTP/2 extended CONNECT for this request (RFC
    /// 8441), for a WebSocket over an HTTP/2 client of your choice: the client sets
    /// `:method CONNECT`, `:protocol websocket`, `:scheme`, `:authority` ([`host`](Self::host)
    /// and port) and `:path` ([`target`](Self::target)); these are the rest — the version
    /// (13), the origin, the subprotocols, `extensions` (the permessage-deflate offer, see
    /// [`DeflateConfig::offer`](crate::deflate::DeflateConfig::offer)) and the application's
    /// headers. Answer the response with
    /// [`Connection::open_extended_connect`](crate::Connection::open_extended_connect).
    pub fn extended_connect_headers(&self, extensions: Option<&str>) -> Result<Headers, HandshakeError> {
        self.check_outgoing()?;
        let mut headers = Headers::default();
        headers.append("sec-websocket-version", "13");
        if let Some(origin) = &self.origin {
            headers.append("origin", origin.clone());
        }
        if !self.protocols.is_empty() {
            headers.append("sec-websocket-protocol", self.protocols.join(", "));
        }
        if let Some(extensions) = extensions {
            headers.append("sec-websocket-extensions", extensions);
        }
        for (name, value) in self.headers.iter() {
            headers.append(name, value);
        }
        Ok(headers)
    }

    /// Checks what the application added (headers, subprotocols, origin) before it is sent.
    pub(crate) fn check_outgoing(&self) -> Result<(), HandshakeError> {
        for protocol in &self.protocols {
            super::check_field("Sec-WebSocket-Protocol", protocol)?;
        }
        if let Some(origin) = &self.origin {
            super::check_field("Origin", origin)?;
        }
        self.headers.check_outgoing()
    }

    /// Writes the request with a fresh `key` and returns what the answer must contain.
    pub(crate) fn encode(
        &self,
        key: [u8; 16],
        extensions: Option<&str>,
        out: &mut Vec<u8>,
    ) -> PendingClientHandshake {
        let key = base64::engine::general_purpose::STANDARD.encode(key);
        out.extend_from_slice(b"GET ");
        out.extend_from_slice(self.target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        let mut line = |name: &str, value: &str| {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        };
        line("Host", &self.host_header);
        line("Upgrade", "websocket");
        line("Connection", "Upgrade");
        line("Sec-WebSocket-Key", &key);
        line(
            "Sec-WebSocket-Version",
            if self.version == 8 { "8" } else { "13" },
        );
        if let Some(origin) = &self.origin {
            line(
                if self.version == 8 {
                    "Sec-WebSocket-Origin"
                } else {
                    "Origin"
                },
                origin,
            );
        }
        if !self.protocols.is_empty() {
            line("Sec-WebSocket-Protocol", &self.protocols.join(", "));
        }
        if let Some(extensions) = extensions {
            line("Sec-WebSocket-Extensions", extensions);
        }
        for (name, value) in self.headers.iter() {
            line(name, value);
        }
        out.extend_from_slice(b"\r\n");
        PendingClientHandshake {
            accept: accept_key(&key),
            protocols: self.protocols.clone(),
        }
    }
}

/// Decodes `%XX` escapes (RFC 3986); a `%` not followed by two hex digits stays as it is.
pub(crate) fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// Splits `host[:port]` or `[v6]:port`.
pub(crate) fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((authority, None)),
    }
}

pub(crate) fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// What the client waits for after sending its request.
#[derive(Debug, Clone)]
pub(crate) struct PendingClientHandshake {
    accept: String,
    protocols: Vec<String>,
}

impl PendingClientHandshake {
    /// Turns the response head into a [`Response`] (body still empty).
    pub(crate) fn parse_response(head: http::Head) -> Result<Response, HandshakeError> {
        let [version, status, reason] = head.start;
        if !version.starts_with("HTTP/1.") {
            return Err(HandshakeError::MalformedHttp("bad HTTP version"));
        }
        let status = match status.parse::<u16>() {
            Ok(s) if (100..1000).contains(&s) && status.len() == 3 => s,
            _ => return Err(HandshakeError::MalformedHttp("bad status code")),
        };
        Ok(Response {
            status,
            reason,
            headers: head.headers,
            body: Bytes::new(),
        })
    }

    /// Checks a 101 response against RFC 6455 §4.1; extensions are checked by the caller.
    pub(crate) fn validate(&self, response: &Response) -> Result<(), HandshakeError> {
        let headers = &response.headers;
        if !headers.has_token("upgrade", "websocket") {
            return Err(HandshakeError::InvalidHeader("Upgrade"));
        }
        if !headers.has_token("connection", "upgrade") {
            return Err(HandshakeError::InvalidHeader("Connection"));
        }
        match headers.get("sec-websocket-accept") {
            Some(accept) if accept == self.accept => {}
            Some(_) => return Err(HandshakeError::AcceptMismatch),
            None => return Err(HandshakeError::MissingHeader("Sec-WebSocket-Accept")),
        }
        check_chosen_protocol(&self.protocols, response)
    }
}

/// The server may choose one of the offered subprotocols, or none.
pub(crate) fn check_chosen_protocol(offered: &[String], response: &Response) -> Result<(), HandshakeError> {
    let mut chosen = response.headers.get_all("sec-websocket-protocol");
    match chosen.next() {
        Some(protocol) if chosen.next().is_some() || !offered.iter().any(|p| p == protocol) => {
            Err(HandshakeError::UnofferedProtocol(protocol.to_owned()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let r = ClientRequest::new("ws://127.0.0.1:9001").unwrap();
        assert_eq!(
            (r.host(), r.port(), r.target(), r.is_secure()),
            ("127.0.0.1", 9001, "/", false)
        );
        assert_eq!(r.host_header, "127.0.0.1:9001");
        let r = ClientRequest::new("ws://[::1]:8080/a/b?c=d").unwrap();
        assert_eq!((r.host(), r.port(), r.target()), ("::1", 8080, "/a/b?c=d"));
        assert_eq!(r.host_header, "[::1]:8080");
        let r = ClientRequest::new("wss://user:pw@example.com?x=1").unwrap();
        assert_eq!((r.host(), r.port(), r.target()), ("example.com", 443, "/?x=1"));
        assert_eq!(r.host_header, "example.com");
        for bad in [
            "ftp://x",
            "ws://",
            "ws://host:port",
            "ws://a/#frag",
            "no-scheme",
            "ws://a/b c",
        ] {
            assert!(ClientRequest::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirects_keep_the_headers() {
        let req = ClientRequest::new("ws://a:1/x")
            .unwrap()
            .protocol("p")
            .header("X-T", "1");
        let moved = req.redirect("/y?z").unwrap();
        assert_eq!((moved.host(), moved.port(), moved.target()), ("a", 1, "/y?z"));
        let moved = req.redirect("wss://b/c").unwrap();
        assert_eq!((moved.host(), moved.port(), moved.is_secure()), ("b", 443, true));
        assert_eq!(
            (moved.protocols(), moved.headers.get("x-t")),
            (&["p".to_owned()][..], Some("1"))
        );
        assert!(req.redirect("relative").is_err());
        assert_eq!(
            ClientRequest::new("ws://[::1]:9/").unwrap().authority(),
            "[::1]:9"
        );
    }

    #[test]
    fn encodes_the_request() {
        let req = ClientRequest::new("ws://example.com/chat")
            .unwrap()
            .origin("http://example.com")
            .protocol("a")
            .protocol("b")
            .header("X-Token", "t");
        let mut out = Vec::new();
        let pending = req.encode(*b"the sample nonce", None, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("GET /chat HTTP/1.1\r\nHost: example.com\r\n"),
            "{text}"
        );
        assert!(text.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
        assert!(
            text.contains("Origin: http://example.com\r\nSec-WebSocket-Protocol: a, b\r\nX-Token: t\r\n\r\n")
        );
        assert_eq!(pending.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn validates_the_response() {
        let mut out = Vec::new();
        let pending = ClientRequest::new("ws://h/").unwrap().protocol("chat").encode(
            *b"the sample nonce",
            None,
            &mut out,
        );
        let ok = Response::new(101)
            .header("Upgrade", "WebSocket")
            .header("Connection", "upgrade")
            .header("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(pending.validate(&ok), Ok(()));
        assert_eq!(
            pending.validate(&ok.clone().header("Sec-WebSocket-Protocol", "chat")),
            Ok(())
        );
        assert!(matches!(
            pending.validate(&ok.clone().header("Sec-WebSocket-Protocol", "other")),
            Err(HandshakeError::UnofferedProtocol(_))
        ));
        let mut wrong = ok.clone();
        wrong.headers = Headers::default();
        wrong.headers.append("Upgrade", "websocket");
        wrong.headers.append("Connection", "Upgrade");
        wrong.headers.append("Sec-WebSocket-Accept", "AAAA");
        assert_eq!(pending.validate(&wrong), Err(HandshakeError::AcceptMismatch));
    }
}
