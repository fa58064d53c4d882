//! Which end of a connection this is: a leaf every layer may name.

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sends the upgrade request and masks every frame it sends.
    Client,
    /// Answers the upgrade request and requires masked frames.
    Server,
}
