//! The HTTP `CONNECT` exchange with a proxy, as sans-IO code: the request's bytes out, the
//! proxy's answer in, parsed by the handshake's HTTP head parser. Each runtime only moves the
//! bytes ([`HttpConnect::wanted`] says how many to read so that none of the tunnel's own
//! bytes are taken).

use super::Step;
use crate::handshake::http::{find_head_end, parse_head, HeadLimits};
use crate::{HandshakeError, Response, Result};

/// The most a proxy's answer head may take.
const MAX_ANSWER: usize = 16 << 10;

const LIMITS: HeadLimits = HeadLimits {
    max_bytes: MAX_ANSWER,
    max_headers: 100,
};

/// One `CONNECT` exchange: [`start`](Self::start) gives the request to write, then
/// [`receive`](Self::receive) takes the answer until the tunnel is open or refused.
#[derive(Debug, Default)]
pub(crate) struct HttpConnect {
    answer: Vec<u8>,
    scanned: usize,
}

impl HttpConnect {
    /// The exchange for a tunnel to `authority` (`host:port`), and the request bytes to
    /// write to the proxy; `Proxy-Authorization` is sent when given.
    pub(crate) fn start(authority: &str, authorization: Option<&str>) -> Result<(HttpConnect, Vec<u8>)> {
        crate::handshake::check_field("Host", authority)?;
        let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(authorization) = authorization {
            crate::handshake::check_field("Proxy-Authorization", authorization)?;
            head.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
        }
        head.push_str("\r\n");
        Ok((HttpConnect::default(), head.into_bytes()))
    }

    /// How many bytes the next read may take: never more than the answer's head can still
    /// need, so nothing past it — the tunnel's first bytes — is consumed.
    pub(crate) fn wanted(&self) -> usize {
        let tail = &self.answer[self.answer.len().saturating_sub(3)..];
        match tail {
            [.., b'\r', b'\n', b'\r'] => 1,
            [.., b'\r', b'\n'] => 2,
            [.., b'\r'] => 3,
            _ => 4,
        }
    }

    /// Takes bytes read from the proxy (`&[]` at the end of its stream): [`Step::Open`] once
    /// the tunnel is open (a 2xx); a refusal is [`HandshakeError::Rejected`] with the proxy's
    /// status and headers (a 407's `Proxy-Authenticate`).
    pub(crate) fn receive(&mut self, bytes: &[u8]) -> Result<Step> {
        if bytes.is_empty() {
            return Err(HandshakeError::Incomplete.into());
        }
        self.answer.extend_from_slice(bytes);
        let Some(end) = find_head_end(&self.answer, &mut self.scanned, LIMITS)? else {
            return Ok(Step::Read);
        };
        let head = parse_head(&self.answer[..end], LIMITS)?;
        let status = head.start[1]
            .parse::<u16>()
            .ok()
            .filter(|_| head.start[0].starts_with("HTTP/1."))
            .ok_or(HandshakeError::MalformedHttp("bad proxy response"))?;
        if (200..300).contains(&status) {
            return Ok(Step::Open);
        }
        let mut response = Response::new(status);
        response.headers = head.headers;
        Err(HandshakeError::Rejected(Box::new(response)).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    /// Feeds `answer` as a runtime would: never more than `wanted` bytes at a time.
    fn exchange(answer: &[u8]) -> (Result<Step>, usize) {
        let (mut connect, _) = HttpConnect::start("example.com:443", None).unwrap();
        let mut at = 0;
        loop {
            let n = connect.wanted().min(answer.len() - at);
            let result = connect.receive(&answer[at..at + n]);
            at += n;
            if !matches!(result, Ok(Step::Read)) {
                return (result, at);
            }
        }
    }

    #[test]
    fn the_request_names_the_authority_and_the_credentials() {
        let (_, request) = HttpConnect::start("[::1]:8080", Some("Basic dTpw")).unwrap();
        assert_eq!(
            request,
            b"CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
        assert!(HttpConnect::start("a:1", Some("x\r\nInjected: 1")).is_err());
    }

    #[test]
    fn an_open_tunnel_consumes_exactly_the_answer() {
        let answer = b"HTTP/1.1 200 Connection established\r\nVia: p\r\n\r\n\x16\x03\x01";
        let (result, taken) = exchange(answer);
        assert_eq!(result.unwrap(), Step::Open);
        assert_eq!(taken, answer.len() - 3, "the tunnel's first bytes stay unread");
    }

    #[test]
    fn a_refusal_carries_status_and_headers() {
        let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n";
        match exchange(answer).0 {
            Err(Error::Handshake(HandshakeError::Rejected(response))) => {
                assert_eq!(response.status, 407);
                assert_eq!(response.headers.get("proxy-authenticate"), Some("Basic"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_cut_short_or_endless_answers_fail() {
        assert!(matches!(
            exchange(b"SSH-2.0-OpenSSH\r\n\r\n").0,
            Err(Error::Handshake(HandshakeError::MalformedHttp(_)))
        ));
        let (mut connect, _) = HttpConnect::start("a:1", None).unwrap();
        connect.receive(b"HTTP/1.1 200").unwrap();
        assert!(matches!(
            connect.receive(b""),
            Err(Error::Handshake(HandshakeError::Incomplete))
        ));
        let endless = vec![b'a'; MAX_ANSWER + 8];
        assert!(matches!(
            exchange(&endless).0,
            Err(Error::Handshake(HandshakeError::HeaderTooLarge { .. }))
        ));
    }
}
