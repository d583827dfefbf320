//! One numbered database: its table, its expiry heap and its TTL counters.
//!
//! `Db` is the single place that keeps the three in step. Every insertion,
//! removal and deadline change goes through it, so `expires` (keys with a
//! TTL), the sum of their deadlines (for `avg_ttl`) and the heap always agree
//! with the table, and lazy expiry (a key found past its deadline is removed
//! and reported, as if it did not exist) happens on every access path.

use bytes::Bytes;

use crate::entry::Entry;
use crate::expiry_heap::ExpiryHeap;
use crate::garbage::Disposal;
use crate::table::{KeyHasher, Slot, Table};
use crate::watch::{SignalCause, WatchedKeys};

/// A key removed because its TTL passed, for the server to count in
/// `expired_keys` and propagate as `DEL` to the AOF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredKey {
    /// The database the key was in.
    pub db: usize,
    /// The key.
    pub key: Bytes,
}

/// Set-aside expiry heap entries re-checked per TTL change while the heap
/// compacts: more than the one stale entry a change can add, so a
/// compaction always finishes, yet a small constant cost per write.
const HEAP_CHECKS_PER_WRITE: usize = 32;

#[derive(Debug)]
pub(crate) struct Db {
    pub(crate) table: Table,
    expiry: ExpiryHeap,
    /// Keys with a deadline.
    expires: usize,
    /// Sum of those deadlines, for the exact average TTL.
    deadline_sum: u128,
    /// Keys clients `WATCH` here, and their signals: every mutation below
    /// signals through it (see [`crate::watch`]).
    pub(crate) watch: WatchedKeys,
    /// The access clock of the command changing this database (set by the
    /// store before every change): every entry inserted is a new object and
    /// is stamped with it, as Redis's `createObject` stamps `robj.lru`.
    pub(crate) lru_clock: u32,
}

impl Db {
    pub(crate) fn new(hasher: KeyHasher, table_id: u64) -> Db {
        Db {
            table: Table::new(hasher, table_id),
            expiry: ExpiryHeap::new(),
            expires: 0,
            deadline_sum: 0,
            watch: WatchedKeys::default(),
            lru_clock: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    pub(crate) fn expires(&self) -> usize {
        self.expires
    }

    /// Average remaining TTL in ms of the keys with a deadline, as Redis's
    /// keyspace line reports it (0 when there are none).
    pub(crate) fn avg_ttl(&self, now: u64) -> u64 {
        if self.expires == 0 {
            return 0;
        }
        let average_deadline = self.deadline_sum / self.expires as u128;
        u64::try_from(average_deadline.saturating_sub(now as u128)).unwrap_or(u64::MAX)
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.table.memory_bytes() + self.expiry.memory_bytes()
    }

    /// Bytes of the expiry heap (the TTL bookkeeping, Redis's
    /// `overhead.hashtable.expires`).
    pub(crate) fn expiry_bytes(&self) -> usize {
        self.expiry.memory_bytes()
    }

    /// Records a new deadline for the key with hash `key_hash`.
    fn track_deadline_added(&mut self, key_hash: u64, deadline: Option<u64>) {
        if let Some(deadline) = deadline {
            self.expires += 1;
            self.deadline_sum += deadline as u128;
            self.expiry.push(deadline, key_hash);
            if self.expiry.is_compacting() {
                self.compact_expiry(HEAP_CHECKS_PER_WRITE);
            }
        }
    }

    /// The hash the heap records for `entry`, when it has a deadline.
    fn heap_hash(&self, entry: &Entry) -> Option<u64> {
        entry.expire_at().map(|_| self.table.hash(entry.key()))
    }

    fn track_deadline_removed(&mut self, deadline: Option<u64>) {
        if let Some(deadline) = deadline {
            self.expires -= 1;
            self.deadline_sum -= deadline as u128;
            self.compact_expiry(HEAP_CHECKS_PER_WRITE);
        }
    }

    /// Advances the expiry heap's compaction by at most `max_checks`
    /// entries (see [`ExpiryHeap::compact_step`]).
    fn compact_expiry(&mut self, max_checks: usize) {
        let table = &self.table;
        self.expiry
            .compact_step(self.expires, max_checks, |deadline, key_hash| {
                table.locate_deadline(key_hash, deadline).is_some()
            });
    }

    /// Finds a live key. An expired key is removed, appended to `expired`,
    /// and reported absent. With `now` `None` (the store is loading) no key
    /// counts as expired.
    pub(crate) fn find(
        &mut self,
        key: &[u8],
        now: Option<u64>,
        db: usize,
        expired: &mut Vec<ExpiredKey>,
        disposal: &mut Disposal,
    ) -> Option<Slot> {
        let slot = self.table.locate(key)?;
        if now.is_some_and(|now| self.table.entry_at(slot).is_expired(now)) {
            let entry = self.table.remove_at(slot);
            self.track_deadline_removed(entry.expire_at());
            self.watch.signal(entry.key(), SignalCause::Expired);
            expired.push(ExpiredKey {
                db,
                key: Bytes::copy_from_slice(entry.key()),
            });
            disposal.entry(entry);
            return None;
        }
        Some(slot)
    }

    /// Finds a key live at `now` without removing an expired one (see
    /// [`crate::Store::set_expiry_paused`]).
    pub(crate) fn find_unexpired(&self, key: &[u8], now: Option<u64>) -> Option<Slot> {
        let slot = self.table.locate(key)?;
        let expired = now.is_some_and(|now| self.table.entry_at(slot).is_expired(now));
        (!expired).then_some(slot)
    }

    pub(crate) fn entry_at(&self, slot: Slot) -> &Entry {
        self.table.entry_at(slot)
    }

    /// Stamps the access clock of the entry at `slot` (a touching lookup).
    /// Only while no snapshot is in progress: the write bypasses the
    /// snapshot's copy-on-write (see [`Table::stamp_lru`]).
    pub(crate) fn stamp_lru(&mut self, slot: Slot, clock: u32) {
        self.table.stamp_lru(slot, clock);
    }

    /// Inserts or replaces a whole entry; returns the entry it replaced.
    #[must_use = "a replaced entry goes to the store's disposal"]
    pub(crate) fn insert(&mut self, mut entry: Entry) -> Option<Entry> {
        entry.set_lru(self.lru_clock);
        let deadline = entry.expire_at();
        let heap_hash = self.heap_hash(&entry);
        self.watch
            .signal(entry.key(), SignalCause::Written { present: true });
        let old = self.table.insert(entry);
        self.track_deadline_removed(old.as_ref().and_then(Entry::expire_at));
        if let Some(hash) = heap_hash {
            self.track_deadline_added(hash, deadline);
        }
        old
    }

    /// Replaces the entry at `slot` (same key) with `entry`.
    #[must_use = "a replaced entry goes to the store's disposal"]
    pub(crate) fn replace_at(&mut self, slot: Slot, mut entry: Entry) -> Entry {
        entry.set_lru(self.lru_clock);
        let deadline = entry.expire_at();
        let heap_hash = self.heap_hash(&entry);
        self.watch
            .signal(entry.key(), SignalCause::Written { present: true });
        let old = self
            .table
            .update_at(slot, |current| std::mem::replace(current, entry));
        self.track_deadline_removed(old.expire_at());
        if let Some(hash) = heap_hash {
            self.track_deadline_added(hash, deadline);
        }
        old
    }

    /// Inserts an entry whose key [`Db::find`] just reported absent.
    pub(crate) fn insert_absent(&mut self, mut entry: Entry) {
        entry.set_lru(self.lru_clock);
        let deadline = entry.expire_at();
        let heap_hash = self.heap_hash(&entry);
        self.watch
            .signal(entry.key(), SignalCause::Written { present: true });
        self.table.insert_absent(entry);
        if let Some(hash) = heap_hash {
            self.track_deadline_added(hash, deadline);
        }
    }

    /// Removes the entry at `slot`.
    #[must_use = "a removed entry goes to the store's disposal"]
    pub(crate) fn remove_at(&mut self, slot: Slot) -> Entry {
        let entry = self.table.remove_at(slot);
        self.track_deadline_removed(entry.expire_at());
        self.watch
            .signal(entry.key(), SignalCause::Written { present: false });
        entry
    }

    /// Changes the value of the entry at `slot` in place; the deadline must
    /// not change (use [`Db::set_deadline`]).
    pub(crate) fn update_value<R>(
        &mut self,
        slot: Slot,
        change: impl FnOnce(&mut Entry) -> R,
    ) -> R {
        self.watch.signal(
            self.table.entry_at(slot).key(),
            SignalCause::Written { present: true },
        );
        self.table.update_at(slot, change)
    }

    /// Sets or clears the deadline of the entry at `slot`.
    pub(crate) fn set_deadline(&mut self, slot: Slot, deadline: Option<u64>) {
        let old = self.table.entry_at(slot).expire_at();
        // Redis signals a TTL command even when the deadline is unchanged.
        self.watch.signal(
            self.table.entry_at(slot).key(),
            SignalCause::Written { present: true },
        );
        if old == deadline {
            return;
        }
        self.table
            .update_at(slot, |entry| entry.set_expire_at(deadline));
        let hash = self.table.hash(self.table.entry_at(slot).key());
        self.track_deadline_removed(old);
        self.track_deadline_added(hash, deadline);
    }

    /// Removes up to `budget` keys whose deadline passed, examining at most
    /// `max_pops` heap entries (stale ones included), appending to `out`.
    /// Returns the number of heap entries examined.
    pub(crate) fn reap(
        &mut self,
        now: u64,
        db: usize,
        budget: usize,
        max_pops: usize,
        out: &mut Vec<ExpiredKey>,
        disposal: &mut Disposal,
    ) -> usize {
        // Entries set aside by a compaction are invisible to `pop_due`
        // until re-checked: active expiry pushes the compaction along.
        self.compact_expiry(max_pops);
        let mut removed = 0;
        let mut pops = 0;
        while removed < budget && pops < max_pops {
            let Some((deadline, key_hash)) = self.expiry.pop_due(now) else {
                break;
            };
            pops += 1;
            // Stale entries (key gone, deadline changed) find nothing. A
            // different key with the same hash and deadline would be found
            // instead, which is still right: it is due too.
            let Some(slot) = self.table.locate_deadline(key_hash, deadline) else {
                continue;
            };
            // The popped heap entry was this deadline's only record; the
            // bookkeeping below must not look for it again.
            let entry = self.table.remove_at(slot);
            self.watch.signal(entry.key(), SignalCause::Expired);
            self.expires -= 1;
            self.deadline_sum -= deadline as u128;
            out.push(ExpiredKey {
                db,
                key: Bytes::copy_from_slice(entry.key()),
            });
            disposal.entry(entry);
            removed += 1;
        }
        pops
    }

    /// Iterates every entry, expired ones included.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.table.iter()
    }

    /// Entries in the expiry heap, stale ones included.
    pub(crate) fn heap_len(&self) -> usize {
        self.expiry.len()
    }
}
