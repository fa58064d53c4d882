//! An open client connection fed arbitrary bytes as frames.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fragments = data.first().is_some_and(|b| b & 1 == 1);
    let mut client = common::open_client(common::small_limits().fragment_events(fragments));
    common::feed(&mut client, data.get(1..).unwrap_or_default());
});
