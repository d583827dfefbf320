//! The hash kind: field-value pairs, in two encodings as Redis 7.0.
//!
//! * `listpack` (small hashes, at most `hash-max-listpack-entries` fields,
//!   none of whose fields or values is longer than
//!   `hash-max-listpack-value` bytes): the pairs packed in insertion order
//!   as `[lengths][field][value]...` (one byte of lengths for a field of at
//!   most 14 bytes and a value of at most 15), inline in the entry's
//!   block (see `entry`), so a small hash is one allocation together with
//!   its key. Lookups are linear, as in Redis's listpack; a write rebuilds
//!   the run (at most 512 short pairs by default).
//! * `hashtable` (above either threshold): a [`Chunked`] table of [`Pair`]s,
//!   each pair one thin allocation, out of line.
//!
//! A hash converts to `hashtable` exactly when Redis's would (before a
//! write whose field or value is too long, after an insert that makes it
//! too many fields) and never back. The conversion itself is in
//! `ops::hashes`, which applies the store's [`EncodingLimits`](crate::EncodingLimits).
//!
//! The owned form handed out by snapshots and [`DbHandle::value`](crate::DbHandle::value)
//! is [`HashValue`]: for a big hash, a frozen view of its chunks (cheap to
//! take, see `chunked`), so a snapshot never copies a million fields while
//! the server's lock is held; the rewrite reads them later, outside it.

use bytes::Bytes;

use super::chunked::{Chunked, Frozen, KeyOf};
use super::{Big, REWRITE_ITEMS_PER_COMMAND, rewrite_deadline};
use crate::entry::Payload;
use crate::varint::{push_varint, read_varint, varint_len};

/// `TYPE` name.
pub(crate) const TYPE_NAME: &str = "hash";

/// `OBJECT ENCODING` of a small hash.
const LISTPACK: &str = "listpack";
/// `OBJECT ENCODING` of a big hash.
const HASHTABLE: &str = "hashtable";

/// The element of a big hash: `[varint field length][field][value]`.
pub(crate) fn pair_element(field: &[u8], value: &[u8]) -> Vec<u8> {
    let mut element = Vec::with_capacity(varint_len(field.len()) + field.len() + value.len());
    push_varint(&mut element, field.len());
    element.extend_from_slice(field);
    element.extend_from_slice(value);
    element
}

/// The field and value of a big hash's element.
pub(crate) fn split_pair(element: &[u8]) -> (&[u8], &[u8]) {
    let mut at = 0;
    let len = read_varint(element, &mut at);
    (&element[at..at + len], &element[at + len..])
}

/// A big hash's elements are looked up by field.
#[derive(Debug)]
pub(crate) struct FieldKey;

impl KeyOf for FieldKey {
    fn key(element: &[u8]) -> &[u8] {
        split_pair(element).0
    }
}

/// The big encoding.
pub(crate) type BigHash = Chunked<FieldKey>;

/// First byte of a pair whose lengths follow as two varints; any other
/// first byte holds both lengths, the field's in the high nibble (0-14) and
/// the value's in the low one (0-15).
const LONG_PAIR: u8 = 0xF0;

/// Longest field of a one-byte pair header.
const SHORT_FIELD_MAX: usize = 14;
/// Longest value of a one-byte pair header.
const SHORT_VALUE_MAX: usize = 15;

/// Appends a pair to a packed run: a one-byte header when the field is at
/// most 14 bytes and the value at most 15 (the usual small hash: it saves a
/// byte per pair over a length per element), else `LONG_PAIR` and two
/// varints.
pub(crate) fn packed_push(out: &mut Vec<u8>, field: &[u8], value: &[u8]) {
    if field.len() <= SHORT_FIELD_MAX && value.len() <= SHORT_VALUE_MAX {
        out.push(((field.len() as u8) << 4) | value.len() as u8);
    } else {
        out.push(LONG_PAIR);
        push_varint(out, field.len());
        push_varint(out, value.len());
    }
    out.extend_from_slice(field);
    out.extend_from_slice(value);
}

/// The pairs of a packed run, in order, each with the byte range of the
/// whole pair.
fn packed_pairs(payload: &[u8]) -> impl Iterator<Item = (&[u8], &[u8], std::ops::Range<usize>)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= payload.len() {
            return None;
        }
        let start = at;
        let header = payload[at];
        at += 1;
        let (flen, vlen) = if header == LONG_PAIR {
            let flen = read_varint(payload, &mut at);
            (flen, read_varint(payload, &mut at))
        } else {
            (usize::from(header >> 4), usize::from(header & 0x0F))
        };
        let field = &payload[at..at + flen];
        at += flen;
        let value = &payload[at..at + vlen];
        at += vlen;
        Some((field, value, start..at))
    })
}

/// A packed run with `field` set to `value`: replaced in place when present
/// (the pair keeps its position, as in Redis's listpack), appended
/// otherwise. Returns the new run and whether the field existed.
pub(crate) fn packed_set(payload: &[u8], field: &[u8], value: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(payload.len() + field.len() + value.len() + 4);
    let found = packed_pairs(payload).find(|(f, _, _)| *f == field);
    match found {
        Some((_, _, range)) => {
            out.extend_from_slice(&payload[..range.start]);
            packed_push(&mut out, field, value);
            out.extend_from_slice(&payload[range.end..]);
            (out, true)
        }
        None => {
            out.extend_from_slice(payload);
            packed_push(&mut out, field, value);
            (out, false)
        }
    }
}

/// A packed run without `field`, or `None` when it was not there.
pub(crate) fn packed_remove(payload: &[u8], field: &[u8]) -> Option<Vec<u8>> {
    let (_, _, range) = packed_pairs(payload).find(|(f, _, _)| *f == field)?;
    let mut out = Vec::with_capacity(payload.len() - range.len());
    out.extend_from_slice(&payload[..range.start]);
    out.extend_from_slice(&payload[range.end..]);
    Some(out)
}

/// The big encoding of a packed run (the conversion).
pub(crate) fn packed_to_big(payload: &[u8]) -> Box<Big> {
    let mut table = BigHash::new();
    for (field, value, _) in packed_pairs(payload) {
        table.insert(&pair_element(field, value));
    }
    Box::new(Big::Hash(table))
}

/// A read-only view of a hash's elements, whatever the encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HashRef<'a> {
    Packed(&'a [u8]),
    Big(&'a BigHash),
}

impl<'a> HashRef<'a> {
    pub(crate) fn of(payload: Payload<'a>) -> HashRef<'a> {
        match payload {
            Payload::Packed(bytes) => HashRef::Packed(bytes),
            Payload::Big(big) => match big {
                Big::Hash(table) => HashRef::Big(table),
                other => unreachable!("a hash entry holds {other:?}"),
            },
        }
    }

    pub(crate) fn get(self, field: &[u8]) -> Option<&'a [u8]> {
        match self {
            HashRef::Packed(bytes) => packed_pairs(bytes)
                .find(|(f, _, _)| *f == field)
                .map(|(_, v, _)| v),
            HashRef::Big(table) => table.get(field).map(|e| split_pair(e).1),
        }
    }

    pub(crate) fn len(self) -> usize {
        match self {
            HashRef::Packed(bytes) => packed_pairs(bytes).count(),
            HashRef::Big(table) => table.len(),
        }
    }

    /// Every pair (insertion order for `listpack`, as Redis replies).
    pub(crate) fn pairs(self) -> Box<dyn Iterator<Item = (&'a [u8], &'a [u8])> + 'a> {
        match self {
            HashRef::Packed(bytes) => Box::new(packed_pairs(bytes).map(|(f, v, _)| (f, v))),
            HashRef::Big(table) => Box::new(table.iter().map(split_pair)),
        }
    }

    /// The pair at `index` (`index < len`).
    pub(crate) fn nth(self, index: usize) -> Option<(&'a [u8], &'a [u8])> {
        match self {
            HashRef::Packed(_) => self.pairs().nth(index),
            HashRef::Big(table) => table.nth(index).map(split_pair),
        }
    }

    pub(crate) fn is_packed(self) -> bool {
        matches!(self, HashRef::Packed(_))
    }
}

/// The `OBJECT ENCODING` name.
pub(crate) fn encoding(payload: Payload<'_>) -> &'static str {
    match payload {
        Payload::Packed(_) => LISTPACK,
        Payload::Big(_) => HASHTABLE,
    }
}

/// Number of fields.
pub(crate) fn len(payload: Payload<'_>) -> usize {
    HashRef::of(payload).len()
}

/// The owned form of a live hash.
pub(crate) fn to_value(payload: Payload<'_>) -> HashValue {
    match HashRef::of(payload) {
        HashRef::Packed(bytes) => HashValue::from_packed(&Bytes::copy_from_slice(bytes)),
        HashRef::Big(table) => HashValue(Repr::Frozen(table.freeze())),
    }
}

/// An owned hash value: its field-value pairs. Produced by snapshots and
/// [`DbHandle::value`](crate::DbHandle::value); a big hash comes as a frozen
/// view of its chunks rather than a copy. Equality ignores order.
#[derive(Clone)]
pub struct HashValue(Repr);

#[derive(Clone)]
enum Repr {
    Pairs(Vec<(Bytes, Bytes)>),
    Frozen(Frozen),
}

impl HashValue {
    /// A hash of these pairs (fields are expected to be distinct).
    pub fn from_pairs(pairs: Vec<(Bytes, Bytes)>) -> HashValue {
        HashValue(Repr::Pairs(pairs))
    }

    /// The pairs of a packed run, as slices of `buffer`.
    pub(crate) fn from_packed(buffer: &Bytes) -> HashValue {
        let pairs = packed_pairs(buffer)
            .map(|(f, v, _)| (buffer.slice_ref(f), buffer.slice_ref(v)))
            .collect();
        HashValue(Repr::Pairs(pairs))
    }

    pub(crate) fn from_frozen(frozen: Frozen) -> HashValue {
        HashValue(Repr::Frozen(frozen))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Pairs(pairs) => pairs.len(),
            Repr::Frozen(frozen) => frozen.len(),
        }
    }

    /// Whether there are no fields (never true of a stored hash).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `visit` with every pair, in no particular order.
    pub fn for_each(&self, mut visit: impl FnMut(&[u8], &[u8])) {
        match &self.0 {
            Repr::Pairs(pairs) => pairs.iter().for_each(|(f, v)| visit(f, v)),
            Repr::Frozen(frozen) => frozen.iter().for_each(|e| {
                let (f, v) = split_pair(e);
                visit(f, v)
            }),
        }
    }

    /// The pairs sorted by field.
    pub fn to_sorted_pairs(&self) -> Vec<(Bytes, Bytes)> {
        let mut pairs = Vec::with_capacity(self.len());
        self.for_each(|f, v| pairs.push((Bytes::copy_from_slice(f), Bytes::copy_from_slice(v))));
        pairs.sort();
        pairs
    }

    /// Bytes of the fields and values.
    pub(crate) fn memory_bytes(&self) -> usize {
        match &self.0 {
            Repr::Pairs(pairs) => pairs.iter().map(|(f, v)| f.len() + v.len()).sum(),
            Repr::Frozen(frozen) => frozen.bytes(),
        }
    }

    /// `HSET key field value ...` in batches, then `PEXPIREAT`.
    pub(crate) fn rewrite<'a>(
        &'a self,
        key: &'a [u8],
        expire_at_ms: Option<u64>,
        emit: &mut dyn FnMut(&[&[u8]]),
    ) {
        let mut items: Vec<&'a [u8]> =
            Vec::with_capacity(2 * self.len().min(REWRITE_ITEMS_PER_COMMAND));
        let mut flush = |items: &mut Vec<&'a [u8]>| {
            let mut args: Vec<&'a [u8]> = vec![b"HSET", key];
            args.append(items);
            emit(&args);
        };
        // Both forms iterate borrowed pairs; batches of 64 pairs.
        match &self.0 {
            Repr::Pairs(pairs) => {
                for (f, v) in pairs {
                    items.push(f);
                    items.push(v);
                    if items.len() == 2 * REWRITE_ITEMS_PER_COMMAND {
                        flush(&mut items);
                    }
                }
            }
            Repr::Frozen(frozen) => {
                for element in frozen.iter() {
                    let (f, v) = split_pair(element);
                    items.push(f);
                    items.push(v);
                    if items.len() == 2 * REWRITE_ITEMS_PER_COMMAND {
                        flush(&mut items);
                    }
                }
            }
        }
        if !items.is_empty() {
            flush(&mut items);
        }
        rewrite_deadline(key, expire_at_ms, emit);
    }
}

impl PartialEq for HashValue {
    fn eq(&self, other: &HashValue) -> bool {
        self.len() == other.len() && self.to_sorted_pairs() == other.to_sorted_pairs()
    }
}

impl Eq for HashValue {}

impl std::fmt::Debug for HashValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.to_sorted_pairs()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_runs_keep_insertion_order_and_replace_in_place() {
        let mut run = Vec::new();
        packed_push(&mut run, b"a", b"1");
        packed_push(&mut run, b"b", b"2");
        let (run, existed) = packed_set(&run, b"a", b"longer value");
        assert!(existed);
        let (run, existed) = packed_set(&run, b"c", b"");
        assert!(!existed);
        let long_field = [b'f'; 15];
        let long_value = [b'v'; 300];
        let (run, _) = packed_set(&run, &long_field, b"x");
        let (run, _) = packed_set(&run, b"y", &long_value);
        assert_eq!(HashRef::Packed(&run).get(&long_field), Some(&b"x"[..]));
        assert_eq!(HashRef::Packed(&run).get(b"y"), Some(&long_value[..]));
        let run = packed_remove(&run, &long_field).unwrap();
        let run = packed_remove(&run, b"y").unwrap();
        let view = HashRef::Packed(&run);
        let pairs: Vec<_> = view.pairs().collect();
        assert_eq!(
            pairs,
            vec![
                (&b"a"[..], &b"longer value"[..]),
                (&b"b"[..], &b"2"[..]),
                (&b"c"[..], &b""[..])
            ]
        );
        assert_eq!(view.get(b"b"), Some(&b"2"[..]));
        assert_eq!(view.len(), 3);
        let run = packed_remove(&run, b"b").unwrap();
        assert!(packed_remove(&run, b"zz").is_none());
        assert_eq!(HashRef::Packed(&run).len(), 2);
    }

    #[test]
    fn rewrite_batches_pairs_and_ends_with_the_deadline() {
        let pairs: Vec<(Bytes, Bytes)> = (0..130)
            .map(|i| (Bytes::from(format!("f{i}")), Bytes::from(format!("v{i}"))))
            .collect();
        let value = HashValue::from_pairs(pairs);
        let mut commands: Vec<Vec<Vec<u8>>> = Vec::new();
        value.rewrite(b"h", Some(42), &mut |args| {
            commands.push(args.iter().map(|a| a.to_vec()).collect())
        });
        let lens: Vec<usize> = commands.iter().map(Vec::len).collect();
        assert_eq!(lens, vec![2 + 128, 2 + 128, 2 + 4, 3]);
        assert_eq!(commands[0][0], b"HSET");
        assert_eq!(
            commands[3],
            vec![b"PEXPIREAT".to_vec(), b"h".to_vec(), b"42".to_vec()]
        );
    }
}
