//! permessage-deflate (RFC 7692): negotiation and the per-direction compression contexts.
//!
//! Compression uses raw deflate from zlib-rs where `std` is on, from `miniz_oxide` without it
//! (or with `RUSTFLAGS="--cfg ferrosocket_miniz"`); contexts of directions that start every
//! message fresh are lent per message from a pool (see [`Memory`]). When the peer limits our
//! window to 2^N bytes below what the backend keeps (`miniz_oxide` always keeps 32 KiB;
//! zlib-rs keeps 512 B and up), the
//! compressor is reset with a full flush after every 2^N input bytes: no back-reference can
//! then reach farther than the window allows. Inflating always uses a 32 KiB window, which
//! handles every window size the peer may use.

mod backend;
mod codec;
mod negotiate;
mod pool;

pub(crate) use codec::{Deflater, InflateError, Inflater};

use crate::role::Role;

/// The extension's registered name.
pub const NAME: &str = "permessage-deflate";

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
    /// How much compression state each connection keeps between messages.
    pub memory: Memory,
}

/// How much compression state a connection keeps between messages: the trade between memory
/// per connection and compression ratio (uWebSockets calls these its compressor profiles).
///
/// A context that starts every message fresh is borrowed from a process-wide pool for the
/// length of one message, so an idle connection holds none. Server RSS per idle connection
/// after one compressed 1 KiB echo (1,000 connections), and compressed size ÷ text size of
/// server messages, 1 KiB / 16 KiB JSON (`cargo bench --bench deflate_load`, one run,
/// `benches/README.md`):
///
/// | profile | server → client (window bits) | client → server (window bits) | RSS per idle connection | size after compression |
/// |---|---|---|---|---|
/// | [`Dedicated`](Memory::Dedicated) | 15, context kept | 15, context kept | 336 KiB (compressor + decompressor) | 0.241 / 0.207 |
/// | [`SharedCompressor`](Memory::SharedCompressor) (default) | 15, fresh each message | 15, context kept | 24 KiB (decompressor) | 0.339 / 0.226 |
/// | [`Minimal`](Memory::Minimal) | 15, fresh each message | 15, fresh each message | 5 KiB (as uncompressed) | 0.339 / 0.226 |
///
/// Every profile keeps 32 KiB windows (window bits 15) both ways unless `*_max_window_bits`
/// say otherwise; on zlib-rs smaller windows shrink the compressor too. On `miniz_oxide`
/// (`no_std`) they do not shrink its contexts, which are full-size whatever the window: there
/// `Dedicated` held 200 KiB per idle connection and the default profile 46 KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Memory {
    /// Both directions keep their context across messages where the peer agrees: the best
    /// ratio for streams of similar small messages, the most memory.
    Dedicated,
    /// Our compressor starts every message fresh, borrowed from the shared pool. A server says
    /// so with `server_no_context_takeover` in its response (RFC 7692 §7.1.1.1 lets it add the
    /// parameter unasked), which also lets the client drop its decompressor; a client needs no
    /// agreement to start each message fresh. Our decompressor keeps the peer's context.
    #[default]
    SharedCompressor,
    /// Both directions start every message fresh. A server adds `server_no_context_takeover`
    /// and `client_no_context_takeover` to its response; a client offers
    /// `server_no_context_takeover` (a server that cannot honour it declines compression).
    Minimal,
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
            memory: Memory::default(),
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

    /// Sets `memory`, the profile of what each connection keeps between messages.
    pub fn memory(mut self, memory: Memory) -> Self {
        self.memory = memory;
        self
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
        // Starting a message fresh needs no agreement: only keeping the context does.
        let send_reset = send_reset || config.memory != Memory::Dedicated;
        (
            Deflater::new(config.level, send_bits.unwrap_or(15), send_reset),
            Inflater::new(receive_reset),
        )
    }
}
