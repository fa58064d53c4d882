//! Micro and in-memory engine benchmarks.
//!
//! ```text
//! cargo bench --bench engine
//! ```
//! Peers (fastwebsockets, tungstenite) and the loopback echo benchmarks join these in the
//! performance work; see `benches/README.md`.

use std::hint::black_box;

#[path = "support/pair.rs"]
mod pair;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrosocket::frame::{Header, OpCode, MAX_HEADER_LEN};
use ferrosocket::Event;
use pair::open_pair;

fn masking(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    for size in [16usize, 1024, 64 << 10, 1 << 20] {
        let mut buf = vec![0x5au8; size + 1];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("aligned", size), &size, |b, &size| {
            b.iter(|| ferrosocket::mask::apply(black_box(&mut buf[..size]), [1, 2, 3, 4], 0))
        });
        group.bench_with_input(BenchmarkId::new("unaligned", size), &size, |b, &size| {
            b.iter(|| ferrosocket::mask::apply(black_box(&mut buf[1..=size]), [1, 2, 3, 4], 1))
        });
    }
    // Every start alignment and key offset, 64 KiB.
    let mut buf = vec![0x5au8; (64 << 10) + 8];
    for offset in 0..8 {
        group.throughput(Throughput::Bytes(64 << 10));
        group.bench_with_input(
            BenchmarkId::new("64KiB_at_offset", offset),
            &offset,
            |b, &offset| {
                b.iter(|| {
                    ferrosocket::mask::apply(
                        black_box(&mut buf[offset..offset + (64 << 10)]),
                        [1, 2, 3, 4],
                        offset,
                    )
                })
            },
        );
    }
    group.finish();
}

fn header_codec(c: &mut Criterion) {
    let mut header = Header::new(OpCode::Binary, 70_000);
    header.mask = Some([1, 2, 3, 4]);
    let mut out = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut out);
    c.bench_function("header/encode", |b| b.iter(|| black_box(header).encode(&mut out)));
    c.bench_function("header/parse", |b| b.iter(|| Header::parse(black_box(&out[..n]))));
}

/// Server role: decode a batch of 100 masked client messages from one buffer.
fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_decode_100");
    for size in [16usize, 1024, 64 << 10] {
        let (mut client, mut server) = open_pair();
        let payload = vec![b'x'; size];
        for _ in 0..100 {
            client.send_binary(&payload).unwrap();
        }
        let wire = client.take_outgoing();
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &wire, |b, wire| {
            b.iter(|| {
                server.receive(wire);
                let mut n = 0;
                while let Ok(Some(event)) = server.next_event() {
                    n += matches!(event, Event::Binary(_)) as usize;
                }
                assert_eq!(n, 100);
            })
        });
    }
    group.finish();
}

/// Server role: encode 100 messages and take the bytes.
fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_encode_100");
    for size in [16usize, 1024, 64 << 10] {
        let (_client, mut server) = open_pair();
        let payload = vec![b'x'; size];
        group.throughput(Throughput::Bytes((size * 100) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &payload, |b, payload| {
            b.iter(|| {
                for _ in 0..100 {
                    server.send_binary(payload).unwrap();
                }
                let n = server.outgoing().len();
                server.advance_outgoing(n);
            })
        });
    }
    group.finish();
}

fn utf8(c: &mut Criterion) {
    let text = "JSON {\"name\": \"κόσμε\", \"emoji\": \"𝄞\", \"n\": 12345} ".repeat(1500);
    let bytes = text.as_bytes();
    let mut group = c.benchmark_group("utf8");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("whole", |b| {
        b.iter(|| ferrosocket::utf8::validate(black_box(bytes)))
    });
    group.bench_function("incremental_1KiB_pieces", |b| {
        b.iter(|| {
            let mut v = ferrosocket::utf8::Validator::default();
            for piece in bytes.chunks(1021) {
                v.feed(black_box(piece)).unwrap();
            }
            v.finish().unwrap();
        })
    });
    group.finish();
}

/// `Utf8Bytes::as_str` on a 1 MiB text: what reading a received text message costs.
fn text_as_str(c: &mut Criterion) {
    let text = "JSON {\"name\": \"κόσμε\", \"n\": 12345} ".repeat((1 << 20) / 40);
    let text = ferrosocket::Utf8Bytes::from(text);
    c.bench_function("utf8bytes_as_str_1MiB", |b| {
        b.iter(|| black_box(&text).as_str().len())
    });
}

fn handshake(c: &mut Criterion) {
    // A browser's upgrade request.
    let request = b"GET /chat HTTP/1.1\r\nHost: example.com:8080\r\nConnection: Upgrade\r\nPragma: no-cache\r\n\
Cache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
Chrome/156.0.0.0 Safari/537.36\r\nUpgrade: websocket\r\nOrigin: http://example.com:8080\r\n\
Sec-WebSocket-Version: 13\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";
    let config = ferrosocket::Config::default().permessage_deflate(Default::default());
    c.bench_function("handshake/server_parse_and_accept", |b| {
        b.iter(|| {
            let mut server = ferrosocket::Connection::server(config.clone());
            server.receive(black_box(request));
            let Ok(Some(Event::Request(_))) = server.next_event() else {
                unreachable!()
            };
            server.accept(ferrosocket::Accept::new()).unwrap();
            black_box(server.take_outgoing());
        })
    });
}

fn deflate(c: &mut Criterion) {
    let json: String = (0..300)
        .map(|i| format!(r#"{{"id":{i},"user":"ferrosocket","tags":["a","b"],"ok":true}},"#))
        .collect();
    let config = ferrosocket::Config::default().permessage_deflate(Default::default());
    let mut group = c.benchmark_group("permessage_deflate_json");
    group.throughput(Throughput::Bytes(json.len() as u64));
    let (_, mut server) = pair::open_pair_with(config);
    group.bench_function("compress", |b| {
        b.iter(|| {
            server.send_text(black_box(&json)).unwrap();
            let n = server.outgoing().len();
            server.advance_outgoing(n);
        })
    });
    // Without context takeover every message inflates alone: the same bytes decode each time.
    let reset = ferrosocket::Config::default()
        .permessage_deflate(ferrosocket::deflate::DeflateConfig::default().server_no_context_takeover(true));
    let (_, mut fresh_server) = pair::open_pair_with(reset.clone());
    let (mut fresh_client, _) = pair::open_pair_with(reset);
    fresh_server.send_text(&json).unwrap();
    let independent = fresh_server.take_outgoing();
    group.bench_function("decompress", |b| {
        b.iter(|| {
            fresh_client.receive(&independent);
            let Ok(Some(Event::Text(text))) = fresh_client.next_event() else {
                unreachable!()
            };
            black_box(text);
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    masking,
    header_codec,
    utf8,
    text_as_str,
    handshake,
    deflate,
    decode,
    encode
);
criterion_main!(benches);
