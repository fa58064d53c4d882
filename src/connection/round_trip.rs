//! The stamp a timed ping carries: a tag and the engine time it was sent at, which the
//! peer's pong brings back (RFC 6455 §5.5.3), so measuring the round trip keeps no state
//! per ping and works from either half of a split connection.

use core::time::Duration;

/// Marks a stamped payload, so that other pongs are not taken for one.
const TAG: [u8; 4] = *b"fsRT";

/// The payload for a ping sent at `now`.
pub(crate) fn stamp(now: Duration) -> [u8; 12] {
    let nanos = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
    let mut payload = [0; 12];
    payload[..4].copy_from_slice(&TAG);
    payload[4..].copy_from_slice(&nanos.to_be_bytes());
    payload
}

/// When the ping this pong answers was sent, if the payload is a stamp.
pub(crate) fn sent_at(payload: &[u8]) -> Option<Duration> {
    let nanos = payload.strip_prefix(&TAG)?;
    let nanos: [u8; 8] = nanos.try_into().ok()?;
    Some(Duration::from_nanos(u64::from_be_bytes(nanos)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_and_nothing_else_reads_as_one() {
        let now = Duration::new(86_400 * 365, 123_456_789);
        assert_eq!(sent_at(&stamp(now)), Some(now));
        assert_eq!(sent_at(b""), None);
        assert_eq!(sent_at(&stamp(now)[..11]), None);
        assert_eq!(sent_at(b"fsRX\0\0\0\0\0\0\0\x01"), None);
    }
}
