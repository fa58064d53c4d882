//! Arbitrary bytes as an upgrade request, fed in arbitrary chunks.
#![no_main]
mod common;

use ferrosocket::Connection;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut server = Connection::server(common::small_limits());
    common::feed(&mut server, data);
});
