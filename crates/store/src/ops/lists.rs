//! List commands: `LPUSH`, `RPUSH`, `LPUSHX`, `RPUSHX`, `LPOP`, `RPOP`,
//! `LLEN`, `LRANGE`, `LINDEX`, `LSET`, `LINSERT`, `LREM`, `LTRIM`, `LPOS`,
//! `LMOVE` (and `RPOPLPUSH`), `LMPOP`, following Redis 7.0's `t_list.c`
//! (order of lookups and type checks, index normalisation, empty lists
//! deleted at once).
//!
//! The pops and moves ([`DbHandle::list_pop`], [`DbHandle::lmove`],
//! [`DbHandle::lmpop`]) are also what a blocked client runs once a key it
//! waits on gets elements: they take the ends and counts as values, touch
//! only the keys they are given and report whether a source was deleted.
//!
//! Propagation (done by the server): `LMPOP` as `LPOP|RPOP key <popped>`
//! ([`ListPopped`]), everything else as received when it changed something.

use bytes::Bytes;

use crate::entry::{Entry, Payload};
use crate::error::StoreError;
use crate::kinds::Big;
pub use crate::kinds::list::End;
use crate::kinds::list::{BigList, ListRef, Placement, placement};
use crate::ops::collections::Removed;
use crate::store::DbHandle;
use crate::table::Slot;
use crate::value::ValueKind;

/// What a pop did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPopped {
    /// The elements popped, in pop order (the reply).
    pub elements: Vec<Bytes>,
    /// The key was deleted because it became empty.
    pub key_deleted: bool,
}

/// What `LTRIM` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trimmed {
    /// Elements removed (Redis propagates `LTRIM` only when this is not 0).
    pub removed: usize,
    /// The key was deleted because nothing was left.
    pub key_deleted: bool,
}

/// What `LMOVE` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The element moved (the reply).
    pub element: Bytes,
    /// The source was deleted because it became empty.
    pub source_deleted: bool,
    /// The destination did not exist and was created.
    pub destination_created: bool,
}

/// Receives an `LRANGE` reply: its length, then each element.
pub trait RangeSink {
    /// Called once, first, with how many elements follow.
    fn begin(&mut self, count: usize);
    /// One element.
    fn element(&mut self, element: &[u8]);
}

impl RangeSink for Vec<Bytes> {
    fn begin(&mut self, count: usize) {
        self.reserve(count);
    }

    fn element(&mut self, element: &[u8]) {
        self.push(Bytes::copy_from_slice(element));
    }
}

/// `LINSERT`'s `BEFORE`/`AFTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertWhere {
    /// Before the pivot.
    Before,
    /// After the pivot.
    After,
}

/// `LRANGE`'s inclusive bounds for a list of `len`, Redis's way (negative
/// from the end, clamped); `None` for an empty range.
pub fn range_bounds(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

/// An index counted from the end when negative, if it is in range.
fn absolute_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let index = if index < 0 { len + index } else { index };
    (0..len).contains(&index).then_some(index as usize)
}

/// A new, empty list entry.
fn new_list(key: &[u8]) -> Entry {
    Entry::new_packed(ValueKind::List, key, &[], None)
}

/// Runs `change` on the list of `entry` as a [`BigList`] (a packed list is
/// unpacked for it, at most a kilobyte, taking `list-compress-depth` =
/// `depth`), then puts the list where it belongs (see [`placement`]).
fn change_list<R>(
    entry: &mut Entry,
    (fill, depth): (i64, usize),
    change: impl FnOnce(&mut BigList) -> R,
) -> R {
    let (result, list, was_big) = match entry.big_mut() {
        Some(Big::List(list)) => {
            let result = change(list);
            // Most writes leave a big list big: only a short one is taken
            // out to be packed again.
            if list.len() > 0 && !list.may_pack() {
                return result;
            }
            (result, std::mem::take(list), true)
        }
        Some(other) => unreachable!("a list entry holds {other:?}"),
        None => {
            let Payload::Packed(run) = entry.payload() else {
                unreachable!("an inline entry is packed")
            };
            let mut list = BigList::from_run(run, depth);
            let result = change(&mut list);
            (result, list, false)
        }
    };
    match placement(list, fill, was_big) {
        Placement::Packed(run) => entry.set_packed(&run),
        Placement::Big(list) => match entry.big_mut() {
            Some(Big::List(slot)) => *slot = list,
            _ => entry.set_big(Box::new(Big::List(list))),
        },
    }
    result
}

impl DbHandle<'_> {
    /// A read-only view of the list at `key` (`WRONGTYPE` for another kind).
    fn list_view(&mut self, key: &[u8]) -> Result<Option<ListRef<'_>>, StoreError> {
        let slot = self.find_kind(key, ValueKind::List)?;
        Ok(slot.map(|slot| ListRef::of(self.db().entry_at(slot).payload())))
    }

    fn fill(&self) -> i64 {
        self.limits().list_max_listpack_size
    }

    /// `list-max-listpack-size` and `list-compress-depth`.
    fn shape(&self) -> (i64, usize) {
        let limits = self.limits();
        (limits.list_max_listpack_size, limits.list_compress_depth)
    }

    /// Runs `change` on the list at `slot`, deleting the key when it is
    /// left empty; returns the result and whether the key went.
    fn change_at<R>(&mut self, slot: Slot, change: impl FnOnce(&mut BigList) -> R) -> (R, bool) {
        let shape = self.shape();
        let (result, empty) = self.db_mut().update_value(slot, |entry| {
            let result = change_list(entry, shape, change);
            (result, entry.collection_is_empty())
        });
        if empty {
            let entry = self.db_mut().remove_at(slot);
            self.dispose(entry);
        }
        (result, empty)
    }

    /// `LPUSH`/`RPUSH` (`only_existing`: `LPUSHX`/`RPUSHX`): pushes each
    /// element in turn at `end`; the new length (0 when `only_existing` and
    /// the key is missing).
    pub fn list_push<E: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        end: End,
        elements: &[E],
        only_existing: bool,
    ) -> Result<usize, StoreError> {
        let fill = self.fill();
        let push_all = |list: &mut BigList| {
            for element in elements {
                list.push(end, element.as_ref(), fill);
            }
            list.len()
        };
        match self.find_kind(key, ValueKind::List)? {
            Some(slot) => Ok(self.change_at(slot, push_all).0),
            None if only_existing || elements.is_empty() => Ok(0),
            None => {
                let mut entry = new_list(key);
                let len = change_list(&mut entry, self.shape(), push_all);
                self.db_mut().insert_absent(entry);
                Ok(len)
            }
        }
    }

    /// `LLEN key`.
    pub fn llen(&mut self, key: &[u8]) -> Result<usize, StoreError> {
        Ok(self.list_view(key)?.map_or(0, ListRef::len))
    }

    /// `LPOP`/`RPOP key [count]`: `None` when the key is missing; `count`
    /// `None` pops one, `Some(0)` pops nothing (Redis replies an empty
    /// array for an existing key).
    pub fn list_pop(
        &mut self,
        key: &[u8],
        end: End,
        count: Option<usize>,
    ) -> Result<Option<ListPopped>, StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::List)? else {
            return Ok(None);
        };
        Ok(Some(self.pop_at(slot, end, count.unwrap_or(1))))
    }

    fn pop_at(&mut self, slot: Slot, end: End, count: usize) -> ListPopped {
        if count == 0 {
            return ListPopped {
                elements: Vec::new(),
                key_deleted: false,
            };
        }
        let (elements, key_deleted) = self.change_at(slot, |list| {
            let take = count.min(list.len());
            let mut out = Vec::with_capacity(take);
            for _ in 0..take {
                out.extend(list.pop(end));
            }
            out
        });
        ListPopped {
            elements,
            key_deleted,
        }
    }

    /// `LRANGE key start stop`, streamed into `sink` (no copy of the
    /// elements). `Ok(false)` when the key is missing (`begin(0)` was
    /// called all the same).
    pub fn lrange_into(
        &mut self,
        key: &[u8],
        start: i64,
        stop: i64,
        sink: &mut dyn RangeSink,
    ) -> Result<bool, StoreError> {
        let Some(list) = self.list_view(key)? else {
            sink.begin(0);
            return Ok(false);
        };
        match range_bounds(start, stop, list.len()) {
            Some((from, to)) => {
                sink.begin(to + 1 - from);
                list.range(from, to, |e| sink.element(e));
            }
            None => sink.begin(0),
        }
        Ok(true)
    }

    /// `LRANGE key start stop`, collected.
    pub fn lrange(&mut self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Bytes>, StoreError> {
        let mut out = Vec::new();
        self.lrange_into(key, start, stop, &mut out)?;
        Ok(out)
    }

    /// `LINDEX key index`.
    pub fn lindex(&mut self, key: &[u8], index: i64) -> Result<Option<Bytes>, StoreError> {
        let Some(list) = self.list_view(key)? else {
            return Ok(None);
        };
        Ok(absolute_index(index, list.len()).map(|i| Bytes::copy_from_slice(&list.get(i))))
    }

    /// `LSET key index element`: `ERR no such key` for a missing key,
    /// `ERR index out of range` outside it.
    pub fn lset(&mut self, key: &[u8], index: i64, element: &[u8]) -> Result<(), StoreError> {
        let slot = self
            .find_kind(key, ValueKind::List)?
            .ok_or(StoreError::NoSuchKey)?;
        let len = ListRef::of(self.db().entry_at(slot).payload()).len();
        let index = absolute_index(index, len).ok_or(StoreError::IndexOutOfRange)?;
        let fill = self.fill();
        self.change_at(slot, |list| list.set(index, element, fill));
        Ok(())
    }

    /// `LINSERT key BEFORE|AFTER pivot element`: the new length, 0 for a
    /// missing key, -1 when the pivot is not there (nothing changes).
    pub fn linsert(
        &mut self,
        key: &[u8],
        place: InsertWhere,
        pivot: &[u8],
        element: &[u8],
    ) -> Result<i64, StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::List)? else {
            return Ok(0);
        };
        let mut found = None;
        ListRef::of(self.db().entry_at(slot).payload()).walk(true, |i, e| {
            if e == pivot {
                found = Some(i);
            }
            found.is_none()
        });
        let Some(at) = found else {
            return Ok(-1);
        };
        let index = match place {
            InsertWhere::Before => at,
            InsertWhere::After => at + 1,
        };
        let fill = self.fill();
        let (len, _) = self.change_at(slot, |list| {
            list.insert_at(index, element, fill);
            list.len()
        });
        Ok(i64::try_from(len).unwrap_or(i64::MAX))
    }

    /// `LREM key count element`: removes up to `|count|` occurrences from
    /// the head (`count > 0`), the tail (`count < 0`), or all (`0`).
    pub fn lrem(&mut self, key: &[u8], count: i64, element: &[u8]) -> Result<Removed, StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::List)? else {
            return Ok(Removed {
                removed: 0,
                key_deleted: false,
            });
        };
        let list = ListRef::of(self.db().entry_at(slot).payload());
        let limit = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
        };
        let mut doomed = Vec::new();
        list.walk(count >= 0, |i, e| {
            if e == element {
                doomed.push(i);
            }
            doomed.len() < limit
        });
        if doomed.is_empty() {
            return Ok(Removed {
                removed: 0,
                key_deleted: false,
            });
        }
        doomed.sort_unstable();
        let fill = self.fill();
        let removed = doomed.len();
        let (dropped, key_deleted) = self.change_at(slot, |list| {
            list.retain(|i, _| doomed.binary_search(&i).is_err(), fill)
        });
        self.dispose_list_chunks(dropped);
        Ok(Removed {
            removed,
            key_deleted,
        })
    }

    /// `LTRIM key start stop`: keeps elements `start..=stop` (Redis's
    /// normalisation); a range that keeps nothing deletes the key.
    pub fn ltrim(&mut self, key: &[u8], start: i64, stop: i64) -> Result<Trimmed, StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::List)? else {
            return Ok(Trimmed {
                removed: 0,
                key_deleted: false,
            });
        };
        let len = ListRef::of(self.db().entry_at(slot).payload()).len();
        let (from, to) = match range_bounds(start, stop, len) {
            Some(bounds) => bounds,
            None => (len, len), // keeps nothing
        };
        let kept = if from < len { to + 1 - from } else { 0 };
        if kept == len {
            return Ok(Trimmed {
                removed: 0,
                key_deleted: false,
            });
        }
        if kept == 0 {
            // The whole list goes, as a deleted key does (a big one to the
            // background freer, not freed here).
            let entry = self.db_mut().remove_at(slot);
            self.dispose(entry);
            return Ok(Trimmed {
                removed: len,
                key_deleted: true,
            });
        }
        let (dropped, key_deleted) = self.change_at(slot, |list| {
            // Whole chunks go at each end; the middle stays untouched. The
            // chunks cut off are freed in the background when there are
            // many (see `garbage`).
            list.drop_ends(from.min(len), len - from.min(len) - kept)
        });
        self.dispose_list_chunks(dropped);
        Ok(Trimmed {
            removed: len - kept,
            key_deleted,
        })
    }

    /// `LPOS key element [RANK rank] [COUNT count] [MAXLEN maxlen]`: the
    /// indexes of the matches (`None` for a missing key). `rank` is not 0;
    /// negative searches from the tail; `count` 0 means every match;
    /// `maxlen` 0 means no limit on comparisons.
    pub fn lpos(
        &mut self,
        key: &[u8],
        element: &[u8],
        rank: i64,
        count: usize,
        maxlen: usize,
    ) -> Result<Option<Vec<usize>>, StoreError> {
        debug_assert!(rank != 0);
        let Some(list) = self.list_view(key)? else {
            return Ok(None);
        };
        // Redis's loop, including its arithmetic: `RANK -9223372036854775808`
        // negates to itself, so every match qualifies and a `COUNT` never
        // ends the walk early.
        let forward = rank > 0;
        let rank = if forward { rank } else { rank.wrapping_neg() };
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let mut found = Vec::new();
        let mut matches = 0i64;
        let mut compared = 0usize;
        list.walk(forward, |i, e| {
            if maxlen != 0 && compared >= maxlen {
                return false;
            }
            compared += 1;
            if e == element {
                matches += 1;
                if matches >= rank {
                    found.push(i);
                    if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
                        return false;
                    }
                }
            }
            true
        });
        Ok(Some(found))
    }

    /// `LMOVE source destination wherefrom whereto` (`RPOPLPUSH` is
    /// `RIGHT LEFT`): `None` when the source is missing. `WRONGTYPE` for
    /// either key is reported before anything changes, as Redis checks the
    /// destination before popping.
    pub fn lmove(
        &mut self,
        source: &[u8],
        destination: &[u8],
        from: End,
        to: End,
    ) -> Result<Option<Moved>, StoreError> {
        let Some(source_slot) = self.find_kind(source, ValueKind::List)? else {
            return Ok(None);
        };
        let fill = self.fill();
        if source == destination {
            let (element, _) = self.change_at(source_slot, |list| {
                let element = list.pop(from).expect("a stored list is not empty");
                list.push(to, &element, fill);
                element
            });
            return Ok(Some(Moved {
                element,
                source_deleted: false,
                destination_created: false,
            }));
        }
        // Checked before popping (the source's slot is looked up again
        // after: the destination lookup may have expired another key).
        let destination_exists = self.find_kind(destination, ValueKind::List)?.is_some();
        let popped = self
            .list_pop(source, from, None)?
            .expect("the source was found above");
        let element = popped.elements.into_iter().next().expect("one popped");
        self.list_push(destination, to, &[&element[..]], false)?;
        Ok(Some(Moved {
            element,
            source_deleted: popped.key_deleted,
            destination_created: !destination_exists,
        }))
    }

    /// `LMPOP numkeys key ... LEFT|RIGHT [COUNT count]`: pops up to `count`
    /// elements from the first non-empty list of `keys`; `None` when every
    /// key is missing. A key of another kind met before that list is
    /// `WRONGTYPE`, one after it is never looked at (Redis's order).
    pub fn lmpop<K: AsRef<[u8]>>(
        &mut self,
        keys: &[K],
        end: End,
        count: usize,
    ) -> Result<Option<(Bytes, ListPopped)>, StoreError> {
        for key in keys {
            let key = key.as_ref();
            if let Some(slot) = self.find_kind(key, ValueKind::List)? {
                let popped = self.pop_at(slot, end, count.max(1));
                return Ok(Some((Bytes::copy_from_slice(key), popped)));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_bounds_follow_redis() {
        assert_eq!(range_bounds(0, -1, 5), Some((0, 4)));
        assert_eq!(range_bounds(-100, 100, 5), Some((0, 4)));
        assert_eq!(range_bounds(3, 1, 5), None);
        assert_eq!(range_bounds(5, 10, 5), None);
        assert_eq!(range_bounds(-2, -1, 5), Some((3, 4)));
        assert_eq!(range_bounds(0, -6, 5), None);
        assert_eq!(range_bounds(0, 0, 0), None);
        assert_eq!(range_bounds(i64::MIN, i64::MAX, 3), Some((0, 2)));
    }

    #[test]
    fn absolute_indexes_count_from_the_end_when_negative() {
        assert_eq!(absolute_index(-1, 3), Some(2));
        assert_eq!(absolute_index(-3, 3), Some(0));
        assert_eq!(absolute_index(-4, 3), None);
        assert_eq!(absolute_index(3, 3), None);
        assert_eq!(absolute_index(i64::MIN, 3), None);
    }
}
