//! The adapters' clock for the engine's deadlines: time since one origin for the whole
//! process, so a connection carries no `Instant` of its own.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The time since the process-wide origin, as
/// [`Connection::handle_timeout`](crate::Connection::handle_timeout) takes it.
pub(crate) fn now() -> Duration {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed()
}
