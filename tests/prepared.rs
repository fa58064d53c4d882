//! Prepared messages: framed (and compressed) once, the same bytes queued on many
//! connections, each peer decoding them as the message.

mod util;

use bytes::Bytes;
use ferrosocket::deflate::{DeflateConfig, Memory};
use ferrosocket::{Config, Error, Event, Message, PreparedMessage};
use util::*;

fn deflate(no_context_takeover: bool) -> Config {
    let memory = if no_context_takeover {
        Memory::SharedCompressor
    } else {
        Memory::Dedicated
    };
    Config::default().permessage_deflate(
        DeflateConfig::default()
            .server_no_context_takeover(no_context_takeover)
            .memory(memory)
            .threshold(16),
    )
}

fn json(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| format!("{{\"id\":{i},\"name\":\"user{i}\",\"online\":true}}"))
        .collect();
    format!("[{}]", items.join(","))
}

/// The message each client of `pairs` decodes.
fn received(pairs: &mut [Pair]) -> Vec<Event> {
    pairs
        .iter_mut()
        .map(|pair| {
            pair.deliver_to_client();
            pair.client.next_event().unwrap().expect("a whole message")
        })
        .collect()
}

#[test]
fn uncompressed_connections_get_the_same_bytes() {
    let mut pairs: Vec<Pair> = (0..3).map(|_| Pair::default_open()).collect();
    for message in [Message::text("hello all"), Message::binary(vec![9u8; 70_000])] {
        let mut prepared = PreparedMessage::new(&message).unwrap();
        let wires: Vec<Bytes> = pairs
            .iter_mut()
            .map(|pair| {
                pair.server.send_prepared(&mut prepared).unwrap();
                pair.server.take_outgoing()
            })
            .collect();
        assert!(wires.windows(2).all(|w| w[0] == w[1]));
        // The same bytes the connection would frame itself.
        let mut own = open_server(Config::default());
        own.send(&message).unwrap();
        assert_eq!(wires[0], own.take_outgoing());
        for (pair, wire) in pairs.iter_mut().zip(&wires) {
            pair.client.receive(wire);
            assert_eq!(
                pair.client.next_event().unwrap().unwrap().into_message().unwrap(),
                Some(message.clone())
            );
        }
    }
}

#[test]
fn compressed_once_for_every_connection_without_context_takeover() {
    let mut pairs: Vec<Pair> = (0..3)
        .map(|_| Pair::open(deflate(false), deflate(true)))
        .collect();
    let text = json(100);
    let mut prepared = PreparedMessage::new(&Message::text(text.clone())).unwrap();
    let encoding = pairs[0].server.frame_encoding();
    let frame = prepared
        .frame_for(encoding)
        .expect("shareable: no context takeover");
    assert_eq!(frame.as_bytes()[0], 0xC1, "FIN + RSV1 + text: compressed");
    assert!(
        frame.as_bytes().len() < text.len() / 3,
        "compressed {} of {}",
        frame.as_bytes().len(),
        text.len()
    );
    for pair in &mut pairs {
        pair.server.send_prepared_frame(&frame).unwrap();
    }
    // Twice on one connection too: each message stands alone.
    pairs[0].server.send_prepared(&mut prepared).unwrap();
    for event in received(&mut pairs) {
        assert_eq!(event, Event::Text(text.as_str().into()));
    }
    assert_eq!(
        pairs[0].client.next_event().unwrap(),
        Some(Event::Text(text.as_str().into()))
    );
    // Identical to what the connection compresses itself.
    let mut own = Pair::open(deflate(false), deflate(true));
    own.server.send_text(&text).unwrap();
    assert_eq!(&own.server.take_outgoing(), frame.as_bytes());
}

#[test]
fn context_takeover_and_clients_encode_for_themselves() {
    let mut takeover = Pair::open(deflate(false), deflate(false));
    let mut prepared = PreparedMessage::new(&Message::text(json(50))).unwrap();
    assert!(prepared.frame_for(takeover.server.frame_encoding()).is_none());
    assert!(
        prepared.frame_for(takeover.client.frame_encoding()).is_none(),
        "a client masks"
    );
    for _ in 0..3 {
        takeover.server.send_prepared(&mut prepared).unwrap();
        takeover.client.send_prepared(&mut prepared).unwrap();
    }
    takeover.deliver_to_client();
    takeover.deliver_to_server();
    for _ in 0..3 {
        assert_eq!(
            takeover.client.next_event().unwrap(),
            Some(Event::Text(json(50).as_str().into()))
        );
        assert_eq!(
            takeover.server.next_event().unwrap(),
            Some(Event::Text(json(50).as_str().into()))
        );
    }
}

#[test]
fn a_frame_made_for_another_encoding_is_refused() {
    let mut fresh = Pair::open(deflate(false), deflate(true));
    let mut takeover = Pair::open(deflate(false), deflate(false));
    let mut prepared = PreparedMessage::new(&Message::text(json(20))).unwrap();
    let compressed = prepared.frame_for(fresh.server.frame_encoding()).unwrap();
    assert!(matches!(
        takeover.server.send_prepared_frame(&compressed),
        Err(Error::PreparedFrameMismatch)
    ));
    let plain = prepared
        .frame_for(open_server(Config::default()).frame_encoding())
        .unwrap();
    assert!(matches!(
        fresh.client.send_prepared_frame(&plain),
        Err(Error::PreparedFrameMismatch)
    ));
    // An uncompressed frame suits any server: RSV1 clear is always allowed.
    takeover.server.send_prepared_frame(&plain).unwrap();
    takeover.deliver_to_client();
    assert_eq!(
        takeover.client.next_event().unwrap(),
        Some(Event::Text(json(20).as_str().into()))
    );
    assert!(!fresh.server.wants_write() && !takeover.server.wants_write());
}

#[test]
fn only_data_messages_are_prepared_and_closed_connections_refuse_them() {
    assert!(matches!(
        PreparedMessage::new(&Message::Ping(Bytes::new())),
        Err(Error::NotData)
    ));
    let mut prepared = PreparedMessage::new(&Message::binary(vec![1, 2, 3])).unwrap();
    let mut pair = Pair::default_open();
    pair.server.close(1000, "").unwrap();
    assert!(matches!(
        pair.server.send_prepared(&mut prepared),
        Err(Error::AlreadyClosed)
    ));
}
