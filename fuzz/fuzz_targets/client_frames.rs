//! An open client connection fed arbitrary bytes as frames, with or without
//! permessage-deflate and fragment events (chosen by the first byte).
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let flags = data.first().copied().unwrap_or(0);
    let mut client = common::open_client(common::config_from(flags));
    assert_eq!(client.permessage_deflate().is_some(), flags & 2 == 2);
    common::feed(&mut client, data.get(1..).unwrap_or_default());
});
