//! The deflate implementation behind the codec, behind one small interface: zlib-rs where
//! `std` is on (about twice as fast at level 6 with context takeover,
//! `benches/deflate_backends.rs`), `miniz_oxide` without it (`no_std`) or with
//! `--cfg ferrosocket_miniz`. Both compress raw deflate (no zlib header) and inflate with a
//! 32 KiB window, which takes every window size a peer may use.

#[cfg(any(not(feature = "std"), ferrosocket_miniz))]
mod miniz;
#[cfg(any(not(feature = "std"), ferrosocket_miniz))]
pub(crate) use miniz::{Compressor, Decompressor};

#[cfg(all(feature = "std", not(ferrosocket_miniz)))]
mod zlib;
#[cfg(all(feature = "std", not(ferrosocket_miniz)))]
pub(crate) use zlib::{Compressor, Decompressor};

/// How a compression call ends its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flush {
    /// Keep input buffered as the compressor likes.
    None,
    /// Emit everything so far, ending on a byte boundary (an empty stored block).
    Sync,
    /// As `Sync`, and forget the history: later output refers to nothing before it.
    Full,
}

/// What one inflate call did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inflated {
    /// Input bytes used.
    pub(crate) consumed: usize,
    /// Output bytes produced.
    pub(crate) written: usize,
    /// The peer ended its deflate stream (a block with BFINAL).
    pub(crate) ended: bool,
}

/// The input is not a valid deflate stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid;
