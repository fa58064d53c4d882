//! Adapters: move bytes between a transport and a [`Connection`](crate::Connection).

#[cfg(any(feature = "blocking", feature = "async", feature = "compio"))]
pub(crate) mod clock;

#[cfg(any(feature = "async", feature = "compio"))]
mod read_room;

#[cfg(any(feature = "blocking", feature = "async", feature = "compio"))]
mod held;

#[cfg(feature = "blocking")]
pub mod blocking;

#[cfg(feature = "async")]
pub mod stream;

#[cfg(feature = "async")]
pub mod byte_stream;

#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(feature = "futures-io")]
pub mod futures_io;

#[cfg(feature = "async-std")]
pub mod async_std;

#[cfg(feature = "smol")]
pub mod smol;

#[cfg(feature = "compio")]
pub mod compio;

#[cfg(feature = "hyper")]
pub mod hyper;

#[cfg(feature = "axum")]
pub mod axum;
