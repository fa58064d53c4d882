//! The engine's deadlines with no I/O and no clock: the test is the clock, and tells the
//! engine the time with `handle_timeout` (`poll_timeout` says when it wants it).

mod util;

use std::time::Duration;

use ferrosocket::{
    ClientRequest, CloseCode, Config, Connection, Error, Event, Role, SendingHalf, State, Timeout,
};
use util::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Runs the engine's clock from 0 to `now`, waking at each deadline it asks for, as an
/// adapter sleeping on a timer would.
/// A deadline started on the way is due at once (zero): it learns the time of the wake
/// that started it.
fn run_until(conn: &mut Connection, now: Duration) {
    let mut clock = Duration::ZERO;
    while let Some(due) = conn.poll_timeout().filter(|&due| due <= now) {
        clock = clock.max(due);
        conn.handle_timeout(clock);
        if conn.poll_timeout() == Some(due) {
            break; // a guard: every call moves a deadline on
        }
    }
    conn.handle_timeout(now);
}

#[test]
fn only_the_handshake_deadline_runs_by_default() {
    let pair = Pair::default_open();
    assert_eq!(pair.client.poll_timeout(), None);
    assert_eq!(pair.server.poll_timeout(), None);
    // The handshake's 10 s.
    let mut server = Connection::server(Config::default());
    server.handle_timeout(secs(1_000));
    assert_eq!(server.poll_timeout(), Some(secs(1_010)));
    // Turned off, nothing runs.
    let mut config = Config::default();
    config.handshake_timeout = None;
    let mut server = Connection::server(config);
    assert_eq!(server.poll_timeout(), None);
    server.handle_timeout(secs(1_000_000));
    assert_eq!(server.next_event().unwrap(), None, "nothing happened");
    assert_eq!(server.state(), State::Connecting);
}

#[test]
fn a_handshake_that_never_finishes_times_out() {
    let config = Config::default().handshake_timeout(secs(5));
    let mut server = Connection::server(config.clone());
    // The deadline just started: due at once, to learn the time.
    assert_eq!(server.poll_timeout(), Some(Duration::ZERO));
    server.handle_timeout(secs(100));
    assert_eq!(server.poll_timeout(), Some(secs(105)));
    server.receive(b"GET / HTTP/1.1\r\nHost: x\r\n"); // half a request, then silence
    assert_eq!(server.next_event().unwrap(), None);
    server.handle_timeout(secs(104));
    assert_eq!(server.next_event().unwrap(), None, "not yet");
    server.handle_timeout(secs(105));
    assert!(matches!(
        server.next_event(),
        Err(Error::TimedOut(Timeout::Handshake))
    ));
    assert_eq!(server.state(), State::Closed);
    assert!(!server.wants_read());
    assert!(server.wants_shutdown(), "the transport goes");
    assert_eq!(server.next_event().unwrap(), None, "reported once");
    assert_eq!(server.poll_timeout(), None);

    // A client waiting for its 101 likewise.
    let request = ClientRequest::new("ws://example.com/").unwrap();
    let mut client = Connection::client(request, config.clone());
    client.take_outgoing();
    run_until(&mut client, secs(10));
    assert!(matches!(
        client.next_event(),
        Err(Error::TimedOut(Timeout::Handshake))
    ));

    // A handshake that finishes in time ends its deadline.
    let mut pair = Pair::open(config.clone(), config);
    pair.server.handle_timeout(secs(1));
    assert_eq!(pair.server.poll_timeout(), None);
    assert_eq!(pair.server.state(), State::Open);
}

#[test]
fn a_heartbeat_pings_and_a_missed_pong_ends_the_connection() {
    let mut pair = Pair::default_open();
    pair.server.set_heartbeat(secs(30), secs(10));
    pair.server.handle_timeout(secs(0));
    assert_eq!(pair.server.poll_timeout(), Some(secs(30)));

    // First ping; the client's pong comes back in time.
    pair.server.handle_timeout(secs(30));
    assert_eq!(&pair.server.take_outgoing()[..], &[0x89, 0x00]);
    pair.server.receive(&client_frame(0x8A, b""));
    let events = events(&mut pair.server);
    assert!(
        events.iter().any(|e| matches!(e, Ok(Event::Pong(_)))),
        "{events:?}"
    );
    // The next ping comes an interval after the last one.
    assert_eq!(pair.server.poll_timeout(), Some(secs(60)));
    pair.server.take_outgoing();

    // Second ping; no pong.
    pair.server.handle_timeout(secs(60));
    assert_eq!(&pair.server.take_outgoing()[..], &[0x89, 0x00]);
    assert_eq!(pair.server.poll_timeout(), Some(secs(70)));
    pair.server.handle_timeout(secs(69));
    assert_eq!(pair.server.state(), State::Open);
    pair.server.handle_timeout(secs(70));
    assert!(matches!(
        pair.server.next_event(),
        Err(Error::TimedOut(Timeout::Pong))
    ));
    assert_eq!(pair.server.state(), State::Closed);
    assert!(pair.server.wants_shutdown());
    assert!(!pair.server.wants_write(), "no Close: the peer is presumed gone");
    assert!(matches!(
        pair.server.send_text("late"),
        Err(Error::TimedOut(Timeout::Pong))
    ));
}

#[test]
fn the_close_deadline_bounds_the_wait_for_the_peers_close() {
    let config = Config::default().close_timeout(secs(5));
    let mut pair = Pair::open(config.clone(), config);
    pair.client.close(1000, "bye").unwrap();
    pair.client.handle_timeout(secs(10));
    assert_eq!(pair.client.poll_timeout(), Some(secs(15)));
    pair.client.handle_timeout(secs(14));
    assert_eq!(pair.client.state(), State::Closing);
    pair.client.handle_timeout(secs(15));
    assert!(matches!(
        pair.client.next_event(),
        Err(Error::TimedOut(Timeout::Close))
    ));
    assert_eq!(pair.client.state(), State::Closed);
    assert!(
        pair.client.wants_shutdown(),
        "a client ends a dead connection too"
    );

    // Answered in time: the deadline goes with the closing handshake.
    let mut pair = Pair::default_open();
    pair.client.close(1000, "").unwrap();
    pair.client.handle_timeout(secs(0));
    pair.deliver_to_server();
    let _ = events(&mut pair.server);
    pair.deliver_to_client();
    let events = events(&mut pair.client);
    assert!(matches!(events.last(), Some(Ok(Event::Close(_)))), "{events:?}");
    assert_eq!(pair.client.poll_timeout(), None);
    assert!(
        !pair.client.wants_shutdown(),
        "the client waits for the server to end TCP"
    );
    assert!(pair.server.wants_shutdown(), "the server ends it");
}

#[test]
fn after_a_failure_the_drain_is_bounded_and_the_failure_is_what_is_reported() {
    let config = Config::default().close_timeout(secs(2));
    let mut pair = Pair::open(config.clone(), config);
    pair.server.receive(&[0x81, 0x02, b'h', b'i']); // unmasked
    assert!(pair.server.next_event().is_err());
    assert!(pair.server.wants_read(), "draining, waiting for the peer's Close");
    run_until(&mut pair.server, secs(3));
    assert_eq!(
        pair.server.next_event().unwrap(),
        None,
        "the failure was reported already"
    );
    assert!(!pair.server.wants_read());
    assert!(pair.server.wants_shutdown());
}

#[test]
fn split_halves_keep_the_deadlines() {
    let pair = Pair::default_open();
    let (mut sending, mut receiving): (SendingHalf, _) = pair.server.split().unwrap();
    receiving.set_heartbeat(secs(1), secs(1));
    receiving.handle_timeout(secs(0));
    receiving.handle_timeout(secs(1));
    sending.answer(receiving.take_replies());
    assert_eq!(
        &sending.take_outgoing()[..],
        &[0x89, 0x00],
        "the heartbeat's ping"
    );
    sending.send_text("queued").unwrap();
    receiving.handle_timeout(secs(2));
    assert!(matches!(
        receiving.next_event(),
        Err(Error::TimedOut(Timeout::Pong))
    ));
    sending.answer(receiving.take_replies());
    assert_eq!(sending.buffered_amount(), 0, "the sending half aborts too");
    assert!(sending.is_closed());

    // Our Close, sent by the sending half: the receiving half is told and bounds the wait.
    let pair = Pair::open(Config::default(), Config::default().close_timeout(secs(3)));
    let (mut sending, mut receiving) = pair.server.split().unwrap();
    sending.close(CloseCode::NORMAL, "").unwrap();
    receiving.close_sent();
    receiving.handle_timeout(secs(0));
    assert_eq!(receiving.poll_timeout(), Some(secs(3)));
    receiving.handle_timeout(secs(3));
    assert!(matches!(
        receiving.next_event(),
        Err(Error::TimedOut(Timeout::Close))
    ));
    assert!(receiving.wants_shutdown());
}

#[test]
fn an_opened_connection_takes_a_heartbeat_too() {
    let mut conn = Connection::open(Role::Server, Config::default(), None);
    conn.set_heartbeat(secs(1), secs(1));
    run_until(&mut conn, secs(1));
    assert_eq!(&conn.take_outgoing()[..], &[0x89, 0x00]);
}

#[test]
fn a_heartbeat_set_while_connecting_sends_nothing_before_the_101() {
    let request = ClientRequest::new("ws://example.com/").unwrap();
    let mut client = Connection::client(request, Config::default());
    let upgrade = client.take_outgoing();
    client.set_heartbeat(secs(1), secs(1));
    run_until(&mut client, secs(9)); // within the default 10 s handshake deadline
    assert!(
        !client.wants_write(),
        "no ping while the request awaits its answer"
    );
    assert_eq!(client.state(), State::Connecting);

    // The server answers; the heartbeat starts with the open connection.
    let mut server = Connection::server(Config::default());
    server.receive(&upgrade);
    assert!(matches!(server.next_event(), Ok(Some(Event::Request(_)))));
    server.accept(ferrosocket::Accept::new()).unwrap();
    client.receive(&server.take_outgoing());
    assert!(matches!(client.next_event(), Ok(Some(Event::Open(_)))));
    client.handle_timeout(secs(9));
    assert_eq!(client.poll_timeout(), Some(secs(10)));
    client.handle_timeout(secs(10));
    let ping = client.take_outgoing();
    assert_eq!(ping[0], 0x89, "a (masked) ping once open");
}

#[test]
fn the_idle_timeout_pings_a_quiet_peer_and_ends_a_silent_one() {
    let server_config = Config::default().idle_timeout(secs(20));
    let mut pair = Pair::open(Config::default(), server_config);
    pair.server.handle_timeout(secs(0));
    assert_eq!(
        pair.server.poll_timeout(),
        Some(secs(10)),
        "it looks every half timeout"
    );

    // Traffic before the first look: nothing to do.
    pair.server.receive(&client_frame(0x81, b"hi"));
    let _ = events(&mut pair.server);
    pair.server.handle_timeout(secs(10));
    assert!(!pair.server.wants_write(), "no ping on a connection that spoke");

    // Ten quiet seconds: a ping, which a live peer answers; that counts as traffic.
    pair.server.handle_timeout(secs(20));
    assert_eq!(&pair.server.take_outgoing()[..], &[0x89, 0x00]);
    pair.server.receive(&client_frame(0x8A, b""));
    let _ = events(&mut pair.server);
    pair.server.handle_timeout(secs(30));
    assert_eq!(pair.server.state(), State::Open);
    assert!(!pair.server.wants_write());

    // Our own sends do not keep it open: the peer says nothing, is pinged, then ended.
    pair.server.send_text("anyone there?").unwrap();
    pair.server.take_outgoing();
    pair.server.handle_timeout(secs(40));
    assert_eq!(&pair.server.take_outgoing()[..], &[0x89, 0x00]);
    pair.server.handle_timeout(secs(49));
    assert_eq!(pair.server.state(), State::Open, "not before the next look");
    pair.server.handle_timeout(secs(50));
    assert!(matches!(
        pair.server.next_event(),
        Err(Error::TimedOut(Timeout::Idle))
    ));
    assert_eq!(pair.server.state(), State::Closed);
    assert!(pair.server.wants_shutdown());
    assert_eq!(pair.server.poll_timeout(), None);
}

#[test]
fn the_idle_timeout_and_the_heartbeat_run_side_by_side() {
    let mut conn = open_server(Config::default().idle_timeout(secs(10)));
    conn.set_heartbeat(secs(30), secs(10));
    conn.handle_timeout(secs(0));
    assert_eq!(conn.poll_timeout(), Some(secs(5)));
    // The peer talks every 4 s: the idle timeout never pings; the heartbeat does.
    for second in (4..=28).step_by(4) {
        conn.receive(&client_frame(0x82, b"x"));
        let _ = events(&mut conn);
        run_until(&mut conn, secs(second));
    }
    assert!(!conn.wants_write(), "no ping yet");
    conn.receive(&client_frame(0x82, b"x"));
    let _ = events(&mut conn);
    run_until(&mut conn, secs(30));
    assert_eq!(&conn.take_outgoing()[..], &[0x89, 0x00], "the heartbeat's");
    assert_eq!(conn.state(), State::Open);
}

#[test]
fn the_maximum_lifetime_closes_with_1001_and_reads_on_until_the_peers_close() {
    let server_config = Config::default().max_lifetime(secs(60)).close_timeout(secs(5));
    let mut pair = Pair::open(Config::default(), server_config);
    pair.server.handle_timeout(secs(100));
    assert_eq!(pair.server.poll_timeout(), Some(secs(160)));
    pair.server.handle_timeout(secs(159));
    assert!(!pair.server.wants_write());
    pair.server.handle_timeout(secs(160));
    assert_eq!(pair.server.state(), State::Closing);
    assert!(matches!(pair.server.send_text("late"), Err(Error::AlreadyClosed)));

    // The client gets a Close with 1001 and the reason, and echoes it after its last word.
    pair.deliver_to_client();
    let events_at_client = events(&mut pair.client);
    let Some(Ok(Event::Close(frame))) = events_at_client.last() else {
        panic!("{events_at_client:?}");
    };
    assert_eq!(frame.code, CloseCode::GOING_AWAY);
    assert_eq!(frame.reason.as_str(), "maximum lifetime reached");

    // The server still reads what was sent before the peer's Close.
    pair.server.receive(&client_frame(0x81, b"last words"));
    pair.deliver_to_server();
    let at_server = events(&mut pair.server);
    assert!(
        matches!(&at_server[..], [Ok(Event::Text(t)), Ok(Event::Close(c))] if t.as_str() == "last words" && c.code == CloseCode::GOING_AWAY),
        "{at_server:?}"
    );
    assert_eq!(pair.server.state(), State::Closed);
    assert_eq!(pair.server.poll_timeout(), None);

    // A peer that never answers: the close deadline ends it.
    let mut conn = open_server(Config::default().max_lifetime(secs(1)).close_timeout(secs(2)));
    run_until(&mut conn, secs(1));
    assert_eq!(conn.state(), State::Closing);
    run_until(&mut conn, secs(3));
    assert!(matches!(conn.next_event(), Err(Error::TimedOut(Timeout::Close))));
}

#[test]
fn the_idle_timeout_and_the_lifetime_start_with_the_open_connection() {
    let config = Config::default().idle_timeout(secs(10)).max_lifetime(secs(3));
    let request = ClientRequest::new("ws://example.com/").unwrap();
    let mut client = Connection::client(request, config.clone());
    let upgrade = client.take_outgoing();
    client.handle_timeout(secs(45));
    assert_eq!(
        client.poll_timeout(),
        Some(secs(55)),
        "only the handshake's deadline while connecting"
    );

    let mut server = Connection::server(config);
    server.receive(&upgrade);
    assert!(matches!(server.next_event(), Ok(Some(Event::Request(_)))));
    server.accept(ferrosocket::Accept::new()).unwrap();
    client.receive(&server.take_outgoing());
    assert!(matches!(client.next_event(), Ok(Some(Event::Open(_)))));
    client.handle_timeout(secs(50));
    assert_eq!(
        client.poll_timeout(),
        Some(secs(53)),
        "the lifetime, from the open"
    );
    run_until(&mut client, secs(53));
    assert_eq!(client.state(), State::Closing, "the lifetime passed");
}

#[test]
fn a_read_that_brought_nothing_is_not_traffic() {
    let mut conn = open_server(Config::default().idle_timeout(secs(10)));
    conn.handle_timeout(secs(0));
    // An adapter that polls the socket and finds nothing (WouldBlock) before each look.
    conn.receive_with(1024, |_| ());
    conn.receive(b"");
    conn.handle_timeout(secs(5));
    assert_eq!(&conn.take_outgoing()[..], &[0x89, 0x00], "silence: a ping");
    conn.receive_with(1024, |buf| buf.extend_from_slice(&client_frame(0x8A, b"")));
    conn.handle_timeout(secs(10));
    assert!(!conn.wants_write(), "the pong counted");
}
