//! HTTP/3 framing (RFC 9114 §7): QUIC variable-length integers, frame headers, SETTINGS.

use super::H3Error;

/// DATA: the WebSocket's bytes, after the HEADERS of the extended CONNECT and its answer.
pub(crate) const DATA: u64 = 0x0;
/// HEADERS: a QPACK field section.
pub(crate) const HEADERS: u64 = 0x1;
/// SETTINGS: the first frame on a control stream.
pub(crate) const SETTINGS: u64 = 0x4;
/// GOAWAY: the peer opens no more requests (client) or accepts none past an id (server).
pub(crate) const GOAWAY: u64 = 0x7;

/// Frame types that belong on the control stream only.
pub(crate) fn is_control_only(frame_type: u64) -> bool {
    matches!(frame_type, 0x3 | SETTINGS | GOAWAY | 0xd)
}

/// HTTP/2's frame types that HTTP/3 reserves: receiving one is a connection error.
pub(crate) fn is_http2_only(frame_type: u64) -> bool {
    matches!(frame_type, 0x2 | 0x6 | 0x8 | 0x9)
}

/// Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2).
pub(crate) const CONTROL_STREAM: u64 = 0x00;
pub(crate) const PUSH_STREAM: u64 = 0x01;
pub(crate) const QPACK_ENCODER_STREAM: u64 = 0x02;
pub(crate) const QPACK_DECODER_STREAM: u64 = 0x03;

/// SETTINGS identifiers.
const QPACK_MAX_TABLE_CAPACITY: u64 = 0x01;
const MAX_FIELD_SECTION_SIZE: u64 = 0x06;
const QPACK_BLOCKED_STREAMS: u64 = 0x07;
const ENABLE_CONNECT_PROTOCOL: u64 = 0x08;

/// The largest value a varint holds.
pub(crate) const VARINT_MAX: u64 = (1 << 62) - 1;

/// Appends `value` (at most [`VARINT_MAX`]) as a QUIC varint (RFC 9000 §16).
pub(crate) fn put_varint(out: &mut Vec<u8>, value: u64) {
    debug_assert!(value <= VARINT_MAX);
    match value {
        0..=0x3f => out.push(value as u8),
        0x40..=0x3fff => out.extend_from_slice(&(value as u16 | 0x4000).to_be_bytes()),
        0x4000..=0x3fff_ffff => out.extend_from_slice(&(value as u32 | 0x8000_0000).to_be_bytes()),
        _ => out.extend_from_slice(&(value | 0xc000_0000_0000_0000).to_be_bytes()),
    }
}

/// The length of the varint that starts with `first`.
pub(crate) fn varint_len(first: u8) -> usize {
    1 << (first >> 6)
}

/// Reads a varint from the start of `bytes`: its value and length, or `None` if `bytes`
/// holds only part of it.
pub(crate) fn get_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let len = varint_len(*bytes.first()?);
    let bytes = bytes.get(..len)?;
    let value = bytes[1..]
        .iter()
        .fold(u64::from(bytes[0] & 0x3f), |value, &b| value << 8 | u64::from(b));
    Some((value, len))
}

/// A frame header: type and payload length, followed by the payload.
pub(crate) fn header(frame_type: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    put_varint(&mut out, frame_type);
    put_varint(&mut out, len as u64);
    out
}

/// A whole frame.
pub(crate) fn frame(frame_type: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = header(frame_type, payload.len());
    out.extend_from_slice(payload);
    out
}

/// The settings one side announces, as far as this crate cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Settings {
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441 §3, RFC 9220 §3): extended CONNECT
    /// may be sent to this side.
    pub(crate) enable_connect_protocol: bool,
    /// `SETTINGS_MAX_FIELD_SECTION_SIZE`: the largest field section this side accepts.
    pub(crate) max_field_section_size: Option<u64>,
}

impl Settings {
    /// The SETTINGS frame's payload. The QPACK table capacity and blocked streams stay at
    /// their default, 0: we keep no dynamic table.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.enable_connect_protocol {
            put_varint(&mut out, ENABLE_CONNECT_PROTOCOL);
            put_varint(&mut out, 1);
        }
        if let Some(size) = self.max_field_section_size {
            put_varint(&mut out, MAX_FIELD_SECTION_SIZE);
            put_varint(&mut out, size.min(VARINT_MAX));
        }
        out
    }

    /// Parses a SETTINGS payload; unknown identifiers are ignored (RFC 9114 §7.2.4), HTTP/2's
    /// and duplicates are errors.
    pub(crate) fn decode(mut payload: &[u8]) -> Result<Settings, H3Error> {
        let mut settings = Settings::default();
        let mut seen = Vec::new();
        while !payload.is_empty() {
            let (id, n) = get_varint(payload).ok_or(H3Error::Frame)?;
            let (value, m) = get_varint(&payload[n..]).ok_or(H3Error::Frame)?;
            payload = &payload[n + m..];
            if seen.contains(&id) || matches!(id, 0x00 | 0x02..=0x05) {
                return Err(H3Error::Settings);
            }
            seen.push(id);
            match id {
                ENABLE_CONNECT_PROTOCOL if value > 1 => return Err(H3Error::Settings),
                ENABLE_CONNECT_PROTOCOL => settings.enable_connect_protocol = value == 1,
                MAX_FIELD_SECTION_SIZE => settings.max_field_section_size = Some(value),
                QPACK_MAX_TABLE_CAPACITY | QPACK_BLOCKED_STREAMS => {}
                _ => {}
            }
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_every_width() {
        for value in [0, 63, 64, 16_383, 16_384, (1 << 30) - 1, 1 << 30, VARINT_MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(get_varint(&out), Some((value, out.len())));
            assert_eq!(get_varint(&out[..out.len() - 1]), None);
        }
        // RFC 9000 Appendix A.1's examples.
        assert_eq!(
            get_varint(&[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]),
            Some((151_288_809_941_952_652, 8))
        );
        assert_eq!(get_varint(&[0x9d, 0x7f, 0x3e, 0x7d]), Some((494_878_333, 4)));
        assert_eq!(get_varint(&[0x7b, 0xbd]), Some((15_293, 2)));
    }

    #[test]
    fn settings_round_trip_and_reject_http2_ids_and_duplicates() {
        let settings = Settings {
            enable_connect_protocol: true,
            max_field_section_size: Some(16_384),
        };
        assert_eq!(Settings::decode(&settings.encode()), Ok(settings));
        // Grease and unknown identifiers are ignored.
        assert_eq!(Settings::decode(&[0x40, 0x21, 0x05]), Ok(Settings::default()));
        assert_eq!(Settings::decode(&[0x02, 0x01]), Err(H3Error::Settings));
        assert_eq!(
            Settings::decode(&[0x08, 0x01, 0x08, 0x01]),
            Err(H3Error::Settings)
        );
        assert_eq!(Settings::decode(&[0x08, 0x02]), Err(H3Error::Settings));
        assert_eq!(Settings::decode(&[0x08]), Err(H3Error::Frame));
    }
}
