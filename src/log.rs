//! Events for `tracing` (feature `tracing`); without the feature they compile to nothing.
//!
//! Levels: `debug` for what happens to every connection (a close, a refused handshake),
//! `warn` for a peer that broke the protocol.

/// Emits a `tracing` event at `$level` when the feature is on.
macro_rules! event {
    ($level:ident, $($arg:tt)+) => {
        #[cfg(feature = "tracing")]
        tracing::$level!(target: "ferrosocket", $($arg)+);
    };
}

pub(crate) use event;
