//! Shared driving and invariant checks for the fuzz targets.
#![allow(dead_code)]

use ferrosocket::{Accept, ClientRequest, CloseCode, Config, Connection, Event, State};

/// Small limits, and permessage-deflate when `flags` asks for it (bit 1), so the limit and
/// inflate paths are reached.
pub fn config_from(flags: u8) -> Config {
    let config = small_limits().fragment_events(flags & 1 == 1);
    if flags & 2 == 2 {
        let deflate = ferrosocket::deflate::DeflateConfig::default()
            .server_no_context_takeover(flags & 4 == 4)
            .client_no_context_takeover(flags & 8 == 8);
        config.permessage_deflate(deflate)
    } else {
        config
    }
}

/// Small limits so the limit paths are reached.
pub fn small_limits() -> Config {
    Config::default()
        .max_message_size(4096)
        .max_header_bytes(2048)
        .max_headers(16)
}

/// Feeds `data` in chunks whose sizes come from the data itself, draining events and checking
/// invariants after each chunk.
pub fn feed(conn: &mut Connection, data: &[u8]) {
    let (sizes, body) = data.split_at(data.len().min(4));
    let mut pos = 0;
    let mut i = 0;
    let mut last_state = conn.state();
    while pos < body.len() {
        let size = usize::from(sizes.get(i % sizes.len().max(1)).copied().unwrap_or(255)).max(1);
        let end = (pos + size).min(body.len());
        // Both ways in: copied, and read into the engine's own buffer (as the async
        // adapters do), which must never see more than the room it asked for.
        if i % 2 == 0 {
            conn.receive(&body[pos..end]);
        } else {
            conn.receive_with(size, |buf| {
                assert!(buf.is_empty() && buf.capacity() > 0);
                buf.extend_from_slice(&body[pos..end]);
            });
        }
        drain(conn, &mut last_state);
        pos = end;
        i += 1;
    }
    conn.receive_eof();
    drain(conn, &mut last_state);
    assert_eq!(conn.state(), State::Closed, "EOF always ends the connection");
    assert!(
        !conn.wants_read(),
        "EOF always ends reading, a failed connection's drain too"
    );
}

fn drain(conn: &mut Connection, last_state: &mut State) {
    let max = conn.config().max_message_size;
    loop {
        let event = conn.next_event();
        // The state only moves forward.
        assert!(conn.state() >= *last_state, "state went back");
        *last_state = conn.state();
        match event {
            Ok(Some(Event::Request(_))) => {
                let _ = conn.accept(Accept::new());
            }
            Ok(Some(Event::Text(t))) => assert!(t.len() <= max && std::str::from_utf8(t.as_bytes()).is_ok()),
            Ok(Some(Event::Binary(b))) => assert!(b.len() <= max),
            Ok(Some(Event::Fragment(f))) => assert!(f.data.len() <= max),
            Ok(Some(Event::Ping(p) | Event::Pong(p))) => assert!(p.len() <= 125),
            Ok(Some(Event::Close(frame))) => {
                let code = frame.code;
                assert!(
                    code.is_allowed_on_wire() || code == CloseCode::NO_STATUS || code == CloseCode::ABNORMAL,
                    "close code {code}"
                );
            }
            Ok(Some(_)) => {}
            Ok(None) => return,
            Err(_) => {
                assert_eq!(conn.state(), State::Closed, "an error closes the connection");
                return;
            }
        }
        let _ = conn.take_outgoing();
    }
}

/// A client and a server after a valid handshake, nothing left queued. The peer side gets
/// default limits but the same permessage-deflate settings, so the extension is negotiated
/// exactly when the side under test asks for it.
fn open_pair(client_config: Config, server_config: Config) -> (Connection, Connection) {
    let mut client = Connection::client(ClientRequest::new("ws://fuzz/").unwrap(), client_config);
    let mut server = Connection::server(server_config);
    server.receive(&client.take_outgoing());
    let Ok(Some(Event::Request(_))) = server.next_event() else {
        unreachable!()
    };
    server.accept(Accept::new()).unwrap();
    client.receive(&server.take_outgoing());
    let Ok(Some(Event::Open(_))) = client.next_event() else {
        unreachable!()
    };
    (client, server)
}

/// Default limits with `config`'s permessage-deflate settings: the other end of a connection.
fn peer_of(config: &Config) -> Config {
    let mut peer = Config::default();
    peer.permessage_deflate = config.permessage_deflate.clone();
    peer
}

/// A server connection after a valid handshake.
pub fn open_server(config: Config) -> Connection {
    open_pair(peer_of(&config), config).1
}

/// A client connection after a valid handshake.
pub fn open_client(config: Config) -> Connection {
    open_pair(config.clone(), peer_of(&config)).0
}
