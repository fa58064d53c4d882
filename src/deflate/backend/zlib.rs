//! zlib-rs (where `std` is on): zlib's algorithms in Rust. Its compressor takes the
//! window bits natively (9..=15; its memory shrinks with them), its decompressor allocates
//! the window on first use.

use alloc::boxed::Box;
use alloc::vec::Vec;

use zlib_rs::{DeflateConfig, DeflateFlush, Inflate, InflateFlush, Status};

use super::{Flush, Inflated, Invalid};

/// A raw-deflate compressor.
pub(crate) struct Compressor {
    inner: zlib_rs::Deflate,
    window_bits: u8,
}

impl Compressor {
    /// The window the compressor keeps for a wanted `window_bits`: zlib's raw deflate has no
    /// 256-byte window, so 8 becomes 9 and is kept by flushing (see `Deflater`).
    pub(crate) fn native_window_bits(window_bits: u8) -> u8 {
        window_bits.clamp(9, 15)
    }

    /// A compressor at `level` with a 2^`window_bits` window.
    pub(crate) fn new(level: u8, window_bits: u8) -> Box<Self> {
        let config = DeflateConfig {
            level: i32::from(level),
            window_bits: -i32::from(window_bits),
            ..DeflateConfig::default()
        };
        Box::new(Compressor {
            inner: zlib_rs::Deflate::new_with_config(config),
            window_bits,
        })
    }

    /// The window it keeps, in bits.
    pub(crate) fn window_bits(&self) -> u8 {
        self.window_bits
    }

    /// Switches the level (of a reset compressor, before its next message).
    pub(crate) fn set_level(&mut self, level: u8) {
        // Nothing is pending after a reset, so this cannot need more output room.
        let _ = self.inner.set_level(i32::from(level));
    }

    /// Compresses `input`, appending the output to `out`.
    pub(crate) fn compress(&mut self, mut input: &[u8], flush: Flush, out: &mut Vec<u8>) {
        let flush = match flush {
            Flush::None => DeflateFlush::NoFlush,
            Flush::Sync => DeflateFlush::SyncFlush,
            Flush::Full => DeflateFlush::FullFlush,
        };
        loop {
            let start = out.len();
            let room = (input.len() + input.len() / 8 + 64).clamp(256, 64 << 10);
            out.resize(start + room, 0);
            let (in_before, out_before) = (self.inner.total_in(), self.inner.total_out());
            let status = self.inner.compress(input, &mut out[start..], flush);
            let consumed = (self.inner.total_in() - in_before) as usize;
            let written = (self.inner.total_out() - out_before) as usize;
            out.truncate(start + written);
            input = &input[consumed..];
            // Done once all input is in and the output did not fill the room given.
            let done = input.is_empty() && written < room;
            if done || !matches!(status, Ok(Status::Ok)) {
                break;
            }
        }
    }

    /// Forgets everything: the next message starts fresh.
    pub(crate) fn reset(&mut self) {
        self.inner.reset();
    }
}

/// A raw-deflate decompressor with a 32 KiB window.
pub(crate) struct Decompressor(Inflate);

impl Decompressor {
    /// A fresh decompressor.
    pub(crate) fn new() -> Box<Self> {
        Box::new(Decompressor(Inflate::new(false, 15)))
    }

    /// Inflates from `input` into `output`, as far as either goes.
    pub(crate) fn inflate(&mut self, input: &[u8], output: &mut [u8]) -> Result<Inflated, Invalid> {
        let (in_before, out_before) = (self.0.total_in(), self.0.total_out());
        let status = self.0.decompress(input, output, InflateFlush::NoFlush);
        let progress = Inflated {
            consumed: (self.0.total_in() - in_before) as usize,
            written: (self.0.total_out() - out_before) as usize,
            ended: false,
        };
        match status {
            Ok(Status::StreamEnd) => Ok(Inflated {
                ended: true,
                ..progress
            }),
            Ok(Status::Ok | Status::BufError) => Ok(progress),
            Err(_) => Err(Invalid),
        }
    }

    /// Forgets everything: the next message starts fresh.
    pub(crate) fn reset(&mut self) {
        self.0.reset(false);
    }
}
