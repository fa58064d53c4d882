//! One test per class of input that WebSocket advisories of 2020–2026 were about (ws,
//! tungstenite, gorilla, Netty, Jetty, Tomcat, undici, Deno, Faye, uWS): each would have
//! caught its class here. Engine-level, no I/O; the 64-bit length arithmetic is in
//! `tests/engine.rs` (`lengths_past_32_bits_are_never_truncated`, run on i686 in CI), the
//! close-then-silence deadlines in `tests/timers.rs`, the adapters' in
//! `tests/async_adapters.rs` and `tests/blocking.rs`.

mod util;

use ferrosocket::deflate::DeflateConfig;
use ferrosocket::{
    CapacityError, ClientRequest, Config, Connection, Error, Event, HandshakeError, MessageKind, State,
};
use util::*;

const REQUEST: &str = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// What the server makes of `request` fed in one go.
fn serve(request: &[u8], config: Config) -> (Result<Option<Event>, Error>, String) {
    let mut server = Connection::server(config);
    server.receive(request);
    let outcome = server.next_event();
    (
        outcome,
        String::from_utf8_lossy(&server.take_outgoing()).into_owned(),
    )
}

/// Netty, Tomcat, gorilla: an upgrade missing `Upgrade: websocket` or `Connection: Upgrade`
/// (or naming something else) is an ordinary HTTP request, never a WebSocket — for version
/// 13 and for hybi-08.
#[test]
fn an_upgrade_without_its_upgrade_headers_is_refused_for_13_and_8() {
    for version in ["13", "8"] {
        let request = REQUEST.replace("Version: 13", &format!("Version: {version}"));
        assert!(matches!(
            serve(request.as_bytes(), Config::default()).0,
            Ok(Some(Event::Request(_)))
        ));
        for broken in [
            request.replace("Upgrade: websocket\r\n", ""),
            request.replace("Upgrade: websocket\r\n", "Upgrade: h2c\r\n"),
            request.replace("Connection: Upgrade\r\n", ""),
            request.replace("Connection: Upgrade\r\n", "Connection: keep-alive\r\n"),
            request.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
        ] {
            let (outcome, response) = serve(broken.as_bytes(), Config::default());
            assert!(
                matches!(outcome, Err(Error::Handshake(_))),
                "{broken:?}: {outcome:?}"
            );
            assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
        }
    }
}

/// ws (2024, many headers), undici, Jetty: long `Sec-WebSocket-Protocol`,
/// `Sec-WebSocket-Extensions` and `Connection` values, and huge lists in them, are parsed in
/// one pass within the head limit: accepted when they fit, refused with 431 when not.
#[test]
fn long_protocol_extension_and_connection_values_stay_within_the_head_limit() {
    let protocols = (0..1_500).map(|i| format!("p{i}")).collect::<Vec<_>>().join(", ");
    let extensions =
        ["permessage-deflate; client_max_window_bits; server_max_window_bits=10"; 150].join(", ");
    let connection = ["keep-alive"; 1_200].join(", ") + ", Upgrade";
    let request = REQUEST
        .replace("Connection: Upgrade", &format!("Connection: {connection}"))
        .replace(
            "\r\n\r\n",
            &format!(
                "\r\nSec-WebSocket-Protocol: {protocols}\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n"
            ),
        );
    assert!(request.len() > 16 << 10, "{}", request.len());
    // Past the default 16 KiB head: 431, whatever is in it.
    let (outcome, response) = serve(request.as_bytes(), Config::default());
    assert!(matches!(
        outcome,
        Err(Error::Handshake(HandshakeError::HeaderTooLarge { .. }))
    ));
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    // Within a larger limit: one request, every offer seen, the first extension offer taken.
    let config = Config::default()
        .max_header_bytes(64 << 10)
        .permessage_deflate(DeflateConfig::default());
    let mut server = Connection::server(config);
    server.receive(request.as_bytes());
    let Ok(Some(Event::Request(request))) = server.next_event() else {
        panic!("refused")
    };
    assert_eq!(request.protocols().count(), 1_500);
    server.accept(ferrosocket::Accept::new()).unwrap();
    assert!(server.permessage_deflate().is_some());
}

/// tungstenite, Faye: a head fed a few bytes at a time, or split at any byte, parses the
/// same as in one piece (and each byte is looked at a bounded number of times).
#[test]
fn a_request_split_at_every_byte_boundary_parses_the_same() {
    let request = REQUEST.as_bytes();
    for split in 1..request.len() {
        let mut server = Connection::server(Config::default());
        server.receive(&request[..split]);
        assert_eq!(server.next_event().unwrap(), None, "split at {split}");
        server.receive(&request[split..]);
        assert!(
            matches!(server.next_event(), Ok(Some(Event::Request(_)))),
            "split at {split}"
        );
    }
    for size in [1, 2, 3, 7] {
        let mut server = Connection::server(Config::default());
        let mut events = Vec::new();
        for piece in request.chunks(size) {
            server.receive(piece);
            if let Some(event) = server.next_event().unwrap() {
                events.push(event);
            }
        }
        assert!(matches!(&events[..], [Event::Request(_)]), "{size}: {events:?}");
    }
}

/// Deno, Netty: a server's response with bytes 0x80–0xFF in header names, values or the
/// reason phrase never panics a client; it is refused or read as opaque bytes.
#[test]
fn response_headers_with_high_bytes_never_panic_a_client() {
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for high in [0x80u8, 0xC3, 0xE2, 0xFF] {
        cases.push(
            [
                &b"HTTP/1.1 101 Sw"[..],
                &[high],
                b"tching\r\nUpgrade: websocket\r\n\r\n",
            ]
            .concat(),
        );
        cases.push([&b"HTTP/1.1 101 OK\r\nX-"[..], &[high, high], b": v\r\n\r\n"].concat());
        cases.push(
            [
                &b"HTTP/1.1 101 OK\r\nUpgrade: web"[..],
                &[high],
                b"socket\r\n\r\n",
            ]
            .concat(),
        );
        cases.push(
            [
                &b"HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: "[..],
                &[high; 28],
                b"\r\n\r\n",
            ]
            .concat(),
        );
        cases.push(
            [
                &b"HTTP/1.1 101 OK\r\nSec-WebSocket-Protocol: "[..],
                &[high; 3],
                b"\r\n\r\n",
            ]
            .concat(),
        );
        cases.push(
            [
                &b"HTTP/1.1 101 OK\r\nSec-WebSocket-Extensions: permessage-deflate; "[..],
                &[high],
                b"=1\r\n\r\n",
            ]
            .concat(),
        );
        cases.push(
            [
                &b"HTTP/1.1 400 "[..],
                &[high; 4],
                b"\r\nContent-Length: 2\r\n\r\n",
                &[high; 2],
            ]
            .concat(),
        );
    }
    for response in cases {
        let mut client = Connection::client(
            ClientRequest::new("ws://h/").unwrap().protocol("chat"),
            Config::default().permessage_deflate(DeflateConfig::default()),
        );
        client.take_outgoing();
        client.receive(&response);
        let outcome = client.next_event();
        assert!(
            matches!(outcome, Err(Error::Handshake(_))),
            "{response:?}: {outcome:?}"
        );
        assert_eq!(client.state(), State::Closed);
    }
}

/// Unsolicited or invalid permessage-deflate parameters in a server's 101 fail the client's
/// handshake (RFC 7692 §5; undici, tungstenite).
#[test]
fn bad_deflate_parameters_in_a_response_fail_the_clients_handshake() {
    let with_deflate = Config::default().permessage_deflate(DeflateConfig::default());
    let answers = [
        (
            "permessage-deflate; server_max_window_bits=7",
            with_deflate.clone(),
        ),
        (
            "permessage-deflate; server_max_window_bits=16",
            with_deflate.clone(),
        ),
        ("permessage-deflate; server_max_window_bits", with_deflate.clone()),
        ("permessage-deflate; unknown_parameter", with_deflate.clone()),
        (
            "permessage-deflate; server_no_context_takeover=1",
            with_deflate.clone(),
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            with_deflate.clone(),
        ),
        ("permessage-deflate, permessage-deflate", with_deflate.clone()),
        (
            "permessage-deflate; client_max_window_bits=7",
            with_deflate.clone(),
        ),
        (
            "permessage-deflate; client_max_window_bits=abc",
            with_deflate.clone(),
        ),
        ("permessage-deflate", Config::default()), // never offered
    ];
    for (answer, config) in answers {
        let mut client = Connection::client(ClientRequest::new("ws://h/").unwrap(), config);
        let request = client.take_outgoing();
        let mut server = Connection::server(Config::default());
        server.receive(&request);
        let Ok(Some(Event::Request(request))) = server.next_event() else {
            panic!()
        };
        let key = request.headers.get("sec-websocket-key").unwrap();
        let accept = ferrosocket::handshake::accept_key(key);
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n"
        );
        client.receive(response.as_bytes());
        let outcome = client.next_event();
        assert!(
            matches!(outcome, Err(Error::Handshake(_))),
            "{answer}: {outcome:?}"
        );
    }
}

/// ws (2016/2021), Jetty: the message limit holds while inflating, across fragments; what
/// follows the failure — here a corrupt block — brings no second Close.
#[test]
fn the_inflate_limit_holds_across_fragments_and_one_close_follows() {
    let config = Config::default().permessage_deflate(DeflateConfig::default());
    let mut pair = Pair::open(config.clone(), config.clone().max_message_size(64 << 10));
    let zeros = vec![0u8; 16 << 10];
    for i in 0..16 {
        pair.client
            .send_fragment(MessageKind::Binary, &zeros, i == 15)
            .unwrap();
    }
    let mut wire = pair.client.take_outgoing().to_vec();
    assert!(wire.len() < 4 << 10, "256 KiB of zeros in {} bytes", wire.len());
    wire.extend_from_slice(&client_frame(0xC2, &[0xFF; 32])); // a corrupt compressed frame
    pair.server.receive(&wire);
    let events = events(&mut pair.server);
    assert!(
        matches!(
            &events[..],
            [Err(Failure::Capacity(CapacityError::MessageTooLarge {
                max: 65536,
                ..
            }))]
        ),
        "{events:?}"
    );
    let out = pair.server.take_outgoing();
    let closes = out.windows(2).filter(|w| w[0] == 0x88).count();
    assert_eq!(closes, 1, "one Close");
    assert_eq!(&out[2..4], &[0x03, 0xF1], "1009");
}

/// gorilla, Netty: many tiny fragments are decoded one header at a time, with no state
/// per fragment: 100,000 empty continuations and a last one make one message, under a
/// 1 KiB limit that counts their bytes.
#[test]
fn many_tiny_fragments_make_one_message() {
    let mut server = open_server(Config::default().max_message_size(1 << 10));
    let mut wire = client_frame(0x02, b"");
    let empty = client_frame(0x00, b"");
    for _ in 0..100_000 {
        wire.extend_from_slice(&empty);
    }
    wire.extend_from_slice(&client_frame(0x80, b"end"));
    server.receive(&wire);
    assert!(matches!(server.next_event(), Ok(Some(Event::Binary(data))) if &data[..] == b"end"));
    assert_eq!(server.next_event().unwrap(), None);
}

/// A peer that never reads: a flood of pings leaves one pong queued, a flood of Closes one
/// Close, and pipelined plain HTTP requests one refusal (the connection stops reading).
#[test]
fn a_peer_that_never_reads_cannot_grow_what_we_owe_it() {
    let mut server = open_server(Config::default());
    let ping = client_frame(0x89, &[7; 125]);
    for _ in 0..10_000 {
        server.receive(&ping);
        while server.next_event().unwrap().is_some() {}
    }
    assert!(
        server.buffered_amount() <= 2 + 125,
        "{}",
        server.buffered_amount()
    );

    let mut server = open_server(Config::default());
    let close = client_frame(0x88, &[0x03, 0xE8]);
    for _ in 0..1_000 {
        server.receive(&close);
        while let Ok(Some(_)) = server.next_event() {}
    }
    assert_eq!(server.take_outgoing().len(), 4, "one Close, echoed once");

    let plain = "GET / HTTP/1.1\r\nHost: h\r\n\r\n".repeat(10_000);
    let (outcome, response) = serve(plain.as_bytes(), Config::default());
    assert!(outcome.is_err());
    assert_eq!(response.matches("HTTP/1.1 ").count(), 1, "one refusal");
}
