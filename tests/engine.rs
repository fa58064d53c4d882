//! The engine end to end in memory: messages, fragmentation, control frames, close handshake,
//! limits and protocol violations, with the close code each one sends.

mod util;

use bytes::Bytes;
use std::io::IoSlice;

use ferrosocket::{
    CapacityError, CloseCode, CloseFrame, Config, Connection, Error, ErrorKind, Event, Fragment, Message,
    MessageKind, ProtocolError, State,
};
use util::*;

/// The close code in the Close frame `conn` queued, if any.
fn queued_close_code(conn: &mut Connection) -> Option<u16> {
    queued_close_code_of(&conn.take_outgoing())
}

/// The close code in the Close frame among `out`'s (unmasked) frames, if any.
fn queued_close_code_of(out: &[u8]) -> Option<u16> {
    let pos = out.iter().position(|&b| b == 0x88)?;
    let len = out[pos + 1] as usize & 0x7F;
    (len >= 2).then(|| u16::from_be_bytes([out[pos + 2], out[pos + 3]]))
}

#[test]
fn rfc_6455_section_5_7_examples_byte_for_byte() {
    // A single-frame unmasked text message, as a server sends it.
    let mut pair = Pair::default_open();
    pair.server.send_text("Hello").unwrap();
    assert_eq!(
        &pair.server.take_outgoing()[..],
        &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );

    // A single-frame masked text message, as a server receives it.
    let mut server = open_server(Config::default());
    server.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    assert_eq!(server.next_event().unwrap(), Some(Event::Text("Hello".into())));

    // A fragmented unmasked text message, as a client receives it.
    let mut client = open_client(Config::default());
    client.receive(&[0x01, 0x03, 0x48, 0x65, 0x6c]);
    assert_eq!(client.next_event().unwrap(), None);
    client.receive(&[0x80, 0x02, 0x6c, 0x6f]);
    assert_eq!(client.next_event().unwrap(), Some(Event::Text("Hello".into())));

    // Unmasked Ping and the masked Pong answering it.
    client.receive(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(
        client.next_event().unwrap(),
        Some(Event::Ping(Bytes::from_static(b"Hello")))
    );
    let pong = client.take_outgoing();
    assert_eq!((pong[0], pong[1]), (0x8a, 0x85));
    let mut payload = pong[6..].to_vec();
    ferrosocket::mask::apply(&mut payload, [pong[2], pong[3], pong[4], pong[5]], 0);
    assert_eq!(payload, b"Hello");

    // 256 bytes and 64 KiB binary messages in single unmasked frames.
    let mut pair = Pair::default_open();
    pair.server.send_binary(&[7; 256]).unwrap();
    assert_eq!(&pair.server.take_outgoing()[..4], &[0x82, 0x7E, 0x01, 0x00]);
    pair.server.send_binary(&vec![7; 65536]).unwrap();
    assert_eq!(
        &pair.server.take_outgoing()[..10],
        &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]
    );
}

#[test]
fn messages_cross_in_both_directions() {
    let mut pair = Pair::default_open();
    pair.client.send_text("ping?").unwrap();
    pair.client.send_binary(&[1, 2, 3]).unwrap();
    pair.client.send_text("").unwrap();
    pair.deliver_to_server();
    assert_eq!(
        events(&mut pair.server),
        vec![
            Ok(Event::Text("ping?".into())),
            Ok(Event::Binary(Bytes::from_static(&[1, 2, 3]))),
            Ok(Event::Text("".into())),
        ]
    );
    pair.server.send_text("pong!").unwrap();
    pair.deliver_to_client();
    assert_eq!(events(&mut pair.client), vec![Ok(Event::Text("pong!".into()))]);
}

#[test]
fn fragmented_send_with_interleaved_control_frames() {
    let mut pair = Pair::default_open();
    pair.client
        .send_fragment(MessageKind::Text, "κό".as_bytes(), false)
        .unwrap();
    pair.client.ping(b"p").unwrap();
    // A new message may not start inside another.
    assert!(matches!(pair.client.send_text("x"), Err(Error::FragmentOrder)));
    assert!(matches!(
        pair.client.send_fragment(MessageKind::Binary, b"x", false),
        Err(Error::FragmentOrder)
    ));
    pair.client.send_fragment(MessageKind::Text, &[], false).unwrap();
    pair.client
        .send_fragment(MessageKind::Text, "σμε".as_bytes(), true)
        .unwrap();
    pair.deliver_to_server();
    assert_eq!(
        events(&mut pair.server),
        vec![
            Ok(Event::Ping(Bytes::from_static(b"p"))),
            Ok(Event::Text("κόσμε".into()))
        ]
    );
}

#[test]
fn fragment_events_stream_a_message_as_it_arrives() {
    let mut server = open_server(Config::default().fragment_events(true));
    let mut wire = client_frame(0x02, &[1; 100]); // binary, not final
    wire.extend(client_frame(0x80, &[2; 50])); // final continuation
    let got = feed_chunked(&mut server, &wire, &[40]);
    let chunks: Vec<Fragment> = got
        .into_iter()
        .map(|e| match e {
            Ok(Event::Fragment(f)) => f,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(chunks.len() > 2, "delivered in pieces: {chunks:?}");
    assert!(chunks[0].is_first && !chunks[0].is_last);
    assert!(chunks.last().unwrap().is_last);
    assert!(chunks.iter().all(|c| c.kind == MessageKind::Binary));
    let data: Vec<u8> = chunks.iter().flat_map(|c| c.data.to_vec()).collect();
    assert_eq!(data, [vec![1; 100], vec![2; 50]].concat());
}

#[test]
fn pings_are_answered_and_coalesced() {
    let mut server = open_server(Config::default());
    for i in 0..1000u32 {
        server.receive(&client_frame(0x89, &i.to_be_bytes()));
        assert!(matches!(server.next_event().unwrap(), Some(Event::Ping(_))));
    }
    // A thousand unanswered pings leave one pong, for the latest.
    assert_eq!(server.buffered_amount(), 6);
    assert_eq!(&server.take_outgoing()[..], &[0x8a, 0x04, 0, 0, 0x03, 0xe7]);

    let mut quiet = open_server(Config::default().auto_pong(false));
    quiet.receive(&client_frame(0x89, b"x"));
    assert!(matches!(quiet.next_event().unwrap(), Some(Event::Ping(_))));
    assert!(quiet.take_outgoing().is_empty());
}

#[test]
fn close_handshake_initiated_by_the_client() {
    let mut pair = Pair::default_open();
    pair.client.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(pair.client.state(), State::Closing);
    assert!(matches!(pair.client.send_text("late"), Err(Error::AlreadyClosed)));
    pair.deliver_to_server();
    assert_eq!(
        events(&mut pair.server),
        vec![Ok(Event::Close(CloseFrame::new(1000, "bye")))]
    );
    assert_eq!(pair.server.state(), State::Closed);
    // The server echoes the code and reason.
    pair.deliver_to_client();
    assert_eq!(
        events(&mut pair.client),
        vec![Ok(Event::Close(CloseFrame::new(1000, "bye")))]
    );
    assert_eq!(pair.client.state(), State::Closed);
    assert!(pair.client.take_outgoing().is_empty(), "no second close");
    // Who closed first tells the errors apart: the client used its own closed connection; the
    // server's peer ended the connection normally.
    assert!(matches!(pair.client.send_text("late"), Err(Error::AlreadyClosed)));
    let late = pair.server.send_text("late").unwrap_err();
    assert!(matches!(late, Error::ConnectionClosed));
    assert_eq!(
        (late.kind(), Error::AlreadyClosed.kind()),
        (ErrorKind::Closed, ErrorKind::Local)
    );
}

#[test]
fn error_kinds_tell_the_peer_from_this_side_and_the_transport() {
    use ferrosocket::{HandshakeError, TlsError};
    let remote = [
        Error::Protocol(ProtocolError::UnmaskedFrame),
        Error::InvalidUtf8,
        Error::Capacity(CapacityError::MessageTooLarge { size: 2, max: 1 }),
        Error::Handshake(HandshakeError::MissingHeader("Host")),
        Error::Handshake(HandshakeError::UnofferedProtocol("x".into())),
    ];
    assert!(remote.iter().all(|e| e.kind() == ErrorKind::Remote));
    let local = [
        Error::NotOpen,
        Error::InvalidCloseCode(1005),
        Error::Capacity(CapacityError::WriteBufferFull { size: 2, max: 1 }),
        Error::Handshake(HandshakeError::UnsafeField("X".into())),
        Error::Handshake(HandshakeError::ProtocolNotOffered("x".into())),
        Error::Tls(TlsError::NotEnabled),
    ];
    assert!(local.iter().all(|e| e.kind() == ErrorKind::Local));
    assert_eq!(
        Error::Io(std::io::ErrorKind::BrokenPipe.into()).kind(),
        ErrorKind::Io
    );
}

#[test]
fn messages_sent_before_the_close_still_arrive() {
    let mut pair = Pair::default_open();
    pair.server.close(4000, "").unwrap();
    pair.client.send_text("in flight").unwrap();
    pair.deliver_to_client();
    pair.deliver_to_server();
    assert_eq!(
        events(&mut pair.server),
        vec![Ok(Event::Text("in flight".into()))],
        "a message sent before the client saw our close"
    );
    let client_events = events(&mut pair.client);
    assert_eq!(client_events, vec![Ok(Event::Close(CloseFrame::new(4000, "")))]);
    pair.deliver_to_server();
    assert_eq!(
        events(&mut pair.server),
        vec![Ok(Event::Close(CloseFrame::new(4000, "")))]
    );
}

#[test]
fn empty_close_is_reported_as_1005_and_answered_empty() {
    let mut server = open_server(Config::default());
    server.receive(&client_frame(0x88, &[]));
    assert_eq!(
        server.next_event().unwrap(),
        Some(Event::Close(CloseFrame::new(1005, "")))
    );
    assert_eq!(&server.take_outgoing()[..], &[0x88, 0x00]);
}

#[test]
fn transport_end_without_close_is_1006() {
    let mut server = open_server(Config::default());
    server.receive(&client_frame(0x81, b"hi")[..4]);
    server.receive_eof();
    assert_eq!(
        server.next_event().unwrap(),
        Some(Event::Close(CloseFrame::new(1006, "")))
    );
    assert_eq!(server.state(), State::Closed);
    assert_eq!(server.next_event().unwrap(), None);
}

#[test]
fn local_close_arguments_are_checked() {
    let mut pair = Pair::default_open();
    for code in [0, 999, 1004, 1005, 1006, 1015, 2000, 5000] {
        assert!(
            matches!(pair.client.close(code, ""), Err(Error::InvalidCloseCode(_))),
            "{code}"
        );
    }
    assert!(matches!(
        pair.client.close(1000, &"x".repeat(124)),
        Err(Error::ControlPayloadTooLong)
    ));
    assert!(matches!(
        pair.client.ping(&[0; 126]),
        Err(Error::ControlPayloadTooLong)
    ));
    pair.client.close(1000, &"x".repeat(123)).unwrap();
}

/// Feeds `wire` to an open server and returns the error and the close code it sent.
fn server_fails(config: Config, wire: &[u8]) -> (Failure, Option<u16>) {
    let mut server = open_server(config);
    server.receive(wire);
    let events = events(&mut server);
    let error = match events.last() {
        Some(Err(e)) => e.clone(),
        other => panic!("expected an error, got {other:?}"),
    };
    assert_eq!(server.state(), State::Closed);
    (error, queued_close_code(&mut server))
}

#[test]
fn protocol_violations_close_with_1002() {
    use ferrosocket::ProtocolError::*;
    let cases: Vec<(ProtocolError, Vec<u8>)> = vec![
        (ReservedOpcode(0x3), client_frame(0x83, b"")),
        (ReservedOpcode(0xB), client_frame(0x8B, b"")),
        (ReservedBits, client_frame(0xC1, b"x")),
        (ReservedBits, client_frame(0xA1, b"x")),
        (ReservedBits, client_frame(0x91, b"x")),
        (UnmaskedFrame, frame(0x81, b"x", None)),
        (FragmentedControlFrame, client_frame(0x09, b"")),
        (ControlFrameTooLong, client_frame(0x89, &[0; 126])),
        (UnexpectedContinuation, client_frame(0x80, b"x")),
        (
            ExpectedContinuation,
            [client_frame(0x01, b"a"), client_frame(0x81, b"b")].concat(),
        ),
        (InvalidClosePayload, client_frame(0x88, &[3])),
        (InvalidCloseCode(1005), client_frame(0x88, &1005u16.to_be_bytes())),
        (InvalidCloseCode(999), client_frame(0x88, &999u16.to_be_bytes())),
        (InvalidCloseCode(2999), client_frame(0x88, &2999u16.to_be_bytes())),
        (InvalidPayloadLength, {
            let mut f = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
            f.extend_from_slice(&[1, 2, 3, 4]);
            f
        }),
    ];
    for (expected, wire) in cases {
        let (error, code) = server_fails(Config::default(), &wire);
        assert_eq!(error, Failure::Protocol(expected));
        assert_eq!(code, Some(1002), "{expected:?}");
    }
    // A client must reject masked frames.
    let mut client = open_client(Config::default());
    client.receive(&client_frame(0x81, b"x"));
    assert!(matches!(client.next_event(), Err(Error::Protocol(_))));
}

#[test]
fn invalid_utf8_closes_with_1007_and_fails_fast() {
    let (_, code) = server_fails(
        Config::default(),
        &client_frame(0x81, &[0xce, 0xba, 0xed, 0xa0, 0x80]),
    );
    assert_eq!(code, Some(1007));
    let (_, code) = server_fails(Config::default(), &client_frame(0x88, &[0x03, 0xe8, 0xff]));
    assert_eq!(code, Some(1007), "close reason");
    // A message truncated inside a code point fails at its end.
    let (_, code) = server_fails(Config::default(), &client_frame(0x81, &[b'a', 0xe2, 0x82]));
    assert_eq!(code, Some(1007));

    // Fail fast: the first bytes of a long frame already prove it invalid.
    let mut server = open_server(Config::default());
    let wire = client_frame(0x81, &[[b'a', 0xc0, 0xaf].as_slice(), &[b'a'; 1000]].concat());
    server.receive(&wire[..20]);
    assert!(matches!(server.next_event(), Err(Error::InvalidUtf8)));
}

#[test]
fn limits_close_with_1009_before_buffering() {
    let config = Config::default().max_message_size(1000);
    // The header alone announces too much: nothing of the payload is needed.
    let wire = client_frame(0x82, &[0; 1001]);
    let (error, code) = server_fails(config.clone(), &wire[..8]);
    assert_eq!(
        error,
        Failure::Capacity(CapacityError::FrameTooLarge {
            size: 1001,
            max: 1000
        })
    );
    assert_eq!(code, Some(1009));
    // Fragments adding up past the message limit.
    let wire = [client_frame(0x02, &[0; 600]), client_frame(0x80, &[0; 600])].concat();
    let (error, code) = server_fails(config, &wire);
    assert_eq!(
        error,
        Failure::Capacity(CapacityError::MessageTooLarge {
            size: 1200,
            max: 1000
        })
    );
    assert_eq!(code, Some(1009));
    // A 2^63-1 length with the default limits.
    let mut huge = vec![0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    huge.extend_from_slice(&[1, 2, 3, 4]);
    let (_, code) = server_fails(Config::default(), &huge);
    assert_eq!(code, Some(1009));
}

#[test]
fn write_buffer_limit_refuses_without_queueing() {
    let mut pair = Pair::open(Config::default().max_write_buffer_size(100), Config::default());
    pair.client.send_binary(&[0; 50]).unwrap();
    let before = pair.client.buffered_amount();
    assert!(matches!(
        pair.client.send_binary(&[0; 50]),
        Err(Error::Capacity(
            ferrosocket::CapacityError::WriteBufferFull { .. }
        ))
    ));
    assert_eq!(pair.client.buffered_amount(), before);
    // Once flushed, sending works again.
    pair.deliver_to_server();
    pair.client.send_binary(&[0; 50]).unwrap();
}

#[test]
fn unmasked_frames_can_be_allowed_explicitly() {
    let mut server = open_server(Config::default().accept_unmasked_frames(true));
    server.receive(&frame(0x81, b"plain", None));
    assert_eq!(server.next_event().unwrap(), Some(Event::Text("plain".into())));
}

#[test]
fn sending_before_open_is_refused() {
    let mut conn = Connection::server(Config::default());
    assert!(matches!(conn.send_text("x"), Err(Error::NotOpen)));
    assert!(matches!(
        conn.accept(Default::default()),
        Err(Error::NoPendingRequest)
    ));
}

#[test]
fn a_server_queues_large_shared_payloads_without_copying_them() {
    let mut pair = Pair::default_open();
    let large = Bytes::from(vec![9u8; 100_000]);
    pair.server.send_text("before").unwrap();
    pair.server.send(&Message::Binary(large.clone())).unwrap();
    pair.server.ping(b"p").unwrap();
    let small = Bytes::from_static(b"small shared");
    pair.server.send(&Message::Binary(small.clone())).unwrap();
    assert_eq!(pair.server.buffered_amount(), 8 + (100_000 + 10) + 3 + 14);

    // The payload itself is one of the stretches handed to a vectored write.
    let mut slices = [IoSlice::new(&[]); 8];
    let filled = pair.server.outgoing_vectored(&mut slices);
    assert_eq!(filled, 3, "frames before, the payload, frames after");
    assert_eq!(slices[1].as_ptr(), large.as_ptr());
    let wire: Vec<u8> = slices[..filled].iter().flat_map(|s| s.iter().copied()).collect();

    // Written out in awkward pieces through `outgoing`, the same bytes arrive in order.
    let mut pieces = Vec::new();
    while pair.server.wants_write() {
        let out = pair.server.outgoing();
        let n = out.len().min(7_777);
        pieces.extend_from_slice(&out[..n]);
        pair.server.advance_outgoing(n);
    }
    assert_eq!(pieces, wire);
    pair.client.receive(&wire);
    assert_eq!(
        events(&mut pair.client),
        vec![
            Ok(Event::Text("before".into())),
            Ok(Event::Binary(large)),
            Ok(Event::Ping(Bytes::from_static(b"p"))),
            Ok(Event::Binary(small)),
        ]
    );
}

#[test]
fn a_client_masks_shared_payloads_into_its_own_buffer() {
    let mut pair = Pair::default_open();
    let large = Bytes::from(vec![3u8; 70_000]);
    pair.client.send(&Message::Binary(large.clone())).unwrap();
    let mut slices = [IoSlice::new(&[]); 4];
    assert_eq!(pair.client.outgoing_vectored(&mut slices), 1);
    pair.deliver_to_server();
    assert_eq!(
        pair.server.next_event().unwrap(),
        Some(Event::Binary(large.clone()))
    );
    assert_eq!(&large[..], &[3u8; 70_000][..], "the caller's bytes stay unmasked");
}

#[test]
fn the_handshake_buffer_goes_once_the_connection_opens() {
    let pair = Pair::default_open();
    assert_eq!(pair.server.receive_capacity(), 0);
    assert_eq!(pair.client.receive_capacity(), 0);

    // Frames sent right behind the request stay, and are read from it.
    let mut client = Connection::client(
        ferrosocket::ClientRequest::new("ws://example.com/").unwrap(),
        Config::default(),
    );
    let request = client.take_outgoing();
    let mut server = Connection::server(Config::default());
    server.receive(&request);
    server.receive(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i']);
    assert!(matches!(server.next_event().unwrap(), Some(Event::Request(_))));
    server.accept(ferrosocket::Accept::new()).unwrap();
    assert_eq!(server.next_event().unwrap(), Some(Event::Text("hi".into())));
}

#[test]
fn a_failed_connection_reads_on_until_the_peer_answers_its_close() {
    let mut server = open_server(Config::default().max_message_size(100));
    server.receive(&client_frame(0x82, &[0; 500])[..50]);
    assert!(matches!(server.next_event(), Err(Error::Capacity(_))));
    assert_eq!(server.state(), State::Closed);
    assert_eq!(queued_close_code(&mut server), Some(1009));
    // Still reading: the rest of the big frame and a later message are discarded.
    assert!(server.wants_read());
    server.receive(&client_frame(0x82, &[0; 500])[50..]);
    server.receive(&client_frame(0x81, b"late"));
    assert_eq!(server.next_event().unwrap(), None);
    assert!(server.wants_read());
    // The peer's Close ends it; nothing more is queued in reply.
    server.receive(&client_frame(0x88, &1009u16.to_be_bytes()));
    assert_eq!(server.next_event().unwrap(), None);
    assert!(!server.wants_read());
    assert!(!server.wants_write());
}

#[test]
fn a_faulty_close_from_the_peer_ends_reading_at_once() {
    // 1005 may not be sent; 1002 is the answer, and the peer has nothing more to send.
    let mut server = open_server(Config::default());
    server.receive(&client_frame(0x88, &1005u16.to_be_bytes()));
    assert!(matches!(
        server.next_event(),
        Err(Error::Protocol(ProtocolError::InvalidCloseCode(1005)))
    ));
    assert_eq!(queued_close_code(&mut server), Some(1002));
    assert!(!server.wants_read());
}

#[test]
fn a_failed_connection_stops_reading_at_the_end_of_the_stream() {
    let mut server = open_server(Config::default());
    server.receive(&client_frame(0x81, &[0xff]));
    assert!(matches!(server.next_event(), Err(Error::InvalidUtf8)));
    assert!(server.wants_read());
    server.receive_eof();
    assert_eq!(server.next_event().unwrap(), None);
    assert!(!server.wants_read());
}

#[test]
fn a_normal_close_and_terminate_stop_reading() {
    let mut pair = Pair::default_open();
    pair.client.close(CloseCode::NORMAL, "").unwrap();
    pair.deliver_to_server();
    assert!(matches!(pair.server.next_event(), Ok(Some(Event::Close(_)))));
    assert!(!pair.server.wants_read());
    assert!(
        pair.client.wants_read(),
        "the client waits for the server's Close"
    );
    pair.client.terminate();
    assert!(!pair.client.wants_read());
}

#[test]
fn a_handshake_done_elsewhere_starts_open() {
    // Over HTTP/2 (RFC 8441) there is no key and no 101: both ends start open.
    let mut client = Connection::open(ferrosocket::Role::Client, Config::default(), None);
    let mut server = Connection::open(ferrosocket::Role::Server, Config::default(), None);
    assert_eq!((client.state(), server.state()), (State::Open, State::Open));
    client.send_text("over h2").unwrap();
    server.receive(&client.take_outgoing());
    assert_eq!(server.next_event().unwrap(), Some(Event::Text("over h2".into())));
    // With negotiated compression.
    let deflate = ferrosocket::deflate::DeflateParams::default();
    let config =
        Config::default().permessage_deflate(ferrosocket::deflate::DeflateConfig::default().threshold(0));
    let mut client = Connection::open(ferrosocket::Role::Client, config.clone(), Some(deflate));
    let mut server = Connection::open(ferrosocket::Role::Server, config, Some(deflate));
    client.send_text("squeezed squeezed squeezed").unwrap();
    let wire = client.take_outgoing();
    assert_eq!(wire[0] & 0x40, 0x40, "RSV1: compressed");
    server.receive(&wire);
    assert_eq!(
        server.next_event().unwrap(),
        Some(Event::Text("squeezed squeezed squeezed".into()))
    );
    assert_eq!(server.permessage_deflate(), Some(deflate));
}

#[test]
fn decide_accepts_or_refuses_the_pending_request() {
    let mut pair = Pair::default_open();
    assert!(matches!(
        pair.server.decide(Ok(ferrosocket::Accept::new())),
        Err(Error::NoPendingRequest)
    ));
    let mut client = Connection::client(
        ferrosocket::ClientRequest::new("ws://h/").unwrap(),
        Config::default(),
    );
    let mut server = Connection::server(Config::default());
    server.receive(&client.take_outgoing());
    assert!(matches!(server.next_event(), Ok(Some(Event::Request(_)))));
    let refused = server.decide(Err(ferrosocket::Response::new(403)));
    assert!(matches!(
        refused,
        Err(Error::Handshake(ferrosocket::HandshakeError::Rejected(r))) if r.status == 403
    ));
    assert!(server.take_outgoing().starts_with(b"HTTP/1.1 403"));
    assert_eq!(server.state(), State::Closed);
    assert!(!server.wants_read());
}

#[test]
fn events_convert_to_messages_in_one_place() {
    assert_eq!(
        Event::Binary(Bytes::from_static(b"b")).into_message().unwrap(),
        Some(Message::Binary(Bytes::from_static(b"b")))
    );
    assert_eq!(
        Event::Close(CloseFrame::new(CloseCode::NORMAL, ""))
            .into_message()
            .unwrap(),
        Some(Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, ""))))
    );
    let fragment = Event::Fragment(Fragment {
        kind: MessageKind::Text,
        data: Bytes::new(),
        is_first: true,
        is_last: true,
    });
    assert!(matches!(
        fragment.into_message(),
        Err(Error::FragmentEventsEnabled)
    ));
    let open = Event::Open(Box::new(ferrosocket::Response::new(101)));
    assert_eq!(open.into_message().unwrap(), None);
}

#[test]
fn a_client_with_its_own_randomness_masks_with_it() {
    let mut client = Connection::client_with_randomness(
        ferrosocket::ClientRequest::new("ws://h/").unwrap(),
        Config::default(),
        |buf: &mut [u8]| buf.fill(0x11),
    );
    let request = client.take_outgoing();
    // The key is the nonce: sixteen 0x11 bytes, base64.
    assert!(std::str::from_utf8(&request)
        .unwrap()
        .contains("Sec-WebSocket-Key: EREREREREREREREREREREQ==\r\n"));
    let mut client = Connection::open_with_randomness(
        ferrosocket::Role::Client,
        Config::default(),
        None,
        |buf: &mut [u8]| buf.fill(0x11),
    );
    client.send_binary(&[0x11; 3]).unwrap();
    assert_eq!(
        &client.take_outgoing()[..],
        &[0x82, 0x83, 0x11, 0x11, 0x11, 0x11, 0, 0, 0]
    );
}

#[test]
fn a_connection_splits_only_once_open_and_reunites_only_with_its_own_half() {
    let connecting = Connection::server(Config::default());
    let connecting = connecting.split().expect_err("no halves before the handshake");
    assert_eq!(connecting.state(), State::Connecting);

    let (sending_a, receiving_a) = open_server(Config::default()).split().unwrap();
    let (sending_b, receiving_b) = open_server(Config::default()).split().unwrap();
    let (sending_a, receiving_b) =
        Connection::reunite(sending_a, receiving_b).expect_err("different connections");
    let a = Connection::reunite(sending_a, receiving_a).unwrap();
    let b = Connection::reunite(sending_b, receiving_b).unwrap();
    assert_eq!((a.state(), b.state()), (State::Open, State::Open));
}

#[test]
fn split_halves_answer_pings_and_echo_the_close_through_replies() {
    let (mut sending, mut receiving) = open_server(Config::default()).split().unwrap();
    receiving.receive(&client_frame(0x89, b"1"));
    receiving.receive(&client_frame(0x89, b"2"));
    receiving.receive(&client_frame(0x81, b"hi"));
    receiving.receive(&client_frame(0x88, &[0x03, 0xe8, b'o', b'k']));
    assert_eq!(
        receiving.next_event().unwrap(),
        Some(Event::Ping(Bytes::from_static(b"1")))
    );
    assert_eq!(
        receiving.next_event().unwrap(),
        Some(Event::Ping(Bytes::from_static(b"2")))
    );
    assert_eq!(receiving.next_event().unwrap(), Some(Event::Text("hi".into())));
    // The sender keeps sending meanwhile: its frames go out before the replies it has not seen.
    sending.send_text("mine").unwrap();
    assert_eq!(
        receiving.next_event().unwrap(),
        Some(Event::Close(CloseFrame::new(CloseCode::NORMAL, "ok")))
    );
    assert!(!receiving.wants_read());
    assert!(receiving.has_replies());
    sending.answer(receiving.take_replies());
    assert!(!receiving.has_replies());
    assert_eq!(
        &sending.take_outgoing()[..],
        // "mine", the pong to the latest ping only, then the echoed Close.
        &[0x81, 4, b'm', b'i', b'n', b'e', 0x8a, 1, b'2', 0x88, 4, 0x03, 0xe8, b'o', b'k']
    );
    assert!(sending.is_closed());
    assert!(matches!(sending.send_text("late"), Err(Error::ConnectionClosed)));
}

#[test]
fn a_split_sender_that_closed_first_sends_no_pong_and_no_echo() {
    let (mut sending, mut receiving) = open_server(Config::default()).split().unwrap();
    sending.close(CloseCode::GOING_AWAY, "bye").unwrap();
    let ours = sending.take_outgoing();
    receiving.receive(&client_frame(0x89, b"p"));
    receiving.receive(&client_frame(0x88, &[0x03, 0xe9]));
    while receiving.next_event().unwrap().is_some() {}
    sending.answer(receiving.take_replies());
    assert_eq!(&ours[..], &[0x88, 5, 0x03, 0xe9, b'b', b'y', b'e']);
    assert!(!sending.wants_write(), "nothing follows our Close");
    assert!(matches!(sending.send_text("late"), Err(Error::AlreadyClosed)));
    let conn = Connection::reunite(sending, receiving).unwrap();
    assert_eq!(conn.state(), State::Closed);
}

#[test]
fn a_split_receiver_fails_the_connection_and_the_sender_sends_its_close() {
    let (mut sending, mut receiving) = open_server(Config::default()).split().unwrap();
    receiving.receive(&client_frame(0x81, &[0xff])); // not UTF-8
    assert!(matches!(receiving.next_event(), Err(Error::InvalidUtf8)));
    assert!(receiving.is_draining() && receiving.wants_read());
    sending.answer(receiving.take_replies());
    assert_eq!(queued_close_code_of(&sending.take_outgoing()), Some(1007));
    // A send after the failure names it: the Close that went out, not "already closed".
    match sending.send_text("late") {
        Err(Error::Failed(frame)) => {
            assert_eq!(frame.code, CloseCode::INVALID_PAYLOAD);
            assert!(!frame.reason.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // The peer's Close ends the drain.
    receiving.receive(&client_frame(0x88, &[0x03, 0xef]));
    assert_eq!(receiving.next_event().unwrap(), None);
    assert!(!receiving.wants_read());
}

#[test]
fn the_end_of_input_on_a_split_connection_refuses_later_sends_as_closed_by_the_peer() {
    let (mut sending, mut receiving) = open_server(Config::default()).split().unwrap();
    receiving.receive_eof();
    assert_eq!(
        receiving.next_event().unwrap(),
        Some(Event::Close(CloseFrame::new(CloseCode::ABNORMAL, "")))
    );
    sending.answer(receiving.take_replies());
    assert!(!sending.wants_write());
    assert!(matches!(sending.send_binary(b"x"), Err(Error::ConnectionClosed)));
}

#[test]
fn the_hardened_profile_caps_messages_at_1_mib_and_ends_silent_peers() {
    let config = Config::hardened();
    // A message of exactly 1 MiB passes; one byte more fails with 1009 from its header.
    let mut server = open_server(config.clone());
    server.receive(&client_frame(0x82, &vec![7; 1 << 20]));
    assert!(matches!(server.next_event(), Ok(Some(Event::Binary(data))) if data.len() == 1 << 20));
    let wire = client_frame(0x82, &vec![7; (1 << 20) + 1]);
    let (error, code) = server_fails(config.clone(), &wire[..14]);
    assert_eq!(
        error,
        Failure::Capacity(CapacityError::FrameTooLarge {
            size: (1 << 20) + 1,
            max: 1 << 20
        })
    );
    assert_eq!(code, Some(1009));

    // A peer that goes silent: a ping after 20 s, the end after 40.
    let mut server = open_server(config);
    let secs = std::time::Duration::from_secs;
    server.handle_timeout(secs(0));
    server.handle_timeout(secs(20));
    assert_eq!(&server.take_outgoing()[..], &[0x89, 0x00]);
    server.handle_timeout(secs(40));
    assert!(matches!(
        server.next_event(),
        Err(Error::TimedOut(ferrosocket::Timeout::Idle))
    ));
}

#[test]
fn the_hardened_profile_bounds_the_handshake() {
    let mut server = Connection::server(Config::hardened());
    server.handle_timeout(std::time::Duration::ZERO);
    server.receive(b"GET / HTTP/1.1\r\nHost: x\r\n");
    server.handle_timeout(std::time::Duration::from_secs(10));
    assert!(matches!(
        server.next_event(),
        Err(Error::TimedOut(ferrosocket::Timeout::Handshake))
    ));
    // And its head: 64 fields at most.
    let mut server = Connection::server(Config::hardened());
    let mut request = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
    for i in 0..70 {
        request.push_str(&format!("X-{i}: y\r\n"));
    }
    request.push_str("\r\n");
    server.receive(request.as_bytes());
    assert!(matches!(
        server.next_event(),
        Err(Error::Handshake(ferrosocket::HandshakeError::TooManyHeaders {
            max: 64
        }))
    ));
}

#[test]
fn a_send_after_a_failure_or_a_deadline_names_the_cause() {
    // The peer broke the protocol: the send gets the Close we sent.
    let mut client = open_client(Config::default());
    client.receive(&frame(0x81, b"hi", Some([1, 2, 3, 4]))); // a masked frame from a server
    assert!(matches!(
        client.next_event(),
        Err(Error::Protocol(ProtocolError::MaskedFrame))
    ));
    let error = client.send_text("anyone?").unwrap_err();
    assert!(
        matches!(&error, Error::Failed(frame) if frame.code == CloseCode::PROTOCOL_ERROR),
        "{error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::Remote);
    assert_eq!(error.close_code(), Some(CloseCode::PROTOCOL_ERROR));
    assert!(error.to_string().contains("1002"), "{error}");

    // A deadline ended it: the send says which.
    let mut server = open_server(Config::default());
    server.set_heartbeat(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(1),
    );
    server.handle_timeout(std::time::Duration::ZERO);
    server.handle_timeout(std::time::Duration::from_secs(1));
    server.handle_timeout(std::time::Duration::from_secs(2));
    assert!(matches!(
        server.send_text("late"),
        Err(Error::TimedOut(ferrosocket::Timeout::Pong))
    ));

    // Our own Close: a use after close, as before; the peer's: closed.
    let mut server = open_server(Config::default());
    server.close(1000, "").unwrap();
    assert!(matches!(server.send_text("late"), Err(Error::AlreadyClosed)));
    let mut server = open_server(Config::default());
    server.receive(&client_frame(0x88, &[0x03, 0xe8]));
    let _ = events(&mut server);
    assert!(matches!(server.send_text("late"), Err(Error::ConnectionClosed)));
}

/// The 64-bit length field on any target: never truncated to `usize` (on a 32-bit target
/// 2^32 + 5 must not become 5), the most significant bit refused, and a reserved opcode
/// refused from its header whatever length it declares. CI runs this on i686 too.
#[test]
fn lengths_past_32_bits_are_never_truncated() {
    let header = |first: u8, len: u64| {
        let mut wire = vec![first, 0xFF];
        wire.extend_from_slice(&len.to_be_bytes());
        wire.extend_from_slice(&[1, 2, 3, 4]); // masking key
        wire
    };
    for len in [1u64 << 32, (1 << 32) + 5, (1 << 40) + 1, (1 << 63) - 1] {
        let mut server = open_server(Config::default().max_message_size(usize::MAX));
        let mut wire = header(0x82, len);
        wire.extend_from_slice(&[0; 5]);
        server.receive(&wire);
        match server.next_event() {
            // It fits this target's usize: the rest of the payload is awaited.
            Ok(None) => assert!(usize::try_from(len).is_ok(), "{len}"),
            Err(Error::Capacity(CapacityError::FrameTooLarge { .. })) => {
                assert!(usize::try_from(len).is_err(), "{len}");
                assert_eq!(queued_close_code(&mut server), Some(1009));
            }
            other => panic!("{len}: {other:?}"),
        }
    }
    // The most significant bit set (RFC 6455 §5.2): 1002, at any limit.
    let mut server = open_server(Config::default().max_message_size(usize::MAX));
    server.receive(&header(0x82, 1 << 63));
    assert!(matches!(
        server.next_event(),
        Err(Error::Protocol(ProtocolError::InvalidPayloadLength))
    ));
    assert_eq!(queued_close_code(&mut server), Some(1002));
    // A reserved opcode declaring 2^63 - 1 bytes fails on its header.
    let mut server = open_server(Config::default());
    server.receive(&header(0x83, (1 << 63) - 1));
    assert!(matches!(
        server.next_event(),
        Err(Error::Protocol(ProtocolError::ReservedOpcode(3)))
    ));
    assert_eq!(queued_close_code(&mut server), Some(1002));
}
