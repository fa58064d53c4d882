//! [`Utf8Bytes`]: the text of a message, shared like [`Bytes`] and readable as a `&str` for
//! free.

use alloc::string::String;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Deref;

use bytes::Bytes;

use crate::utf8::InvalidUtf8;

/// Bytes that are known to be valid UTF-8: the payload of a text message.
///
/// It is a [`Bytes`] underneath, so it is cheap to clone and was split off the receive buffer
/// without a copy; the UTF-8 check happened once, when it was built, so [`as_str`]
/// (and `Deref<Target = str>`) costs nothing.
///
/// ```
/// use ferrosocket::Utf8Bytes;
/// let line = String::from("κόσμε");
/// let text = Utf8Bytes::from(line.as_str()); // copies; `From<String>` does not
/// assert_eq!(text, "κόσμε");
/// assert_eq!(text.chars().count(), 5); // a `str` method, through `Deref`
/// assert!(Utf8Bytes::try_from(vec![0xff]).is_err());
/// ```
///
/// [`as_str`]: Self::as_str
#[derive(Clone, Default)]
pub struct Utf8Bytes(
    // Invariant: valid UTF-8. Every constructor takes a `str`, checks, or (`from_validated`)
    // takes bytes the engine's validator accepted; nothing hands out `&mut` to the bytes.
    Bytes,
);

impl Utf8Bytes {
    /// A text that points at a `'static` string, without a copy.
    pub const fn from_static(text: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(text.as_bytes()))
    }

    /// Wraps `bytes` if they are valid UTF-8.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, InvalidUtf8> {
        crate::utf8::validate(&bytes)?;
        Ok(Utf8Bytes(bytes))
    }

    /// Wraps bytes the engine has already validated.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(crate::utf8::validate(&bytes).is_ok());
        Utf8Bytes(bytes)
    }

    /// The text, in O(1).
    pub fn as_str(&self) -> &str {
        // Re-validating here cost 108 µs per MiB (benches/engine.rs, utf8bytes_as_str_1MiB);
        // the invariant makes it unnecessary.
        #[allow(unsafe_code)]
        // SAFETY: `self.0` is valid UTF-8: every constructor of `Utf8Bytes` guarantees it (see
        // the field's comment) and the bytes are never mutated. Covered under miri by the
        // tests of this module.
        unsafe {
            core::str::from_utf8_unchecked(&self.0)
        }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The underlying [`Bytes`], shared.
    pub(crate) fn as_shared(&self) -> &Bytes {
        &self.0
    }

    /// Gives up the UTF-8 guarantee for the underlying [`Bytes`].
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<str> for Utf8Bytes {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

// Hash, Eq and Ord as the `str` it is, so `Borrow<str>` lookups (a `HashMap<Utf8Bytes, _>`
// queried with a `&str`) agree.
impl Hash for Utf8Bytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialEq for Utf8Bytes {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Utf8Bytes {}

impl PartialOrd for Utf8Bytes {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Utf8Bytes {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for Utf8Bytes {
    fn from(text: String) -> Self {
        Utf8Bytes(Bytes::from(text))
    }
}

impl From<&String> for Utf8Bytes {
    fn from(text: &String) -> Self {
        Utf8Bytes::from(text.as_str())
    }
}

/// Copies the text (use [`Utf8Bytes::from_static`] to point at a `'static` one).
impl From<&str> for Utf8Bytes {
    fn from(text: &str) -> Self {
        Utf8Bytes(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = InvalidUtf8;

    fn try_from(bytes: Bytes) -> Result<Self, InvalidUtf8> {
        Utf8Bytes::try_from_bytes(bytes)
    }
}

impl TryFrom<Vec<u8>> for Utf8Bytes {
    type Error = InvalidUtf8;

    fn try_from(bytes: Vec<u8>) -> Result<Self, InvalidUtf8> {
        Utf8Bytes::try_from_bytes(Bytes::from(bytes))
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Self {
        text.0
    }
}

impl From<Utf8Bytes> for String {
    fn from(text: Utf8Bytes) -> Self {
        String::from(text.as_str())
    }
}

macro_rules! eq_with_str {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Utf8Bytes {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }

        impl PartialEq<Utf8Bytes> for $other {
            fn eq(&self, other: &Utf8Bytes) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_with_str!(str, &str, String);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::collections::BTreeMap;

    #[test]
    fn every_constructor_keeps_the_text_readable() {
        let texts = [
            Utf8Bytes::from_static("static κόσμε"),
            Utf8Bytes::from("copied 𝄞"),
            Utf8Bytes::from("owned €".to_owned()),
            Utf8Bytes::try_from(Bytes::from_static("checked ✓".as_bytes())).unwrap(),
            Utf8Bytes::try_from("from a vec".as_bytes().to_vec()).unwrap(),
            Utf8Bytes::from_validated(Bytes::from_static(b"validated")),
            Utf8Bytes::default(),
        ];
        for text in &texts {
            assert_eq!(text.as_str().as_bytes(), text.as_bytes());
            assert_eq!(text.as_str().len(), text.len());
            assert_eq!(&**text, text.as_str());
        }
        // A slice of a multi-byte text read through `as_str`, as the receive path produces.
        let shared = Bytes::from("ab€cd".to_owned());
        let part = Utf8Bytes::try_from_bytes(shared.slice(2..5)).unwrap();
        assert_eq!(part, "€");
    }

    #[test]
    fn invalid_bytes_are_refused() {
        assert_eq!(Utf8Bytes::try_from(alloc::vec![0xe2, 0x82]), Err(InvalidUtf8));
        assert_eq!(Utf8Bytes::try_from(Bytes::from_static(&[0xff])), Err(InvalidUtf8));
    }

    #[test]
    fn compares_hashes_and_borrows_as_str() {
        let text = Utf8Bytes::from("key");
        let owned = String::from("key");
        assert_eq!(text, "key");
        assert_eq!("key", text);
        assert_eq!(text, *"key");
        assert_eq!(text, owned);
        assert_eq!(owned, text);
        let mut map = BTreeMap::new();
        map.insert(text.clone(), 1);
        assert_eq!(map.get("key"), Some(&1));
        let (a, b) = (Utf8Bytes::from_static("a"), Utf8Bytes::from_static("b"));
        assert!(a < b);
        assert_eq!(alloc::format!("{text} {text:?}"), "key \"key\"");
        assert_eq!(Bytes::from(text.clone()), Bytes::from_static(b"key"));
        assert_eq!(String::from(text), "key");
    }

    #[cfg(feature = "std")]
    #[test]
    fn hashes_like_str_for_borrowed_lookups() {
        let mut map = std::collections::HashMap::new();
        map.insert(Utf8Bytes::from("room"), 7);
        assert_eq!(map.get("room"), Some(&7));
    }
}
