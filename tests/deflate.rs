//! permessage-deflate through the engine: RFC 7692 vectors, negotiation over the handshake,
//! every takeover and window mode, limits and invalid input.

mod util;

use bytes::Bytes;
use ferrosocket::deflate::{DeflateConfig, Memory};
use ferrosocket::{
    CapacityError, ClientRequest, Config, Connection, Error, Event, Fragment, MessageKind, State,
};
use util::*;

fn deflate_config() -> Config {
    Config::default().permessage_deflate(DeflateConfig::default())
}

/// A client that negotiated plain permessage-deflate (context takeover both ways) with a server.
fn compressed_client() -> Connection {
    let dedicated = Config::default().permessage_deflate(DeflateConfig::default().memory(Memory::Dedicated));
    let pair = Pair::open(deflate_config(), dedicated);
    assert!(pair.client.permessage_deflate().is_some());
    pair.client
}

#[test]
fn rfc_7692_section_7_2_3_vectors() {
    // 7.2.3.1: "Hello" in one compressed frame, then again using the shared context.
    let mut client = compressed_client();
    client.receive(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    assert_eq!(client.next_event().unwrap(), Some(Event::Text("Hello".into())));
    // 7.2.3.2: the second "Hello" refers back to the first (context takeover).
    client.receive(&[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
    assert_eq!(client.next_event().unwrap(), Some(Event::Text("Hello".into())));

    // 7.2.3.1: the same compressed message in two fragments; RSV1 on the first only.
    let mut client = compressed_client();
    client.receive(&[0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00]);
    assert_eq!(client.next_event().unwrap(), Some(Event::Text("Hello".into())));

    // 7.2.3.3: a stored (uncompressed) DEFLATE block.
    let mut client = compressed_client();
    client.receive(&[
        0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ]);
    assert_eq!(client.next_event().unwrap(), Some(Event::Text("Hello".into())));

    // 7.2.3.4: a block with BFINAL set, then a new message.
    let mut client = compressed_client();
    client.receive(&[0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]);
    assert_eq!(client.next_event().unwrap(), Some(Event::Text("Hello".into())));
    client.receive(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    assert_eq!(client.next_event().unwrap(), Some(Event::Text("Hello".into())));

    // 7.2.3.5: two deflate blocks in one message.
    let mut client = compressed_client();
    client.receive(&[
        0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ]);
    assert_eq!(client.next_event().unwrap(), Some(Event::Text("Hello".into())));
}

#[test]
fn negotiation_follows_the_configs() {
    // Server without the extension: the offer is ignored.
    let pair = Pair::open(deflate_config(), Config::default());
    assert_eq!(
        (pair.client.permessage_deflate(), pair.server.permessage_deflate()),
        (None, None)
    );
    // Both sides with it, and parameters requested by the client.
    let client = Config::default().permessage_deflate(
        DeflateConfig::default()
            .server_no_context_takeover(true)
            .server_max_window_bits(10)
            .client_max_window_bits(12),
    );
    let pair = Pair::open(client, deflate_config());
    let params = pair.server.permessage_deflate().unwrap();
    assert_eq!(Some(params), pair.client.permessage_deflate());
    assert!(params.server_no_context_takeover);
    assert_eq!(params.server_max_window_bits, Some(10));
    // The server imposes its client window limit on a client that allowed it.
    let server = Config::default().permessage_deflate(DeflateConfig::default().client_max_window_bits(9));
    let pair = Pair::open(deflate_config(), server);
    assert_eq!(
        pair.client.permessage_deflate().unwrap().client_max_window_bits,
        Some(9)
    );
}

#[test]
fn the_server_answers_with_the_extension_header() {
    let mut client = Connection::client(ClientRequest::new("ws://h/").unwrap(), deflate_config());
    let request = client.take_outgoing();
    assert!(String::from_utf8_lossy(&request)
        .contains("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
    let mut server = Connection::server(deflate_config());
    server.receive(&request);
    assert!(matches!(server.next_event().unwrap(), Some(Event::Request(_))));
    server.accept(Default::default()).unwrap();
    let response = server.take_outgoing();
    // The default profile shares the server's compressor, and says so.
    assert!(String::from_utf8_lossy(&response)
        .contains("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"));
}

fn json(n: usize) -> String {
    (0..n)
        .map(|i| format!(r#"{{"id":{i},"user":"ferrosocket","ok":true}}"#))
        .collect()
}

#[test]
fn messages_roundtrip_compressed_in_every_mode() {
    for takeover in [false, true] {
        for bits in [None, Some(8), Some(11), Some(15)] {
            let mut config = DeflateConfig::default()
                .server_no_context_takeover(takeover)
                .client_no_context_takeover(takeover);
            config.server_max_window_bits = bits;
            config.client_max_window_bits = bits;
            let config = Config::default().permessage_deflate(config);
            let mut pair = Pair::open(config.clone(), config);
            for round in 0..3 {
                let text = json(100 + round * 50);
                pair.client.send_text(&text).unwrap();
                let wire = pair.client.take_outgoing();
                assert_eq!(wire[0], 0xc1, "RSV1 set on a compressed text frame");
                assert!(
                    wire.len() < text.len() / 2,
                    "compressed {} -> {}",
                    text.len(),
                    wire.len()
                );
                pair.server.receive(&wire);
                assert_eq!(
                    pair.server.next_event().unwrap(),
                    Some(Event::Text(text.clone().into()))
                );
                pair.server.send_binary(text.as_bytes()).unwrap();
                pair.deliver_to_client();
                assert_eq!(
                    pair.client.next_event().unwrap(),
                    Some(Event::Binary(Bytes::from(text)))
                );
            }
        }
    }
}

#[test]
fn threshold_and_per_message_opt_out() {
    let mut pair = Pair::open(deflate_config(), deflate_config());
    pair.client.send_text("short").unwrap();
    assert_eq!(pair.client.take_outgoing()[0], 0x81, "under the threshold: plain");
    let big = json(100);
    pair.client
        .send_message(MessageKind::Text, big.as_bytes(), false)
        .unwrap();
    let wire = pair.client.take_outgoing();
    assert_eq!(wire[0], 0x81, "compress: false");
    pair.server.receive(&wire);
    assert_eq!(pair.server.next_event().unwrap(), Some(Event::Text(big.into())));
}

#[test]
fn fragmented_compressed_sends_and_fragment_events() {
    let server_config = deflate_config().fragment_events(true);
    let mut pair = Pair::open(deflate_config(), server_config);
    let text = json(300);
    let pieces: Vec<&[u8]> = text.as_bytes().chunks(1000).collect();
    for (i, piece) in pieces.iter().enumerate() {
        pair.client
            .send_fragment(MessageKind::Text, piece, i + 1 == pieces.len())
            .unwrap();
    }
    let wire = pair.client.take_outgoing();
    assert_eq!(wire[0] & 0x40, 0x40, "RSV1 on the first fragment");
    let got = feed_chunked(&mut pair.server, &wire, &[333]);
    let fragments: Vec<Fragment> = got
        .into_iter()
        .map(|e| match e {
            Ok(Event::Fragment(f)) => f,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(fragments.len() > 1);
    assert!(fragments[0].is_first && fragments.last().unwrap().is_last);
    let joined: Vec<u8> = fragments.iter().flat_map(|f| f.data.to_vec()).collect();
    assert_eq!(joined, text.as_bytes());
}

/// A server that negotiated permessage-deflate, with nothing queued.
fn compressed_server(config: Config) -> Connection {
    let mut pair = Pair::open(deflate_config(), config);
    assert!(pair.server.permessage_deflate().is_some());
    pair.server.take_outgoing();
    pair.server
}

/// A compressed frame (as a client would send it) with `payload` deflated whole.
fn compressed_client_frame(payload: &[u8]) -> Vec<u8> {
    let mut pair = Pair::open(deflate_config(), deflate_config());
    pair.client
        .send_message(MessageKind::Binary, payload, true)
        .unwrap();
    pair.client.take_outgoing().to_vec()
}

#[test]
fn a_decompression_bomb_closes_with_1009() {
    let bomb = compressed_client_frame(&vec![0u8; 32 << 20]);
    assert!(bomb.len() < 64 << 10, "32 MiB of zeros in {} bytes", bomb.len());
    let mut server = compressed_server(deflate_config().max_message_size(1 << 20));
    server.receive(&bomb);
    match server.next_event() {
        Err(Error::Capacity(CapacityError::MessageTooLarge { max, .. })) => assert_eq!(max, 1 << 20),
        other => panic!("{other:?}"),
    }
    let out = server.take_outgoing();
    assert_eq!(&out[..4], &[0x88, out[1], 0x03, 0xf1], "close 1009");
}

#[test]
fn invalid_compressed_data_closes_with_1007() {
    let mut server = compressed_server(deflate_config());
    server.receive(&client_frame(0xc2, &[0xff; 20]));
    assert!(matches!(server.next_event(), Err(Error::InvalidCompressedData)));
    let out = server.take_outgoing();
    assert_eq!(&out[2..4], &[0x03, 0xef], "close 1007");
}

#[test]
fn rsv1_is_refused_where_it_is_not_allowed() {
    // Without the extension.
    let mut server = open_server(Config::default());
    server.receive(&client_frame(0xc1, b"x"));
    assert!(matches!(server.next_event(), Err(Error::Protocol(_))));
    // On a continuation frame, and on a control frame, even with it.
    let mut server = compressed_server(deflate_config());
    server.receive(&[client_frame(0x41, &[0xf2, 0x48]), client_frame(0xc0, &[0xcd])].concat());
    assert!(matches!(server.next_event(), Err(Error::Protocol(_))));
    assert_eq!(server.state(), State::Closed);
    let mut server = compressed_server(deflate_config());
    server.receive(&client_frame(0xc9, b""));
    assert!(matches!(server.next_event(), Err(Error::Protocol(_))));
}

#[test]
fn invalid_utf8_inside_compressed_text_is_1007() {
    let mut pair = Pair::open(deflate_config(), deflate_config());
    // Compress invalid bytes as a "binary" payload, then flip the opcode to text.
    pair.client
        .send_message(MessageKind::Binary, &[0xffu8; 2000], true)
        .unwrap();
    let mut wire = pair.client.take_outgoing().to_vec();
    wire[0] = 0xc1;
    pair.server.receive(&wire);
    assert!(matches!(pair.server.next_event(), Err(Error::InvalidUtf8)));
}
