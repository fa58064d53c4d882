//! The HTTP/3 layer's parsers of peer input: QPACK field sections (static references,
//! literals, Huffman strings, integers of any length), a request's fields as the server
//! checks them, and SETTINGS payloads. None may panic; a decoded section stays within its
//! limit; what we encode decodes back to the same fields.
#![no_main]

use ferrosocket::http3::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (limit, input) = match data.split_first() {
        Some((&first, rest)) => (u64::from(first) * 64, rest),
        None => return,
    };
    if let Ok(fields) = fuzzing::field_section(input, limit) {
        let size: u64 = fields.iter().map(|(n, v)| n.len() as u64 + v.len() as u64 + 32).sum();
        assert!(size <= limit, "{size} > {limit}");
        // What we write for these fields reads back the same.
        let encoded = fuzzing::encode_field_section(fields.iter().map(|(n, v)| (&n[..], &v[..])));
        assert_eq!(fuzzing::field_section(&encoded, limit).unwrap(), fields);
    }
    if let Ok((request, websocket)) = fuzzing::request(input, limit) {
        assert!(!websocket || request.method == "CONNECT");
    }
    let _ = fuzzing::settings(input);
});
