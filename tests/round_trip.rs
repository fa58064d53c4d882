//! Round-trip time: `ping()` resolves with the measured round trip on the tokio stream, the
//! blocking socket and compio, keeping the messages that arrive while it waits; the
//! heartbeat's pings are measured too; the split sender's timed ping is measured by the
//! receiver; the server toolkit's client handle and the reconnecting client show it.

use std::time::Duration;

use ferrosocket::client::{Backoff, Reconnect, Reconnecting};
use ferrosocket::server::Server;
use ferrosocket::tokio::Connector;
use ferrosocket::{CapacityError, ClientRequest, Config, Error, Event, Message};

/// What a server does when a ping arrives (auto-pong off): sends these messages, waits
/// `delay`, then pongs — or, with `pong` off, never does — then sends "after".
#[derive(Clone)]
struct PingScript {
    before: Vec<Message>,
    delay: Duration,
    pong: bool,
}

impl PingScript {
    fn polite(delay: Duration) -> PingScript {
        PingScript {
            before: vec![Message::text("before 1"), Message::binary(vec![2u8; 1000])],
            delay,
            pong: true,
        }
    }
}

/// A server that follows `script` on every ping and echoes data; its `ws://` URL.
async fn scripted_server(script: PingScript) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let script = script.clone();
            tokio::spawn(async move {
                let config = Config::default().auto_pong(false);
                let Ok(mut ws) =
                    ferrosocket::tokio::accept_with(tcp, config, |_| Ok(ferrosocket::Accept::new())).await
                else {
                    return;
                };
                while let Some(Ok(event)) = ws.next_event().await {
                    match event {
                        Event::Ping(payload) => {
                            for message in &script.before {
                                ws.send(message.clone()).await.unwrap();
                            }
                            tokio::time::sleep(script.delay).await;
                            if script.pong {
                                ws.send(Message::Pong(payload)).await.unwrap();
                            }
                            ws.send(Message::text("after")).await.unwrap();
                        }
                        Event::Text(text) => ws.send(Message::Text(text)).await.unwrap(),
                        Event::Close(_) => break,
                        _ => {}
                    }
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn ping_resolves_with_the_round_trip_and_keeps_what_arrived_first() {
    let url = scripted_server(PingScript::polite(Duration::from_millis(40))).await;
    let (mut ws, _) = ferrosocket::tokio::connect(&url).await.unwrap();
    assert_eq!(ws.round_trip_time(), None);
    let rtt = ws.ping().await.unwrap();
    assert!(
        rtt >= Duration::from_millis(40) && rtt < Duration::from_secs(5),
        "{rtt:?}"
    );
    assert_eq!(ws.round_trip_time(), Some(rtt));
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("before 1"));
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::binary(vec![2u8; 1000])
    );
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("after"));
    // The connection goes on as before.
    ws.send(Message::text("echo")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("echo"));
}

#[tokio::test]
async fn a_ping_that_would_hold_too_much_gives_up_and_loses_nothing() {
    let script = PingScript {
        before: vec![Message::binary(vec![1u8; 600]), Message::binary(vec![2u8; 600])],
        delay: Duration::ZERO,
        pong: false,
    };
    let url = scripted_server(script).await;
    let request = ClientRequest::new(&url).unwrap();
    let config = Config::default().max_message_size(1000);
    let (mut ws, _) = Connector::new(request).config(config).connect().await.unwrap();
    match ws.ping().await {
        Err(Error::Capacity(CapacityError::HeldWhilePinging {
            size: 1200,
            max: 1000,
        })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(vec![1u8; 600]));
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(vec![2u8; 600]));
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("after"));
}

#[tokio::test]
async fn a_close_before_the_pong_ends_the_wait_and_is_read_next() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let config = Config::default().auto_pong(false);
        let mut ws = ferrosocket::tokio::accept_with(tcp, config, |_| Ok(ferrosocket::Accept::new()))
            .await
            .unwrap();
        while let Some(Ok(event)) = ws.next_event().await {
            if let Event::Ping(_) = event {
                ws.close(1001, "going").await.unwrap();
            }
        }
    });
    let (mut ws, _) = ferrosocket::tokio::connect(&url).await.unwrap();
    assert!(matches!(ws.ping().await, Err(Error::ConnectionClosed)));
    match ws.next().await {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code.0, 1001),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_heartbeat_measures_its_pings() {
    let url = scripted_server(PingScript::polite(Duration::ZERO)).await;
    let (mut ws, _) = ferrosocket::tokio::connect(&url).await.unwrap();
    ws.set_heartbeat(Duration::from_millis(30), Duration::from_secs(5));
    // Reading runs the heartbeat; its pong (empty) is read as a message.
    loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Pong(payload) => {
                assert!(payload.is_empty(), "the heartbeat's pings stay empty on the wire");
                break;
            }
            _ => continue,
        }
    }
    assert!(ws.round_trip_time().is_some());
}

#[tokio::test]
async fn the_split_receiver_measures_the_senders_timed_ping() {
    let url = scripted_server(PingScript::polite(Duration::from_millis(20))).await;
    let (ws, _) = ferrosocket::tokio::connect(&url).await.unwrap();
    let (mut sender, mut receiver) = ws.into_split();
    sender.timed_ping().await.unwrap();
    loop {
        if let Message::Pong(_) = receiver.next().await.unwrap().unwrap() {
            break;
        }
    }
    let rtt = receiver.round_trip_time().unwrap();
    assert!(rtt >= Duration::from_millis(20), "{rtt:?}");
}

#[test]
fn the_blocking_socket_pings_and_keeps_what_arrived_first() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(scripted_server(PingScript::polite(Duration::from_millis(30))));
    let (mut ws, _) = ferrosocket::blocking::connect(&url).unwrap();
    let rtt = ws.ping().unwrap();
    assert!(rtt >= Duration::from_millis(30), "{rtt:?}");
    assert_eq!(ws.round_trip_time(), Some(rtt));
    assert_eq!(ws.read().unwrap(), Message::text("before 1"));
    assert_eq!(ws.read().unwrap(), Message::binary(vec![2u8; 1000]));
    assert_eq!(ws.read().unwrap(), Message::text("after"));
}

#[cfg(feature = "compio")]
#[test]
fn compio_pings_and_keeps_what_arrived_first() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(scripted_server(PingScript::polite(Duration::from_millis(30))));
    compio::runtime::Runtime::new().unwrap().block_on(async {
        let (mut ws, _) = ferrosocket::compio::connect(&url).await.unwrap();
        let rtt = ws.ping().await.unwrap();
        assert!(rtt >= Duration::from_millis(30), "{rtt:?}");
        assert_eq!(ws.round_trip_time(), Some(rtt));
        assert_eq!(ws.read().await.unwrap(), Message::text("before 1"));
        assert_eq!(ws.read().await.unwrap(), Message::binary(vec![2u8; 1000]));
        assert_eq!(ws.read().await.unwrap(), Message::text("after"));
    });
}

#[tokio::test]
async fn the_toolkit_client_shows_its_round_trip() {
    let mut server = Server::builder()
        .heartbeat(Duration::from_millis(30), Duration::from_secs(5))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let url = format!("ws://{}/", server.local_addr().unwrap());
    let (mut client_ws, _) = ferrosocket::tokio::connect(&url).await.unwrap();
    let incoming = server.accept().await.unwrap();
    let (mut reader, client) = (incoming.reader, incoming.client);
    assert_eq!(client.round_trip_time(), None);
    tokio::spawn(async move { while client_ws.next().await.is_some() {} });
    // The heartbeat's pong, then a timed ping's.
    while !matches!(reader.next().await.unwrap().unwrap(), Message::Pong(_)) {}
    assert!(client.round_trip_time().is_some(), "the heartbeat's view");
    client.timed_ping().unwrap();
    loop {
        if let Message::Pong(payload) = reader.next().await.unwrap().unwrap() {
            if !payload.is_empty() {
                break;
            }
        }
    }
    assert!(client.round_trip_time().unwrap() < Duration::from_secs(5));
}

#[tokio::test]
async fn the_reconnecting_client_pings() {
    let url = scripted_server(PingScript::polite(Duration::from_millis(10))).await;
    let connector = Connector::new(ClientRequest::new(&url).unwrap());
    let mut client = Reconnecting::new(connector, Backoff::default());
    assert!(matches!(client.ping().await, Err(Error::NotOpen)));
    assert!(matches!(client.next().await, Some(Ok(Reconnect::Connected(_)))));
    let rtt = client.ping().await.unwrap();
    assert_eq!(client.round_trip_time(), Some(rtt));
    match client.next().await {
        Some(Ok(Reconnect::Message(message))) => assert_eq!(message, Message::text("before 1")),
        other => panic!("{other:?}"),
    }
}
