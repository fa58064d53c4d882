//! `Sec-WebSocket-Extensions` parsing (RFC 6455 §9.1).
//!
//! ```text
//! extension-list = 1#extension
//! extension      = extension-token *( ";" extension-param )
//! extension-param = token [ "=" ( token / quoted-string ) ]
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use crate::handshake::http::is_token_char;

/// One extension of an offer or response, with its parameters in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension's name, e.g. `permessage-deflate`.
    pub name: String,
    /// Its parameters; a quoted value is unquoted.
    pub params: Vec<(String, Option<String>)>,
}

/// The header is not a well-formed extension list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedExtensions;

/// Parses every extension in a header value.
///
/// ```
/// use ferrosocket::extensions::parse;
/// let offers = parse("permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=\"10\"").unwrap();
/// assert_eq!(offers.len(), 2);
/// assert_eq!(offers[0].params, [("client_max_window_bits".to_string(), None)]);
/// assert_eq!(offers[1].params, [("server_max_window_bits".to_string(), Some("10".to_string()))]);
/// ```
pub fn parse(header: &str) -> Result<Vec<Extension>, MalformedExtensions> {
    let mut parser = Parser {
        rest: header.as_bytes(),
    };
    let mut extensions = Vec::new();
    loop {
        parser.skip_space();
        if parser.rest.is_empty() {
            break;
        }
        if parser.eat(b',') {
            continue; // empty list element
        }
        let name = parser.token()?;
        let mut params = Vec::new();
        loop {
            parser.skip_space();
            if !parser.eat(b';') {
                break;
            }
            parser.skip_space();
            let param = parser.token()?;
            parser.skip_space();
            let value = if parser.eat(b'=') {
                parser.skip_space();
                let value = if parser.rest.first() == Some(&b'"') {
                    parser.quoted()?
                } else {
                    parser.token()?
                };
                // RFC 6455 §9.1: a quoted value must still be a token once unquoted.
                if value.is_empty() || !value.bytes().all(is_token_char) {
                    return Err(MalformedExtensions);
                }
                Some(value)
            } else {
                None
            };
            params.push((param, value));
        }
        extensions.push(Extension { name, params });
        parser.skip_space();
        if !parser.rest.is_empty() && !parser.eat(b',') {
            return Err(MalformedExtensions);
        }
    }
    Ok(extensions)
}

/// Every extension of every field of a header, or an error if any is malformed.
pub fn parse_all<'a>(values: impl Iterator<Item = &'a str>) -> Result<Vec<Extension>, MalformedExtensions> {
    let mut all = Vec::new();
    for value in values {
        all.extend(parse(value)?);
    }
    Ok(all)
}

struct Parser<'a> {
    rest: &'a [u8],
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while let [b' ' | b'\t', rest @ ..] = self.rest {
            self.rest = rest;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        match self.rest.split_first() {
            Some((&b, rest)) if b == byte => {
                self.rest = rest;
                true
            }
            _ => false,
        }
    }

    fn token(&mut self) -> Result<String, MalformedExtensions> {
        let len = self.rest.iter().take_while(|&&b| is_token_char(b)).count();
        if len == 0 {
            return Err(MalformedExtensions);
        }
        let (token, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(String::from_utf8_lossy(token).into_owned())
    }

    fn quoted(&mut self) -> Result<String, MalformedExtensions> {
        self.eat(b'"');
        let mut value = Vec::new();
        loop {
            match self.rest.split_first() {
                Some((b'"', rest)) => {
                    self.rest = rest;
                    return Ok(String::from_utf8_lossy(&value).into_owned());
                }
                Some((b'\\', [escaped, rest @ ..])) => {
                    value.push(*escaped);
                    self.rest = rest;
                }
                Some((&b, rest)) if b != b'\\' => {
                    value.push(b);
                    self.rest = rest;
                }
                _ => return Err(MalformedExtensions),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_params_and_quotes() {
        let exts = parse(" foo ;a; b = 1 ,, bar;c=\"x\\y\" , baz ").unwrap();
        let names: Vec<&str> = exts.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["foo", "bar", "baz"]);
        assert_eq!(
            exts[0].params,
            [("a".into(), None), ("b".into(), Some("1".into()))]
        );
        assert_eq!(exts[1].params, [("c".into(), Some("xy".into()))]);
        assert_eq!(parse("").unwrap(), []);
    }

    #[test]
    fn rejects_malformed_lists() {
        for bad in [
            "foo;",
            "foo; =1",
            "foo;a=",
            "foo;a=\"1",
            "foo bar",
            "foo;a=\"1 2\"",
            ";a",
            "foo;a=b=c",
            "f\u{e9}",
        ] {
            assert_eq!(parse(bad), Err(MalformedExtensions), "{bad:?}");
        }
    }
}
