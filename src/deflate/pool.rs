//! Contexts lent per message to directions without context takeover.
//!
//! A compressor (about 234 KiB in `miniz_oxide`) or decompressor (about 40 KiB) that starts
//! every message fresh is needed only while a message is being encoded or decoded. Between
//! messages it goes back to a process-wide pool, already reset, so an idle connection holds
//! none and a busy process holds about one per thread. Without `std` (no lock to guard a
//! shared pool) each message allocates its own and frees it afterwards.

use alloc::boxed::Box;

use super::backend::{Compressor, Decompressor};

/// A compressor at `level` keeping a 2^`window_bits` window, from the pool if one is free.
pub(crate) fn compressor(level: u8, window_bits: u8) -> Box<Compressor> {
    match imp::COMPRESSORS.take(|c| c.window_bits() == window_bits) {
        Some(mut compressor) => {
            compressor.set_level(level);
            compressor
        }
        None => Compressor::new(level, window_bits),
    }
}

/// Gives a compressor back once its message is complete.
pub(crate) fn return_compressor(mut compressor: Box<Compressor>) {
    if imp::COMPRESSORS.has_room() {
        compressor.reset();
        imp::COMPRESSORS.give(compressor);
    }
}

/// A fresh decompressor, from the pool if one is free.
pub(crate) fn decompressor() -> Box<Decompressor> {
    imp::DECOMPRESSORS
        .take(|_| true)
        .unwrap_or_else(Decompressor::new)
}

/// Gives a decompressor back once its message is complete.
pub(crate) fn return_decompressor(mut decompressor: Box<Decompressor>) {
    if imp::DECOMPRESSORS.has_room() {
        decompressor.reset();
        imp::DECOMPRESSORS.give(decompressor);
    }
}

#[cfg(feature = "std")]
mod imp {
    use alloc::boxed::Box;
    use alloc::vec::Vec;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    use crate::deflate::backend::{Compressor, Decompressor};

    /// The most contexts of each kind kept free: enough for every thread of a busy server to
    /// find one, little enough (16 × 234 KiB) not to matter.
    const KEPT: usize = 16;

    pub(super) static COMPRESSORS: Pool<Compressor> = Pool::new();
    pub(super) static DECOMPRESSORS: Pool<Decompressor> = Pool::new();

    pub(super) struct Pool<T> {
        free: Mutex<Vec<Box<T>>>,
    }

    impl<T> Pool<T> {
        const fn new() -> Self {
            Pool {
                free: Mutex::new(Vec::new()),
            }
        }

        /// The pool holds only reset contexts, so a panic while it was locked left nothing
        /// half-done: a poisoned lock is still good.
        fn lock(&self) -> MutexGuard<'_, Vec<Box<T>>> {
            self.free.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// The most recently returned context that `fits`, if any.
        pub(super) fn take(&self, fits: impl Fn(&T) -> bool) -> Option<Box<T>> {
            let mut free = self.lock();
            let index = free.iter().rposition(|item| fits(item))?;
            Some(free.swap_remove(index))
        }

        pub(super) fn has_room(&self) -> bool {
            self.lock().len() < KEPT
        }

        pub(super) fn give(&self, item: Box<T>) {
            let mut free = self.lock();
            if free.len() < KEPT {
                free.push(item);
            }
        }
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    use alloc::boxed::Box;
    use core::marker::PhantomData;

    use crate::deflate::backend::{Compressor, Decompressor};

    pub(super) static COMPRESSORS: Pool<Compressor> = Pool(PhantomData);
    pub(super) static DECOMPRESSORS: Pool<Decompressor> = Pool(PhantomData);

    /// No pool: every message allocates its context and frees it afterwards.
    pub(super) struct Pool<T>(PhantomData<fn() -> T>);

    impl<T> Pool<T> {
        pub(super) fn take(&self, _fits: impl Fn(&T) -> bool) -> Option<Box<T>> {
            None
        }

        pub(super) fn has_room(&self) -> bool {
            false
        }

        pub(super) fn give(&self, _: Box<T>) {}
    }
}
