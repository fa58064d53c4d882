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

criterion_group!(benches, masking, header_codec, decode, encode);
criterion_main!(benches);
