//! One home per value kind: everything the rest of the store and the server
//! need from a kind, in one file per kind.
//!
//! Redis's module API asks every data type for the same method table
//! (`RedisModuleTypeMethods`: `rdb_load`, `rdb_save`, `aof_rewrite`,
//! `mem_usage`, `free`, `copy`); Redigo's kinds provide the same set, and
//! [`ValueKind`]/[`Value`] dispatch to them with exhaustive `match`es (no
//! wildcard arm anywhere, in this crate or outside it: the enums are not
//! `#[non_exhaustive]`). Adding a kind therefore fails to compile at every
//! place that must handle it, each of which is one of these operations:
//!
//! | operation | what it is | where it is used |
//! | --- | --- | --- |
//! | `TYPE_NAME` | the `TYPE` reply and `SCAN ... TYPE` name | [`ValueKind::as_str`] |
//! | `encoding` | the `OBJECT ENCODING` name, as Redis 7.0 names it | [`Value::encoding`] |
//! | `memory` | bytes the value uses beyond its entry's header and key | [`Value::memory_bytes`], `MEMORY USAGE` |
//! | deep copy | an independent copy under another key (`COPY`, `RENAME`) | `Entry::copy_with_key` |
//! | free | releasing what the value owns | `Entry`'s `Drop` |
//! | snapshot image | capture of a live value by a writer, restore by the walker | [`crate::snapshot`] |
//! | `rewrite` | the commands that rebuild the key, TTL included | [`Value::rewrite`], the AOF rewrite |
//!
//! A string lives inline in its entry's block (see `entry`); the collection
//! kinds will keep a pointer to an out-of-line structure there instead, and
//! their deep copy, free and snapshot capture are where that difference is
//! handled: a snapshot image must never `memcpy` an out-of-line pointer, and
//! capturing a big value must stay bounded (copy-on-write inside it).

pub(crate) mod string;

use crate::value::{Value, ValueKind};

/// Most elements one rewrite command carries (Redis's
/// `AOF_REWRITE_ITEMS_PER_CMD`): a collection is rewritten as several
/// commands of at most this many elements each.
pub const REWRITE_ITEMS_PER_COMMAND: usize = 64;

impl ValueKind {
    /// The name `TYPE` replies with (`string`).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::String => string::TYPE_NAME,
        }
    }

    /// Parses a `SCAN ... TYPE name` argument (case-insensitive, as Redis).
    /// Unknown names give `None`; Redis then matches no key.
    pub fn from_name(name: &[u8]) -> Option<ValueKind> {
        ValueKind::ALL
            .into_iter()
            .find(|kind| name.eq_ignore_ascii_case(kind.as_str().as_bytes()))
    }
}

impl Value {
    /// The kind of this value.
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::String(_) => ValueKind::String,
        }
    }

    /// The `OBJECT ENCODING` name Redis 7.0 gives this value.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::String(bytes) => string::encoding(bytes, false),
        }
    }

    /// Bytes the value itself uses (its payload and any out-of-line
    /// structure), for `MEMORY USAGE` and memory accounting.
    pub fn memory_bytes(&self) -> usize {
        match self {
            Value::String(bytes) => string::memory(bytes),
        }
    }

    /// The commands that rebuild `key` holding this value with deadline
    /// `expire_at_ms`, each handed to `emit` as an argument vector, in
    /// order (the AOF rewrite encodes them; the store does no I/O). A
    /// collection comes as commands of at most
    /// [`REWRITE_ITEMS_PER_COMMAND`] elements, then its `PEXPIREAT`.
    pub fn rewrite(&self, key: &[u8], expire_at_ms: Option<u64>, emit: &mut dyn FnMut(&[&[u8]])) {
        match self {
            Value::String(bytes) => string::rewrite(key, bytes, expire_at_ms, emit),
        }
    }
}
