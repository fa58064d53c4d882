//! With the `tracing` feature the engine reports closes, protocol errors and failed
//! handshakes as events.
#![cfg(feature = "tracing")]

mod util;

use std::io::Write;
use std::sync::{Arc, Mutex};

use ferrosocket::{Config, Connection};
use util::*;

/// Everything the subscriber writes, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured(run: impl FnOnce()) -> String {
    let sink = Captured::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, run);
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    text
}

#[test]
fn closes_protocol_errors_and_bad_handshakes_are_reported() {
    let log = captured(|| {
        // A peer that sends an unmasked frame: 1002.
        let mut server = open_server(Config::default());
        server.receive(&frame(0x81, b"hi", None));
        assert!(server.next_event().is_err());
        // A clean close from the client.
        let mut server = open_server(Config::default());
        server.receive(&client_frame(0x88, &[0x03, 0xe8, b'b', b'y', b'e']));
        server.next_event().unwrap();
        // A request that is not an upgrade.
        let mut raw = Connection::server(Config::default());
        raw.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(raw.next_event().is_err());
    });
    assert!(
        log.contains("peer broke the protocol; closing") && log.contains("code=1002"),
        "{log}"
    );
    assert!(
        log.contains("peer closed") && log.contains("code=1000") && log.contains("reason=\"bye\""),
        "{log}"
    );
    assert!(log.contains("opening handshake failed"), "{log}");
    assert!(log.contains("WARN") && log.contains("ferrosocket"), "{log}");
}
