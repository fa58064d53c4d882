//! The frame header codec (RFC 6455 §5.2).
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```
//!
//! Only the header is parsed here; what the opcode and bits mean for the connection (which RSV
//! bits an extension claims, whether masking is required) is the engine's business.

use crate::error::ProtocolError;

/// The longest header: 2 fixed bytes, 8 bytes of length, 4 bytes of masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// The longest payload a control frame may carry.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// The next fragment of a message begun by a Text or Binary frame.
    Continuation,
    /// The first (or only) frame of a UTF-8 text message.
    Text,
    /// The first (or only) frame of a binary message.
    Binary,
    /// The closing handshake.
    Close,
    /// A keep-alive or round-trip probe; answered with a Pong.
    Ping,
    /// The answer to a Ping, or an unsolicited heartbeat.
    Pong,
}

impl OpCode {
    /// Decodes the 4-bit opcode; `None` for the reserved values 3–7 and 11–15.
    pub fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// The 4-bit wire value.
    pub fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, Ping and Pong are control frames: short, never fragmented.
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// This is the last frame of its message.
    pub fin: bool,
    /// RSV1, claimed by permessage-deflate for "this message is compressed".
    pub rsv1: bool,
    /// RSV2, claimed by no extension this crate knows.
    pub rsv2: bool,
    /// RSV3, claimed by no extension this crate knows.
    pub rsv3: bool,
    /// What the frame carries.
    pub opcode: OpCode,
    /// The masking key; present exactly on frames sent by a client.
    pub mask: Option<[u8; 4]>,
    /// Length of the payload that follows the header.
    pub payload_len: u64,
}

impl Header {
    /// A final, unmasked frame header without RSV bits.
    pub fn new(opcode: OpCode, payload_len: u64) -> Self {
        Header {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// Parses a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` while `buf` holds only part of a header, and the header with its
    /// encoded length once it is complete.
    ///
    /// ```
    /// use ferrosocket::frame::{Header, OpCode};
    /// // RFC 6455 §5.7: a single-frame masked text message "Hello".
    /// let wire = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    /// let (header, len) = Header::parse(&wire).unwrap().unwrap();
    /// assert_eq!((header.opcode, header.payload_len, len), (OpCode::Text, 5, 6));
    /// assert_eq!(Header::parse(&wire[..1]).unwrap(), None);
    /// ```
    pub fn parse(buf: &[u8]) -> Result<Option<(Header, usize)>, ProtocolError> {
        let [first, second, ..] = *buf else {
            return Ok(None);
        };
        let opcode = OpCode::from_bits(first & 0x0F).ok_or(ProtocolError::ReservedOpcode(first & 0x0F))?;
        let Some((header_len, payload_len)) = extent(buf) else {
            return Ok(None);
        };
        if payload_len >> 63 != 0 {
            return Err(ProtocolError::InvalidPayloadLength);
        }
        let mask = (second & 0x80 != 0).then(|| {
            let key = &buf[header_len - 4..header_len];
            [key[0], key[1], key[2], key[3]]
        });
        let header = Header {
            fin: first & 0x80 != 0,
            rsv1: first & 0x40 != 0,
            rsv2: first & 0x20 != 0,
            rsv3: first & 0x10 != 0,
            opcode,
            mask,
            payload_len,
        };
        Ok(Some((header, header_len)))
    }

    /// Writes the header into `out` and returns how many bytes it took (2 to 14).
    ///
    /// ```
    /// use ferrosocket::frame::{Header, OpCode, MAX_HEADER_LEN};
    /// let mut out = [0u8; MAX_HEADER_LEN];
    /// let n = Header::new(OpCode::Binary, 256).encode(&mut out);
    /// assert_eq!(&out[..n], &[0x82, 0x7E, 0x01, 0x00]);
    /// ```
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = (u8::from(self.fin) << 7)
            | (u8::from(self.rsv1) << 6)
            | (u8::from(self.rsv2) << 5)
            | (u8::from(self.rsv3) << 4)
            | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut pos = match self.payload_len {
            len @ 0..=125 => {
                out[1] = mask_bit | len as u8;
                2
            }
            len @ 126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                4
            }
            len => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&len.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            out[pos..pos + 4].copy_from_slice(&key);
            pos += 4;
        }
        pos
    }
}

/// Where a frame's header ends and how long its payload says it is, whatever its bits mean:
/// `(header length, payload length)`, or `None` until the header is complete. Lets a failed
/// connection skip frames it will not read (the payload length is not checked here).
#[inline]
pub(crate) fn extent(buf: &[u8]) -> Option<(usize, u64)> {
    let [_, second, ..] = *buf else {
        return None;
    };
    let (payload_len, len_end) = match second & 0x7F {
        126 => (u64::from(u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?)), 4),
        127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?), 10),
        short => (u64::from(short), 2),
    };
    let header_len = len_end + if second & 0x80 != 0 { 4 } else { 0 };
    (buf.len() >= header_len).then_some((header_len, payload_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(header: Header) {
        let mut out = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut out);
        assert_eq!(Header::parse(&out[..n]).unwrap(), Some((header, n)));
        for cut in 0..n {
            assert_eq!(Header::parse(&out[..cut]).unwrap(), None, "cut {cut}");
        }
    }

    #[test]
    fn every_length_class_roundtrips() {
        for len in [0, 1, 125, 126, 127, 0xFFFF, 0x1_0000, u64::MAX >> 1] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let mut h = Header::new(OpCode::Binary, len);
                h.mask = mask;
                h.fin = len % 2 == 0;
                h.rsv1 = true;
                roundtrip(h);
            }
        }
    }

    #[test]
    fn rfc_6455_section_5_7_headers() {
        // Unmasked "Hello"
        let (h, n) = Header::parse(&[0x81, 0x05, b'H']).unwrap().unwrap();
        assert_eq!(
            (h.fin, h.opcode, h.payload_len, h.mask, n),
            (true, OpCode::Text, 5, None, 2)
        );
        // First fragment of an unmasked text message
        let (h, _) = Header::parse(&[0x01, 0x03]).unwrap().unwrap();
        assert_eq!((h.fin, h.opcode), (false, OpCode::Text));
        // 256 bytes binary message in a single unmasked frame
        let (h, n) = Header::parse(&[0x82, 0x7E, 0x01, 0x00]).unwrap().unwrap();
        assert_eq!((h.opcode, h.payload_len, n), (OpCode::Binary, 256, 4));
        // 64KiB binary message in a single unmasked frame
        let wire = [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0];
        let (h, n) = Header::parse(&wire).unwrap().unwrap();
        assert_eq!((h.payload_len, n), (65536, 10));
    }

    #[test]
    fn rejects_reserved_opcodes_and_huge_lengths() {
        for op in [3, 4, 5, 6, 7, 11, 12, 13, 14, 15] {
            assert_eq!(
                Header::parse(&[0x80 | op, 0]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
        let wire = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(Header::parse(&wire), Err(ProtocolError::InvalidPayloadLength));
    }
}
