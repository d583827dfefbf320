//! Value kinds and owned values.
//!
//! Today every value is a string; [`ValueKind`] and [`Value`] are enums so
//! hashes, lists, sets and sorted sets slot in as new variants, with `TYPE`,
//! snapshots and `WRONGTYPE` checks already keyed on the kind.

use bytes::Bytes;

/// The kind of value a key holds, as `TYPE` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// A binary-safe string.
    String,
}

impl ValueKind {
    /// The name `TYPE` replies with (`string`).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::String => "string",
        }
    }

    /// Parses a `SCAN ... TYPE name` argument (case-insensitive, as Redis).
    /// Unknown names give `None`; Redis then matches no key.
    pub fn from_name(name: &[u8]) -> Option<ValueKind> {
        if name.eq_ignore_ascii_case(b"string") {
            Some(ValueKind::String)
        } else {
            None
        }
    }
}

/// An owned copy of a value, as snapshots hand them out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value {
    /// A binary-safe string.
    String(Bytes),
}

impl Value {
    /// The kind of this value.
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::String(_) => ValueKind::String,
        }
    }
}
