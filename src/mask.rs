//! Payload masking (RFC 6455 §5.3).
//!
//! Masking is an XOR with a repeating 4-byte key. It is applied to every byte a client sends, so
//! it sits on the hot path: the bulk of the buffer is processed in fixed 64-byte blocks that the
//! compiler turns into SIMD XORs (plain SSE2 on baseline x86-64), with a scalar tail.

/// Size of the blocks the vectorised loop works on.
const BLOCK: usize = 64;

/// XORs `buf` with `key`, as if `buf` started `offset` bytes into the masked payload.
///
/// Masking is its own inverse, so the same call masks and unmasks. The `offset` lets a payload
/// that arrives in pieces be unmasked piece by piece.
///
/// ```
/// let key = [1, 2, 3, 4];
/// let mut data = *b"Hello, world";
/// ferrosocket::mask::apply(&mut data, key, 0);
/// // unmask in two pieces
/// let (a, b) = data.split_at_mut(5);
/// ferrosocket::mask::apply(a, key, 0);
/// ferrosocket::mask::apply(b, key, 5);
/// assert_eq!(&data, b"Hello, world");
/// ```
pub fn apply(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    let mut pattern = [0u8; BLOCK];
    for (i, byte) in pattern.iter_mut().enumerate() {
        *byte = key[i % 4];
    }
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        for (byte, k) in block.iter_mut().zip(pattern.iter()) {
            *byte ^= k;
        }
    }
    // BLOCK is a multiple of 4, so the tail starts at key index 0 again.
    for (byte, k) in blocks.into_remainder().iter_mut().zip(pattern.iter()) {
        *byte ^= k;
    }
}

/// The key as seen from `offset` bytes into the payload.
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let mut rotated = key;
    rotated.rotate_left(offset % 4);
    rotated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(i + offset) % 4];
        }
    }

    #[test]
    fn matches_naive_loop_for_every_length_and_offset() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..200 {
            for offset in 0..8 {
                let original: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut fast = original.clone();
                let mut slow = original.clone();
                apply(&mut fast, key, offset);
                naive(&mut slow, key, offset);
                assert_eq!(fast, slow, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn rfc_6455_example() {
        // §5.7: "Hello" masked with 37 fa 21 3d.
        let mut data = *b"Hello";
        apply(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }
}
