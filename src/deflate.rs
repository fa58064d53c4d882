//! permessage-deflate (RFC 7692): negotiation and the per-direction compression contexts.
//!
//! Compression uses `miniz_oxide`'s raw deflate. Its compressor always keeps a 32 KiB window,
//! so when the peer limits our window to 2^N bytes (`*_max_window_bits` below 15) the
//! compressor is reset with a full flush after every 2^N input bytes: no back-reference can
//! then reach farther than the window allows. Inflating always uses a 32 KiB window, which
//! handles every window size the peer may use.

use bytes::BytesMut;
use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use crate::connection::Role;
use crate::error::HandshakeError;
use crate::extensions::Extension;

/// The extension's registered name.
pub const NAME: &str = "permessage-deflate";

/// The empty stored block that ends every compressed message on the wire, stripped by the
/// sender and put back by the receiver (RFC 7692 §7.2.1–7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// How much inflated output is produced per step; bounds the overshoot past the size limit.
const INFLATE_STEP: usize = 16 * 1024;

/// permessage-deflate settings, like the `perMessageDeflate` option of Node's `ws`.
///
/// A client offers the extension with these parameters; a server accepts the first offer it
/// can, applying them. Every field applies to both roles from its own side of the RFC.
///
/// ```
/// use ferrosocket::{Config, deflate::DeflateConfig};
/// let config = Config::default().permessage_deflate(
///     DeflateConfig::default().server_no_context_takeover(true).threshold(256),
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Compression level, 0 (store) to 9 (smallest); default 6, zlib's default.
    pub level: u8,
    /// Messages shorter than this many bytes are sent uncompressed (default 1024, as in `ws`).
    pub threshold: usize,
    /// Ask (client) or decide (server) that the server resets its compressor after every
    /// message: less memory held between messages, worse compression.
    pub server_no_context_takeover: bool,
    /// Ask (client) or decide (server) that the client resets its compressor after every
    /// message.
    pub client_no_context_takeover: bool,
    /// Limit the server's LZ77 window to 2^N bytes, N in 8..=15 (client: requested in the
    /// offer; server: the most it uses, whatever the client asks).
    pub server_max_window_bits: Option<u8>,
    /// Limit the client's LZ77 window to 2^N bytes, N in 8..=15 (client: offered as its limit;
    /// server: imposed when the client announces support for it).
    pub client_max_window_bits: Option<u8>,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            level: 6,
            threshold: 1024,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
        }
    }
}

impl DeflateConfig {
    /// Sets `level` (clamped to 0..=9).
    pub fn level(mut self, level: u8) -> Self {
        self.level = level.min(9);
        self
    }

    /// Sets `threshold`.
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// Sets `server_no_context_takeover`.
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Sets `client_no_context_takeover`.
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Sets `server_max_window_bits` (clamped to 8..=15).
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = Some(bits.clamp(8, 15));
        self
    }

    /// Sets `client_max_window_bits` (clamped to 8..=15).
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = Some(bits.clamp(8, 15));
        self
    }

    /// The client's offer, e.g. `permessage-deflate; client_max_window_bits`.
    pub(crate) fn offer(&self) -> String {
        header_value(
            self.server_no_context_takeover,
            self.client_no_context_takeover,
            self.server_max_window_bits,
            // Always announce that we honour a client window limit.
            Some(self.client_max_window_bits),
        )
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
            server_no_context_takeover: asked.server_no_context_takeover || self.server_no_context_takeover,
            client_no_context_takeover: asked.client_no_context_takeover || self.client_no_context_takeover,
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
        if self.server_no_context_takeover && !got.server_no_context_takeover {
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
            if std::mem::replace(&mut seen[index], true) {
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

/// The agreed permessage-deflate parameters of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeflateParams {
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message.
    pub client_no_context_takeover: bool,
    /// The server's window limit, if one was agreed.
    pub server_max_window_bits: Option<u8>,
    /// The client's window limit, if one was agreed.
    pub client_max_window_bits: Option<u8>,
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

    /// The compressor for what `role` sends and the decompressor for what it receives.
    pub(crate) fn contexts(&self, role: Role, config: &DeflateConfig) -> (Deflater, Inflater) {
        let (send_reset, send_bits, receive_reset) = match role {
            Role::Server => (
                self.server_no_context_takeover,
                self.server_max_window_bits,
                self.client_no_context_takeover,
            ),
            Role::Client => (
                self.client_no_context_takeover,
                self.client_max_window_bits,
                self.server_no_context_takeover,
            ),
        };
        let deflater = Deflater {
            compressor: None,
            level: config.level,
            window: 1 << send_bits.unwrap_or(15),
            since_reset: 0,
            reset_each_message: send_reset,
        };
        let inflater = Inflater {
            state: None,
            reset_each_message: receive_reset,
            stream_ended: false,
        };
        (deflater, inflater)
    }
}

/// Compresses outgoing messages; the miniz state (about 300 KiB) is allocated on first use.
pub(crate) struct Deflater {
    compressor: Option<Box<CompressorOxide>>,
    level: u8,
    /// The window the peer allows us: back-references must stay within it.
    window: usize,
    /// Input bytes since the dictionary was last reset.
    since_reset: usize,
    reset_each_message: bool,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("level", &self.level)
            .field("window", &self.window)
            .field("reset_each_message", &self.reset_each_message)
            .finish_non_exhaustive()
    }
}

impl Deflater {
    /// Compresses one fragment of a message (or a whole message with `last`), appending the
    /// compressed bytes to `out`; the last fragment's output ends without the 4-byte tail.
    pub(crate) fn compress(&mut self, mut input: &[u8], last: bool, out: &mut Vec<u8>) {
        let level = self.level;
        let compressor = self.compressor.get_or_insert_with(|| {
            Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
                i32::from(level),
                -15,
                0,
            )))
        });
        let limited = self.window < 1 << 15;
        let mut run = |data: &[u8], flush: TDEFLFlush| {
            let mut data = data;
            loop {
                let (status, consumed) = compress_to_output(compressor, data, flush, |chunk| {
                    out.extend_from_slice(chunk);
                    true
                });
                data = &data[consumed..];
                if data.is_empty() || status != TDEFLStatus::Okay {
                    break;
                }
            }
        };
        if limited {
            // Reset the dictionary every `window` input bytes.
            while !input.is_empty() {
                let take = input.len().min(self.window - self.since_reset);
                self.since_reset += take;
                let flush = if self.since_reset == self.window {
                    self.since_reset = 0;
                    TDEFLFlush::Full
                } else {
                    TDEFLFlush::None
                };
                run(&input[..take], flush);
                input = &input[take..];
            }
            if last {
                self.since_reset = 0;
                run(&[], TDEFLFlush::Full);
            }
        } else {
            run(input, if last { TDEFLFlush::Sync } else { TDEFLFlush::None });
        }
        if last {
            if out.ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            }
            if self.reset_each_message {
                compressor.reset();
            }
        }
    }
}

/// Why inflating failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InflateError {
    /// Not a valid deflate stream.
    Invalid,
    /// The output would exceed the limit.
    TooLarge,
}

/// Decompresses incoming messages; the miniz state (about 43 KiB) is allocated on first use.
pub(crate) struct Inflater {
    state: Option<Box<InflateState>>,
    reset_each_message: bool,
    /// The peer ended its deflate stream (BFINAL) inside this message; ignore the rest.
    stream_ended: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("reset_each_message", &self.reset_each_message)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    /// Inflates a piece of a compressed message, appending to `out`; fails as soon as `out`
    /// would grow past `limit`, having produced at most one step beyond it.
    pub(crate) fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut BytesMut,
        limit: usize,
    ) -> Result<(), InflateError> {
        let state = self
            .state
            .get_or_insert_with(|| InflateState::new_boxed(DataFormat::Raw));
        while !self.stream_ended {
            let start = out.len();
            let step = INFLATE_STEP.min(limit.saturating_sub(start).saturating_add(1));
            out.resize(start + step, 0);
            let result = inflate(state, input, &mut out[start..], MZFlush::None);
            out.truncate(start + result.bytes_written);
            input = &input[result.bytes_consumed..];
            match result.status {
                Ok(MZStatus::StreamEnd) => self.stream_ended = true,
                Ok(_) => {}
                // No progress possible: all input used and all output produced.
                Err(MZError::Buf) => return Ok(()),
                Err(_) => return Err(InflateError::Invalid),
            }
            if out.len() > limit {
                return Err(InflateError::TooLarge);
            }
            if input.is_empty() && result.bytes_written < step {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Ends a message: inflates the stripped tail and resets if the peer does not keep its
    /// context (or ended its stream).
    pub(crate) fn finish(&mut self, out: &mut BytesMut, limit: usize) -> Result<(), InflateError> {
        self.inflate(&TAIL, out, limit)?;
        if self.reset_each_message || self.stream_ended {
            if let Some(state) = self.state.as_mut() {
                state.reset(DataFormat::Raw);
            }
            self.stream_ended = false;
        }
        Ok(())
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
        let server = DeflateConfig::default();
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
        let p = negotiate(&DeflateConfig::default(), offered).unwrap();
        assert_eq!(
            p.response(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        // Our own limits: server window lowered, client window imposed (it announced support).
        let server = DeflateConfig::default()
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
        let server = DeflateConfig::default().server_no_context_takeover(true);
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

    fn roundtrip(params: DeflateParams, messages: &[Vec<u8>]) {
        let config = DeflateConfig::default();
        let (mut deflater, _) = params.contexts(Role::Client, &config);
        let (_, mut inflater) = params.contexts(Role::Server, &config);
        for message in messages {
            let mut wire = Vec::new();
            // Send in three fragments.
            let third = message.len() / 3;
            deflater.compress(&message[..third], false, &mut wire);
            deflater.compress(&message[third..2 * third], false, &mut wire);
            deflater.compress(&message[2 * third..], true, &mut wire);
            let mut out = BytesMut::new();
            for piece in wire.chunks(7) {
                inflater.inflate(piece, &mut out, usize::MAX).unwrap();
            }
            inflater.finish(&mut out, usize::MAX).unwrap();
            assert_eq!(&out[..], &message[..], "params {params:?}");
        }
    }

    fn sample_messages() -> Vec<Vec<u8>> {
        let json = br#"{"id":12345,"name":"ferrosocket","tags":["a","b","c"],"nested":{"x":1.5}}"#;
        vec![
            json.repeat(200),
            Vec::new(),
            (0..70_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
                .collect(),
            json.repeat(3),
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".repeat(1000),
        ]
    }

    #[test]
    fn roundtrips_with_every_window_size_and_takeover_mode() {
        for bits in 8..=15 {
            for takeover in [false, true] {
                let params = DeflateParams {
                    client_no_context_takeover: takeover,
                    client_max_window_bits: Some(bits),
                    ..Default::default()
                };
                roundtrip(params, &sample_messages());
            }
        }
    }

    /// Walks a raw deflate stream and returns the largest back-reference distance used.
    fn max_distance(mut wire: Vec<u8>) -> usize {
        wire.extend_from_slice(&TAIL);
        let mut bits = BitReader { data: &wire, pos: 0 };
        let mut max = 0;
        while bits.pos + 3 <= wire.len() * 8 {
            let _final = bits.read(1);
            match bits.read(2) {
                0 => {
                    bits.pos = bits.pos.div_ceil(8) * 8;
                    let len = bits.read(16);
                    bits.read(16);
                    bits.pos += len * 8;
                }
                1 => max = max.max(bits.block(&fixed_tables())),
                2 => {
                    let tables = bits.dynamic_tables();
                    max = max.max(bits.block(&tables));
                }
                _ => panic!("invalid block type"),
            }
            if bits.pos + 8 > wire.len() * 8 {
                break;
            }
        }
        max
    }

    struct BitReader<'a> {
        data: &'a [u8],
        pos: usize,
    }

    type Table = Vec<(u16, u8, u16)>; // (code, length, symbol)

    fn canonical(lengths: &[u8]) -> Table {
        let mut table = Vec::new();
        let mut code = 0u16;
        for len in 1..=15u8 {
            for (symbol, &l) in lengths.iter().enumerate() {
                if l == len {
                    table.push((code, len, symbol as u16));
                    code += 1;
                }
            }
            code <<= 1;
        }
        table
    }

    fn fixed_tables() -> (Table, Table) {
        let mut lit = vec![8u8; 144];
        lit.extend([9; 112]);
        lit.extend([7; 24]);
        lit.extend([8; 8]);
        (canonical(&lit), canonical(&[5; 30]))
    }

    const LEN_BASE: [usize; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
        195, 227, 258,
    ];
    const LEN_EXTRA: [usize; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DIST_BASE: [usize; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
        3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];

    impl BitReader<'_> {
        fn read(&mut self, n: usize) -> usize {
            let mut v = 0;
            for i in 0..n {
                let bit = (self.data[self.pos / 8] >> (self.pos % 8)) & 1;
                v |= (bit as usize) << i;
                self.pos += 1;
            }
            v
        }

        fn symbol(&mut self, table: &Table) -> u16 {
            let mut code = 0u16;
            for len in 1..=15u8 {
                code = (code << 1) | self.read(1) as u16;
                if let Some(&(_, _, s)) = table.iter().find(|&&(c, l, _)| l == len && c == code) {
                    return s;
                }
            }
            panic!("bad code");
        }

        fn dynamic_tables(&mut self) -> (Table, Table) {
            let hlit = self.read(5) + 257;
            let hdist = self.read(5) + 1;
            let hclen = self.read(4) + 4;
            const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
            let mut cl = [0u8; 19];
            for &i in ORDER.iter().take(hclen) {
                cl[i] = self.read(3) as u8;
            }
            let cl_table = canonical(&cl);
            let mut lengths = Vec::new();
            while lengths.len() < hlit + hdist {
                match self.symbol(&cl_table) {
                    s @ 0..=15 => lengths.push(s as u8),
                    16 => {
                        let prev = *lengths.last().unwrap();
                        let n = 3 + self.read(2);
                        lengths.extend(std::iter::repeat_n(prev, n));
                    }
                    17 => {
                        let n = 3 + self.read(3);
                        lengths.extend(std::iter::repeat_n(0, n));
                    }
                    _ => {
                        let n = 11 + self.read(7);
                        lengths.extend(std::iter::repeat_n(0, n));
                    }
                }
            }
            (canonical(&lengths[..hlit]), canonical(&lengths[hlit..]))
        }

        fn block(&mut self, (lit, dist): &(Table, Table)) -> usize {
            let mut max = 0;
            loop {
                let s = self.symbol(lit) as usize;
                match s {
                    0..=255 => {}
                    256 => return max,
                    _ => {
                        let i = s - 257;
                        let _len = LEN_BASE[i] + self.read(LEN_EXTRA[i]);
                        let d = self.symbol(dist) as usize;
                        let extra = if d < 4 { 0 } else { d / 2 - 1 };
                        max = max.max(DIST_BASE[d] + self.read(extra));
                    }
                }
            }
        }
    }

    #[test]
    fn limited_windows_never_reach_farther_than_allowed() {
        // Repetitive data over 32 KiB invites long back-references.
        let message: Vec<u8> = br#"{"k":"v","n":[1,2,3]}"#.iter().cycle().take(100_000).copied().collect();
        let mut unlimited_max = 0;
        for bits in [8u8, 9, 12, 15] {
            let params = DeflateParams {
                server_max_window_bits: Some(bits),
                ..Default::default()
            };
            let (mut deflater, _) = params.contexts(Role::Server, &DeflateConfig::default());
            let mut wire = Vec::new();
            deflater.compress(&message, true, &mut wire);
            // A second message with context takeover must not reach into the first either.
            let mut second = Vec::new();
            deflater.compress(&message[..5000], true, &mut second);
            for stream in [wire, second] {
                let distance = max_distance(stream);
                assert!(distance <= 1 << bits, "bits {bits}: distance {distance}");
                if bits == 15 {
                    unlimited_max = unlimited_max.max(distance);
                }
            }
        }
        assert!(unlimited_max > 0, "the checker saw back-references");
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_limit() {
        let params = DeflateParams::default();
        let (mut deflater, _) = params.contexts(Role::Client, &DeflateConfig::default());
        let (_, mut inflater) = params.contexts(Role::Server, &DeflateConfig::default());
        let mut wire = Vec::new();
        deflater.compress(&vec![0u8; 64 << 20], true, &mut wire);
        assert!(
            wire.len() < 100_000,
            "64 MiB of zeros compress to {} bytes",
            wire.len()
        );
        let mut out = BytesMut::new();
        let limit = 1 << 20;
        assert_eq!(
            inflater.inflate(&wire, &mut out, limit),
            Err(InflateError::TooLarge)
        );
        assert!(out.len() <= limit + INFLATE_STEP, "produced {} bytes", out.len());
        assert!(
            out.capacity() <= 2 * (limit + INFLATE_STEP),
            "held {} bytes",
            out.capacity()
        );
    }

    #[test]
    fn garbage_is_invalid() {
        let (_, mut inflater) = DeflateParams::default().contexts(Role::Server, &DeflateConfig::default());
        let mut out = BytesMut::new();
        assert_eq!(
            inflater.inflate(&[0xff; 32], &mut out, 1 << 20),
            Err(InflateError::Invalid)
        );
    }
}
