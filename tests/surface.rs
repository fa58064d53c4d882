//! Nothing the application hands us can split an HTTP head, and credentials do not follow
//! redirects to other origins.

use ferrosocket::{Accept, ClientRequest, Config, Connection, Error, Event, HandshakeError, Response};

fn unsafe_field(result: Result<(), Error>) -> String {
    match result {
        Err(Error::Handshake(HandshakeError::UnsafeField(name))) => name,
        other => panic!("expected UnsafeField, got {other:?}"),
    }
}

/// A server with a valid upgrade request pending.
fn pending_server() -> Connection {
    let mut client = Connection::client(
        ClientRequest::new("ws://example.com/").unwrap().protocol("chat"),
        Config::default(),
    );
    let mut server = Connection::server(Config::default());
    server.receive(&client.take_outgoing());
    assert!(matches!(server.next_event(), Ok(Some(Event::Request(_)))));
    server
}

#[test]
fn accept_refuses_unsafe_headers_and_keeps_the_request_pending() {
    let mut server = pending_server();
    for (accept, field) in [
        (
            Accept::new().header("X-Echo", "a\r\nSet-Cookie: evil=1"),
            "X-Echo",
        ),
        (Accept::new().header("X-Nul", "a\0b"), "X-Nul"),
        (Accept::new().header("Bad Name", "x"), "Bad Name"),
        (Accept::new().header("", "x"), ""),
        (Accept::new().protocol("chat\nX: y"), "Sec-WebSocket-Protocol"),
    ] {
        assert_eq!(unsafe_field(server.accept(accept)), field);
        assert!(server.take_outgoing().is_empty(), "nothing written for {field:?}");
    }
    // Tabs and obs-text are allowed; the request is still there to accept.
    server
        .accept(Accept::new().protocol("chat").header("X-Ok", "a\tb é"))
        .unwrap();
    let head = String::from_utf8(server.take_outgoing().to_vec()).unwrap();
    assert!(
        head.starts_with("HTTP/1.1 101") && head.contains("X-Ok: a\tb é\r\n"),
        "{head}"
    );
}

#[test]
fn reject_refuses_unsafe_headers_and_reason_phrases() {
    let mut server = pending_server();
    let split = Response::new(401).header("WWW-Authenticate", "Bearer\r\n\r\n<html>");
    assert_eq!(unsafe_field(server.reject(split)), "WWW-Authenticate");
    let mut reason = Response::new(403);
    reason.reason = "Forbidden\r\nX-Injected: 1".into();
    assert_eq!(unsafe_field(server.reject(reason)), "reason phrase");
    assert!(server.take_outgoing().is_empty());
    server.reject(Response::new(403)).unwrap();
    assert!(server.take_outgoing().starts_with(b"HTTP/1.1 403 Forbidden\r\n"));
}

#[test]
fn a_client_request_with_an_unsafe_field_is_never_written() {
    let base = || ClientRequest::new("ws://example.com/").unwrap();
    for (request, field) in [
        (
            base().header("Authorization", "Bearer x\r\nHost: evil"),
            "Authorization",
        ),
        (base().header("X:Y", "1"), "X:Y"),
        (base().protocol("a\rb"), "Sec-WebSocket-Protocol"),
        (base().origin("https://a\0"), "Origin"),
    ] {
        let mut client = Connection::client(request, Config::default());
        assert!(client.take_outgoing().is_empty(), "{field}");
        match client.next_event() {
            Err(Error::Handshake(HandshakeError::UnsafeField(name))) => assert_eq!(name, field),
            other => panic!("expected UnsafeField({field}), got {other:?}"),
        }
        assert!(!client.wants_read());
    }
    for url in ["ws://exa\r\nmple.com/", "ws://host\0/", "ws://a b/"] {
        assert!(
            matches!(ClientRequest::new(url), Err(HandshakeError::InvalidUrl(_))),
            "{url:?}"
        );
    }
}

/// The request head a connection would send for `request`.
fn head(request: ClientRequest) -> String {
    String::from_utf8(
        Connection::client(request, Config::default())
            .take_outgoing()
            .to_vec(),
    )
    .unwrap()
}

#[test]
fn credentials_do_not_follow_redirects_to_other_origins() {
    let request = ClientRequest::new("wss://example.com/a")
        .unwrap()
        .header("Authorization", "Bearer secret")
        .header("Cookie", "session=1")
        .header("Proxy-Authorization", "Basic eA==")
        .header("X-Trace", "kept");
    let kept = head(request.redirect("/b").unwrap());
    assert!(
        kept.contains("Authorization: Bearer secret") && kept.contains("Cookie: session=1"),
        "{kept}"
    );
    assert!(head(request.redirect("wss://EXAMPLE.com:443/c").unwrap()).contains("Bearer secret"));
    for location in [
        "wss://other.example/",    // another host
        "wss://example.com:8443/", // another port
        "ws://example.com:443/",   // a downgrade to cleartext
    ] {
        let moved = head(request.redirect(location).unwrap());
        for secret in ["Authorization", "Cookie", "Proxy-Authorization"] {
            assert!(!moved.contains(&format!("\n{secret}:")), "{location}: {moved}");
        }
        assert!(moved.contains("X-Trace: kept"), "{moved}");
    }
}

#[test]
fn url_userinfo_becomes_basic_authorization() {
    // "alice:p@ss w" percent-encoded in the URL, as RFC 3986 asks.
    let request = ClientRequest::new("ws://alice:p%40ss%20w@example.com:8080/feed").unwrap();
    assert_eq!((request.host(), request.port()), ("example.com", 8080));
    let sent = head(request.clone());
    assert!(
        sent.contains("\r\nAuthorization: Basic YWxpY2U6cEBzcyB3\r\n"),
        "{sent}"
    );
    assert!(sent.contains("\r\nHost: example.com:8080\r\n"), "{sent}");
    // An explicit Authorization replaces the URL's.
    let explicit = head(request.clone().header("Authorization", "Bearer t"));
    assert!(
        explicit.contains("Authorization: Bearer t") && !explicit.contains("Basic"),
        "{explicit}"
    );
    // The same origin keeps it across a redirect; another drops it; a new URL's own counts.
    assert!(head(request.redirect("/moved").unwrap()).contains("Basic YWxpY2U6cEBzcyB3"));
    assert!(!head(request.redirect("ws://other.example/").unwrap()).contains("Authorization"));
    let own = head(request.redirect("ws://bob:pw@other.example/").unwrap());
    assert!(
        own.contains("Authorization: Basic Ym9iOnB3") && !own.contains("YWxpY2U"),
        "{own}"
    );
    // No userinfo, no header; an empty password is still a credential.
    assert!(!head(ClientRequest::new("ws://example.com/").unwrap()).contains("Authorization"));
    assert!(head(ClientRequest::new("ws://bob@example.com/").unwrap()).contains("Basic Ym9i"));
}

#[tokio::test]
async fn a_proxy_authorization_with_crlf_is_not_sent() {
    use tokio::io::AsyncReadExt;
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = proxy.local_addr().unwrap();
    let received = tokio::spawn(async move {
        let (mut stream, _) = proxy.accept().await.unwrap();
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes).await;
        bytes.len()
    });
    let result = ferrosocket::tokio::Connector::new(ClientRequest::new("ws://example.com/").unwrap())
        .proxy(addr.to_string(), Some("Basic eA==\r\nX-Injected: 1"))
        .connect()
        .await;
    assert!(
        matches!(result, Err(Error::Handshake(HandshakeError::UnsafeField(ref name))) if name == "Proxy-Authorization"),
        "{result:?}"
    );
    assert_eq!(received.await.unwrap(), 0, "nothing reached the proxy");
}
