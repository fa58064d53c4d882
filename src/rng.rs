//! Masking keys and handshake nonces without an extra dependency.
//!
//! RFC 6455 §5.3 asks that masking keys be unpredictable to the application's peers, so that a
//! script cannot steer the bytes a proxy sees. Each generator is keyed from std's
//! `RandomState` (128 random bits drawn from the operating system once per thread, then
//! varied per instance) and produces SipHash of a counter: a keyed pseudo-random function,
//! so its outputs cannot be predicted from earlier ones without the key.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A keyed pseudo-random stream.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    key: RandomState,
    counter: u64,
}

impl Rng {
    pub(crate) fn new() -> Self {
        Rng {
            key: RandomState::new(),
            counter: 0,
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut hasher = self.key.build_hasher();
        hasher.write_u64(self.counter);
        self.counter = self.counter.wrapping_add(1);
        hasher.finish()
    }

    pub(crate) fn mask_key(&mut self) -> [u8; 4] {
        (self.next_u64() as u32).to_ne_bytes()
    }

    pub(crate) fn nonce(&mut self) -> [u8; 16] {
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&self.next_u64().to_ne_bytes());
        nonce[8..].copy_from_slice(&self.next_u64().to_ne_bytes());
        nonce
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_between_instances_and_calls() {
        let (mut a, mut b) = (Rng::new(), Rng::new());
        let xs: Vec<u64> = (0..64).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..64).map(|_| b.next_u64()).collect();
        assert_ne!(xs, ys);
        let mut sorted = xs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), xs.len());
        assert_ne!(a.nonce(), a.nonce());
    }
}
