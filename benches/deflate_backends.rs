//! The compression backend, measured before choosing it: `miniz_oxide` (what the engine uses)
//! against `zlib-rs` (pure-Rust zlib, through `flate2`), raw deflate with a sync flush per
//! message as permessage-deflate sends it, on JSON-like text of 1 KiB and 16 KiB.
//!
//! ```text
//! cargo bench --bench deflate_backends
//! ```
//! Each case compresses 64 different messages in turn, with context takeover (one stream) or
//! starting every message fresh (reset after each), at levels 1 and 6. The compressed size
//! is printed once per case, so speed and ratio are read side by side.

#[path = "support/json.rs"]
mod json;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flate2::{Compress, Compression, FlushCompress};
use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
};

/// One backend's compressor: compress a message with a sync flush into `out`.
trait Backend {
    fn compress(&mut self, message: &[u8], out: &mut Vec<u8>);
    fn reset(&mut self);
}

struct Miniz(Box<CompressorOxide>);

impl Backend for Miniz {
    fn compress(&mut self, message: &[u8], out: &mut Vec<u8>) {
        compress_to_output(&mut self.0, message, TDEFLFlush::Sync, |chunk| {
            out.extend_from_slice(chunk);
            true
        });
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

struct ZlibRs(Compress);

impl Backend for ZlibRs {
    fn compress(&mut self, message: &[u8], out: &mut Vec<u8>) {
        out.reserve(message.len() + 64);
        self.0.compress_vec(message, out, FlushCompress::Sync).unwrap();
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

fn backend(name: &str, level: u8) -> Box<dyn Backend> {
    match name {
        "miniz_oxide" => Box::new(Miniz(Box::new(CompressorOxide::new(
            create_comp_flags_from_zip_params(level.into(), -15, 0),
        )))),
        _ => Box::new(ZlibRs(Compress::new_with_window_bits(
            Compression::new(level.into()),
            false,
            15,
        ))),
    }
}

fn backends(c: &mut Criterion) {
    for size in [1024usize, 16 << 10] {
        let messages = json::messages(size, 64);
        let plain: usize = messages.iter().map(String::len).sum();
        let mut group = c.benchmark_group(format!("deflate_backend_{size}B"));
        group.throughput(Throughput::Bytes((plain / messages.len()) as u64));
        for level in [1u8, 6] {
            for takeover in [true, false] {
                for name in ["miniz_oxide", "zlib-rs"] {
                    let mode = if takeover { "takeover" } else { "fresh" };
                    // The ratio over one pass of all messages.
                    let mut compressor = backend(name, level);
                    let mut out = Vec::with_capacity(2 * size);
                    let mut wire = 0;
                    for message in &messages {
                        out.clear();
                        compressor.compress(message.as_bytes(), &mut out);
                        wire += out.len();
                        if !takeover {
                            compressor.reset();
                        }
                    }
                    eprintln!(
                        "{name} level {level} {mode} {size} B: compressed to {:.3} of the text",
                        wire as f64 / plain as f64
                    );
                    let mut compressor = backend(name, level);
                    let mut next = 0;
                    let id = BenchmarkId::new(format!("{name}/level{level}/{mode}"), size);
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            out.clear();
                            compressor.compress(black_box(messages[next % 64].as_bytes()), &mut out);
                            if !takeover {
                                compressor.reset();
                            }
                            next += 1;
                            black_box(out.len())
                        })
                    });
                }
            }
        }
        group.finish();
    }
}

criterion_group!(benches, backends);
criterion_main!(benches);
