//! The SOCKS5 `CONNECT` exchange (RFC 1928, with RFC 1929's username and password), as
//! sans-IO code. Every answer from the proxy has a length known from its first bytes, so
//! [`Socks5::wanted`] always asks for exactly what the current answer still lacks and the
//! tunnel's own first bytes are never read here.

use std::net::IpAddr;

use super::Step;
use crate::{ProxyError, Result};

const VERSION: u8 = 5;
const NO_AUTHENTICATION: u8 = 0x00;
const USERNAME_PASSWORD: u8 = 0x02;
const NO_ACCEPTABLE_METHOD: u8 = 0xff;
const CONNECT: u8 = 1;
const IPV4: u8 = 1;
const DOMAIN: u8 = 3;
const IPV6: u8 = 4;

/// Where the tunnel goes: a name the proxy resolves (`socks5h://`), or an address resolved here
/// (`socks5://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    Name(String),
    Address(IpAddr),
}

/// Which answer the exchange waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    /// The method the proxy chose: version and method.
    Method,
    /// The verdict on username and password: version and status.
    Authentication,
    /// The reply's fixed part up to the first byte of the bound address, which gives the
    /// address's length.
    ReplyHead,
    /// The rest of the bound address and its port.
    ReplyTail,
}

/// One SOCKS5 exchange: [`start`](Self::start) gives the greeting to write, then
/// [`receive`](Self::receive) takes each answer and says what to write next.
#[derive(Debug)]
pub(crate) struct Socks5 {
    awaiting: Awaiting,
    /// The bytes the current answer takes in all.
    needed: usize,
    answer: Vec<u8>,
    /// RFC 1929's sub-negotiation, ready to send if the proxy asks for it.
    authentication: Option<Vec<u8>>,
    connect: Vec<u8>,
}

impl Socks5 {
    /// The exchange for a tunnel to `destination:port`, and the greeting to write. With
    /// `credentials` (username, password) both methods are offered; the proxy chooses.
    pub(crate) fn start(
        destination: &Destination,
        port: u16,
        credentials: Option<(&[u8], &[u8])>,
    ) -> Result<(Socks5, Vec<u8>)> {
        let mut connect = vec![VERSION, CONNECT, 0];
        match destination {
            Destination::Address(IpAddr::V4(ip)) => {
                connect.push(IPV4);
                connect.extend_from_slice(&ip.octets());
            }
            Destination::Address(IpAddr::V6(ip)) => {
                connect.push(IPV6);
                connect.extend_from_slice(&ip.octets());
            }
            Destination::Name(name) => {
                connect.extend_from_slice(&[DOMAIN, short("host name", name.as_bytes())?]);
                connect.extend_from_slice(name.as_bytes());
            }
        }
        connect.extend_from_slice(&port.to_be_bytes());
        let authentication = credentials
            .map(|(username, password)| {
                let mut message = vec![1, short("username", username)?];
                message.extend_from_slice(username);
                message.push(short("password", password)?);
                message.extend_from_slice(password);
                Ok::<_, ProxyError>(message)
            })
            .transpose()?;
        let greeting = match authentication {
            Some(_) => vec![VERSION, 2, NO_AUTHENTICATION, USERNAME_PASSWORD],
            None => vec![VERSION, 1, NO_AUTHENTICATION],
        };
        let socks = Socks5 {
            awaiting: Awaiting::Method,
            needed: 2,
            answer: Vec::with_capacity(32),
            authentication,
            connect,
        };
        Ok((socks, greeting))
    }

    /// How many bytes the next read may take: exactly what the current answer still lacks.
    pub(crate) fn wanted(&self) -> usize {
        self.needed - self.answer.len()
    }

    /// Takes bytes read from the proxy (`&[]` at the end of its stream), never more than
    /// [`wanted`](Self::wanted); says what to do next.
    pub(crate) fn receive(&mut self, bytes: &[u8]) -> Result<Step> {
        if bytes.is_empty() {
            return Err(ProxyError::Malformed("the proxy closed the connection").into());
        }
        debug_assert!(bytes.len() <= self.wanted(), "read past the answer");
        self.answer.extend_from_slice(bytes);
        if self.answer.len() < self.needed {
            return Ok(Step::Read);
        }
        let answer = std::mem::take(&mut self.answer);
        match self.awaiting {
            Awaiting::Method => {
                if answer[0] != VERSION {
                    return Err(ProxyError::Malformed("not a SOCKS5 proxy").into());
                }
                match (answer[1], self.authentication.take()) {
                    (NO_AUTHENTICATION, _) => Ok(self.send_connect()),
                    (USERNAME_PASSWORD, Some(authentication)) => {
                        self.expect(Awaiting::Authentication, 2);
                        Ok(Step::Write(authentication))
                    }
                    (NO_ACCEPTABLE_METHOD, _) => Err(ProxyError::NoAcceptableMethod.into()),
                    _ => Err(ProxyError::Malformed("the proxy chose a method not offered").into()),
                }
            }
            Awaiting::Authentication => match answer[1] {
                0 => Ok(self.send_connect()),
                _ => Err(ProxyError::AuthenticationFailed.into()),
            },
            Awaiting::ReplyHead => {
                if answer[0] != VERSION {
                    return Err(ProxyError::Malformed("a reply that is not SOCKS5").into());
                }
                if answer[1] != 0 {
                    return Err(ProxyError::Refused(answer[1]).into());
                }
                // The head holds the address's first byte; the tail is the rest and the port.
                let tail = match answer[3] {
                    IPV4 => 4 - 1 + 2,
                    IPV6 => 16 - 1 + 2,
                    DOMAIN => usize::from(answer[4]) + 2,
                    _ => return Err(ProxyError::Malformed("an unknown address type").into()),
                };
                self.expect(Awaiting::ReplyTail, tail);
                Ok(Step::Read)
            }
            Awaiting::ReplyTail => Ok(Step::Open),
        }
    }

    fn send_connect(&mut self) -> Step {
        self.expect(Awaiting::ReplyHead, 5);
        Step::Write(std::mem::take(&mut self.connect))
    }

    fn expect(&mut self, answer: Awaiting, length: usize) {
        self.awaiting = answer;
        self.needed = length;
    }
}

/// `field`'s length as SOCKS5's one length byte.
fn short(field: &'static str, bytes: &[u8]) -> Result<u8, ProxyError> {
    u8::try_from(bytes.len()).map_err(|_| ProxyError::TooLong(field))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    /// Plays the proxy's `answers` to an exchange, one byte at a time, and returns the bytes
    /// the client wrote and the outcome.
    fn play(start: (Socks5, Vec<u8>), answers: &[u8]) -> (Vec<u8>, Result<Step>) {
        let (mut socks, mut written) = start;
        let mut at = 0;
        loop {
            let n = socks.wanted().min(1).min(answers.len() - at);
            let step = socks.receive(&answers[at..at + n]);
            at += n;
            match step {
                Ok(Step::Read) => {}
                Ok(Step::Write(bytes)) => written.extend_from_slice(&bytes),
                other => {
                    assert_eq!(at, answers.len(), "every answer byte is taken, and no more");
                    return (written, other);
                }
            }
        }
    }

    #[test]
    fn a_name_goes_to_the_proxy_without_authentication() {
        let start = Socks5::start(&Destination::Name("example.com".into()), 443, None).unwrap();
        let answers = [&[5, 0][..], &[5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90]].concat();
        let (written, outcome) = play(start, &answers);
        assert_eq!(outcome.unwrap(), Step::Open);
        let connect = [&[5, 1, 0, 3, 11][..], b"example.com", &[1, 187]].concat();
        assert_eq!(written, [&[5, 1, 0][..], &connect].concat());
    }

    #[test]
    fn credentials_are_sent_when_the_proxy_asks_for_them() {
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let start = Socks5::start(&Destination::Address(ip), 80, Some((b"user", b"secret"))).unwrap();
        let reply_with_name = [&[5, 0, 0, 3, 5][..], b"proxy", &[0, 80]].concat();
        let answers = [&[5, 2][..], &[1, 0], &reply_with_name].concat();
        let (written, outcome) = play(start, &answers);
        assert_eq!(outcome.unwrap(), Step::Open);
        let greeting = [5, 2, 0, 2];
        let authentication = [&[1, 4][..], b"user", &[6], b"secret"].concat();
        let connect = [&[5, 1, 0, 4][..], &ip_octets(ip), &[0, 80]].concat();
        assert_eq!(written, [&greeting[..], &authentication, &connect].concat());
    }

    fn ip_octets(ip: IpAddr) -> Vec<u8> {
        match ip {
            IpAddr::V4(ip) => ip.octets().to_vec(),
            IpAddr::V6(ip) => ip.octets().to_vec(),
        }
    }

    #[test]
    fn refusals_are_typed() {
        let name = || Destination::Name("a.example".into());
        let outcome =
            |answers: &[u8], credentials| play(Socks5::start(&name(), 1, credentials).unwrap(), answers).1;
        let expect = |result: Result<Step>, wanted: ProxyError| match result {
            Err(Error::Proxy(error)) => assert_eq!(error, wanted),
            other => panic!("{other:?}"),
        };
        expect(outcome(&[5, 0xff], None), ProxyError::NoAcceptableMethod);
        expect(
            outcome(&[5, 2], None),
            ProxyError::Malformed("the proxy chose a method not offered"),
        );
        expect(
            outcome(&[5, 2, 1, 1], Some((b"u", b"p"))),
            ProxyError::AuthenticationFailed,
        );
        expect(outcome(&[5, 0, 5, 5, 0, 1, 0], None), ProxyError::Refused(5));
        expect(
            outcome(&[4, 0x5a], None),
            ProxyError::Malformed("not a SOCKS5 proxy"),
        );
        expect(
            outcome(&[5, 0, 5, 0, 0, 9, 0], None),
            ProxyError::Malformed("an unknown address type"),
        );
        expect(
            outcome(&[5], None),
            ProxyError::Malformed("the proxy closed the connection"),
        );
    }

    #[test]
    fn fields_over_255_bytes_are_refused_before_anything_is_sent() {
        let long = "a".repeat(256);
        let error = Socks5::start(&Destination::Name(long.clone()), 1, None).unwrap_err();
        assert!(matches!(error, Error::Proxy(ProxyError::TooLong("host name"))));
        let error =
            Socks5::start(&Destination::Name("a".into()), 1, Some((long.as_bytes(), b""))).unwrap_err();
        assert!(matches!(error, Error::Proxy(ProxyError::TooLong("username"))));
    }
}
