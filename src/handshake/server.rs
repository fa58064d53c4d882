//! Server side: validating an upgrade request and writing the answer.

use alloc::borrow::ToOwned;
use alloc::string::String;

use base64::Engine as _;

use super::HandshakeError;
use super::{accept_key, Accept, Request, Response};

/// What a valid request tells the server.
#[derive(Debug, Clone)]
pub(crate) struct ValidatedRequest {
    /// The `Sec-WebSocket-Accept` value to answer with.
    pub accept: String,
}

/// Checks an upgrade request against RFC 6455 §4.2.1.
pub(crate) fn validate_request(req: &Request) -> Result<ValidatedRequest, HandshakeError> {
    if req.method != "GET" {
        return Err(HandshakeError::MethodNotGet);
    }
    if req.http_minor_version < 1 {
        return Err(HandshakeError::HttpVersion);
    }
    if !req.headers.contains("host") {
        return Err(HandshakeError::MissingHeader("Host"));
    }
    if !req.headers.has_token("upgrade", "websocket") {
        return Err(missing_or_invalid(req, "upgrade", "Upgrade"));
    }
    if !req.headers.has_token("connection", "upgrade") {
        return Err(missing_or_invalid(req, "connection", "Connection"));
    }
    match req.version() {
        Some("13" | "8") => {}
        Some(other) => return Err(HandshakeError::UnsupportedVersion(other.to_owned())),
        None => return Err(HandshakeError::MissingHeader("Sec-WebSocket-Version")),
    }
    let key = req
        .headers
        .get("sec-websocket-key")
        .ok_or(HandshakeError::MissingHeader("Sec-WebSocket-Key"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|_| HandshakeError::InvalidHeader("Sec-WebSocket-Key"))?;
    if decoded.len() != 16 {
        return Err(HandshakeError::InvalidHeader("Sec-WebSocket-Key"));
    }
    Ok(ValidatedRequest {
        accept: accept_key(key),
    })
}

fn missing_or_invalid(req: &Request, lower: &str, name: &'static str) -> HandshakeError {
    if req.headers.contains(lower) {
        HandshakeError::InvalidHeader(name)
    } else {
        HandshakeError::MissingHeader(name)
    }
}

/// Checks an RFC 8441 extended CONNECT (HTTP/2 or HTTP/3). The HTTP server checked
/// `:protocol websocket`; there is no key to answer, and only version 13 exists there.
pub(crate) fn validate_extended_connect(req: &Request) -> Result<(), HandshakeError> {
    if !req.method.eq_ignore_ascii_case("CONNECT") {
        return Err(HandshakeError::MalformedHttp("extended CONNECT expected"));
    }
    match req.version() {
        Some("13") => Ok(()),
        Some(other) => Err(HandshakeError::UnsupportedVersion(other.to_owned())),
        None => Err(HandshakeError::MissingHeader("Sec-WebSocket-Version")),
    }
}

/// Checks what the application accepts with: fields that are safe to write, and a
/// subprotocol the client offered.
pub(crate) fn check_accept<'a>(
    accept: &Accept,
    mut offered: impl Iterator<Item = &'a str>,
) -> Result<(), HandshakeError> {
    accept.check_outgoing()?;
    match &accept.protocol {
        Some(protocol) if !offered.any(|p| p == protocol) => {
            Err(HandshakeError::ProtocolNotOffered(protocol.clone()))
        }
        _ => Ok(()),
    }
}

/// The answer to an accepted request: a 101 with `Sec-WebSocket-Accept` for an HTTP/1.1
/// upgrade (`validated`), a 200 for an extended CONNECT (`None`); then the subprotocol, the
/// extensions and the application's headers.
pub(crate) fn accepted(
    validated: Option<&ValidatedRequest>,
    accept: &Accept,
    extensions: Option<&str>,
) -> Response {
    let mut response = match validated {
        Some(validated) => Response::new(101)
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Accept", validated.accept.clone()),
        None => Response::new(200),
    };
    if let Some(protocol) = &accept.protocol {
        response = response.header("Sec-WebSocket-Protocol", protocol.clone());
    }
    if let Some(extensions) = extensions {
        response = response.header("Sec-WebSocket-Extensions", extensions);
    }
    for (name, value) in accept.headers.iter() {
        response = response.header(name, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request::new("GET", "/chat")
            .header("Host", "server.example.com")
            .header("Upgrade", "websocket")
            .header("Connection", "keep-alive, Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Version", "13")
    }

    fn without(name: &str) -> Request {
        let mut r = request();
        r.headers.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        r
    }

    #[test]
    fn accepts_the_rfc_example() {
        assert_eq!(
            validate_request(&request()).unwrap().accept,
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let hybi08 = without("sec-websocket-version").header("Sec-WebSocket-Version", "8");
        assert!(validate_request(&hybi08).is_ok());
    }

    #[test]
    fn rejects_each_missing_or_wrong_header() {
        for name in [
            "host",
            "upgrade",
            "connection",
            "sec-websocket-key",
            "sec-websocket-version",
        ] {
            assert!(matches!(
                validate_request(&without(name)),
                Err(HandshakeError::MissingHeader(_))
            ));
        }
        let mut post = request();
        post.method = "POST".into();
        assert_eq!(validate_request(&post).unwrap_err().status(), 405);
        let v7 = without("sec-websocket-version").header("Sec-WebSocket-Version", "7");
        let err = validate_request(&v7).unwrap_err();
        assert_eq!(err.status(), 426);
        assert_eq!(err.to_response().headers.get("sec-websocket-version"), Some("13"));
        let short_key = without("sec-websocket-key").header("Sec-WebSocket-Key", "c2hvcnQ=");
        assert_eq!(
            validate_request(&short_key).unwrap_err(),
            HandshakeError::InvalidHeader("Sec-WebSocket-Key")
        );
        let wrong_upgrade = without("upgrade").header("Upgrade", "h2c");
        assert_eq!(
            validate_request(&wrong_upgrade).unwrap_err(),
            HandshakeError::InvalidHeader("Upgrade")
        );
    }
}
