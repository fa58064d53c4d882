//! The queue of bytes waiting for the transport.
//!
//! Small frames are copied into one contiguous buffer, so a burst of them goes out in one
//! write. A large payload the application already holds as [`Bytes`] (a server's unmasked
//! frame) is queued by reference instead: copying a megabyte costs more than the system call
//! it saves, and a vectored write sends the headers and payloads together.

use alloc::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

/// Payloads at least this long are queued by reference rather than copied.
pub(crate) const SHARE_AT_LEAST: usize = 16 * 1024;

/// The adapters hand at most this many stretches to one vectored write.
#[cfg(any(feature = "blocking", feature = "async", feature = "compio"))]
pub(crate) const MAX_IO_SLICES: usize = 32;

/// Bytes waiting for the transport, in order: every run, then the tail.
#[derive(Debug, Default)]
pub(crate) struct Outgoing {
    /// Finished runs (copied frames, shared payloads), oldest first.
    runs: VecDeque<Bytes>,
    /// Total length of `runs`.
    runs_len: usize,
    /// Where frames are copied to; it goes out after every run.
    tail: BytesMut,
}

impl Outgoing {
    /// Bytes waiting in all.
    pub(crate) fn len(&self) -> usize {
        self.runs_len + self.tail.len()
    }

    /// The buffer new frames are copied into.
    pub(crate) fn tail(&mut self) -> &mut BytesMut {
        &mut self.tail
    }

    /// Queues `bytes` by reference, after everything copied so far.
    pub(crate) fn push_shared(&mut self, bytes: Bytes) {
        if !self.tail.is_empty() {
            let run = self.tail.split().freeze();
            self.push_run(run);
        }
        self.push_run(bytes);
    }

    fn push_run(&mut self, run: Bytes) {
        if !run.is_empty() {
            self.runs_len += run.len();
            self.runs.push_back(run);
        }
    }

    /// The first contiguous stretch of waiting bytes (empty when nothing waits).
    pub(crate) fn front(&self) -> &[u8] {
        self.runs.front().map_or(&self.tail, |run| run)
    }

    /// Fills `slices` with the waiting bytes in order; returns how many slices it used.
    #[cfg(feature = "std")]
    pub(crate) fn io_slices<'a>(&'a self, slices: &mut [std::io::IoSlice<'a>]) -> usize {
        let stretches = self.runs.iter().map(|run| &run[..]).chain(Some(&self.tail[..]));
        let mut used = 0;
        for (slot, stretch) in slices.iter_mut().zip(stretches.filter(|s| !s.is_empty())) {
            *slot = std::io::IoSlice::new(stretch);
            used += 1;
        }
        used
    }

    /// Drops the first `n` waiting bytes (they were written).
    pub(crate) fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(run) = self.runs.front_mut() else {
                self.tail.advance(n.min(self.tail.len()));
                return;
            };
            let step = n.min(run.len());
            run.advance(step);
            self.runs_len -= step;
            n -= step;
            if run.is_empty() {
                self.runs.pop_front();
            }
        }
    }

    /// Takes the oldest stretch of waiting bytes, without copying.
    pub(crate) fn pop_front(&mut self) -> Option<Bytes> {
        if let Some(run) = self.runs.pop_front() {
            self.runs_len -= run.len();
            return Some(run);
        }
        (!self.tail.is_empty()).then(|| self.tail.split().freeze())
    }

    /// Takes every waiting byte as one buffer.
    pub(crate) fn take(&mut self) -> Bytes {
        if self.runs.is_empty() {
            return self.tail.split().freeze();
        }
        let mut all = BytesMut::with_capacity(self.len());
        for run in self.runs.drain(..) {
            all.extend_from_slice(&run);
        }
        all.extend_from_slice(&self.tail);
        self.runs_len = 0;
        self.tail.clear();
        all.freeze()
    }

    /// Drops everything and frees the buffers.
    pub(crate) fn clear(&mut self) {
        *self = Outgoing::default();
    }
}

#[cfg(test)]
mod tests {
    use std::io::IoSlice;

    use super::*;

    fn queue() -> Outgoing {
        let mut out = Outgoing::default();
        out.tail().extend_from_slice(b"ab");
        out.push_shared(Bytes::from_static(b"cdef"));
        out.tail().extend_from_slice(b"gh");
        out
    }

    #[test]
    fn keeps_order_across_runs_and_tail() {
        let mut out = queue();
        assert_eq!(out.len(), 8);
        assert_eq!(out.front(), b"ab");
        let mut slices = [IoSlice::new(&[]); 8];
        let used = out.io_slices(&mut slices);
        let joined: Vec<u8> = slices[..used].iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(joined, b"abcdefgh");
        assert_eq!(&out.take()[..], b"abcdefgh");
        assert_eq!(out.len(), 0);
    }

    #[test]
    fn advances_across_stretches() {
        let mut out = queue();
        out.advance(3);
        assert_eq!(out.front(), b"def");
        assert_eq!(out.len(), 5);
        out.advance(4);
        assert_eq!(out.front(), b"h");
        out.advance(10);
        assert_eq!(out.len(), 0);
        assert!(out.front().is_empty());
    }

    #[test]
    fn io_slices_stop_at_the_array_length() {
        let out = queue();
        let mut slices = [IoSlice::new(&[]); 2];
        assert_eq!(out.io_slices(&mut slices), 2);
        assert_eq!(&*slices[1], b"cdef");
    }
}
