//! The same work by ferrosocket, tungstenite, fastwebsockets and tokio-websockets, in memory,
//! in one run:
//! a server decoding a batch of masked client messages, and a server encoding a batch.
//!
//! ```text
//! cargo bench --bench peers
//! ```
//! Each library reads from / writes to an in-memory stream, so only protocol work is timed.
//! ferrosocket is sans-IO and is fed the bytes directly; fastwebsockets is async-only and runs
//! its batch inside one `block_on` of a current-thread tokio runtime, as does tokio-websockets
//! (a `Stream` / `Sink`; its batch is fed, then flushed once).

use std::cell::RefCell;
use std::hint::black_box;
use std::io::{self, IoSlice, Read, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::Bytes;
#[path = "support/pair.rs"]
mod pair;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrosocket::{Event, Message};
use pair::open_pair;

const SIZES: [usize; 4] = [16, 1024, 64 << 10, 1 << 20];

/// Messages per batch: 100, or 10 for 1 MiB messages.
fn batch(size: usize) -> usize {
    if size >= 1 << 20 {
        10
    } else {
        100
    }
}

/// `count` masked binary frames of `size` bytes, as a client sends them.
fn client_frames(size: usize, count: usize) -> Bytes {
    let (mut client, _) = open_pair();
    let payload = vec![b'x'; size];
    for _ in 0..count {
        client.send_binary(&payload).unwrap();
    }
    client.take_outgoing()
}

/// An in-memory transport: reads from a shared queue the bench refills, writes into a sink.
#[derive(Clone, Default)]
struct MemStream {
    input: Rc<RefCell<(Bytes, usize)>>,
    output: Rc<RefCell<Vec<u8>>>,
}

impl MemStream {
    fn refill(&self, bytes: &Bytes) {
        *self.input.borrow_mut() = (bytes.clone(), 0);
    }

    fn read_into(&self, buf: &mut [u8]) -> usize {
        let mut input = self.input.borrow_mut();
        let (data, pos) = &mut *input;
        let n = buf.len().min(data.len() - *pos);
        buf[..n].copy_from_slice(&data[*pos..*pos + n]);
        *pos += n;
        n
    }

    fn drain_output(&self) -> usize {
        let mut output = self.output.borrow_mut();
        let n = output.len();
        output.clear();
        n
    }
}

impl Read for MemStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.read_into(buf) {
            0 => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }
}

impl Write for MemStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for MemStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.read_into(buf.initialize_unfilled());
        if n == 0 {
            return Poll::Pending; // the batch is exactly what was fed: never reached
        }
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for MemStream {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.output.borrow_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

fn tungstenite_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20))
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_decode");
    for size in SIZES {
        let count = batch(size);
        let wire = client_frames(size, count);
        group.throughput(Throughput::Elements(count as u64));

        let (_, mut server) = open_pair();
        group.bench_with_input(BenchmarkId::new("ferrosocket", size), &wire, |b, wire| {
            b.iter(|| {
                server.receive(wire);
                let mut n = 0;
                while let Ok(Some(Event::Binary(message))) = server.next_event() {
                    black_box(message);
                    n += 1;
                }
                assert_eq!(n, count);
            })
        });

        let stream = MemStream::default();
        let mut ws = tungstenite::WebSocket::from_raw_socket(
            stream.clone(),
            tungstenite::protocol::Role::Server,
            Some(tungstenite_config()),
        );
        group.bench_with_input(BenchmarkId::new("tungstenite", size), &wire, |b, wire| {
            b.iter(|| {
                stream.refill(wire);
                for _ in 0..count {
                    black_box(ws.read().unwrap());
                }
            })
        });

        let stream = MemStream::default();
        let mut ws = fastwebsockets::WebSocket::after_handshake(stream.clone(), fastwebsockets::Role::Server);
        ws.set_max_message_size(64 << 20);
        let rt = runtime();
        group.bench_with_input(BenchmarkId::new("fastwebsockets", size), &wire, |b, wire| {
            b.iter(|| {
                stream.refill(wire);
                rt.block_on(async {
                    for _ in 0..count {
                        black_box(ws.read_frame().await.unwrap());
                    }
                })
            })
        });

        let stream = MemStream::default();
        let mut ws = tokio_websockets_server().serve(stream.clone());
        group.bench_with_input(BenchmarkId::new("tokio-websockets", size), &wire, |b, wire| {
            b.iter(|| {
                stream.refill(wire);
                rt.block_on(async {
                    for _ in 0..count {
                        black_box(futures_util::StreamExt::next(&mut ws).await.unwrap().unwrap());
                    }
                })
            })
        });
    }
    group.finish();
}

fn tokio_websockets_server() -> tokio_websockets::ServerBuilder {
    tokio_websockets::ServerBuilder::new()
        .config(tokio_websockets::Config::default().frame_size(usize::MAX))
        .limits(tokio_websockets::Limits::default().max_payload_len(Some(64 << 20)))
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_encode");
    for size in SIZES {
        let count = batch(size);
        let payload = Bytes::from(vec![b'x'; size]);
        group.throughput(Throughput::Elements(count as u64));

        // Every library's output lands in the same kind of sink (a `Vec` it is copied into),
        // as a socket's send buffer would take it. ferrosocket sends the message's `Bytes`
        // (large payloads are queued by reference) and drains with one vectored write.
        let (_, mut server) = open_pair();
        let mut sink = Vec::new();
        let message = Message::Binary(payload.clone());
        group.bench_with_input(BenchmarkId::new("ferrosocket", size), &message, |b, message| {
            b.iter(|| {
                for _ in 0..count {
                    server.send(message).unwrap();
                }
                while server.wants_write() {
                    let mut slices = [IoSlice::new(&[]); 32];
                    let filled = server.outgoing_vectored(&mut slices);
                    let written = sink.write_vectored(&slices[..filled]).unwrap();
                    server.advance_outgoing(written);
                }
                black_box(sink.len());
                sink.clear();
            })
        });

        let stream = MemStream::default();
        let mut ws = tungstenite::WebSocket::from_raw_socket(
            stream.clone(),
            tungstenite::protocol::Role::Server,
            Some(tungstenite_config()),
        );
        group.bench_with_input(BenchmarkId::new("tungstenite", size), &payload, |b, payload| {
            b.iter(|| {
                for _ in 0..count {
                    ws.write(tungstenite::Message::Binary(payload.clone())).unwrap();
                }
                ws.flush().unwrap();
                black_box(stream.drain_output());
            })
        });

        let stream = MemStream::default();
        let mut ws = fastwebsockets::WebSocket::after_handshake(stream.clone(), fastwebsockets::Role::Server);
        let rt = runtime();
        group.bench_with_input(
            BenchmarkId::new("fastwebsockets", size),
            &payload,
            |b, payload| {
                b.iter(|| {
                    rt.block_on(async {
                        for _ in 0..count {
                            let frame =
                                fastwebsockets::Frame::binary(fastwebsockets::Payload::Borrowed(payload));
                            ws.write_frame(frame).await.unwrap();
                        }
                    });
                    black_box(stream.drain_output());
                })
            },
        );

        let stream = MemStream::default();
        let mut ws = tokio_websockets_server().serve(stream.clone());
        group.bench_with_input(
            BenchmarkId::new("tokio-websockets", size),
            &payload,
            |b, payload| {
                b.iter(|| {
                    rt.block_on(async {
                        for _ in 0..count {
                            let message = tokio_websockets::Message::binary(payload.clone());
                            futures_util::SinkExt::feed(&mut ws, message).await.unwrap();
                        }
                        futures_util::SinkExt::flush(&mut ws).await.unwrap();
                    });
                    black_box(stream.drain_output());
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
