//! Masking keys and handshake nonces.
//!
//! RFC 6455 §5.3 asks that masking keys be unpredictable to the application's peers, so that a
//! script cannot steer the bytes a proxy sees. With `std`, the default generator is keyed
//! from std's `RandomState` (128 random bits drawn from the operating system once per
//! thread, then varied per instance) and produces SipHash of a counter: a keyed
//! pseudo-random function, so its outputs cannot be predicted from earlier ones without the
//! key. Without `std` (or by choice) the caller supplies the source.

use alloc::boxed::Box;

/// The caller's generator: fills the buffer it is given.
type RandomSource = Box<dyn FnMut(&mut [u8]) + Send>;

/// A source of unpredictable bytes.
pub(crate) enum Rng {
    /// SipHash of a counter under an OS-seeded key.
    #[cfg(feature = "std")]
    Keyed {
        key: std::collections::hash_map::RandomState,
        counter: u64,
    },
    /// The caller's generator: fills the buffer it is given.
    Source(RandomSource),
}

impl core::fmt::Debug for Rng {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            #[cfg(feature = "std")]
            Rng::Keyed { .. } => "Rng::Keyed",
            Rng::Source(_) => "Rng::Source",
        })
    }
}

impl Rng {
    /// The default generator, keyed by the operating system.
    #[cfg(feature = "std")]
    pub(crate) fn from_os() -> Self {
        Rng::Keyed {
            key: std::collections::hash_map::RandomState::new(),
            counter: 0,
        }
    }

    /// A generator over the caller's source.
    pub(crate) fn from_source(source: impl FnMut(&mut [u8]) + Send + 'static) -> Self {
        Rng::Source(Box::new(source))
    }

    fn fill(&mut self, buf: &mut [u8]) {
        match self {
            #[cfg(feature = "std")]
            Rng::Keyed { key, counter } => {
                use std::hash::{BuildHasher, Hasher};
                for chunk in buf.chunks_mut(8) {
                    let mut hasher = key.build_hasher();
                    hasher.write_u64(*counter);
                    *counter = counter.wrapping_add(1);
                    chunk.copy_from_slice(&hasher.finish().to_ne_bytes()[..chunk.len()]);
                }
            }
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
