//! Masking keys and handshake nonces.
//!
//! RFC 6455 §5.3 asks that masking keys be unpredictable to the application's peers, so that a
//! script cannot steer the bytes a proxy sees, and derived from a strong source of entropy.
//! With `std` they come straight from the operating system's random source (`getrandom`),
//! drawn a block at a time into a per-thread pool: one system call per 64 keys, and no buffer
//! per connection. Without `std` (or by choice) the caller supplies the source, and must give
//! a cryptographic one.

use alloc::boxed::Box;

/// The caller's generator: fills the buffer it is given.
type RandomSource = Box<dyn FnMut(&mut [u8]) + Send>;

/// A source of unpredictable bytes.
pub(crate) enum Rng {
    /// The operating system's random source, through the thread's pool.
    #[cfg(feature = "std")]
    Os,
    /// The caller's generator: fills the buffer it is given.
    Source(RandomSource),
}

impl core::fmt::Debug for Rng {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            #[cfg(feature = "std")]
            Rng::Os => "Rng::Os",
            Rng::Source(_) => "Rng::Source",
        })
    }
}

impl Rng {
    /// The operating system's random source.
    #[cfg(feature = "std")]
    pub(crate) fn from_os() -> Self {
        Rng::Os
    }

    /// A generator over the caller's source.
    pub(crate) fn from_source(source: impl FnMut(&mut [u8]) + Send + 'static) -> Self {
        Rng::Source(Box::new(source))
    }

    fn fill(&mut self, buf: &mut [u8]) {
        match self {
            #[cfg(feature = "std")]
            Rng::Os => os_pool::fill(buf),
            Rng::Source(source) => source(buf),
        }
    }

    pub(crate) fn mask_key(&mut self) -> [u8; 4] {
        let mut key = [0u8; 4];
        self.fill(&mut key);
        key
    }

    pub(crate) fn nonce(&mut self) -> [u8; 16] {
        let mut nonce = [0u8; 16];
        self.fill(&mut nonce);
        nonce
    }
}

/// The thread's pool of bytes from the operating system; each byte is handed out once.
#[cfg(feature = "std")]
mod os_pool {
    use std::cell::RefCell;

    const BLOCK: usize = 256;

    struct Pool {
        bytes: [u8; BLOCK],
        used: usize,
    }

    std::thread_local! {
        static POOL: RefCell<Pool> = const { RefCell::new(Pool { bytes: [0; BLOCK], used: BLOCK }) };
    }

    pub(super) fn fill(out: &mut [u8]) {
        POOL.with_borrow_mut(|pool| {
            for byte in out {
                if pool.used == BLOCK {
                    refill(&mut pool.bytes);
                    pool.used = 0;
                }
                *byte = pool.bytes[pool.used];
                pool.used += 1;
            }
        });
    }

    /// A new block from the operating system. Should its source ever fail (a sandbox that
    /// forbids both `getrandom(2)` and `/dev/urandom`), SipHash of a counter under std's
    /// OS-seeded `RandomState` stands in rather than failing the send.
    fn refill(block: &mut [u8; BLOCK]) {
        if getrandom::fill(block).is_ok() {
            return;
        }
        use std::hash::{BuildHasher, Hasher};
        let key = std::collections::hash_map::RandomState::new();
        for (counter, chunk) in block.chunks_mut(8).enumerate() {
            let mut hasher = key.build_hasher();
            hasher.write_usize(counter);
            chunk.copy_from_slice(&hasher.finish().to_ne_bytes());
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    #[test]
    fn streams_differ_between_instances_and_calls() {
        let (mut a, mut b) = (Rng::from_os(), Rng::from_os());
        let xs: Vec<[u8; 16]> = (0..64).map(|_| a.nonce()).collect();
        let ys: Vec<[u8; 16]> = (0..64).map(|_| b.nonce()).collect();
        assert_ne!(xs, ys);
        let mut sorted = xs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), xs.len());
        assert_ne!(a.mask_key(), a.mask_key());
    }

    #[test]
    fn a_caller_source_is_used_as_is() {
        let mut next = 0u8;
        let mut rng = Rng::from_source(move |buf: &mut [u8]| {
            for b in buf {
                next += 1;
                *b = next;
            }
        });
        assert_eq!(rng.mask_key(), [1, 2, 3, 4]);
        assert_eq!(rng.nonce()[..2], [5, 6]);
    }
}
