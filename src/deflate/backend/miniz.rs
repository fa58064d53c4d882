//! `miniz_oxide` (`no_std`, or `--cfg ferrosocket_miniz`): its compressor always keeps a
//! 32 KiB window (about 234 KiB of state whatever the window bits), its decompressor about
//! 43 KiB.

use alloc::boxed::Box;
use alloc::vec::Vec;

use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use super::{Flush, Inflated, Invalid};

/// A raw-deflate compressor.
pub(crate) struct Compressor(CompressorOxide);

impl Compressor {
    /// The window the compressor keeps for a wanted `window_bits`: always 32 KiB, so a
    /// smaller limit is kept by flushing (see `Deflater`).
    pub(crate) fn native_window_bits(_window_bits: u8) -> u8 {
        15
    }

    /// A compressor at `level` with a 2^`window_bits` window (only 15 is native here).
    pub(crate) fn new(level: u8, window_bits: u8) -> Box<Self> {
        debug_assert_eq!(window_bits, 15);
        Box::new(Compressor(CompressorOxide::new(
            create_comp_flags_from_zip_params(i32::from(level), -15, 0),
        )))
    }

    /// The window it keeps, in bits.
    pub(crate) fn window_bits(&self) -> u8 {
        15
    }

    /// Switches the level (of a reset compressor, before its next message).
    pub(crate) fn set_level(&mut self, level: u8) {
        self.0.set_format_and_level(DataFormat::Raw, level);
    }

    /// Compresses `input`, appending the output to `out`.
    pub(crate) fn compress(&mut self, mut input: &[u8], flush: Flush, out: &mut Vec<u8>) {
        let flush = match flush {
            Flush::None => TDEFLFlush::None,
            Flush::Sync => TDEFLFlush::Sync,
            Flush::Full => TDEFLFlush::Full,
        };
        loop {
            let (status, consumed) = compress_to_output(&mut self.0, input, flush, |chunk| {
                out.extend_from_slice(chunk);
                true
            });
            input = &input[consumed..];
            if input.is_empty() || status != TDEFLStatus::Okay {
                break;
            }
        }
    }

    /// Forgets everything: the next message starts fresh.
    pub(crate) fn reset(&mut self) {
        self.0.reset();
    }
}

/// A raw-deflate decompressor with a 32 KiB window.
pub(crate) struct Decompressor(Box<InflateState>);

impl Decompressor {
    /// A fresh decompressor.
    pub(crate) fn new() -> Box<Self> {
        Box::new(Decompressor(InflateState::new_boxed(DataFormat::Raw)))
    }

    /// Inflates from `input` into `output`, as far as either goes.
    pub(crate) fn inflate(&mut self, input: &[u8], output: &mut [u8]) -> Result<Inflated, Invalid> {
        let result = inflate(&mut self.0, input, output, MZFlush::None);
        let progress = Inflated {
            consumed: result.bytes_consumed,
            written: result.bytes_written,
            ended: false,
        };
        match result.status {
            Ok(MZStatus::StreamEnd) => Ok(Inflated {
                ended: true,
                ..progress
            }),
            // No progress possible: all input used and all output produced.
            Ok(_) | Err(MZError::Buf) => Ok(progress),
            Err(_) => Err(Invalid),
        }
    }

    /// Forgets everything: the next message starts fresh.
    pub(crate) fn reset(&mut self) {
        self.0.reset(DataFormat::Raw);
    }
}
