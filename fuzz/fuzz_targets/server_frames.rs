//! An accepted server connection fed arbitrary bytes as frames, with or without
//! permessage-deflate and fragment events (chosen by the first byte).
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let flags = data.first().copied().unwrap_or(0);
    let config = common::config_from(flags).accept_unmasked_frames(flags & 16 == 16);
    let mut server = common::open_server(config);
    assert_eq!(server.permessage_deflate().is_some(), flags & 2 == 2);
    common::feed(&mut server, data.get(1..).unwrap_or_default());
});
