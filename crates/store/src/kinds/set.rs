//! The set kind: distinct members, in two encodings as Redis 7.0.
//!
//! * `intset` (every member the canonical decimal form of an `i64`, as
//!   Redis's `string2ll` reads it, and at most `set-max-intset-entries`
//!   members): `[width][sorted integers, little endian, width bytes each]`
//!   inline in the entry's block, width 2, 4 or 8 bytes, widened when a
//!   member needs it and never narrowed (Redis's `intset`). Members come
//!   out in ascending order, as Redis answers for an intset.
//! * `hashtable` (a non-integer member, or too many members): a [`Chunked`]
//!   table of [`Member`]s, each one thin allocation, out of line.
//!
//! Redis 7.2's `listpack` encoding for small sets of strings is not used:
//! `OBJECT ENCODING` answers as 7.0 does (`hashtable`).
//!
//! The owned form is [`SetValue`] (a frozen view of a big set's chunks,
//! like [`HashValue`](super::hash::HashValue)).

use bytes::Bytes;

use super::chunked::{Chunked, Frozen, KeyOf};
use super::{Big, rewrite_elements};
use crate::entry::Payload;
use crate::numeric::{format_i64, parse_i64};

/// `TYPE` name.
pub(crate) const TYPE_NAME: &str = "set";

/// `OBJECT ENCODING` of a set of few integers.
const INTSET: &str = "intset";
/// `OBJECT ENCODING` of any other set.
const HASHTABLE: &str = "hashtable";

/// A big set's elements are its members.
#[derive(Debug)]
pub(crate) struct MemberKey;

impl KeyOf for MemberKey {
    fn key(element: &[u8]) -> &[u8] {
        element
    }
}

/// The big encoding.
pub(crate) type BigSet = Chunked<MemberKey>;

/// Bytes per integer an intset needs for `value`.
fn width_for(value: i64) -> usize {
    if i16::try_from(value).is_ok() {
        2
    } else if i32::try_from(value).is_ok() {
        4
    } else {
        8
    }
}

/// An empty intset (16-bit, as Redis's `intsetNew`).
pub(crate) fn empty_intset() -> Vec<u8> {
    vec![2]
}

fn read_int(bytes: &[u8], width: usize) -> i64 {
    match width {
        2 => i64::from(i16::from_le_bytes([bytes[0], bytes[1]])),
        4 => i64::from(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        _ => i64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
    }
}

fn push_int(out: &mut Vec<u8>, value: i64, width: usize) {
    out.extend_from_slice(&value.to_le_bytes()[..width]);
}

/// The integers of an intset, ascending.
pub(crate) fn intset_values(payload: &[u8]) -> impl Iterator<Item = i64> + '_ {
    let width = usize::from(payload[0]);
    payload[1..]
        .chunks_exact(width)
        .map(move |c| read_int(c, width))
}

fn intset_len(payload: &[u8]) -> usize {
    (payload.len() - 1) / usize::from(payload[0])
}

fn intset_search(payload: &[u8], value: i64) -> Result<usize, usize> {
    let width = usize::from(payload[0]);
    let (mut low, mut high) = (0, intset_len(payload));
    while low < high {
        let mid = (low + high) / 2;
        let at = 1 + mid * width;
        let current = read_int(&payload[at..at + width], width);
        match current.cmp(&value) {
            std::cmp::Ordering::Less => low = mid + 1,
            std::cmp::Ordering::Greater => high = mid,
            std::cmp::Ordering::Equal => return Ok(mid),
        }
    }
    Err(low)
}

/// The intset with `value` added, or `None` when already present.
pub(crate) fn intset_insert(payload: &[u8], value: i64) -> Option<Vec<u8>> {
    let width = usize::from(payload[0]);
    let new_width = width.max(width_for(value));
    if new_width == width {
        let index = intset_search(payload, value).err()?;
        let at = 1 + index * width;
        let mut out = Vec::with_capacity(payload.len() + width);
        out.extend_from_slice(&payload[..at]);
        push_int(&mut out, value, width);
        out.extend_from_slice(&payload[at..]);
        return Some(out);
    }
    // Widening: the new value is below or above every other one.
    let mut out = Vec::with_capacity(1 + (intset_len(payload) + 1) * new_width);
    out.push(new_width as u8);
    if value < 0 {
        push_int(&mut out, value, new_width);
    }
    for v in intset_values(payload) {
        push_int(&mut out, v, new_width);
    }
    if value >= 0 {
        push_int(&mut out, value, new_width);
    }
    Some(out)
}

/// The intset without `value`, or `None` when it was not there.
pub(crate) fn intset_remove(payload: &[u8], value: i64) -> Option<Vec<u8>> {
    let width = usize::from(payload[0]);
    let index = intset_search(payload, value).ok()?;
    let at = 1 + index * width;
    let mut out = Vec::with_capacity(payload.len() - width);
    out.extend_from_slice(&payload[..at]);
    out.extend_from_slice(&payload[at + width..]);
    Some(out)
}

/// The big encoding of an intset (the conversion).
pub(crate) fn intset_to_big(payload: &[u8]) -> Box<Big> {
    let mut table = BigSet::new();
    for value in intset_values(payload) {
        table.insert(format_i64(value).as_bytes());
    }
    Box::new(Big::Set(table))
}

/// A read-only view of a set's members, whatever the encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SetRef<'a> {
    Ints(&'a [u8]),
    Big(&'a BigSet),
}

impl<'a> SetRef<'a> {
    pub(crate) fn of(payload: Payload<'a>) -> SetRef<'a> {
        match payload {
            Payload::Packed(bytes) => SetRef::Ints(bytes),
            Payload::Big(big) => match big {
                Big::Set(table) => SetRef::Big(table),
                other => unreachable!("a set entry holds {other:?}"),
            },
        }
    }

    pub(crate) fn contains(self, member: &[u8]) -> bool {
        match self {
            SetRef::Ints(bytes) => {
                parse_i64(member).is_some_and(|v| intset_search(bytes, v).is_ok())
            }
            SetRef::Big(table) => table.get(member).is_some(),
        }
    }

    pub(crate) fn len(self) -> usize {
        match self {
            SetRef::Ints(bytes) => intset_len(bytes),
            SetRef::Big(table) => table.len(),
        }
    }

    /// Calls `visit` with every member (ascending for an intset).
    pub(crate) fn for_each(self, mut visit: impl FnMut(&[u8])) {
        match self {
            SetRef::Ints(bytes) => {
                intset_values(bytes).for_each(|v| visit(format_i64(v).as_bytes()))
            }
            SetRef::Big(table) => table.iter().for_each(visit),
        }
    }

    /// Every member, owned.
    pub(crate) fn members(self) -> Vec<Bytes> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each(|m| out.push(Bytes::copy_from_slice(m)));
        out
    }

    /// The member at `index` (`index < len`).
    pub(crate) fn nth(self, index: usize) -> Option<Bytes> {
        match self {
            SetRef::Ints(bytes) => intset_values(bytes)
                .nth(index)
                .map(|v| Bytes::copy_from_slice(format_i64(v).as_bytes())),
            SetRef::Big(table) => table.nth(index).map(Bytes::copy_from_slice),
        }
    }

    pub(crate) fn is_packed(self) -> bool {
        matches!(self, SetRef::Ints(_))
    }
}

/// The `OBJECT ENCODING` name.
pub(crate) fn encoding(payload: Payload<'_>) -> &'static str {
    match payload {
        Payload::Packed(_) => INTSET,
        Payload::Big(_) => HASHTABLE,
    }
}

/// Number of members.
pub(crate) fn len(payload: Payload<'_>) -> usize {
    SetRef::of(payload).len()
}

/// The owned form of a live set.
pub(crate) fn to_value(payload: Payload<'_>) -> SetValue {
    match SetRef::of(payload) {
        SetRef::Ints(bytes) => SetValue::from_intset(bytes),
        SetRef::Big(table) => SetValue(Repr::Frozen(table.freeze())),
    }
}

/// An owned set value: its members. Produced by snapshots and
/// [`DbHandle::value`](crate::DbHandle::value); a big set comes as a frozen
/// view of its chunks rather than a copy. Equality ignores order.
#[derive(Clone)]
pub struct SetValue(Repr);

#[derive(Clone)]
enum Repr {
    Members(Vec<Bytes>),
    Frozen(Frozen),
}

impl SetValue {
    /// A set of these members (expected to be distinct).
    pub fn from_members(members: Vec<Bytes>) -> SetValue {
        SetValue(Repr::Members(members))
    }

    pub(crate) fn from_intset(payload: &[u8]) -> SetValue {
        SetValue(Repr::Members(
            intset_values(payload)
                .map(|v| Bytes::copy_from_slice(format_i64(v).as_bytes()))
                .collect(),
        ))
    }

    pub(crate) fn from_frozen(frozen: Frozen) -> SetValue {
        SetValue(Repr::Frozen(frozen))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Members(members) => members.len(),
            Repr::Frozen(frozen) => frozen.len(),
        }
    }

    /// Whether there are no members (never true of a stored set).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `visit` with every member, in no particular order.
    pub fn for_each(&self, mut visit: impl FnMut(&[u8])) {
        match &self.0 {
            Repr::Members(members) => members.iter().for_each(|m| visit(m)),
            Repr::Frozen(frozen) => frozen.iter().for_each(visit),
        }
    }

    /// The members, sorted.
    pub fn to_sorted(&self) -> Vec<Bytes> {
        let mut members = Vec::with_capacity(self.len());
        self.for_each(|m| members.push(Bytes::copy_from_slice(m)));
        members.sort();
        members
    }

    /// Bytes of the members.
    pub(crate) fn memory_bytes(&self) -> usize {
        match &self.0 {
            Repr::Members(members) => members.iter().map(Bytes::len).sum(),
            Repr::Frozen(frozen) => frozen.bytes(),
        }
    }

    /// `SADD key member ...` in batches, then `PEXPIREAT`.
    pub(crate) fn rewrite(
        &self,
        key: &[u8],
        expire_at_ms: Option<u64>,
        emit: &mut dyn FnMut(&[&[u8]]),
    ) {
        rewrite_elements(
            b"SADD",
            key,
            self.len(),
            |visit| self.for_each(visit),
            expire_at_ms,
            emit,
        );
    }
}

impl PartialEq for SetValue {
    fn eq(&self, other: &SetValue) -> bool {
        self.len() == other.len() && self.to_sorted() == other.to_sorted()
    }
}

impl Eq for SetValue {}

impl std::fmt::Debug for SetValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.to_sorted()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(values: &[i64]) -> Vec<u8> {
        let mut set = empty_intset();
        for &v in values {
            if let Some(next) = intset_insert(&set, v) {
                set = next;
            }
        }
        set
    }

    #[test]
    fn intsets_stay_sorted_and_widen() {
        let set = build(&[5, -3, 100, 5, 7]);
        assert_eq!(set[0], 2);
        assert_eq!(intset_values(&set).collect::<Vec<_>>(), vec![-3, 5, 7, 100]);
        let wide = intset_insert(&set, 70_000).unwrap();
        assert_eq!(wide[0], 4);
        let wider = intset_insert(&wide, i64::MIN).unwrap();
        assert_eq!(wider[0], 8);
        assert_eq!(
            intset_values(&wider).collect::<Vec<_>>(),
            vec![i64::MIN, -3, 5, 7, 100, 70_000]
        );
        let smaller = intset_remove(&wider, 7).unwrap();
        assert!(intset_remove(&smaller, 7).is_none());
        assert_eq!(smaller[0], 8, "never narrowed, as Redis");
        let view = SetRef::Ints(&smaller);
        assert!(view.contains(b"70000") && !view.contains(b"7") && !view.contains(b"+5"));
        assert_eq!(view.len(), 5);
    }
}
