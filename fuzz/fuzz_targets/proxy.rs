//! The client's proxy code against untrusted input: a proxy's answers to the HTTP `CONNECT`
//! and SOCKS5 exchanges (with and without credentials, name or address), proxy URLs and
//! `no_proxy` lists. Nothing may panic; no read may ask past what the current answer needs,
//! so the tunnel's own bytes are never taken; an open tunnel took at most the input.
#![no_main]

use ferrosocket::client::{fuzzing, Proxy};
use ferrosocket::ClientRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, answer)) = data.split_first() else {
        return;
    };
    let proxy = match selector % 4 {
        0 => Proxy::http("proxy:3128").credentials("user", "secret"),
        1 => Proxy::socks5h("proxy:1080"),
        2 => Proxy::socks5h("proxy:1080").credentials("user", "secret"),
        _ => Proxy::socks5("proxy:1080"),
    };
    let url = if selector & 4 == 0 { "wss://example.com:8443/" } else { "ws://[2001:db8::1]/" };
    let request = ClientRequest::new(url).unwrap();
    let (opened, taken) = fuzzing::tunnel(&proxy, &request, answer);
    assert!(taken <= answer.len());
    if matches!(opened, Ok(true)) {
        assert!(taken > 0);
    }
    let text = String::from_utf8_lossy(answer);
    if let Some(parsed) = fuzzing::proxy_url(&text) {
        assert!(!parsed.address().is_empty());
    }
    let _ = fuzzing::bypasses(&text, &request);
});
