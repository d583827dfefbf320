//! Value kinds and owned values.
//!
//! [`ValueKind`] and [`Value`] are closed enums, deliberately not
//! `#[non_exhaustive]`: every operation over kinds is an exhaustive `match`
//! (their homes are in `kinds`), so a new kind does not compile until each
//! place that must handle it does, in this crate and in the server.

use bytes::Bytes;

/// The kind of value a key holds, as `TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// A binary-safe string.
    String,
}

impl ValueKind {
    /// Every kind, in tag order (`SCAN ... TYPE` looks names up here: a new
    /// kind goes here too).
    pub const ALL: [ValueKind; 1] = [ValueKind::String];
}

/// An owned copy of a value, as snapshots hand them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A binary-safe string.
    String(Bytes),
}
