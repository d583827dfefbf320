//! Set commands: `SADD`, `SREM`, `SCARD`, `SISMEMBER`, `SMISMEMBER`,
//! `SMEMBERS`, `SRANDMEMBER`, `SPOP`, `SMOVE`, `SINTER`, `SINTERCARD`,
//! `SINTERSTORE`, `SUNION`, `SUNIONSTORE`, `SDIFF`, `SDIFFSTORE`, `SSCAN`,
//! following Redis 7.0's `t_set.c` (order of lookups and checks, encoding
//! conversions: a set starts as an `intset` and converts to `hashtable` on
//! its first non-integer member or when it outgrows
//! `set-max-intset-entries`).
//!
//! Propagation: every write here is deterministic and propagates as
//! received, except `SPOP`, which propagates as `SREM key <popped members>`,
//! or as `DEL key` when a count popped the whole set ([`Popped`]).

use std::collections::HashSet;

use bytes::Bytes;

use crate::entry::{Entry, Payload};
use crate::error::StoreError;
use crate::glob;
use crate::kinds::Big;
use crate::kinds::set::{self, SetRef};
use crate::numeric::parse_i64;
use crate::ops::collections::{
    CollectionScanPage, PickSink, Removed, SPOP_MOVE_STRATEGY_MUL, SUB_STRATEGY_MUL,
    distinct_indexes,
};
use crate::ops::hashes::xorshift;
use crate::store::{DbHandle, EncodingLimits, SET_MAX_INTSET_ENTRIES_CAP};
use crate::table::Slot;
use crate::value::ValueKind;

/// What `SPOP` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popped {
    /// The members popped (the reply).
    pub members: Vec<Bytes>,
    /// The key was deleted because it became empty.
    pub key_deleted: bool,
    /// `SPOP key count` popped every member: Redis propagates `DEL key`
    /// instead of `SREM`s.
    pub whole_set: bool,
}

/// What a `*STORE` command did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Members of the stored set (the reply).
    pub len: usize,
    /// The result was empty and an existing destination was deleted.
    pub destination_deleted: bool,
}

/// Converts an `intset` to `hashtable` (no-op when already big).
fn convert(entry: &mut Entry) {
    if let Payload::Packed(ints) = entry.payload() {
        let big = set::intset_to_big(ints);
        entry.set_big(big);
    }
}

/// A new, empty set entry (an empty `intset`, as Redis creates them).
fn new_set(key: &[u8]) -> Entry {
    Entry::new_packed(ValueKind::Set, key, &set::empty_intset(), None)
}

/// Redis's `setTypeAdd`: true when `member` was new.
fn add_member(entry: &mut Entry, member: &[u8], limits: EncodingLimits) -> bool {
    if let Payload::Packed(ints) = entry.payload() {
        match parse_i64(member) {
            Some(value) => {
                let Some(ints) = set::intset_insert(ints, value) else {
                    return false;
                };
                entry.set_packed(&ints);
                let max = limits
                    .set_max_intset_entries
                    .min(SET_MAX_INTSET_ENTRIES_CAP);
                if SetRef::Ints(&ints).len() > max {
                    convert(entry);
                }
                return true;
            }
            None => convert(entry),
        }
    }
    match entry.big_mut() {
        Some(Big::Set(table)) => !table.insert(member),
        _ => unreachable!("a set entry is an intset or a hashtable"),
    }
}

/// Removes a member; true when it was there.
fn remove_member(entry: &mut Entry, member: &[u8]) -> bool {
    if let Payload::Packed(ints) = entry.payload() {
        let Some(value) = parse_i64(member) else {
            return false;
        };
        return match set::intset_remove(ints, value) {
            Some(ints) => {
                entry.set_packed(&ints);
                true
            }
            None => false,
        };
    }
    match entry.big_mut() {
        Some(Big::Set(table)) => table.remove(member),
        _ => unreachable!("a set entry is an intset or a hashtable"),
    }
}

/// A set built from `members` through the add path, so its encoding is
/// what Redis would give it (`SINTERSTORE`, `SPOP`'s rebuild).
fn build_set(key: &[u8], members: &[Bytes], limits: EncodingLimits) -> Entry {
    let mut entry = new_set(key);
    for member in members {
        add_member(&mut entry, member, limits);
    }
    entry
}

/// Which operation of `SUNION`/`SDIFF`/`SINTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Inter,
    Union,
    Diff,
}

impl DbHandle<'_> {
    /// A read-only view of the set at `key` (`WRONGTYPE` for another kind).
    fn set_view(&mut self, key: &[u8]) -> Result<Option<SetRef<'_>>, StoreError> {
        let slot = self.find_kind(key, ValueKind::Set)?;
        Ok(slot.map(|slot| SetRef::of(self.db().entry_at(slot).payload())))
    }

    /// `SADD key member ...`: the number of members that were new.
    pub fn sadd<M: AsRef<[u8]>>(&mut self, key: &[u8], members: &[M]) -> Result<usize, StoreError> {
        let limits = self.limits();
        match self.find_kind(key, ValueKind::Set)? {
            Some(slot) => Ok(self.db_mut().update_value(slot, |entry| {
                members
                    .iter()
                    .filter(|m| add_member(entry, m.as_ref(), limits))
                    .count()
            })),
            None => {
                let mut entry = new_set(key);
                let added = members
                    .iter()
                    .filter(|m| add_member(&mut entry, m.as_ref(), limits))
                    .count();
                if added > 0 {
                    self.db_mut().insert_absent(entry);
                }
                Ok(added)
            }
        }
    }

    /// Removes members from the set at `slot`, deleting the key when it
    /// empties.
    fn remove_members<M: AsRef<[u8]>>(&mut self, slot: Slot, members: &[M]) -> Removed {
        self.remove_from_collection(slot, members, remove_member)
    }

    /// `SREM key member ...`: members removed; the key goes with the last.
    pub fn srem<M: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        members: &[M],
    ) -> Result<Removed, StoreError> {
        match self.find_kind(key, ValueKind::Set)? {
            Some(slot) => Ok(self.remove_members(slot, members)),
            None => Ok(Removed {
                removed: 0,
                key_deleted: false,
            }),
        }
    }

    /// `SCARD key`.
    pub fn scard(&mut self, key: &[u8]) -> Result<usize, StoreError> {
        Ok(self.set_view(key)?.map_or(0, SetRef::len))
    }

    /// `SISMEMBER key member`.
    pub fn sismember(&mut self, key: &[u8], member: &[u8]) -> Result<bool, StoreError> {
        Ok(self.set_view(key)?.is_some_and(|s| s.contains(member)))
    }

    /// `SMISMEMBER key member ...`.
    pub fn smismember<M: AsRef<[u8]>>(
        &mut self,
        key: &[u8],
        members: &[M],
    ) -> Result<Vec<bool>, StoreError> {
        let set = self.set_view(key)?;
        Ok(members
            .iter()
            .map(|m| set.is_some_and(|s| s.contains(m.as_ref())))
            .collect())
    }

    /// `SMEMBERS key` (ascending for an `intset`, as Redis).
    pub fn smembers(&mut self, key: &[u8]) -> Result<Vec<Bytes>, StoreError> {
        Ok(self.set_view(key)?.map_or_else(Vec::new, SetRef::members))
    }

    /// `SRANDMEMBER key` (no count).
    pub fn srandmember(&mut self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let seed = self.random();
        let Some(set) = self.set_view(key)? else {
            return Ok(None);
        };
        Ok(set.nth((seed % set.len() as u64) as usize))
    }

    /// `SRANDMEMBER key count`: as
    /// [`hrandfield_with_count`](DbHandle::hrandfield_with_count) (distinct
    /// members for a positive count, independent draws for a negative one,
    /// streamed to `sink`).
    pub fn srandmember_with_count(
        &mut self,
        key: &[u8],
        count: i64,
        sink: &mut dyn PickSink,
    ) -> Result<(), StoreError> {
        let Some(slot) = self.find_kind(key, ValueKind::Set)? else {
            sink.begin(0);
            return Ok(());
        };
        let wanted = count.unsigned_abs() as usize;
        if count >= 0 {
            let picks = self.pick_distinct(slot, wanted);
            sink.begin(picks.len());
            for member in picks {
                if !sink.element(&member, None) {
                    break;
                }
            }
            return Ok(());
        }
        let mut rng = self.random() | 1;
        let set = SetRef::of(self.db().entry_at(slot).payload());
        sink.begin(wanted);
        match set {
            SetRef::Ints(_) => {
                let members = set.members();
                for _ in 0..wanted {
                    rng = xorshift(rng);
                    if !sink.element(&members[(rng % members.len() as u64) as usize], None) {
                        break;
                    }
                }
            }
            SetRef::Big(table) => {
                let sampler = table.sampler();
                for _ in 0..wanted {
                    rng = xorshift(rng);
                    let member = sampler.pick(rng).expect("non-empty");
                    if !sink.element(member, None) {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// `min(count, len)` distinct random members of the set at `slot`.
    fn pick_distinct(&mut self, slot: Slot, count: usize) -> Vec<Bytes> {
        let len = SetRef::of(self.db().entry_at(slot).payload()).len();
        if count >= len {
            return SetRef::of(self.db().entry_at(slot).payload()).members();
        }
        let big_and_sparse = count * SUB_STRATEGY_MUL <= len
            && !SetRef::of(self.db().entry_at(slot).payload()).is_packed();
        if big_and_sparse {
            let mut rng = self.random() | 1;
            let SetRef::Big(table) = SetRef::of(self.db().entry_at(slot).payload()) else {
                unreachable!("checked above");
            };
            let sampler = table.sampler();
            let mut seen: HashSet<&[u8]> = HashSet::with_capacity(count);
            let mut picked = Vec::with_capacity(count);
            while picked.len() < count {
                rng = xorshift(rng);
                let member = sampler.pick(rng).expect("non-empty");
                if seen.insert(member) {
                    picked.push(Bytes::copy_from_slice(member));
                }
            }
            return picked;
        }
        let indexes = {
            let mut random = || self.random();
            distinct_indexes(len, count, &mut random)
        };
        let members = SetRef::of(self.db().entry_at(slot).payload()).members();
        indexes.into_iter().map(|i| members[i].clone()).collect()
    }

    /// `SPOP key` (`count` `None`) or `SPOP key count`.
    pub fn spop(&mut self, key: &[u8], count: Option<usize>) -> Result<Popped, StoreError> {
        let mut popped = Popped {
            members: Vec::new(),
            key_deleted: false,
            whole_set: false,
        };
        let Some(slot) = self.find_kind(key, ValueKind::Set)? else {
            return Ok(popped);
        };
        let len = SetRef::of(self.db().entry_at(slot).payload()).len();
        let wanted = count.unwrap_or(1);
        if wanted == 0 {
            return Ok(popped);
        }
        if count.is_some() && wanted >= len {
            popped.members = SetRef::of(self.db().entry_at(slot).payload()).members();
            let entry = self.db_mut().remove_at(slot);
            self.dispose(entry);
            popped.key_deleted = true;
            popped.whole_set = true;
            return Ok(popped);
        }
        let remaining = len - wanted.min(len);
        if count.is_some() && remaining * SPOP_MOVE_STRATEGY_MUL <= wanted {
            // Few members stay: rebuild the set from them (its encoding
            // chosen afresh, as Redis's `setTypeCreate` + adds do) and hand
            // out the old one's other members.
            let keep = self.pick_distinct(slot, remaining);
            let keep_set: HashSet<&[u8]> = keep.iter().map(|m| &m[..]).collect();
            let all = SetRef::of(self.db().entry_at(slot).payload()).members();
            popped.members = all
                .into_iter()
                .filter(|m| !keep_set.contains(&m[..]))
                .collect();
            let limits = self.limits();
            let deadline = self.db().entry_at(slot).expire_at();
            let mut rebuilt = build_set(key, &keep, limits);
            rebuilt.set_expire_at(deadline);
            let old = self.db_mut().replace_at(slot, rebuilt);
            self.dispose(old);
            return Ok(popped);
        }
        popped.members = if count.is_none() {
            let seed = self.random();
            let set = SetRef::of(self.db().entry_at(slot).payload());
            vec![set.nth((seed % len as u64) as usize).expect("non-empty")]
        } else {
            self.pick_distinct(slot, wanted)
        };
        let members = std::mem::take(&mut popped.members);
        let removed = self.remove_members(slot, &members);
        popped.members = members;
        popped.key_deleted = removed.key_deleted;
        Ok(popped)
    }

    /// `SMOVE source destination member`: true when moved. Redis's order:
    /// a missing source answers 0 before any type check; then either key of
    /// another kind is `WRONGTYPE`; the same key answers whether the member
    /// is there.
    pub fn smove(&mut self, src: &[u8], dst: &[u8], member: &[u8]) -> Result<bool, StoreError> {
        let src_live = self.find(src).is_some();
        let dst_live = self.find(dst).is_some();
        if !src_live {
            return Ok(false);
        }
        let src_slot = self.find_kind(src, ValueKind::Set)?.expect("live");
        if dst_live {
            self.find_kind(dst, ValueKind::Set)?;
        }
        if src == dst {
            return Ok(SetRef::of(self.db().entry_at(src_slot).payload()).contains(member));
        }
        if self.remove_members(src_slot, &[member]).removed == 0 {
            return Ok(false);
        }
        self.sadd(dst, &[member])?;
        Ok(true)
    }

    /// Looks every key up in order, as Redis's `lookupKeyRead` loop does:
    /// a key of another kind is `WRONGTYPE` (even after missing ones).
    /// Returns which keys are live sets.
    fn lookup_sets<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<Vec<bool>, StoreError> {
        keys.iter()
            .map(|k| Ok(self.find_kind(k.as_ref(), ValueKind::Set)?.is_some()))
            .collect()
    }

    /// The result of an operation over `keys` (already looked up).
    fn combine<K: AsRef<[u8]>>(
        &self,
        op: SetOp,
        keys: &[K],
        live: &[bool],
        limit: usize,
    ) -> Vec<Bytes> {
        let db = self.db();
        let sets: Vec<Option<SetRef<'_>>> = keys
            .iter()
            .zip(live)
            .map(|(k, &live)| {
                live.then(|| db.table.get(k.as_ref()))
                    .flatten()
                    .map(|e| SetRef::of(e.payload()))
            })
            .collect();
        let mut out = Vec::new();
        match op {
            SetOp::Inter => {
                if sets.iter().any(Option::is_none) {
                    return out;
                }
                let mut sets: Vec<SetRef<'_>> = sets.into_iter().flatten().collect();
                sets.sort_by_key(|s| s.len());
                let (first, rest) = sets.split_first().expect("at least one key");
                let mut done = false;
                first.for_each(|m| {
                    if done {
                        return;
                    }
                    if rest.iter().all(|s| s.contains(m)) {
                        out.push(Bytes::copy_from_slice(m));
                        if limit > 0 && out.len() >= limit {
                            done = true;
                        }
                    }
                });
            }
            SetOp::Union => {
                let mut seen: HashSet<Bytes> = HashSet::new();
                for set in sets.iter().flatten() {
                    set.for_each(|m| {
                        if !seen.contains(m) {
                            let m = Bytes::copy_from_slice(m);
                            seen.insert(m.clone());
                            out.push(m);
                        }
                    });
                }
            }
            SetOp::Diff => {
                let Some(Some(first)) = sets.first() else {
                    return out;
                };
                let rest: Vec<SetRef<'_>> = sets[1..].iter().flatten().copied().collect();
                first.for_each(|m| {
                    if !rest.iter().any(|s| s.contains(m)) {
                        out.push(Bytes::copy_from_slice(m));
                    }
                });
            }
        }
        out
    }

    fn set_op<K: AsRef<[u8]>>(&mut self, op: SetOp, keys: &[K]) -> Result<Vec<Bytes>, StoreError> {
        let live = self.lookup_sets(keys)?;
        Ok(self.combine(op, keys, &live, 0))
    }

    fn set_op_store<K: AsRef<[u8]>>(
        &mut self,
        op: SetOp,
        dst: &[u8],
        keys: &[K],
    ) -> Result<Stored, StoreError> {
        let live = self.lookup_sets(keys)?;
        let members = self.combine(op, keys, &live, 0);
        let limits = self.limits();
        if members.is_empty() {
            let existing = self.find(dst);
            if let Some(slot) = existing {
                let entry = self.db_mut().remove_at(slot);
                self.dispose(entry);
            }
            return Ok(Stored {
                len: 0,
                destination_deleted: existing.is_some(),
            });
        }
        let entry = build_set(dst, &members, limits);
        // Redis's `setKey`: any kind is overwritten, the TTL cleared.
        let existing = self.find(dst);
        match existing {
            Some(slot) => {
                let old = self.db_mut().replace_at(slot, entry);
                self.dispose(old);
            }
            None => self.db_mut().insert_absent(entry),
        }
        Ok(Stored {
            len: members.len(),
            destination_deleted: false,
        })
    }

    /// `SINTER key ...`.
    pub fn sinter<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<Vec<Bytes>, StoreError> {
        self.set_op(SetOp::Inter, keys)
    }

    /// `SINTERCARD numkeys key ... [LIMIT limit]` (`limit` 0: no limit).
    pub fn sintercard<K: AsRef<[u8]>>(
        &mut self,
        keys: &[K],
        limit: usize,
    ) -> Result<usize, StoreError> {
        let live = self.lookup_sets(keys)?;
        Ok(self.combine(SetOp::Inter, keys, &live, limit).len())
    }

    /// `SINTERSTORE destination key ...`.
    pub fn sinterstore<K: AsRef<[u8]>>(
        &mut self,
        dst: &[u8],
        keys: &[K],
    ) -> Result<Stored, StoreError> {
        self.set_op_store(SetOp::Inter, dst, keys)
    }

    /// `SUNION key ...`.
    pub fn sunion<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<Vec<Bytes>, StoreError> {
        self.set_op(SetOp::Union, keys)
    }

    /// `SUNIONSTORE destination key ...`.
    pub fn sunionstore<K: AsRef<[u8]>>(
        &mut self,
        dst: &[u8],
        keys: &[K],
    ) -> Result<Stored, StoreError> {
        self.set_op_store(SetOp::Union, dst, keys)
    }

    /// `SDIFF key ...`.
    pub fn sdiff<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<Vec<Bytes>, StoreError> {
        self.set_op(SetOp::Diff, keys)
    }

    /// `SDIFFSTORE destination key ...`.
    pub fn sdiffstore<K: AsRef<[u8]>>(
        &mut self,
        dst: &[u8],
        keys: &[K],
    ) -> Result<Stored, StoreError> {
        self.set_op_store(SetOp::Diff, dst, keys)
    }

    /// `SSCAN key cursor [MATCH pattern] [COUNT count]`: an `intset` comes
    /// whole with cursor 0 (as Redis); a `hashtable` is walked by position.
    pub fn sscan(
        &mut self,
        key: &[u8],
        cursor: u64,
        pattern: Option<&[u8]>,
        count: usize,
    ) -> Result<CollectionScanPage, StoreError> {
        let mut page = CollectionScanPage::empty();
        let Some(set) = self.set_view(key)? else {
            return Ok(page);
        };
        let mut push = |m: &[u8]| {
            if pattern.is_none_or(|p| glob::matches(p, m, false)) {
                page.items.push(Bytes::copy_from_slice(m));
            }
        };
        match set {
            SetRef::Ints(_) => set.for_each(&mut push),
            SetRef::Big(table) => {
                let mut found = Vec::new();
                let next = table.scan(cursor, count, &mut found);
                found.iter().for_each(|m| push(m));
                page.cursor = next;
            }
        }
        Ok(page)
    }
}
