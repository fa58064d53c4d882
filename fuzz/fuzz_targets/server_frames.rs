//! An accepted server connection fed arbitrary bytes as frames.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fragments = data.first().is_some_and(|b| b & 1 == 1);
    let config = common::small_limits().fragment_events(fragments).accept_unmasked_frames(fragments);
    let mut server = common::open_server(config);
    common::feed(&mut server, data.get(1..).unwrap_or_default());
});
