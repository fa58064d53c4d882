//! Allocation counts and peak memory, measured with a counting global allocator (per thread,
//! so parallel tests do not disturb each other). Deterministic: counts, never timings.

mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use ferrosocket::deflate::DeflateConfig;
use ferrosocket::{Config, Connection, Error, Event, Message, MessageKind};
use util::*;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn track(delta: isize, count: bool) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add_signed(delta);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
    if count {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize, true);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize), false);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(new_size as isize - layout.size() as isize, true);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Starts measuring peak memory from the current level; returns that level.
fn reset_peak() -> usize {
    let live = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(live));
    live
}

fn peak() -> usize {
    PEAK.with(Cell::get)
}

/// One echo round: the server decodes a client message and sends it back; the client
/// decodes the echo. With `shared`, the server echoes the received `Bytes` (large ones are
/// queued, not copied) and bytes are read into the engines' buffers, as the async adapters do.
fn echo_round(client: &mut Connection, server: &mut Connection, payload: &[u8], shared: bool) {
    client.send_binary(payload).unwrap();
    move_bytes(client, server, shared);
    let Ok(Some(Event::Binary(message))) = server.next_event() else {
        panic!("server event")
    };
    if shared {
        server.send(&Message::Binary(message)).unwrap(); // large payloads: queued, not copied
    } else {
        server.send_binary(&message).unwrap();
        drop(message);
    }
    move_bytes(server, client, shared);
    let Ok(Some(Event::Binary(echo))) = client.next_event() else {
        panic!("client event")
    };
    assert_eq!(echo.len(), payload.len());
}

/// Moves bytes as adapters do: through `outgoing`/`advance_outgoing`, and either `receive`
/// or, when `lend`, reading into the receiver's own buffer (`receive_with`).
fn move_bytes(from: &mut Connection, to: &mut Connection, lend: bool) {
    while from.wants_write() {
        let out = from.outgoing();
        let n = out.len();
        if lend {
            to.receive_with(64 << 10, |buf| buf.extend_from_slice(out));
        } else {
            to.receive(out);
        }
        from.advance_outgoing(n);
    }
}

#[test]
fn no_allocations_per_message_in_steady_state() {
    for shared in [false, true] {
        for size in [16usize, 1024, 16 << 10, 64 << 10] {
            let mut pair = Pair::default_open();
            let payload = vec![0xab; size];
            // Warm up: buffers grow to their working size.
            for _ in 0..4 {
                echo_round(&mut pair.client, &mut pair.server, &payload, shared);
            }
            let before = allocations();
            for _ in 0..100 {
                echo_round(&mut pair.client, &mut pair.server, &payload, shared);
            }
            let per_message = (allocations() - before) as f64 / 200.0;
            assert_eq!(per_message, 0.0, "{size} B messages allocate (shared: {shared})");
        }
    }
}

#[test]
fn fragmented_messages_reuse_the_assembly_buffer() {
    let mut pair = Pair::default_open();
    let round = |pair: &mut Pair| {
        for (i, piece) in [[1u8; 500], [2; 500], [3; 500]].iter().enumerate() {
            pair.client
                .send_fragment(MessageKind::Binary, piece, i == 2)
                .unwrap();
        }
        move_bytes(&mut pair.client, &mut pair.server, false);
        let Ok(Some(Event::Binary(message))) = pair.server.next_event() else {
            panic!()
        };
        assert_eq!(message.len(), 1500);
    };
    for _ in 0..4 {
        round(&mut pair);
    }
    let before = allocations();
    for _ in 0..100 {
        round(&mut pair);
    }
    assert_eq!(allocations() - before, 0);
}

#[test]
fn a_decompression_bomb_never_holds_much_more_than_the_limit() {
    let deflate = Config::default().permessage_deflate(DeflateConfig::default());
    let mut pair = Pair::open(deflate.clone(), deflate.max_message_size(1 << 20));
    pair.client.send_binary(&vec![0u8; 64 << 20]).unwrap();
    let bomb = pair.client.take_outgoing();
    drop(pair.client);
    let base = reset_peak();
    pair.server.receive(&bomb);
    assert!(matches!(pair.server.next_event(), Err(Error::Capacity(_))));
    let extra = peak() - base;
    // Limit (1 MiB) + inflate state + the bomb's copy in the read buffer + growth slack.
    assert!(
        extra < (1 << 20) * 3,
        "peak {extra} bytes above the baseline for a 1 MiB limit"
    );
}

#[test]
fn a_ping_flood_does_not_grow_memory() {
    let mut server = open_server(Config::default());
    let ping = client_frame(0x89, &[7; 125]);
    for _ in 0..100 {
        server.receive(&ping);
        assert!(matches!(server.next_event(), Ok(Some(Event::Ping(_)))));
    }
    let base = reset_peak();
    for _ in 0..100_000 {
        server.receive(&ping);
        assert!(matches!(server.next_event(), Ok(Some(Event::Ping(_)))));
    }
    assert!(peak() - base < 4096, "grew by {} bytes", peak() - base);
    assert_eq!(server.buffered_amount(), 127, "one pending pong");
}

#[test]
fn endless_continuation_frames_stop_at_the_message_limit() {
    let mut server = open_server(Config::default().max_message_size(64 << 10));
    server.receive(&client_frame(0x02, &[0; 1000]));
    let base = reset_peak();
    let continuation = client_frame(0x00, &[0; 1000]);
    let mut error = None;
    for _ in 0..1_000 {
        server.receive(&continuation);
        match server.next_event() {
            Ok(None) => {}
            Ok(Some(event)) => panic!("{event:?}"),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let error = error.expect("the limit stops the message");
    assert_eq!(error.close_code(), Some(ferrosocket::CloseCode::MESSAGE_TOO_BIG));
    assert!(peak() - base < 200 << 10, "peak {} bytes", peak() - base);
    // Empty continuation frames cost nothing and grow nothing.
    let mut server = open_server(Config::default());
    server.receive(&client_frame(0x02, b"x"));
    assert_eq!(server.next_event().unwrap(), None);
    let empty = client_frame(0x00, b"");
    let base = reset_peak();
    for _ in 0..100_000 {
        server.receive(&empty);
        assert_eq!(server.next_event().unwrap(), None);
    }
    assert!(peak() - base < 4096, "grew by {} bytes", peak() - base);
}

/// What a server connection still holds after one compressed echo, per memory profile: the
/// bytes its drop frees (contexts lent from the shared pool are not its own).
#[test]
fn idle_compressed_connections_hold_what_their_profile_says() {
    use ferrosocket::deflate::Memory;
    let text: String = (0..40)
        .map(|i| {
            format!(
                r#"{{"id":{i},"user":"user{i}","side":"buy","price":{}.5}},"#,
                100 + i * 7
            )
        })
        .collect();
    let browser = Config::default().permessage_deflate(DeflateConfig::default().memory(Memory::Dedicated));
    for (memory, least, most) in [
        // Both contexts: about 280 KiB with miniz_oxide, 420 KiB with zlib-rs.
        (Memory::Dedicated, 200 << 10, 600 << 10),
        (Memory::SharedCompressor, 30 << 10, 64 << 10),
        (Memory::Minimal, 0, 16 << 10),
    ] {
        let server = Config::default().permessage_deflate(DeflateConfig::default().memory(memory));
        let mut pair = Pair::open(browser.clone(), server);
        pair.client.send_text(&text).unwrap();
        pair.deliver_to_server();
        let Ok(Some(Event::Text(received))) = pair.server.next_event() else {
            panic!("{memory:?}: no text")
        };
        pair.server.send_text(&received).unwrap();
        drop(received);
        pair.deliver_to_client();
        assert_eq!(
            pair.client.next_event().unwrap(),
            Some(Event::Text(text.as_str().into()))
        );
        let live = LIVE.with(Cell::get);
        drop(pair.server);
        let held = live - LIVE.with(Cell::get);
        assert!(
            (least..=most).contains(&held),
            "{memory:?}: an idle server connection holds {held} bytes"
        );
    }
}
