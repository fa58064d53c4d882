//! Arbitrary bytes as the server's answer to an upgrade request.
#![no_main]
mod common;

use ferrosocket::{ClientRequest, Connection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let request = ClientRequest::new("ws://fuzz/").unwrap().protocol("chat");
    let mut client = Connection::client(request, common::small_limits());
    client.take_outgoing();
    common::feed(&mut client, data);
});
