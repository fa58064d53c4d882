//! The opening handshake in both roles: acceptance, refusal, limits, and requests handed over
//! by an existing HTTP server.

mod util;

use ferrosocket::{
    Accept, ClientRequest, Config, Connection, Error, Event, HandshakeError, Request, Response, State,
};
use util::*;

const REQUEST: &[u8] = b"GET /chat?room=7 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\nCookie: a=1; session=\"xyz\"\r\n\r\n";

fn response_text(conn: &mut Connection) -> String {
    String::from_utf8_lossy(&conn.take_outgoing()).into_owned()
}

#[test]
fn server_parses_a_request_fed_byte_by_byte_and_keeps_early_frames() {
    let mut server = Connection::server(Config::default());
    let mut wire = REQUEST.to_vec();
    wire.extend(client_frame(0x81, b"early"));
    let mut request = None;
    for byte in &wire {
        server.receive(std::slice::from_ref(byte));
        if let Some(event) = server.next_event().unwrap() {
            match event {
                Event::Request(r) => request = Some(r),
                other => panic!("{other:?}"),
            }
        }
    }
    let request = request.expect("request event");
    assert_eq!((request.path(), request.query()), ("/chat", Some("room=7")));
    assert_eq!(request.host(), Some("server.example.com"));
    assert_eq!(request.origin(), Some("http://example.com"));
    assert_eq!(request.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
    assert_eq!(
        request.cookies().collect::<Vec<_>>(),
        [("a", "1"), ("session", "xyz")]
    );
    // Frames stay buffered until the decision.
    assert_eq!(server.next_event().unwrap(), None);
    server
        .accept(Accept::new().protocol("superchat").header("Set-Cookie", "id=1"))
        .unwrap();
    let response = response_text(&mut server);
    assert!(
        response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{response}"
    );
    assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert!(response.contains("Sec-WebSocket-Protocol: superchat\r\n"));
    assert!(response.contains("Set-Cookie: id=1\r\n"));
    assert_eq!(server.next_event().unwrap(), Some(Event::Text("early".into())));
}

#[test]
fn server_refuses_a_protocol_the_client_did_not_offer() {
    let mut server = Connection::server(Config::default());
    server.receive(REQUEST);
    assert!(matches!(server.next_event().unwrap(), Some(Event::Request(_))));
    assert!(matches!(
        server.accept(Accept::new().protocol("other")),
        Err(Error::Handshake(HandshakeError::ProtocolNotOffered(_)))
    ));
}

#[test]
fn server_rejects_with_any_status_headers_and_body() {
    let mut server = Connection::server(Config::default());
    server.receive(REQUEST);
    assert!(matches!(server.next_event().unwrap(), Some(Event::Request(_))));
    server
        .reject(
            Response::new(401)
                .header("WWW-Authenticate", "Basic")
                .body("who are you?"),
        )
        .unwrap();
    assert_eq!(server.state(), State::Closed);
    let text = response_text(&mut server);
    assert!(
        text.starts_with("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n"),
        "{text}"
    );
    assert!(
        text.ends_with("Content-Length: 12\r\nConnection: close\r\n\r\nwho are you?"),
        "{text}"
    );
}

#[test]
fn client_reports_a_refusal_with_status_headers_and_body() {
    let mut client = Connection::client(ClientRequest::new("ws://h/").unwrap(), Config::default());
    client.take_outgoing();
    client.receive(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 8\r\nX-Why: ip\r\n\r\nno ");
    assert_eq!(client.next_event().unwrap(), None, "waits for the body");
    client.receive(b"entry");
    let err = client.next_event().unwrap_err();
    let Error::Handshake(HandshakeError::Rejected(response)) = err else {
        panic!("{err:?}")
    };
    assert_eq!((response.status, response.reason.as_str()), (403, "Forbidden"));
    assert_eq!(response.headers.get("x-why"), Some("ip"));
    assert_eq!(&response.body[..], b"no entry");
    assert_eq!(client.state(), State::Closed);
}

fn refused(request: &[u8], config: Config) -> (HandshakeError, String) {
    let mut server = Connection::server(config);
    server.receive(request);
    let err = match server.next_event() {
        Err(Error::Handshake(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(server.state(), State::Closed);
    (err, response_text(&mut server))
}

#[test]
fn bad_requests_get_the_right_status() {
    let text = String::from_utf8(REQUEST.to_vec()).unwrap();
    let (_, response) = refused(
        text.replace("Version: 13", "Version: 7").as_bytes(),
        Config::default(),
    );
    assert!(
        response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{response}"
    );
    assert!(response.contains("Sec-WebSocket-Version: 13\r\n"));
    let (_, response) = refused(
        text.replace("Upgrade: websocket\r\n", "").as_bytes(),
        Config::default(),
    );
    assert!(response.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{response}");
    let (_, response) = refused(text.replace("GET", "POST").as_bytes(), Config::default());
    assert!(response.starts_with("HTTP/1.1 405"), "{response}");
    let (_, response) = refused(b"garbage\r\n\r\n", Config::default());
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
}

#[test]
fn oversized_heads_get_431() {
    let (err, response) = refused(REQUEST, Config::default().max_header_bytes(100));
    assert!(matches!(err, HandshakeError::HeaderTooLarge { max: 100 }));
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    let (err, response) = refused(REQUEST, Config::default().max_headers(3));
    assert!(matches!(err, HandshakeError::TooManyHeaders { max: 3 }));
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    // A head that never ends is refused once it reaches the limit, not buffered forever.
    let mut server = Connection::server(Config::default().max_header_bytes(1024));
    server.receive(b"GET / HTTP/1.1\r\n");
    for _ in 0..100 {
        server.receive(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        if server.next_event().is_err() {
            return;
        }
    }
    panic!("endless head accepted");
}

#[test]
fn hybi_08_clients_are_accepted() {
    let mut pair_client = Connection::client(
        ClientRequest::new("ws://h/")
            .unwrap()
            .version(8)
            .origin("http://o"),
        Config::default(),
    );
    let request = pair_client.take_outgoing();
    let text = String::from_utf8_lossy(&request);
    assert!(
        text.contains("Sec-WebSocket-Version: 8\r\n") && text.contains("Sec-WebSocket-Origin: http://o\r\n")
    );
    let mut server = Connection::server(Config::default());
    server.receive(&request);
    let Some(Event::Request(req)) = server.next_event().unwrap() else {
        panic!()
    };
    assert_eq!((req.version(), req.origin()), (Some("8"), Some("http://o")));
    server.accept(Accept::new()).unwrap();
    pair_client.receive(&server.take_outgoing());
    assert!(matches!(pair_client.next_event().unwrap(), Some(Event::Open(_))));
}

#[test]
fn request_parsed_elsewhere_with_leftover_bytes() {
    let request = Request::new("GET", "/ws")
        .header("Host", "h")
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("Sec-WebSocket-Version", "13");
    let leftover = client_frame(0x82, &[9, 9]);
    let mut server = Connection::from_request(request.clone(), &leftover, Config::default());
    let Some(Event::Request(seen)) = server.next_event().unwrap() else {
        panic!()
    };
    assert_eq!(*seen, request);
    server.accept(Accept::new()).unwrap();
    assert!(response_text(&mut server).contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert_eq!(
        server.next_event().unwrap(),
        Some(Event::Binary(vec![9, 9].into()))
    );

    let mut bad = Connection::from_request(Request::new("GET", "/ws"), &[], Config::default());
    assert!(matches!(
        bad.next_event(),
        Err(Error::Handshake(HandshakeError::MissingHeader("Host")))
    ));
    assert!(response_text(&mut bad).starts_with("HTTP/1.1 400"));
}

fn client_after(response: &str) -> Result<Option<Event>, Error> {
    let mut client = Connection::client(
        ClientRequest::new("ws://h/").unwrap().protocol("chat"),
        Config::default(),
    );
    let request = client.take_outgoing();
    let mut server = Connection::server(Config::default());
    server.receive(&request);
    let Some(Event::Request(req)) = server.next_event().unwrap() else {
        panic!()
    };
    let key = req.headers.get("sec-websocket-key").unwrap().to_owned();
    let accept = ferrosocket::handshake::accept_key(&key);
    client.receive(response.replace("{accept}", &accept).as_bytes());
    client.next_event()
}

#[test]
fn client_validates_the_101() {
    let ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n";
    let Ok(Some(Event::Open(response))) = client_after(&format!("{ok}Sec-WebSocket-Protocol: chat\r\n\r\n"))
    else {
        panic!()
    };
    assert_eq!(response.protocol(), Some("chat"));
    let cases = [
        (
            format!("{ok}Sec-WebSocket-Protocol: other\r\n\r\n"),
            HandshakeError::UnofferedProtocol("other".into()),
        ),
        (
            format!("{ok}Sec-WebSocket-Extensions: permessage-foo\r\n\r\n"),
            HandshakeError::UnofferedExtension("permessage-foo".into()),
        ),
        (
            ok.replace("{accept}", "bm9wZQ==") + "\r\n",
            HandshakeError::AcceptMismatch,
        ),
        (
            ok.replace("Upgrade: websocket\r\n", "") + "\r\n",
            HandshakeError::InvalidHeader("Upgrade"),
        ),
        (
            ok.replace("Connection: Upgrade\r\n", "Connection: close\r\n") + "\r\n",
            HandshakeError::InvalidHeader("Connection"),
        ),
        (
            "HTTP/1.1 abc\r\n\r\n".to_owned(),
            HandshakeError::MalformedHttp("bad status code"),
        ),
    ];
    for (response, expected) in cases {
        match client_after(&response) {
            Err(Error::Handshake(error)) => assert_eq!(error, expected, "{response:?}"),
            other => panic!("{response:?}: {other:?}"),
        }
    }
}

#[test]
fn transport_end_during_the_handshake_is_an_error() {
    let mut server = Connection::server(Config::default());
    server.receive(&REQUEST[..20]);
    server.receive_eof();
    assert!(matches!(
        server.next_event(),
        Err(Error::Handshake(HandshakeError::Incomplete))
    ));
    let mut pair = Pair::default_open();
    pair.server.close(1000, "").unwrap();
    assert!(matches!(
        pair.server.accept(Accept::new()),
        Err(Error::NoPendingRequest)
    ));
}

#[test]
fn accept_upgrade_for_servers_that_answer_themselves() {
    let request = Request::new("GET", "/ws")
        .header("Host", "h")
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Protocol", "chat")
        .header("Sec-WebSocket-Extensions", "permessage-deflate");
    let config = Config::default().permessage_deflate(Default::default());
    let (mut server, response) =
        Connection::accept_upgrade(request.clone(), Accept::new().protocol("chat"), config).unwrap();
    assert_eq!(response.status, 101);
    assert_eq!(
        response.headers.get("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    assert_eq!(response.protocol(), Some("chat"));
    assert_eq!(
        response.headers.get("sec-websocket-extensions"),
        Some("permessage-deflate; server_no_context_takeover")
    );
    assert_eq!(server.state(), State::Open);
    assert!(server.take_outgoing().is_empty(), "the HTTP server sends the 101");
    server.receive(&client_frame(0x81, b"hi"));
    assert_eq!(server.next_event().unwrap(), Some(Event::Text("hi".into())));

    let bad = Request::new("GET", "/ws").header("Host", "h");
    let err = match Connection::accept_upgrade(bad, Accept::new(), Config::default()) {
        Err(Error::Handshake(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(err.to_response().status, 400);
}
