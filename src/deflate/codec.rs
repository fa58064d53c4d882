//! The per-direction contexts: a [`Deflater`] for what we send and a bounded [`Inflater`]
//! for what we receive, both over the raw deflate of the [backend](super::backend).

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::backend::{Compressor, Decompressor, Flush};
use super::pool;
use bytes::BytesMut;

/// The empty stored block that ends every compressed message on the wire, stripped by the
/// sender and put back by the receiver (RFC 7692 §7.2.1–7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The most inflated output produced per step; bounds the overshoot past the size limit.
const INFLATE_STEP: usize = 16 * 1024;

/// The least output room made per step. Steps start near four times the compressed input
/// (JSON inflates 3–5×), so a small message does not reserve a full step it never fills.
const MIN_INFLATE_STEP: usize = 1024;

/// Compresses outgoing messages. The compressor is allocated on first use and, when every
/// message starts fresh, held only while a message is being compressed.
pub(crate) struct Deflater {
    compressor: Option<Box<Compressor>>,
    level: u8,
    /// The window the peer allows us: back-references must stay within it.
    window: usize,
    /// Input bytes since the dictionary was last reset.
    since_reset: usize,
    /// Compressed bytes produced for the message in progress.
    message_bytes: usize,
    reset_each_message: bool,
}

impl core::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Deflater")
            .field("level", &self.level)
            .field("window", &self.window)
            .field("reset_each_message", &self.reset_each_message)
            .finish_non_exhaustive()
    }
}

impl Deflater {
    /// A compressor at `level` whose back-references stay within 2^`window_bits` bytes,
    /// reset after every message if `reset_each_message`.
    pub(crate) fn new(level: u8, window_bits: u8, reset_each_message: bool) -> Self {
        Deflater {
            compressor: None,
            level,
            window: 1 << window_bits,
            since_reset: 0,
            message_bytes: 0,
            reset_each_message,
        }
    }

    /// The setting its output depends on: level, window bits, and whether every message
    /// starts fresh.
    pub(crate) fn setting(&self) -> (u8, u8, bool) {
        (
            self.level,
            self.window.trailing_zeros() as u8,
            self.reset_each_message,
        )
    }

    /// Compresses one fragment of a message (or a whole message with `last`), appending the
    /// compressed bytes to `out`; the last fragment's output ends without the 4-byte tail.
    pub(crate) fn compress(&mut self, mut input: &[u8], last: bool, out: &mut Vec<u8>) {
        let before = out.len();
        let (level, bits) = (self.level, self.window.trailing_zeros() as u8);
        let native = Compressor::native_window_bits(bits);
        let compressor = self
            .compressor
            .get_or_insert_with(|| pool::compressor(level, native));
        if native > bits {
            // The compressor's window is wider than allowed: reset the history every
            // `window` input bytes, so no back-reference reaches farther.
            while !input.is_empty() {
                let take = input.len().min(self.window - self.since_reset);
                self.since_reset += take;
                let flush = if self.since_reset == self.window {
                    self.since_reset = 0;
                    Flush::Full
                } else {
                    Flush::None
                };
                compressor.compress(&input[..take], flush, out);
                input = &input[take..];
            }
            if last {
                self.since_reset = 0;
                compressor.compress(&[], Flush::Full, out);
            }
        } else {
            compressor.compress(input, if last { Flush::Sync } else { Flush::None }, out);
        }
        self.message_bytes += out.len() - before;
        if last {
            if core::mem::take(&mut self.message_bytes) == 0 {
                // Nothing was pending, so the flush wrote nothing (zlib): the message is the
                // empty stored block, whose tail is stripped like every other (RFC 7692 §7.2.3.6).
                out.push(0);
            } else if out.ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            }
            if self.reset_each_message {
                if let Some(compressor) = self.compressor.take() {
                    pool::return_compressor(compressor);
                }
            }
        }
    }

    /// Whether a compressor is held between messages.
    #[cfg(test)]
    pub(crate) fn holds_context(&self) -> bool {
        self.compressor.is_some()
    }
}

/// Why inflating failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// Not a valid deflate stream.
    Invalid,
    /// The output would exceed the limit.
    TooLarge,
}

/// Decompresses incoming messages. The decompressor is allocated on first use and, when the
/// peer starts every message fresh, held only while a message is being inflated.
pub(crate) struct Inflater {
    state: Option<Box<Decompressor>>,
    reset_each_message: bool,
    /// The peer ended its deflate stream (BFINAL) inside this message; ignore the rest.
    stream_ended: bool,
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater")
            .field("reset_each_message", &self.reset_each_message)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    /// A decompressor, reset after every message if the peer does not keep its context.
    pub(crate) fn new(reset_each_message: bool) -> Self {
        Inflater {
            state: None,
            reset_each_message,
            stream_ended: false,
        }
    }

    /// Inflates a piece of a compressed message, appending to `out`; fails as soon as `out`
    /// would grow past `limit`, having produced at most one step beyond it.
    pub(crate) fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut BytesMut,
        limit: usize,
    ) -> Result<(), InflateError> {
        let state = self.state.get_or_insert_with(pool::decompressor);
        while !self.stream_ended {
            let start = out.len();
            let wanted = input
                .len()
                .saturating_mul(4)
                .clamp(MIN_INFLATE_STEP, INFLATE_STEP);
            let step = wanted.min(limit.saturating_sub(start).saturating_add(1));
            out.resize(start + step, 0);
            let result = state.inflate(input, &mut out[start..]);
            let written = result.map_or(0, |r| r.written);
            out.truncate(start + written);
            let result = result.map_err(|_| InflateError::Invalid)?;
            input = &input[result.consumed..];
            self.stream_ended = result.ended;
            if result.consumed == 0 && written == 0 && !result.ended {
                // No progress possible: all input used and all output produced.
                return Ok(());
            }
            if out.len() > limit {
                return Err(InflateError::TooLarge);
            }
            if input.is_empty() && written < step {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Ends a message: inflates the stripped tail and resets if the peer does not keep its
    /// context (or ended its stream).
    pub(crate) fn finish(&mut self, out: &mut BytesMut, limit: usize) -> Result<(), InflateError> {
        self.inflate(&TAIL, out, limit)?;
        if self.reset_each_message {
            if let Some(state) = self.state.take() {
                pool::return_decompressor(state);
            }
        } else if self.stream_ended {
            if let Some(state) = self.state.as_mut() {
                state.reset();
            }
        }
        self.stream_ended = false;
        Ok(())
    }

    /// Whether a decompressor is held between messages.
    #[cfg(test)]
    pub(crate) fn holds_context(&self) -> bool {
        self.state.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::{DeflateConfig, DeflateParams, Memory};
    use crate::role::Role;

    fn roundtrip(params: DeflateParams, messages: &[Vec<u8>]) {
        let config = DeflateConfig::default().memory(Memory::Dedicated);
        let (mut deflater, _) = params.contexts(Role::Client, &config);
        let (_, mut inflater) = params.contexts(Role::Server, &config);
        for message in messages {
            let mut wire = Vec::new();
            // Send in three fragments.
            let third = message.len() / 3;
            deflater.compress(&message[..third], false, &mut wire);
            deflater.compress(&message[third..2 * third], false, &mut wire);
            deflater.compress(&message[2 * third..], true, &mut wire);
            let mut out = BytesMut::new();
            for piece in wire.chunks(7) {
                inflater.inflate(piece, &mut out, usize::MAX).unwrap();
            }
            inflater.finish(&mut out, usize::MAX).unwrap();
            assert_eq!(&out[..], &message[..], "params {params:?}");
        }
    }

    fn sample_messages() -> Vec<Vec<u8>> {
        let json = br#"{"id":12345,"name":"ferrosocket","tags":["a","b","c"],"nested":{"x":1.5}}"#;
        vec![
            json.repeat(200),
            Vec::new(),
            Vec::new(),
            (0..70_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
                .collect(),
            json.repeat(3),
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".repeat(1000),
        ]
    }

    #[test]
    fn roundtrips_with_every_window_size_and_takeover_mode() {
        for bits in 8..=15 {
            for takeover in [false, true] {
                let params = DeflateParams {
                    client_no_context_takeover: takeover,
                    client_max_window_bits: Some(bits),
                    ..Default::default()
                };
                roundtrip(params, &sample_messages());
            }
        }
    }

    /// Walks a raw deflate stream and returns the largest back-reference distance used.
    fn max_distance(mut wire: Vec<u8>) -> usize {
        wire.extend_from_slice(&TAIL);
        let mut bits = BitReader { data: &wire, pos: 0 };
        let mut max = 0;
        while bits.pos + 3 <= wire.len() * 8 {
            let _final = bits.read(1);
            match bits.read(2) {
                0 => {
                    bits.pos = bits.pos.div_ceil(8) * 8;
                    let len = bits.read(16);
                    bits.read(16);
                    bits.pos += len * 8;
                }
                1 => max = max.max(bits.block(&fixed_tables())),
                2 => {
                    let tables = bits.dynamic_tables();
                    max = max.max(bits.block(&tables));
                }
                _ => panic!("invalid block type"),
            }
            if bits.pos + 8 > wire.len() * 8 {
                break;
            }
        }
        max
    }

    struct BitReader<'a> {
        data: &'a [u8],
        pos: usize,
    }

    type Table = Vec<(u16, u8, u16)>; // (code, length, symbol)

    fn canonical(lengths: &[u8]) -> Table {
        let mut table = Vec::new();
        let mut code = 0u16;
        for len in 1..=15u8 {
            for (symbol, &l) in lengths.iter().enumerate() {
                if l == len {
                    table.push((code, len, symbol as u16));
                    code += 1;
                }
            }
            code <<= 1;
        }
        table
    }

    fn fixed_tables() -> (Table, Table) {
        let mut lit = vec![8u8; 144];
        lit.extend([9; 112]);
        lit.extend([7; 24]);
        lit.extend([8; 8]);
        (canonical(&lit), canonical(&[5; 30]))
    }

    const LEN_BASE: [usize; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
        195, 227, 258,
    ];
    const LEN_EXTRA: [usize; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DIST_BASE: [usize; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
        3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];

    impl BitReader<'_> {
        fn read(&mut self, n: usize) -> usize {
            let mut v = 0;
            for i in 0..n {
                let bit = (self.data[self.pos / 8] >> (self.pos % 8)) & 1;
                v |= (bit as usize) << i;
                self.pos += 1;
            }
            v
        }

        fn symbol(&mut self, table: &Table) -> u16 {
            let mut code = 0u16;
            for len in 1..=15u8 {
                code = (code << 1) | self.read(1) as u16;
                if let Some(&(_, _, s)) = table.iter().find(|&&(c, l, _)| l == len && c == code) {
                    return s;
                }
            }
            panic!("bad code");
        }

        fn dynamic_tables(&mut self) -> (Table, Table) {
            let hlit = self.read(5) + 257;
            let hdist = self.read(5) + 1;
            let hclen = self.read(4) + 4;
            const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
            let mut cl = [0u8; 19];
            for &i in ORDER.iter().take(hclen) {
                cl[i] = self.read(3) as u8;
            }
            let cl_table = canonical(&cl);
            let mut lengths = Vec::new();
            while lengths.len() < hlit + hdist {
                match self.symbol(&cl_table) {
                    s @ 0..=15 => lengths.push(s as u8),
                    16 => {
                        let prev = *lengths.last().unwrap();
                        let n = 3 + self.read(2);
                        lengths.extend(core::iter::repeat_n(prev, n));
                    }
                    17 => {
                        let n = 3 + self.read(3);
                        lengths.extend(core::iter::repeat_n(0, n));
                    }
                    _ => {
                        let n = 11 + self.read(7);
                        lengths.extend(core::iter::repeat_n(0, n));
                    }
                }
            }
            (canonical(&lengths[..hlit]), canonical(&lengths[hlit..]))
        }

        fn block(&mut self, (lit, dist): &(Table, Table)) -> usize {
            let mut max = 0;
            loop {
                let s = self.symbol(lit) as usize;
                match s {
                    0..=255 => {}
                    256 => return max,
                    _ => {
                        let i = s - 257;
                        let _len = LEN_BASE[i] + self.read(LEN_EXTRA[i]);
                        let d = self.symbol(dist) as usize;
                        let extra = if d < 4 { 0 } else { d / 2 - 1 };
                        max = max.max(DIST_BASE[d] + self.read(extra));
                    }
                }
            }
        }
    }

    #[test]
    fn limited_windows_never_reach_farther_than_allowed() {
        // Repetitive data over 32 KiB invites long back-references.
        let message: Vec<u8> = br#"{"k":"v","n":[1,2,3]}"#.iter().cycle().take(100_000).copied().collect();
        let mut unlimited_max = 0;
        for bits in [8u8, 9, 12, 15] {
            let params = DeflateParams {
                server_max_window_bits: Some(bits),
                ..Default::default()
            };
            let dedicated = DeflateConfig::default().memory(Memory::Dedicated);
            let (mut deflater, _) = params.contexts(Role::Server, &dedicated);
            let mut wire = Vec::new();
            deflater.compress(&message, true, &mut wire);
            // A second message with context takeover must not reach into the first either.
            let mut second = Vec::new();
            deflater.compress(&message[..5000], true, &mut second);
            for stream in [wire, second] {
                let distance = max_distance(stream);
                assert!(distance <= 1 << bits, "bits {bits}: distance {distance}");
                if bits == 15 {
                    unlimited_max = unlimited_max.max(distance);
                }
            }
        }
        assert!(unlimited_max > 0, "the checker saw back-references");
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_limit() {
        let params = DeflateParams::default();
        let (mut deflater, _) = params.contexts(Role::Client, &DeflateConfig::default());
        let (_, mut inflater) = params.contexts(Role::Server, &DeflateConfig::default());
        let mut wire = Vec::new();
        deflater.compress(&vec![0u8; 64 << 20], true, &mut wire);
        assert!(
            wire.len() < 100_000,
            "64 MiB of zeros compress to {} bytes",
            wire.len()
        );
        let mut out = BytesMut::new();
        let limit = 1 << 20;
        assert_eq!(
            inflater.inflate(&wire, &mut out, limit),
            Err(InflateError::TooLarge)
        );
        assert!(out.len() <= limit + INFLATE_STEP, "produced {} bytes", out.len());
        assert!(
            out.capacity() <= 2 * (limit + INFLATE_STEP),
            "held {} bytes",
            out.capacity()
        );
    }

    #[test]
    fn garbage_is_invalid() {
        let (_, mut inflater) = DeflateParams::default().contexts(Role::Server, &DeflateConfig::default());
        let mut out = BytesMut::new();
        assert_eq!(
            inflater.inflate(&[0xff; 32], &mut out, 1 << 20),
            Err(InflateError::Invalid)
        );
    }

    #[test]
    fn contexts_that_start_fresh_are_not_held_between_messages() {
        let message = sample_messages().remove(0);
        for memory in [Memory::Dedicated, Memory::SharedCompressor, Memory::Minimal] {
            let config = DeflateConfig::default().memory(memory);
            let params = DeflateParams {
                server_no_context_takeover: memory != Memory::Dedicated,
                client_no_context_takeover: memory == Memory::Minimal,
                ..Default::default()
            };
            let (mut deflater, mut inflater) = params.contexts(Role::Server, &config);
            let (mut peer_deflater, mut peer_inflater) = params.contexts(Role::Client, &config);
            for _ in 0..3 {
                let mut wire = Vec::new();
                deflater.compress(&message[..100], false, &mut wire);
                assert!(deflater.holds_context(), "held within a message");
                deflater.compress(&message[100..], true, &mut wire);
                let mut out = BytesMut::new();
                peer_inflater.inflate(&wire, &mut out, usize::MAX).unwrap();
                peer_inflater.finish(&mut out, usize::MAX).unwrap();
                assert_eq!(&out[..], &message[..]);

                let mut wire = Vec::new();
                peer_deflater.compress(&message, true, &mut wire);
                let mut out = BytesMut::new();
                inflater.inflate(&wire, &mut out, usize::MAX).unwrap();
                inflater.finish(&mut out, usize::MAX).unwrap();
                assert_eq!(&out[..], &message[..]);
            }
            assert_eq!(
                deflater.holds_context(),
                memory == Memory::Dedicated,
                "{memory:?}"
            );
            assert_eq!(
                peer_inflater.holds_context(),
                memory == Memory::Dedicated,
                "{memory:?}"
            );
            assert_eq!(inflater.holds_context(), memory != Memory::Minimal, "{memory:?}");
            // A client starts fresh without asking under every profile but Dedicated.
            assert_eq!(
                peer_deflater.holds_context(),
                memory == Memory::Dedicated,
                "{memory:?}"
            );
        }
    }
}
