//! Property tests: chunking invariance of the engine, codec round trips, masking and
//! incremental UTF-8 against naive references.

mod util;

use ferrosocket::frame::{Header, OpCode, MAX_HEADER_LEN};
use ferrosocket::{utf8::Validator, Config, MessageKind};
use proptest::prelude::*;
use util::*;

/// First bytes of frames: valid data and control frames, fragments, and a few invalid ones.
fn first_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        8 => Just(0x81u8), 8 => Just(0x82), 4 => Just(0x01), 4 => Just(0x02), 6 => Just(0x00),
        6 => Just(0x80), 3 => Just(0x89), 3 => Just(0x8A), 1 => Just(0x88), 1 => Just(0xC1),
        1 => Just(0x83), 1 => Just(0x09),
    ]
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..40),
        4 => "[a-zé€𝄞 ]{0,30}".prop_map(String::into_bytes),
        // Text whose last character may be cut short.
        2 => "[a-z€𝄞]{1,30}".prop_map(|text| {
            let mut bytes = text.into_bytes();
            bytes.pop();
            bytes
        }),
        1 => proptest::collection::vec(any::<u8>(), 120..300),
    ]
}

fn wire() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec((first_byte(), payload()), 0..12)
        .prop_map(|frames| frames.iter().flat_map(|(b, p)| client_frame(*b, p)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any input, split at arbitrary points, yields the same events as the input fed whole.
    #[test]
    fn chunking_never_changes_the_events(
        wire in wire(),
        sizes in proptest::collection::vec(1usize..64, 1..8),
        limit in prop_oneof![Just(64usize << 20), 16usize..300],
    ) {
        let config = Config::default().max_message_size(limit);
        let whole = feed_chunked(&mut open_server(config.clone()), &wire, &[wire.len().max(1)]);
        let chunked = feed_chunked(&mut open_server(config), &wire, &sizes);
        prop_assert_eq!(whole, chunked);
    }

    /// Whatever went wrong before it, a Close from the peer ends the reading: a failed
    /// connection drains frame by frame, never mistaking a payload for a header.
    #[test]
    fn the_peers_close_always_ends_reading(
        wire in wire(),
        sizes in proptest::collection::vec(1usize..64, 1..8),
        limit in prop_oneof![Just(64usize << 20), 16usize..300],
    ) {
        let mut server = open_server(Config::default().max_message_size(limit));
        let mut input = wire;
        input.extend(client_frame(0x88, &1000u16.to_be_bytes()));
        feed_chunked(&mut server, &input, &sizes);
        prop_assert!(!server.wants_read());
    }

    /// Whatever one side sends, the other decodes to exactly the same messages.
    #[test]
    fn messages_roundtrip_through_any_chunking(
        messages in proptest::collection::vec((any::<bool>(), payload(), 1usize..50), 0..10),
        sizes in proptest::collection::vec(1usize..100, 1..5),
        deflate: bool,
        threshold in 0usize..64,
    ) {
        let config = if deflate {
            Config::default().permessage_deflate(ferrosocket::deflate::DeflateConfig::default().threshold(threshold))
        } else {
            Config::default()
        };
        let mut pair = Pair::open(config.clone(), config);
        let mut expected = Vec::new();
        for (binary, data, fragment) in &messages {
            let text = String::from_utf8(data.clone());
            let (kind, data) = match (binary, text) {
                (false, Ok(text)) => (MessageKind::Text, text.into_bytes()),
                _ => (MessageKind::Binary, data.clone()),
            };
            let pieces: Vec<&[u8]> = if data.is_empty() { vec![&[]] } else { data.chunks(*fragment).collect() };
            for (i, piece) in pieces.iter().enumerate() {
                pair.client.send_fragment(kind, piece, i + 1 == pieces.len()).unwrap();
            }
            expected.push(Ok(match kind {
                MessageKind::Text => ferrosocket::Event::Text(String::from_utf8(data).unwrap().into()),
                MessageKind::Binary => ferrosocket::Event::Binary(data.into()),
            }));
        }
        let bytes = pair.client.take_outgoing();
        prop_assert_eq!(feed_chunked(&mut pair.server, &bytes, &sizes), expected);
    }

    #[test]
    fn headers_roundtrip(
        fin: bool, rsv1: bool, op in prop::sample::select(vec![OpCode::Text, OpCode::Binary, OpCode::Continuation, OpCode::Ping]),
        len in prop_oneof![0u64..200, 60000u64..70000, any::<u64>().prop_map(|l| l >> 1)],
        mask: Option<[u8; 4]>,
    ) {
        let header = Header { fin, rsv1, rsv2: false, rsv3: false, opcode: op, mask, payload_len: len };
        let mut out = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut out);
        prop_assert_eq!(Header::parse(&out[..n]).unwrap(), Some((header, n)));
    }

    #[test]
    fn masking_matches_the_naive_loop(data in proptest::collection::vec(any::<u8>(), 0..600), key: [u8; 4], offset in 0usize..16) {
        let mut fast = data.clone();
        ferrosocket::mask::apply(&mut fast, key, offset);
        let slow: Vec<u8> = data.iter().enumerate().map(|(i, b)| b ^ key[(i + offset) % 4]).collect();
        prop_assert_eq!(fast, slow);
    }

    #[test]
    fn incremental_utf8_agrees_with_std(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            "\\PC{0,20}".prop_map(String::into_bytes),
            ("\\PC{0,10}", any::<u8>(), "\\PC{0,10}").prop_map(|(a, b, c)| [a.into_bytes(), vec![b], c.into_bytes()].concat()),
        ],
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut v = Validator::default();
        let mut prev = 0;
        let mut ok = true;
        for p in points.into_iter().chain([bytes.len()]) {
            ok = ok && v.feed(&bytes[prev..p]).is_ok();
            prev = p;
        }
        ok = ok && v.finish().is_ok();
        prop_assert_eq!(ok, std::str::from_utf8(&bytes).is_ok());
    }
}
