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
//! A string lives inline in its entry's block (see `entry`). A collection
//! lives inline too while it is small (its compact encoding: `listpack`,
//! `intset`), and out of line in a [`Big`] box once it is not; deep copy,
//! free and snapshot capture are where that difference is handled: a
//! snapshot image never copies an out-of-line pointer, it takes a frozen
//! view of the collection's chunks ([`chunked`]), so capturing a big value
//! costs O(chunks) and a later write copies one chunk.
//!
//! Lists follow the same model ([`list`]: a packed run inline, a deque of
//! copy-on-write chunks in [`Big::List`], [`ListValue`](list::ListValue)).
//! Sorted sets ([`zset`]) are the first kind whose big encoding is not a
//! [`chunked`] table alone: an order-statistic B-tree of `Arc`-shared nodes
//! beside one, frozen in O(1) by cloning its root.

pub(crate) mod chunked;
pub mod hash;
pub mod list;
pub mod set;
pub(crate) mod string;
pub mod zset;

use bytes::Bytes;

use crate::value::{Value, ValueKind};

/// The big (out-of-line) encoding of a collection, one variant per kind.
#[derive(Debug, Clone)]
pub(crate) enum Big {
    Hash(hash::BigHash),
    Set(set::BigSet),
    List(list::BigList),
    Zset(zset::BigZset),
}

impl Big {
    /// Heap bytes of the structure.
    pub(crate) fn memory_bytes(&self) -> usize {
        match self {
            Big::Hash(table) => table.memory_bytes(),
            Big::Set(table) => table.memory_bytes(),
            Big::List(list) => list.memory_bytes(),
            Big::Zset(zset) => zset.memory_bytes(),
        }
    }

    /// `MEMORY USAGE`'s estimate of [`Big::memory_bytes`] from `samples`
    /// elements (see `Chunked::sampled_memory_bytes`).
    pub(crate) fn sampled_memory_bytes(&self, samples: usize) -> usize {
        match self {
            Big::Hash(table) => table.sampled_memory_bytes(samples),
            Big::Set(table) => table.sampled_memory_bytes(samples),
            // Lists and sorted sets keep their byte counts up to date on
            // every write, so the exact figure costs O(1): no sampling.
            Big::List(list) => list.memory_bytes(),
            Big::Zset(zset) => zset.memory_bytes(),
        }
    }

    /// Whether no element is left.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Big::Hash(table) => table.len() == 0,
            Big::Set(table) => table.len() == 0,
            Big::List(list) => list.len() == 0,
            Big::Zset(zset) => zset.len() == 0,
        }
    }

    /// A frozen view for a snapshot (O(chunks)).
    pub(crate) fn freeze(&self) -> FrozenBig {
        match self {
            Big::Hash(table) => FrozenBig::Hash(table.freeze()),
            Big::Set(table) => FrozenBig::Set(table.freeze()),
            Big::List(list) => FrozenBig::List(list.freeze()),
            Big::Zset(zset) => FrozenBig::Zset(zset.freeze()),
        }
    }
}

/// A frozen view of a [`Big`] value, kept beside a snapshot image.
pub(crate) enum FrozenBig {
    Hash(chunked::Frozen),
    Set(chunked::Frozen),
    List(list::FrozenList),
    Zset(zset::Tree),
}

impl FrozenBig {
    /// The owned value.
    pub(crate) fn into_value(self) -> Value {
        match self {
            FrozenBig::Hash(frozen) => Value::Hash(hash::HashValue::from_frozen(frozen)),
            FrozenBig::Set(frozen) => Value::Set(set::SetValue::from_frozen(frozen)),
            FrozenBig::List(frozen) => Value::List(list::ListValue::from_frozen(frozen)),
            FrozenBig::Zset(tree) => Value::Zset(zset::ZsetValue::from_frozen(tree)),
        }
    }
}

/// Redis frees values with more elements than this in the background when
/// lazy freeing is on (`LAZYFREE_THRESHOLD`); the store hands such values
/// to the caller's garbage list instead of freeing them (see
/// [`Store::set_background_free`](crate::Store::set_background_free)).
pub const LAZYFREE_THRESHOLD: usize = 64;

/// `PEXPIREAT key deadline` after a collection's batches, when it has one.
pub(crate) fn rewrite_deadline(
    key: &[u8],
    expire_at_ms: Option<u64>,
    emit: &mut dyn FnMut(&[&[u8]]),
) {
    if let Some(deadline) = expire_at_ms {
        let deadline = deadline.to_string();
        emit(&[b"PEXPIREAT", key, deadline.as_bytes()]);
    }
}

/// Rewrites a collection of single elements (a list's or a set's) as
/// `command key element ...` commands of at most
/// [`REWRITE_ITEMS_PER_COMMAND`] elements each, in the order `for_each`
/// visits them, then its `PEXPIREAT`. Elements are copied into a batch
/// because `for_each` only lends each one for the visit.
pub(crate) fn rewrite_elements(
    command: &[u8],
    key: &[u8],
    len: usize,
    for_each: impl FnOnce(&mut dyn FnMut(&[u8])),
    expire_at_ms: Option<u64>,
    emit: &mut dyn FnMut(&[&[u8]]),
) {
    let mut batch: Vec<Bytes> = Vec::with_capacity(len.min(REWRITE_ITEMS_PER_COMMAND));
    let mut flush = |batch: &mut Vec<Bytes>| {
        let mut args: Vec<&[u8]> = vec![command, key];
        args.extend(batch.iter().map(|e| &e[..]));
        emit(&args);
        batch.clear();
    };
    for_each(&mut |e| {
        batch.push(Bytes::copy_from_slice(e));
        if batch.len() == REWRITE_ITEMS_PER_COMMAND {
            flush(&mut batch);
        }
    });
    if !batch.is_empty() {
        flush(&mut batch);
    }
    rewrite_deadline(key, expire_at_ms, emit);
}

/// Most elements one rewrite command carries (Redis's
/// `AOF_REWRITE_ITEMS_PER_CMD`): a collection is rewritten as several
/// commands of at most this many elements each.
pub const REWRITE_ITEMS_PER_COMMAND: usize = 64;

impl ValueKind {
    /// The name `TYPE` replies with (`string`).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::String => string::TYPE_NAME,
            ValueKind::Hash => hash::TYPE_NAME,
            ValueKind::Set => set::TYPE_NAME,
            ValueKind::List => list::TYPE_NAME,
            ValueKind::Zset => zset::TYPE_NAME,
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
            Value::Hash(_) => ValueKind::Hash,
            Value::Set(_) => ValueKind::Set,
            Value::List(_) => ValueKind::List,
            Value::Zset(_) => ValueKind::Zset,
        }
    }

    /// The `OBJECT ENCODING` name Redis 7.0 gives a string value (a
    /// collection's encoding depends on its history, not only its contents:
    /// ask the live key, [`DbHandle::object_encoding`](crate::DbHandle::object_encoding)).
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::String(bytes) => string::encoding(bytes, false, false),
            Value::Hash(_) | Value::Set(_) => "hashtable",
            Value::List(_) => "quicklist",
            Value::Zset(_) => "skiplist",
        }
    }

    /// Bytes the value itself uses (its payload and any out-of-line
    /// structure), for `MEMORY USAGE` and memory accounting.
    pub fn memory_bytes(&self) -> usize {
        match self {
            Value::String(bytes) => string::memory(bytes),
            Value::Hash(hash) => hash.memory_bytes(),
            Value::Set(set) => set.memory_bytes(),
            Value::List(list) => list.memory_bytes(),
            Value::Zset(zset) => zset.memory_bytes(),
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
            Value::Hash(hash) => hash.rewrite(key, expire_at_ms, emit),
            Value::Set(set) => set.rewrite(key, expire_at_ms, emit),
            Value::List(list) => list.rewrite(key, expire_at_ms, emit),
            Value::Zset(zset) => zset.rewrite(key, expire_at_ms, emit),
        }
    }
}
