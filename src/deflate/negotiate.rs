//! Negotiation (RFC 7692 §7.1): the client's offer, the server's choice among offers, and
//! the client's check of the server's answer.

use alloc::format;
use alloc::string::String;

use super::{DeflateConfig, DeflateParams, Memory, NAME};
use crate::extensions::Extension;
use crate::handshake::HandshakeError;

impl DeflateConfig {
    /// The client's offer, e.g. `permessage-deflate; client_max_window_bits`.
    pub fn offer(&self) -> String {
        header_value(
            self.asks_server_no_context_takeover(),
            self.client_no_context_takeover,
            self.server_max_window_bits,
            // Always announce that we honour a client window limit.
            Some(self.client_max_window_bits),
        )
    }

    /// Client: whether the offer asks the server to start every message fresh (and so its
    /// response must say it will).
    fn asks_server_no_context_takeover(&self) -> bool {
        self.server_no_context_takeover || self.memory == Memory::Minimal
    }

    /// Server: the parameters to accept the first acceptable offer with, if any.
    pub(crate) fn negotiate(&self, offers: &[Extension]) -> Option<DeflateParams> {
        offers
            .iter()
            .filter(|e| e.name.eq_ignore_ascii_case(NAME))
            .find_map(|offer| self.accept_offer(offer))
    }

    fn accept_offer(&self, offer: &Extension) -> Option<DeflateParams> {
        let asked = Parameters::parse(&offer.params).ok()?;
        let smaller = |a: Option<u8>, b: Option<u8>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Some(DeflateParams {
            server_no_context_takeover: asked.server_no_context_takeover
                || self.server_no_context_takeover
                || self.memory != Memory::Dedicated,
            client_no_context_takeover: asked.client_no_context_takeover
                || self.client_no_context_takeover
                || self.memory == Memory::Minimal,
            // An offered limit must be honoured; our own limit may lower it further.
            server_max_window_bits: smaller(asked.server_max_window_bits, self.server_max_window_bits),
            // A client limit may only be imposed on a client that announced support.
            client_max_window_bits: match asked.client_max_window_bits {
                Some(offered) => self
                    .client_max_window_bits
                    .map(|ours| offered.map_or(ours, |o| o.min(ours))),
                None => None,
            },
        })
    }

    /// Client: checks the server's response against what was offered.
    pub(crate) fn accept_response(&self, response: &Extension) -> Result<DeflateParams, HandshakeError> {
        let invalid = HandshakeError::InvalidHeader("Sec-WebSocket-Extensions");
        let got = Parameters::parse(&response.params).map_err(|_| invalid.clone())?;
        let client_max_window_bits = match got.client_max_window_bits {
            Some(Some(bits)) if self.client_max_window_bits.is_none_or(|ours| bits <= ours) => Some(bits),
            Some(_) => return Err(invalid),
            None => None,
        };
        if self.asks_server_no_context_takeover() && !got.server_no_context_takeover {
            return Err(invalid);
        }
        match (self.server_max_window_bits, got.server_max_window_bits) {
            (Some(asked), Some(bits)) if bits > asked => return Err(invalid),
            (Some(_), None) => return Err(invalid),
            _ => {}
        }
        Ok(DeflateParams {
            server_no_context_takeover: got.server_no_context_takeover,
            client_no_context_takeover: got.client_no_context_takeover || self.client_no_context_takeover,
            server_max_window_bits: got.server_max_window_bits,
            client_max_window_bits,
        })
    }
}

/// A `permessage-deflate` header value with the given parameters; `client_max_window_bits`
/// is `Some(None)` for the bare parameter (offers only).
fn header_value(
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<Option<u8>>,
) -> String {
    let mut value = String::from(NAME);
    if server_no_context_takeover {
        value.push_str("; server_no_context_takeover");
    }
    if client_no_context_takeover {
        value.push_str("; client_no_context_takeover");
    }
    if let Some(bits) = server_max_window_bits {
        value.push_str(&format!("; server_max_window_bits={bits}"));
    }
    match client_max_window_bits {
        Some(Some(bits)) => value.push_str(&format!("; client_max_window_bits={bits}")),
        Some(None) => value.push_str("; client_max_window_bits"),
        None => {}
    }
    value
}

/// The parameters of one offer or response, checked for RFC 7692 §7.1 validity.
#[derive(Debug, Default)]
struct Parameters {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (allowed in offers only).
    client_max_window_bits: Option<Option<u8>>,
}

/// A parameter is unknown, repeated, or has a value it may not have.
#[derive(Debug)]
struct InvalidParameters;

impl Parameters {
    fn parse(params: &[(String, Option<String>)]) -> Result<Self, InvalidParameters> {
        let mut out = Parameters::default();
        let mut seen = [false; 4];
        for (name, value) in params {
            let index = match name.to_ascii_lowercase().as_str() {
                "server_no_context_takeover" if value.is_none() => {
                    out.server_no_context_takeover = true;
                    0
                }
                "client_no_context_takeover" if value.is_none() => {
                    out.client_no_context_takeover = true;
                    1
                }
                "server_max_window_bits" => {
                    out.server_max_window_bits = Some(window_bits(value.as_deref())?);
                    2
                }
                "client_max_window_bits" => {
                    out.client_max_window_bits = Some(match value {
                        Some(v) => Some(window_bits(Some(v))?),
                        None => None,
                    });
                    3
                }
                _ => return Err(InvalidParameters),
            };
            if core::mem::replace(&mut seen[index], true) {
                return Err(InvalidParameters);
            }
        }
        Ok(out)
    }
}

/// A window-bits value: a decimal 8..=15 without leading zeros or signs.
fn window_bits(value: Option<&str>) -> Result<u8, InvalidParameters> {
    match value {
        Some(v)
            if (1..=2).contains(&v.len()) && !v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit()) =>
        {
            v.parse()
                .ok()
                .filter(|bits| (8..=15).contains(bits))
                .ok_or(InvalidParameters)
        }
        _ => Err(InvalidParameters),
    }
}

impl DeflateParams {
    /// The server's response header value.
    pub(crate) fn response(&self) -> String {
        header_value(
            self.server_no_context_takeover,
            self.client_no_context_takeover,
            self.server_max_window_bits,
            self.client_max_window_bits.map(Some),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extensions::parse;

    fn negotiate(server: &DeflateConfig, offer: &str) -> Option<DeflateParams> {
        server.negotiate(&parse(offer).unwrap())
    }

    #[test]
    fn server_accepts_the_first_valid_offer() {
        let server = DeflateConfig::default().memory(Memory::Dedicated);
        let p = negotiate(
            &server,
            "permessage-deflate; server_max_window_bits=20, permessage-deflate; server_max_window_bits=10",
        )
        .unwrap();
        assert_eq!(p.server_max_window_bits, Some(10));
        assert_eq!(p.response(), "permessage-deflate; server_max_window_bits=10");
        assert_eq!(
            negotiate(&server, "x-webkit-deflate-frame, permessage-deflate").unwrap(),
            DeflateParams::default()
        );
        assert_eq!(negotiate(&server, "x-webkit-deflate-frame"), None);
    }

    #[test]
    fn server_declines_invalid_offers() {
        let server = DeflateConfig::default();
        for offer in [
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=x",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; client_max_window_bits=8; client_max_window_bits=9",
            "permessage-deflate; client_max_window_bits=0x9",
            "permessage-deflate; unknown_param",
        ] {
            assert_eq!(negotiate(&server, offer), None, "{offer}");
        }
    }

    #[test]
    fn server_applies_each_parameter() {
        let offered = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=12";
        let dedicated = DeflateConfig::default().memory(Memory::Dedicated);
        let p = negotiate(&dedicated, offered).unwrap();
        assert_eq!(
            p.response(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        // Our own limits: server window lowered, client window imposed (it announced support).
        let server = dedicated
            .clone()
            .server_max_window_bits(9)
            .client_max_window_bits(10);
        let p = negotiate(&server, "permessage-deflate; client_max_window_bits").unwrap();
        assert_eq!(
            (p.server_max_window_bits, p.client_max_window_bits),
            (Some(9), Some(10))
        );
        let p = negotiate(&server, "permessage-deflate; client_max_window_bits=8").unwrap();
        assert_eq!(
            p.client_max_window_bits,
            Some(8),
            "never above the client's own value"
        );
        // No client limit without the client's announcement.
        let p = negotiate(&server, "permessage-deflate").unwrap();
        assert_eq!(p.client_max_window_bits, None);
        let server = dedicated.server_no_context_takeover(true);
        assert!(
            negotiate(&server, "permessage-deflate")
                .unwrap()
                .server_no_context_takeover
        );
    }

    #[test]
    fn client_offers_and_checks_the_response() {
        let client = DeflateConfig::default()
            .server_max_window_bits(10)
            .client_no_context_takeover(true);
        assert_eq!(
            client.offer(),
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits"
        );
        let response = |s: &str| client.accept_response(&parse(s).unwrap()[0]);
        let p = response("permessage-deflate; server_max_window_bits=9; client_max_window_bits=11").unwrap();
        assert_eq!(
            (p.server_max_window_bits, p.client_max_window_bits),
            (Some(9), Some(11))
        );
        assert!(p.client_no_context_takeover, "what we asked for ourselves");
        for bad in [
            "permessage-deflate",                            // missing the window we asked for
            "permessage-deflate; server_max_window_bits=11", // larger than asked
            "permessage-deflate; server_max_window_bits=9; client_max_window_bits", // no value in a response
            "permessage-deflate; server_max_window_bits=9; foo",
        ] {
            assert!(response(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_profiles_decide_context_takeover() {
        let browser = "permessage-deflate; client_max_window_bits";
        let response = |memory| {
            negotiate(&DeflateConfig::default().memory(memory), browser)
                .unwrap()
                .response()
        };
        assert_eq!(response(Memory::Dedicated), "permessage-deflate");
        assert_eq!(
            response(Memory::SharedCompressor),
            "permessage-deflate; server_no_context_takeover"
        );
        assert_eq!(
            response(Memory::Minimal),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        assert_eq!(DeflateConfig::default().memory, Memory::SharedCompressor);
        // A client needs no agreement to start fresh; only Minimal asks the server to.
        let offer = |memory| DeflateConfig::default().memory(memory).offer();
        assert_eq!(offer(Memory::SharedCompressor), offer(Memory::Dedicated));
        assert_eq!(
            offer(Memory::Minimal),
            "permessage-deflate; server_no_context_takeover; client_max_window_bits"
        );
        let minimal = DeflateConfig::default().memory(Memory::Minimal);
        assert!(minimal
            .accept_response(&parse("permessage-deflate").unwrap()[0])
            .is_err());
    }
}
