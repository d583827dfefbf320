//! Value kinds and owned values.
//!
//! [`ValueKind`] and [`Value`] are closed enums, deliberately not
//! `#[non_exhaustive]`: every operation over kinds is an exhaustive `match`
//! (their homes are in `kinds`), so a new kind does not compile until each
//! place that must handle it does, in this crate and in the server.

use bytes::Bytes;

pub use crate::kinds::hash::HashValue;
pub use crate::kinds::list::ListValue;
pub use crate::kinds::set::SetValue;
pub use crate::kinds::zset::ZsetValue;

/// The kind of value a key holds, as `TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// A binary-safe string.
    String,
    /// A hash of field-value pairs.
    Hash,
    /// A set of distinct members.
    Set,
    /// A sequence of elements.
    List,
    /// A sorted set: distinct members ordered by score.
    Zset,
}

impl ValueKind {
    /// Every kind, in tag order (`SCAN ... TYPE` looks names up here: a new
    /// kind goes here too).
    pub const ALL: [ValueKind; 5] = [
        ValueKind::String,
        ValueKind::Hash,
        ValueKind::Set,
        ValueKind::List,
        ValueKind::Zset,
    ];
}

/// An owned copy of a value, as snapshots hand them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A binary-safe string.
    String(Bytes),
    /// A hash (a big one as a frozen, copy-on-write view of its chunks).
    Hash(HashValue),
    /// A set (a big one as a frozen, copy-on-write view of its chunks).
    Set(SetValue),
    /// A list (a big one as a frozen, copy-on-write view of its chunks).
    List(ListValue),
    /// A sorted set (a big one as a frozen, copy-on-write view of its tree).
    Zset(ZsetValue),
}
