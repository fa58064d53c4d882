//! Adapters: move bytes between a transport and a [`Connection`](crate::Connection).

#[cfg(feature = "blocking")]
pub mod blocking;
