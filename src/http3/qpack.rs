//! QPACK (RFC 9204) as this crate speaks it: no dynamic table. We announce a table capacity
//! of 0, so a peer may only use the static table and literals; we encode literals only.
//! Enough for the few fields of an extended CONNECT and its answer, with nothing to keep in
//! step between streams.

use super::H3Error;

/// A decoded field line: name and value, as sent (names lowercase by HTTP/3's rules).
pub(crate) type Field = (Vec<u8>, Vec<u8>);

/// Encodes `fields` as a field section: the prefix (no dynamic table: 0, 0) and one literal
/// field line with a literal name each, without Huffman coding.
pub(crate) fn encode<'a>(fields: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Vec<u8> {
    let mut out = vec![0, 0];
    for (name, value) in fields {
        // 001 N H, then the name's length on a 3-bit prefix.
        put_int(&mut out, 0b0010_0000, 3, name.len() as u64);
        out.extend_from_slice(name);
        // H, then the value's length on a 7-bit prefix.
        put_int(&mut out, 0, 7, value.len() as u64);
        out.extend_from_slice(value);
    }
    out
}

/// Decodes a field section. Each field counts its name, value and 32 bytes against `limit`
/// (RFC 9114 §4.2.2), checked before any string is decoded.
pub(crate) fn decode(block: &[u8], limit: u64) -> Result<Vec<Field>, H3Error> {
    let mut input = Input { bytes: block, pos: 0 };
    // The Required Insert Count must be 0 without a dynamic table; the Delta Base is moot.
    if input.int(8)? != 0 {
        return Err(H3Error::QpackDynamicReference);
    }
    input.int(7)?;
    let mut fields = Vec::new();
    let mut size = 0u64;
    let mut count = |name: &[u8], value: &[u8]| {
        size = size.saturating_add(name.len() as u64 + value.len() as u64 + 32);
        if size > limit {
            Err(H3Error::FieldSectionTooLarge)
        } else {
            Ok(())
        }
    };
    while let Some(first) = input.peek() {
        let field = if first & 0x80 != 0 {
            // 1 T index(6): an indexed field line.
            if first & 0x40 == 0 {
                return Err(H3Error::QpackDynamicReference);
            }
            let (name, value) = static_entry(input.int(6)?)?;
            (name.to_vec(), value.to_vec())
        } else if first & 0x40 != 0 {
            // 0 1 N T index(4): a literal value with a name reference.
            if first & 0x10 == 0 {
                return Err(H3Error::QpackDynamicReference);
            }
            let (name, _) = static_entry(input.int(4)?)?;
            let value = input.string(7, limit)?;
            (name.to_vec(), value)
        } else if first & 0x20 != 0 {
            // 0 0 1 N H length(3): a literal name and value.
            let name = input.string(3, limit)?;
            let value = input.string(7, limit)?;
            (name, value)
        } else {
            // 0001 / 0000: post-base references, only meaningful with a dynamic table.
            return Err(H3Error::QpackDynamicReference);
        };
        count(&field.0, &field.1)?;
        fields.push(field);
    }
    Ok(fields)
}

fn static_entry(index: u64) -> Result<(&'static [u8], &'static [u8]), H3Error> {
    let (name, value) = STATIC_TABLE.get(index as usize).ok_or(H3Error::QpackBadIndex)?;
    Ok((name.as_bytes(), value.as_bytes()))
}

/// Appends an integer with an `prefix`-bit prefix (RFC 7541 §5.1) to `out`, the byte's
/// other bits set to `flags`.
fn put_int(out: &mut Vec<u8>, flags: u8, prefix: u32, mut value: u64) {
    let max = (1u64 << prefix) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    value -= max;
    while value >= 0x80 {
        out.push(0x80 | (value & 0x7f) as u8);
        value >>= 7;
    }
    out.push(value as u8);
}

struct Input<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn byte(&mut self) -> Result<u8, H3Error> {
        let byte = self.peek().ok_or(H3Error::QpackTruncated)?;
        self.pos += 1;
        Ok(byte)
    }

    /// An integer on a `prefix`-bit prefix of the next byte (RFC 7541 §5.1).
    fn int(&mut self, prefix: u32) -> Result<u64, H3Error> {
        let max = (1u64 << prefix) - 1;
        let value = u64::from(self.byte()?) & max;
        if value < max {
            return Ok(value);
        }
        let mut value = max;
        let mut shift = 0;
        loop {
            let byte = self.byte()?;
            // 62 bits are plenty (QUIC's varints); more is an attack, not a header.
            let part = u64::from(byte & 0x7f) << shift;
            if shift > 56 || part >> shift != u64::from(byte & 0x7f) {
                return Err(H3Error::QpackTruncated);
            }
            value = value.checked_add(part).ok_or(H3Error::QpackTruncated)?;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    /// A string literal whose Huffman flag sits just above a `prefix`-bit length.
    fn string(&mut self, prefix: u32, limit: u64) -> Result<Vec<u8>, H3Error> {
        let huffman = self.peek().ok_or(H3Error::QpackTruncated)? & (1 << prefix) != 0;
        let len = self.int(prefix)?;
        if len > limit {
            return Err(H3Error::FieldSectionTooLarge);
        }
        let end = self
            .pos
            .checked_add(len as usize)
            .filter(|&end| end <= self.bytes.len());
        let raw = &self.bytes[self.pos..end.ok_or(H3Error::QpackTruncated)?];
        self.pos += raw.len();
        if huffman {
            huffman_decode(raw)
        } else {
            Ok(raw.to_vec())
        }
    }
}

/// Decodes HPACK's Huffman code (RFC 7541 Appendix B). The code is canonical, so the code
/// lengths alone define it: codes of one length are consecutive, in symbol order.
fn huffman_decode(input: &[u8]) -> Result<Vec<u8>, H3Error> {
    let mut out = Vec::with_capacity(input.len() * 8 / 5);
    let (mut code, mut len) = (0u32, 0usize);
    for byte in input {
        for bit in (0..8).rev() {
            code = (code << 1) | u32::from(byte >> bit & 1);
            len += 1;
            let offset = code.wrapping_sub(HUFFMAN.first[len]);
            if offset < u32::from(HUFFMAN.count[len]) {
                let symbol = HUFFMAN.symbols[usize::from(HUFFMAN.start[len]) + offset as usize];
                if symbol == 256 {
                    return Err(H3Error::QpackBadHuffman); // EOS inside a string
                }
                out.push(symbol as u8);
                (code, len) = (0, 0);
            } else if len >= 30 {
                return Err(H3Error::QpackBadHuffman);
            }
        }
    }
    // Padding: fewer than 8 bits, all ones (a prefix of EOS).
    if len > 7 || code != (1 << len) - 1 {
        return Err(H3Error::QpackBadHuffman);
    }
    Ok(out)
}

/// The canonical Huffman code by length: per length, the first code, how many codes, and
/// where their symbols start in `symbols` (sorted by length, then symbol).
struct Canonical {
    first: [u32; 31],
    count: [u16; 31],
    start: [u16; 31],
    symbols: [u16; 257],
}

const HUFFMAN: Canonical = canonical();

const fn canonical() -> Canonical {
    let mut c = Canonical {
        first: [0; 31],
        count: [0; 31],
        start: [0; 31],
        symbols: [0; 257],
    };
    let mut symbol = 0;
    while symbol < 257 {
        c.count[HUFFMAN_LENGTHS[symbol] as usize] += 1;
        symbol += 1;
    }
    let (mut len, mut next, mut at) = (1, 0u32, 0u16);
    while len < 31 {
        c.first[len] = next;
        c.start[len] = at;
        next = (next + c.count[len] as u32) << 1;
        at += c.count[len];
        len += 1;
    }
    let mut filled = [0u16; 31];
    symbol = 0;
    while symbol < 257 {
        let len = HUFFMAN_LENGTHS[symbol] as usize;
        c.symbols[(c.start[len] + filled[len]) as usize] = symbol as u16;
        filled[len] += 1;
        symbol += 1;
    }
    c
}

/// The code length of each symbol (256 is EOS), RFC 7541 Appendix B.
const HUFFMAN_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6,
    6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7,
    8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7,
    15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24,
    23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23,
    23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26,
    26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20,
    21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27,
    27, 27, 26, 30,
];

/// The static table, RFC 9204 Appendix A.
const STATIC_TABLE: [(&str, &str); 99] = [
    (":authority", ""),
    (":path", "/"),
    ("age", "0"),
    ("content-disposition", ""),
    ("content-length", "0"),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("referer", ""),
    ("set-cookie", ""),
    (":method", "CONNECT"),
    (":method", "DELETE"),
    (":method", "GET"),
    (":method", "HEAD"),
    (":method", "OPTIONS"),
    (":method", "POST"),
    (":method", "PUT"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "103"),
    (":status", "200"),
    (":status", "304"),
    (":status", "404"),
    (":status", "503"),
    ("accept", "*/*"),
    ("accept", "application/dns-message"),
    ("accept-encoding", "gzip, deflate, br"),
    ("accept-ranges", "bytes"),
    ("access-control-allow-headers", "cache-control"),
    ("access-control-allow-headers", "content-type"),
    ("access-control-allow-origin", "*"),
    ("cache-control", "max-age=0"),
    ("cache-control", "max-age=2592000"),
    ("cache-control", "max-age=604800"),
    ("cache-control", "no-cache"),
    ("cache-control", "no-store"),
    ("cache-control", "public, max-age=31536000"),
    ("content-encoding", "br"),
    ("content-encoding", "gzip"),
    ("content-type", "application/dns-message"),
    ("content-type", "application/javascript"),
    ("content-type", "application/json"),
    ("content-type", "application/x-www-form-urlencoded"),
    ("content-type", "image/gif"),
    ("content-type", "image/jpeg"),
    ("content-type", "image/png"),
    ("content-type", "text/css"),
    ("content-type", "text/html; charset=utf-8"),
    ("content-type", "text/plain"),
    ("content-type", "text/plain;charset=utf-8"),
    ("range", "bytes=0-"),
    ("strict-transport-security", "max-age=31536000"),
    ("strict-transport-security", "max-age=31536000; includesubdomains"),
    (
        "strict-transport-security",
        "max-age=31536000; includesubdomains; preload",
    ),
    ("vary", "accept-encoding"),
    ("vary", "origin"),
    ("x-content-type-options", "nosniff"),
    ("x-xss-protection", "1; mode=block"),
    (":status", "100"),
    (":status", "204"),
    (":status", "206"),
    (":status", "302"),
    (":status", "400"),
    (":status", "403"),
    (":status", "421"),
    (":status", "425"),
    (":status", "500"),
    ("accept-language", ""),
    ("access-control-allow-credentials", "FALSE"),
    ("access-control-allow-credentials", "TRUE"),
    ("access-control-allow-headers", "*"),
    ("access-control-allow-methods", "get"),
    ("access-control-allow-methods", "get, post, options"),
    ("access-control-allow-methods", "options"),
    ("access-control-expose-headers", "content-length"),
    ("access-control-request-headers", "content-type"),
    ("access-control-request-method", "get"),
    ("access-control-request-method", "post"),
    ("alt-svc", "clear"),
    ("authorization", ""),
    (
        "content-security-policy",
        "script-src 'none'; object-src 'none'; base-uri 'none'",
    ),
    ("early-data", "1"),
    ("expect-ct", ""),
    ("forwarded", ""),
    ("if-range", ""),
    ("origin", ""),
    ("purpose", "prefetch"),
    ("server", ""),
    ("timing-allow-origin", "*"),
    ("upgrade-insecure-requests", "1"),
    ("user-agent", ""),
    ("x-forwarded-for", ""),
    ("x-frame-options", "deny"),
    ("x-frame-options", "sameorigin"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_round_trip() {
        let long = vec![b'x'; 300];
        let block = encode([(&b":method"[..], &b"CONNECT"[..]), (b"x-long", &long)]);
        let fields = decode(&block, 4096).unwrap();
        assert_eq!(
            fields,
            vec![
                (b":method".to_vec(), b"CONNECT".to_vec()),
                (b"x-long".to_vec(), long)
            ]
        );
    }

    #[test]
    fn static_references_and_huffman_decode() {
        // RFC 9204 Appendix B.1: ":path" "/index.html" as a literal with a static name
        // reference; then ":method CONNECT" indexed (static 15).
        let block = [
            0x00, 0x00, 0x51, 0x0b, b'/', b'i', b'n', b'd', b'e', b'x', b'.', b'h', b't', b'm', b'l', 0xcf,
        ];
        let fields = decode(&block, 4096).unwrap();
        assert_eq!(fields[0], (b":path".to_vec(), b"/index.html".to_vec()));
        assert_eq!(fields[1], (b":method".to_vec(), b"CONNECT".to_vec()));
        // RFC 7541 C.4.1: "www.example.com" Huffman-coded.
        let coded = [
            0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
        ];
        assert_eq!(huffman_decode(&coded).unwrap(), b"www.example.com");
        // RFC 7541 C.4.2: "no-cache".
        assert_eq!(
            huffman_decode(&[0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf]).unwrap(),
            b"no-cache"
        );
    }

    #[test]
    fn bad_sections_are_typed_errors() {
        assert!(matches!(
            decode(&[0x01, 0x00], 4096),
            Err(H3Error::QpackDynamicReference)
        ));
        assert!(matches!(
            decode(&[0x00, 0x00, 0x80], 4096),
            Err(H3Error::QpackDynamicReference)
        ));
        assert!(matches!(
            decode(&[0x00, 0x00, 0xff, 0x30], 4096),
            Err(H3Error::QpackBadIndex)
        ));
        assert!(matches!(
            decode(&[0x00, 0x00, 0x27, 0x05, b'a'], 4096),
            Err(H3Error::QpackTruncated)
        ));
        assert!(matches!(
            decode(
                &[0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
                4096
            ),
            Err(H3Error::QpackTruncated)
        ));
        // Padding longer than 7 bits, and padding that is not all ones.
        assert!(matches!(
            huffman_decode(&[0xff, 0xff]),
            Err(H3Error::QpackBadHuffman)
        ));
        assert!(matches!(huffman_decode(&[0x00]), Err(H3Error::QpackBadHuffman)));
        let big = encode([(&b"a"[..], &[b'v'; 5000][..])]);
        assert!(matches!(decode(&big, 4096), Err(H3Error::FieldSectionTooLarge)));
    }

    #[test]
    fn every_byte_decodes_from_its_canonical_code() {
        // Encode each symbol with the canonical code, padded with ones, and decode it back.
        for (symbol, &len) in HUFFMAN_LENGTHS[..256].iter().enumerate() {
            let len = usize::from(len);
            let offset = HUFFMAN.symbols[usize::from(HUFFMAN.start[len])..]
                .iter()
                .position(|&s| s as usize == symbol)
                .unwrap();
            let code = u64::from(HUFFMAN.first[len]) + offset as u64;
            let padded_len = len.div_ceil(8) * 8;
            let bits = (code << (padded_len - len)) | ((1 << (padded_len - len)) - 1);
            let bytes: Vec<u8> = (0..padded_len / 8)
                .rev()
                .map(|i| (bits >> (i * 8)) as u8)
                .collect();
            assert_eq!(
                huffman_decode(&bytes).unwrap(),
                vec![symbol as u8],
                "symbol {symbol}"
            );
        }
    }
}
