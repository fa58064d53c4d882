//! Arbitrary `Sec-WebSocket-Extensions` headers through negotiation, in both roles.
//!
//! Invariants: the parser never panics; a server that accepts an offer answers with a header
//! that parses, names permessage-deflate, and carries only valid parameters; a client either
//! rejects a response or agrees to parameters within what it offered.
#![no_main]

use arbitrary::Arbitrary;
use ferrosocket::deflate::DeflateConfig;
use ferrosocket::handshake::accept_key;
use ferrosocket::{extensions, Accept, ClientRequest, Config, Connection, Event, Request};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    offer: String,
    response: String,
    server: Settings,
    client: Settings,
}

#[derive(Debug, Arbitrary)]
struct Settings {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<u8>,
}

impl Settings {
    fn config(&self) -> Config {
        let mut d = DeflateConfig::default()
            .server_no_context_takeover(self.server_no_context_takeover)
            .client_no_context_takeover(self.client_no_context_takeover);
        if let Some(bits) = self.server_max_window_bits {
            d = d.server_max_window_bits(bits);
        }
        if let Some(bits) = self.client_max_window_bits {
            d = d.client_max_window_bits(bits);
        }
        Config::default().permessage_deflate(d)
    }
}

fn valid_bits(value: &Option<String>) -> bool {
    value
        .as_deref()
        .and_then(|v| v.parse::<u8>().ok())
        .is_some_and(|b| (8..=15).contains(&b))
}

fuzz_target!(|input: Input| {
    let _ = extensions::parse(&input.offer);

    // Server role: the offer in a real request.
    if input.offer.bytes().all(|b| (b' '..0x7f).contains(&b)) {
        let request = Request::new("GET", "/")
            .header("Host", "h")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Version", "13")
            .header("Sec-WebSocket-Extensions", input.offer.clone());
        let mut server = Connection::from_request(request, &[], input.server.config());
        if let Ok(Some(Event::Request(_))) = server.next_event() {
            server.accept(Accept::new()).unwrap();
            let out = server.take_outgoing();
            let text = String::from_utf8(out.to_vec()).unwrap();
            let header = text
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Extensions: "));
            assert_eq!(header.is_some(), server.permessage_deflate().is_some());
            if let Some(header) = header {
                let parsed = extensions::parse(header).expect("our response parses");
                assert_eq!(parsed.len(), 1);
                assert_eq!(parsed[0].name, "permessage-deflate");
                for (name, value) in &parsed[0].params {
                    match name.as_str() {
                        "server_no_context_takeover" | "client_no_context_takeover" => {
                            assert!(value.is_none())
                        }
                        "server_max_window_bits" | "client_max_window_bits" => assert!(valid_bits(value)),
                        other => panic!("unexpected parameter {other}"),
                    }
                }
            }
        }
    }

    // Client role: the response to our offer.
    if input.response.bytes().all(|b| (b' '..0x7f).contains(&b)) {
        let client_config = input.client.config();
        let mut client = Connection::client(ClientRequest::new("ws://h/").unwrap(), client_config.clone());
        let request = String::from_utf8(client.take_outgoing().to_vec()).unwrap();
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        client.receive(
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {}\r\n\r\n",
                accept_key(key),
                input.response
            )
            .as_bytes(),
        );
        if let Ok(Some(Event::Open(_))) = client.next_event() {
            if let Some(params) = client.permessage_deflate() {
                let offered = client_config.permessage_deflate.unwrap();
                if let (Some(asked), Some(got)) =
                    (offered.server_max_window_bits, params.server_max_window_bits)
                {
                    assert!(got <= asked);
                }
                if let (Some(ours), Some(got)) =
                    (offered.client_max_window_bits, params.client_max_window_bits)
                {
                    assert!(got <= ours);
                }
                assert!(!offered.server_no_context_takeover || params.server_no_context_takeover);
            }
        }
    }
});
