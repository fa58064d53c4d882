//! Incremental UTF-8 validation over [`simdutf8`].
//!
//! A text message may arrive in many fragments, and a code point may straddle two of them. The
//! [`Validator`] keeps the at most three bytes of an unfinished code point between calls and
//! fails as soon as the bytes seen so far can no longer begin a valid string: an overlong
//! encoding, a surrogate or a stray continuation byte is reported on the call that delivers it,
//! not at the end of the message.

use simdutf8::{basic, compat};

/// The bytes fed to a [`Validator`] are not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

/// Validates a byte stream as UTF-8 piece by piece.
///
/// ```
/// use ferrosocket::utf8::Validator;
/// let mut v = Validator::default();
/// let euro = "€".as_bytes(); // e2 82 ac
/// v.feed(&euro[..1]).unwrap();
/// v.feed(&euro[1..]).unwrap();
/// v.finish().unwrap();
/// // 0xc0 can never start a valid sequence: rejected at once.
/// assert!(Validator::default().feed(&[b'a', 0xc0]).is_err());
/// ```
#[derive(Debug, Default, Clone)]
pub struct Validator {
    /// The start of a code point whose remaining bytes have not arrived yet.
    pending: [u8; 4],
    pending_len: usize,
}

impl Validator {
    /// Checks the next piece of the stream.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        if self.pending_len > 0 {
            let want = sequence_len(self.pending[0]) - self.pending_len;
            let take = want.min(input.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&input[..take]);
            let len = self.pending_len + take;
            match compat::from_utf8(&self.pending[..len]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_none() => {
                    // Still a valid prefix, and `input` is used up.
                    self.pending_len = len;
                    return Ok(());
                }
                Err(_) => return Err(InvalidUtf8),
            }
            input = &input[take..];
        }
        if basic::from_utf8(input).is_ok() {
            return Ok(());
        }
        match compat::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let tail = &input[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len();
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Ends the stream: fails if it stopped inside a code point. Resets for the next stream.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.pending_len == 0;
        self.pending_len = 0;
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

/// Validates a whole string at once.
pub fn validate(bytes: &[u8]) -> Result<(), InvalidUtf8> {
    basic::from_utf8(bytes).map(|_| ()).map_err(|_| InvalidUtf8)
}

/// Length of the sequence a (valid) lead byte starts.
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_agrees(bytes: &[u8]) {
        let whole = core::str::from_utf8(bytes).is_ok();
        for cut in 0..=bytes.len() {
            for cut2 in cut..=bytes.len() {
                let mut v = Validator::default();
                let ok = v.feed(&bytes[..cut]).is_ok()
                    && v.feed(&bytes[cut..cut2]).is_ok()
                    && v.feed(&bytes[cut2..]).is_ok()
                    && v.finish().is_ok();
                assert_eq!(ok, whole, "{bytes:x?} cut at {cut}/{cut2}");
            }
        }
    }

    #[test]
    fn any_split_agrees_with_std() {
        split_agrees("κόσμε".as_bytes());
        split_agrees("a€𝄞z".as_bytes());
        split_agrees(&[
            0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed,
        ]);
        split_agrees(&[0xed, 0xa0, 0x80]); // surrogate
        split_agrees(&[0xf4, 0x90, 0x80, 0x80]); // above U+10FFFF
        split_agrees(&[0xe0, 0x80, 0xaf]); // overlong
        split_agrees(&[0xf0, 0x9f, 0x98]); // truncated
    }

    #[test]
    fn fails_fast_on_the_first_impossible_byte() {
        let mut v = Validator::default();
        v.feed(&[0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5])
            .unwrap();
        // 0xed 0xa0 would start a surrogate: invalid as soon as 0xa0 arrives.
        v.feed(&[0xed]).unwrap();
        assert_eq!(v.feed(&[0xa0]), Err(InvalidUtf8));
        let mut v = Validator::default();
        assert_eq!(v.feed(&[0xf5]), Err(InvalidUtf8));
    }

    #[test]
    fn finish_rejects_a_truncated_code_point_and_resets() {
        let mut v = Validator::default();
        v.feed(&[0xe2, 0x82]).unwrap();
        assert_eq!(v.finish(), Err(InvalidUtf8));
        v.feed(b"ok").unwrap();
        assert_eq!(v.finish(), Ok(()));
    }
}
