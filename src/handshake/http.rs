//! A minimal, bounded HTTP/1.1 message-head parser: just what the upgrade needs.

use alloc::borrow::ToOwned;
use alloc::string::String;

use super::HandshakeError;

use super::Headers;

/// Limits on the size of a message head.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadLimits {
    pub max_bytes: usize,
    pub max_headers: usize,
}

/// A parsed message head: the start line split at spaces, and the header fields.
#[derive(Debug)]
pub(crate) struct Head {
    pub start: [String; 3],
    pub headers: Headers,
}

/// Finds the end of the head (`\r\n\r\n`) in `buf`, resuming the search at `*scanned`.
///
/// Returns the head's length including the blank line, or `None` while it is incomplete.
/// Fails once the head would exceed the limit.
pub(crate) fn find_head_end(
    buf: &[u8],
    scanned: &mut usize,
    limits: HeadLimits,
) -> Result<Option<usize>, HandshakeError> {
    let start = scanned.saturating_sub(3);
    if let Some(pos) = buf[start..].windows(4).position(|w| w == b"\r\n\r\n") {
        let end = start + pos + 4;
        if end > limits.max_bytes {
            return Err(HandshakeError::HeaderTooLarge {
                max: limits.max_bytes,
            });
        }
        return Ok(Some(end));
    }
    *scanned = buf.len();
    if buf.len() >= limits.max_bytes {
        return Err(HandshakeError::HeaderTooLarge {
            max: limits.max_bytes,
        });
    }
    Ok(None)
}

/// Parses a complete head (as delimited by [`find_head_end`]).
pub(crate) fn parse_head(head: &[u8], limits: HeadLimits) -> Result<Head, HandshakeError> {
    let head = head.strip_suffix(b"\r\n\r\n").unwrap_or(head);
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let start_line = lines.next().ok_or(HandshakeError::MalformedHttp("empty head"))?;
    let start_line = core::str::from_utf8(start_line)
        .map_err(|_| HandshakeError::MalformedHttp("start line is not ASCII"))?;
    let mut parts = start_line.splitn(3, ' ');
    let mut start: [String; 3] = Default::default();
    for (i, slot) in start.iter_mut().enumerate() {
        match parts.next() {
            Some(part) => *slot = part.to_owned(),
            // A status line may omit the reason phrase.
            None if i == 2 => {}
            None => return Err(HandshakeError::MalformedHttp("start line has too few parts")),
        }
    }
    let mut headers = Headers::default();
    for line in lines {
        if headers.len() == limits.max_headers {
            return Err(HandshakeError::TooManyHeaders {
                max: limits.max_headers,
            });
        }
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            return Err(HandshakeError::MalformedHttp("obsolete line folding"));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(HandshakeError::MalformedHttp("header line without a colon"))?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_token_char(b)) {
            return Err(HandshakeError::MalformedHttp("invalid header name"));
        }
        if value.iter().any(|&b| b == b'\r' || b == 0 || b == b'\n') {
            return Err(HandshakeError::MalformedHttp("control character in header value"));
        }
        let name = String::from_utf8_lossy(name).into_owned();
        headers.append(name, latin1(value.trim_ascii()));
    }
    Ok(Head { start, headers })
}

/// Decodes a header value as ISO-8859-1, HTTP's historical charset: lossless for any byte.
fn latin1(bytes: &[u8]) -> String {
    match core::str::from_utf8(bytes) {
        Ok(s) if s.is_ascii() => s.to_owned(),
        _ => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// RFC 9110 `tchar`.
pub(crate) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: HeadLimits = HeadLimits {
        max_bytes: 1024,
        max_headers: 4,
    };

    #[test]
    fn finds_the_end_across_chunks() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nxyz";
        let mut scanned = 0;
        for cut in 0..head.len() - 3 {
            let found = find_head_end(&head[..cut], &mut scanned, LIMITS).unwrap();
            assert_eq!(found, if cut >= head.len() - 3 { Some(27) } else { None });
        }
        assert_eq!(find_head_end(head, &mut scanned, LIMITS).unwrap(), Some(27));
    }

    #[test]
    fn limits_size_and_count() {
        let mut scanned = 0;
        let big = vec![b'a'; 1024];
        assert!(matches!(
            find_head_end(&big, &mut scanned, LIMITS),
            Err(HandshakeError::HeaderTooLarge { .. })
        ));
        let many = b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\ne: 5\r\n\r\n";
        assert!(matches!(
            parse_head(many, LIMITS),
            Err(HandshakeError::TooManyHeaders { .. })
        ));
    }

    #[test]
    fn parses_fields_and_rejects_bad_ones() {
        let head = parse_head(b"GET /x?y HTTP/1.1\r\nHost:  a.b \r\nX-Y: \xe9\r\n\r\n", LIMITS).unwrap();
        assert_eq!(
            head.start,
            ["GET".to_owned(), "/x?y".to_owned(), "HTTP/1.1".to_owned()]
        );
        assert_eq!(head.headers.get("host"), Some("a.b"));
        assert_eq!(head.headers.get("x-y"), Some("é"));
        assert!(parse_head(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", LIMITS).is_err());
        assert!(parse_head(b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", LIMITS).is_err());
        assert!(parse_head(b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", LIMITS).is_err());
        assert!(parse_head(b"GET\r\n\r\n", LIMITS).is_err());
    }
}
