//! Conversions between the handshake types and the `http` crate's (feature `http`).
#![cfg(feature = "http")]

use bytes::Bytes;
use ferrosocket::handshake::HttpConversionError;
use ferrosocket::{Accept, ClientRequest, Config, Connection, HandshakeError, Request, Response};

fn upgrade_request() -> http::Request<()> {
    http::Request::get("/chat?room=1")
        .header("Host", "example.com")
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Protocol", "chat.v1, chat.v2")
        .body(())
        .unwrap()
}

#[test]
fn a_request_parsed_by_an_http_server_is_accepted_by_the_engine() {
    let request = Request::try_from(&upgrade_request()).unwrap();
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("GET", "/chat?room=1")
    );
    assert_eq!(request.protocols().collect::<Vec<_>>(), ["chat.v1", "chat.v2"]);
    let (_conn, response) =
        Connection::accept_upgrade(request, Accept::new().protocol("chat.v2"), Config::default()).unwrap();
    let response = http::Response::<()>::try_from(response).unwrap();
    assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
    let accept = response.headers()["sec-websocket-accept"].as_bytes();
    assert_eq!(accept, b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat.v2");
}

#[test]
fn header_bytes_cross_over_exactly() {
    // obs-text (0x80..=0xFF) is not UTF-8: it must survive both ways byte for byte.
    let raw = [b'c', b'a', b'f', 0xe9, b' ', 0xff];
    let request = http::Request::get("/")
        .header("x-legacy", http::HeaderValue::from_bytes(&raw).unwrap())
        .body(())
        .unwrap();
    let ours = Request::try_from(&request).unwrap();
    assert_eq!(ours.headers.get("x-legacy").unwrap().chars().count(), raw.len());
    let back = http::Request::<()>::try_from(ours).unwrap();
    assert_eq!(back.headers()["x-legacy"].as_bytes(), raw);
}

#[test]
fn values_an_http_head_cannot_carry_are_refused() {
    let split = Response::new(101).header("X-Echo", "a\r\nSet-Cookie: evil=1");
    assert_eq!(
        http::Response::<()>::try_from(split).unwrap_err(),
        HttpConversionError::InvalidHeaderValue("X-Echo".into())
    );
    let wide = Response::new(101).header("X-Name", "κόσμε");
    assert!(matches!(
        http::Response::<()>::try_from(wide),
        Err(HttpConversionError::InvalidHeaderValue(_))
    ));
    let bad_name = Response::new(101).header("Bad Name", "x");
    assert!(matches!(
        http::Response::<()>::try_from(bad_name),
        Err(HttpConversionError::InvalidHeaderName(_))
    ));
    assert_eq!(
        http::Response::<()>::try_from(Response::new(1000)).unwrap_err(),
        HttpConversionError::InvalidStatus(1000)
    );
    let mut request = Request::new("G T", "/");
    assert!(matches!(
        http::Request::<()>::try_from(request.clone()),
        Err(HttpConversionError::InvalidMethod(_))
    ));
    request.method = "GET".into();
    request.target = "/a b".into();
    assert!(matches!(
        http::Request::<()>::try_from(request),
        Err(HttpConversionError::InvalidUri(_))
    ));
}

#[test]
fn refusals_keep_their_body_both_ways() {
    let refusal = Response::new(401)
        .header("WWW-Authenticate", "Bearer")
        .body("token required");
    let http_response = http::Response::<Bytes>::try_from(refusal.clone()).unwrap();
    assert_eq!(http_response.status(), 401);
    assert_eq!(http_response.body(), &Bytes::from("token required"));
    let back = Response::from(http_response);
    // Names come back lowercased (HTTP/2's form, and the http crate's); values and body exact.
    assert_eq!(
        (back.status, back.body.clone()),
        (refusal.status, refusal.body.clone())
    );
    assert_eq!(back.headers.get("WWW-Authenticate"), Some("Bearer"));
    assert_eq!(back.headers.len(), refusal.headers.len());
}

#[test]
fn a_client_request_from_an_http_request() {
    let request = http::Request::get("wss://example.com:8443/feed?x=1")
        .header("Authorization", "Bearer abc")
        .header("Origin", "https://example.com")
        .header("Sec-WebSocket-Protocol", "v2, v1")
        .header("Sec-WebSocket-Key", "ignored: the handshake makes its own")
        .body(())
        .unwrap();
    let client = ClientRequest::try_from(request).unwrap();
    assert_eq!(
        (client.host(), client.port(), client.is_secure(), client.target()),
        ("example.com", 8443, true, "/feed?x=1")
    );
    assert_eq!(client.protocols(), ["v2", "v1"]);
    let mut conn = Connection::client(client, Config::default());
    let head = String::from_utf8(conn.take_outgoing().to_vec()).unwrap();
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("\r\nauthorization: bearer abc\r\n"), "{head}");
    assert!(lower.contains("\r\norigin: https://example.com\r\n"), "{head}");
    assert!(lower.contains("\r\nsec-websocket-protocol: v2, v1\r\n"), "{head}");
    assert!(!head.contains("ignored"), "{head}");
    assert_eq!(head.matches("Sec-WebSocket-Key").count(), 1, "{head}");

    let uri: http::Uri = "ftp://example.com/".parse().unwrap();
    assert!(matches!(
        ClientRequest::try_from(uri),
        Err(HandshakeError::InvalidUrl(_))
    ));
}
