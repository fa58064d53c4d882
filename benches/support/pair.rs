//! Shared by the criterion benches (included with `#[path]`).

use ferrosocket::{Accept, ClientRequest, Config, Connection, Event};

/// An open ferrosocket client/server pair.
pub fn open_pair() -> (Connection, Connection) {
    open_pair_with(Config::default())
}

/// An open pair, both sides with `config`.
#[allow(dead_code)] // not every bench uses it
pub fn open_pair_with(config: Config) -> (Connection, Connection) {
    let mut client = Connection::client(ClientRequest::new("ws://bench/").unwrap(), config.clone());
    let mut server = Connection::server(config);
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
