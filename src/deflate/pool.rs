//! Contexts lent per message to directions without context takeover.
//!
//! A compressor (about 234 KiB in `miniz_oxide`) or decompressor (about 43 KiB) that starts
//! every message fresh is needed only while a message is being encoded or decoded. Between
//! messages it goes back to a process-wide pool, already reset, so an idle connection holds
//! none and a busy process holds about one per thread. Without `std` (no lock to guard a
//! shared pool) each message allocates its own and frees it afterwards.

use alloc::boxed::Box;

use miniz_oxide::deflate::core::{create_comp_flags_from_zip_params, CompressorOxide};
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::DataFormat;

/// A new raw-deflate compressor at `level`, from the pool if one is free.
pub(crate) fn compressor(level: u8) -> Box<CompressorOxide> {
    match imp::COMPRESSORS.take() {
        Some(mut compressor) => {
            compressor.set_format_and_level(DataFormat::Raw, level);
            compressor
        }
        None => Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
            i32::from(level),
            -15,
            0,
        ))),
    }
}

/// Gives a compressor back once its message is complete.
pub(crate) fn return_compressor(mut compressor: Box<CompressorOxide>) {
    if imp::COMPRESSORS.has_room() {
        compressor.reset();
        imp::COMPRESSORS.give(compressor);
    }
}

/// A new raw-deflate decompressor, from the pool if one is free.
pub(crate) fn decompressor() -> Box<InflateState> {
    imp::DECOMPRESSORS
        .take()
        .unwrap_or_else(|| InflateState::new_boxed(DataFormat::Raw))
}

/// Gives a decompressor back once its message is complete.
pub(crate) fn return_decompressor(mut state: Box<InflateState>) {
    if imp::DECOMPRESSORS.has_room() {
        state.reset(DataFormat::Raw);
        imp::DECOMPRESSORS.give(state);
    }
}

#[cfg(feature = "std")]
mod imp {
    use alloc::boxed::Box;
    use alloc::vec::Vec;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    use miniz_oxide::deflate::core::CompressorOxide;
    use miniz_oxide::inflate::stream::InflateState;

    /// The most contexts of each kind kept free: enough for every thread of a busy server to
    /// find one, little enough (16 × 234 KiB) not to matter.
    const KEPT: usize = 16;

    pub(super) static COMPRESSORS: Pool<CompressorOxide> = Pool::new();
    pub(super) static DECOMPRESSORS: Pool<InflateState> = Pool::new();

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

        pub(super) fn take(&self) -> Option<Box<T>> {
            self.lock().pop()
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

    use miniz_oxide::deflate::core::CompressorOxide;
    use miniz_oxide::inflate::stream::InflateState;

    pub(super) static COMPRESSORS: Pool<CompressorOxide> = Pool(PhantomData);
    pub(super) static DECOMPRESSORS: Pool<InflateState> = Pool(PhantomData);

    /// No pool: every message allocates its context and frees it afterwards.
    pub(super) struct Pool<T>(PhantomData<fn() -> T>);

    impl<T> Pool<T> {
        pub(super) fn take(&self) -> Option<Box<T>> {
            None
        }

        pub(super) fn has_room(&self) -> bool {
            false
        }

        pub(super) fn give(&self, _: Box<T>) {}
    }
}
