//! The numbered databases, store-wide operations and the command handle.
//!
//! [`Store`] owns `databases` independent keyspaces ([`StoreConfig`]), the
//! list of lazily expired keys waiting for the server, and the snapshot in
//! progress. Per-database commands run through a [`DbHandle`], obtained with
//! [`Store::db`] for one database index and one instant: every command sees a
//! single "now", as Redis's commands do.

use crate::db::{Db, ExpiredKey};
use crate::db_set::DbSet;
use crate::entry::{Entry, idle_seconds, lru_clock};
use crate::error::StoreError;
use crate::garbage::{Disposal, Garbage};
use crate::kinds::string::OBJ_SHARED_INTEGERS;
use crate::snapshot::{SnapshotEntry, SnapshotHandle, SnapshotState};
use crate::table::{KeyHasher, Slot};
use crate::value::ValueKind;
use crate::watch::{KeyPresence, SignalCause, WatchSignal};
use bytes::Bytes;
use std::hash::BuildHasher;

/// Redis's default number of databases.
pub const DEFAULT_DATABASES: usize = 16;

/// Redis's default `proto-max-bulk-len`: the largest string a command may
/// build (`APPEND`, `SETRANGE`).
pub const DEFAULT_MAX_STRING_LEN: usize = 512 * 1024 * 1024;

/// Heap entries `reap` may examine per key it is allowed to remove, so a heap
/// full of stale entries cannot make one call unbounded.
const REAP_POPS_PER_KEY: usize = 4;

/// Most databases one [`Store::reap`] call looks at: with many databases a
/// round must not visit all of them under the server's lock.
const REAP_MAX_DATABASES: usize = 1024;

/// Most tables one [`Store::snapshot_step`] call examines, whatever it
/// finds in them, so a walk over many touched but empty databases still
/// returns to the caller (who holds the server's lock) quickly.
pub const SNAPSHOT_STEP_MAX_TABLES: usize = 1024;

/// Store-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Number of databases (`databases`), at least 1.
    pub databases: usize,
    /// Largest string `APPEND`/`SETRANGE` may produce (`proto-max-bulk-len`).
    pub max_string_len: usize,
    /// When collections switch to their big encoding.
    pub encoding: EncodingLimits,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            databases: DEFAULT_DATABASES,
            max_string_len: DEFAULT_MAX_STRING_LEN,
            encoding: EncodingLimits::default(),
        }
    }
}

/// Redis 7.0's thresholds between a collection's compact and big
/// encodings, under Redis's config names. Changing them (see
/// [`Store::set_encoding_limits`]) affects later writes only: a value is
/// converted when a write crosses a threshold, and never back, as in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodingLimits {
    /// `hash-max-listpack-entries` (alias `hash-max-ziplist-entries`): most
    /// fields of a `listpack` hash.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value` (alias `hash-max-ziplist-value`): longest
    /// field or value of a `listpack` hash.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`: most members of an `intset` set (Redis
    /// caps it at 2^30 internally; so does the store).
    pub set_max_intset_entries: usize,
    /// `list-max-listpack-size` (alias `list-max-ziplist-size`): a list
    /// chunk's limit, bytes when negative (-1 to -5: 4 to 64 KiB), elements
    /// when positive (see `kinds::list`).
    pub list_max_listpack_size: i64,
    /// `list-compress-depth`: list chunks kept raw at each end of a list,
    /// the others LZF-compressed; 0 compresses nothing (see `kinds::list`).
    /// A list takes the value in force when it is created.
    pub list_compress_depth: usize,
    /// `zset-max-listpack-entries` (alias `zset-max-ziplist-entries`): most
    /// members of a `listpack` sorted set.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value` (alias `zset-max-ziplist-value`): longest
    /// member of a `listpack` sorted set.
    pub zset_max_listpack_value: usize,
}

/// Redis's cap on `set-max-intset-entries` (`setTypeAdd`).
pub const SET_MAX_INTSET_ENTRIES_CAP: usize = 1 << 30;

impl Default for EncodingLimits {
    fn default() -> Self {
        EncodingLimits {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            list_max_listpack_size: crate::kinds::list::DEFAULT_LIST_MAX_LISTPACK_SIZE,
            list_compress_depth: 0,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
        }
    }
}

/// One line of `INFO keyspace`: `db{index}:keys=..,expires=..,avg_ttl=..`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyspaceInfo {
    /// Database index.
    pub db: usize,
    /// Keys in the database (expired ones not yet removed included, as Redis).
    pub keys: usize,
    /// Keys with a TTL.
    pub expires: usize,
    /// Average remaining TTL in ms of the keys with a TTL.
    pub avg_ttl: u64,
}

/// One non-empty database's bookkeeping bytes, for `MEMORY STATS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbOverhead {
    /// Database index.
    pub db: usize,
    /// Keys in it.
    pub keys: usize,
    /// The key table's own bytes (segments' buckets, directory), entries
    /// excluded.
    pub table: usize,
    /// The expiry heap's bytes.
    pub expiry: usize,
}

/// The whole keyspace: every numbered database. See the crate docs.
#[derive(Debug)]
pub struct Store {
    pub(crate) dbs: Vec<Db>,
    hasher: KeyHasher,
    pub(crate) config: StoreConfig,
    /// Keys removed by lazy expiry since the last [`Store::drain_expired`].
    pub(crate) expired: Vec<ExpiredKey>,
    /// How many of `expired` [`Store::take_unannounced_expired`] returned.
    expired_announced: usize,
    /// Where removed values go (see [`crate::garbage`]).
    pub(crate) disposal: Disposal,
    snapshot: Option<SnapshotState>,
    /// Set while the server replays its AOF: see [`Store::set_loading`].
    loading: bool,
    /// Set while `CLIENT PAUSE` holds: see [`Store::set_expiry_paused`].
    expiry_paused: bool,
    /// Databases that may be non-empty or carry snapshot state: store-wide
    /// operations visit only these (see [`crate::db_set`]).
    touched: DbSet,
    /// Tables examined by store-wide operations (see
    /// [`Store::tables_examined`]).
    tables_examined: u64,
    next_table_id: u64,
    next_snapshot_id: u64,
    rng: u64,
    reap_cursor: usize,
    /// Distinct (database, key) pairs watched (see [`crate::watch`]): while
    /// 0 and `signal_every_key` is off, [`Store::take_watch_signals`] does
    /// nothing.
    watched_keys: usize,
    /// Every mutation is signalled, watched or not (see [`crate::watch`]).
    signal_every_key: bool,
    /// The access clock of the command in progress (from the `now` given
    /// to [`Store::db`]; see `entry`'s module docs).
    lru_clock: u32,
    /// The access clock when the store was first used, standing for the
    /// moment Redis creates its shared integers (server start).
    start_clock: Option<u32>,
    /// The access clocks of Redis's shared integer objects
    /// ([`OBJ_SHARED_INTEGERS`] of them), allocated on the first access of
    /// a key holding one (see [`DbHandle::idle_time`]).
    shared_clocks: Option<Box<[u32]>>,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(StoreConfig::default())
    }
}

impl Store {
    /// An empty store. A `databases` of 0 is treated as 1.
    pub fn new(config: StoreConfig) -> Store {
        let hasher = KeyHasher::default();
        let databases = config.databases.max(1);
        let dbs = (0..databases)
            .map(|id| Db::new(hasher.clone(), id as u64))
            .collect();
        let rng = hasher.hash_one(0x5EED_u64) | 1;
        Store {
            dbs,
            hasher,
            config: StoreConfig {
                databases,
                ..config
            },
            expired: Vec::new(),
            expired_announced: 0,
            disposal: Disposal::default(),
            snapshot: None,
            loading: false,
            expiry_paused: false,
            touched: DbSet::new(databases),
            tables_examined: 0,
            next_table_id: databases as u64,
            next_snapshot_id: 1,
            rng,
            reap_cursor: 0,
            watched_keys: 0,
            signal_every_key: false,
            lru_clock: 0,
            start_clock: None,
            shared_clocks: None,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Changes the largest string `APPEND`/`SETRANGE` may build
    /// (`CONFIG SET proto-max-bulk-len`); existing values are not touched.
    pub fn set_max_string_len(&mut self, limit: usize) {
        self.config.max_string_len = limit;
    }

    /// The encoding thresholds in force.
    pub fn encoding_limits(&self) -> EncodingLimits {
        self.config.encoding
    }

    /// Changes the encoding thresholds (`CONFIG SET hash-max-listpack-*`,
    /// `set-max-intset-entries`); existing values keep their encoding
    /// until a write crosses a threshold.
    pub fn set_encoding_limits(&mut self, limits: EncodingLimits) {
        self.config.encoding = limits;
    }

    /// Whether big values leaving the keyspace are queued for
    /// [`Store::drain_garbage`] instead of being freed on the command path
    /// (see [`crate::garbage`]). Off by default: a caller that turns it on
    /// must drain.
    pub fn set_background_free(&mut self, enabled: bool) {
        self.disposal.background = enabled;
    }

    /// Takes the values waiting to be freed, for the caller to drop on a
    /// background thread (see [`crate::garbage`]).
    pub fn drain_garbage(&mut self) -> Vec<Garbage> {
        std::mem::take(&mut self.disposal.garbage)
    }

    /// Whether values wait in the garbage list.
    pub fn has_garbage(&self) -> bool {
        !self.disposal.garbage.is_empty()
    }

    /// Frees an entry that left the keyspace, or queues it as garbage.
    pub(crate) fn dispose(&mut self, entry: Option<Entry>) {
        self.disposal.maybe(entry);
    }

    /// Marks the store as loading (replaying a persistence file) or not.
    ///
    /// While loading, no key expires, as in Redis (`keyIsExpired` answers no
    /// while `server.loading`): lookups never remove a key whose deadline
    /// passed, and `EXPIRE`, `GETEX` and the like given a deadline already in
    /// the past set it instead of deleting the key. A file is a history of
    /// commands that each ran while its keys were live; judging them by the
    /// wall clock at load time would drop a key that a later record made
    /// persistent, or re-create one a later record updated. Keys whose
    /// deadline passed are expired after loading, by the normal paths.
    pub fn set_loading(&mut self, loading: bool) {
        self.loading = loading;
    }

    /// Pauses lazy expiry (the server sets it while `CLIENT PAUSE` holds,
    /// before each command): a key whose deadline passed reads as absent
    /// but is not removed, as Redis's `expireIfNeeded` does while clients
    /// are paused, so the dataset does not change under the pause.
    pub fn set_expiry_paused(&mut self, paused: bool) {
        self.expiry_paused = paused;
    }

    /// Whether the store is loading (see [`Store::set_loading`]).
    pub fn is_loading(&self) -> bool {
        self.loading
    }

    /// Number of databases.
    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// Checks a database index (`SELECT`, `MOVE`, `COPY ... DB`).
    pub fn check_db(&self, index: usize) -> Result<(), StoreError> {
        if index < self.dbs.len() {
            Ok(())
        } else {
            Err(StoreError::DbIndexOutOfRange)
        }
    }

    /// A handle for running commands on database `index` at time `now_ms`.
    pub fn db(&mut self, index: usize, now_ms: u64) -> Result<DbHandle<'_>, StoreError> {
        self.check_db(index)?;
        self.lru_clock = lru_clock(now_ms);
        self.start_clock.get_or_insert(self.lru_clock);
        Ok(DbHandle {
            store: self,
            index,
            now: now_ms,
        })
    }

    /// `SWAPDB a b`.
    pub fn swap_db(&mut self, a: usize, b: usize) -> Result<(), StoreError> {
        self.check_db(a)?;
        self.check_db(b)?;
        self.touch(a);
        self.touch(b);
        if a != b {
            self.signal_replaced(a, b);
            self.signal_replaced(b, a);
        }
        self.dbs.swap(a, b);
        // Watched keys belong to the index, not to the contents.
        if a != b {
            let (low, high) = (a.min(b), a.max(b));
            let (left, right) = self.dbs.split_at_mut(high);
            std::mem::swap(&mut left[low].watch, &mut right[0].watch);
        }
        if let Some(snapshot) = self.snapshot.as_mut() {
            snapshot.moved(&self.dbs[a].table, a);
            snapshot.moved(&self.dbs[b].table, b);
        }
        Ok(())
    }

    /// Marks database `index` as touched and brings its table up to date
    /// with the snapshot in progress; called before anything changes or
    /// moves the database's contents.
    pub(crate) fn touch(&mut self, index: usize) {
        self.touched.insert(index);
        match &self.snapshot {
            Some(snapshot) => snapshot.prepare(&mut self.dbs[index].table, index),
            // Left by an aborted snapshot.
            None => self.dbs[index].table.cow = None,
        }
    }

    /// Database `index`, prepared for a change (see [`Store::touch`]).
    pub(crate) fn db_for_write(&mut self, index: usize) -> &mut Db {
        self.touch(index);
        let db = &mut self.dbs[index];
        db.lru_clock = self.lru_clock;
        db
    }

    /// How many tables store-wide operations (`FLUSHALL`, the snapshot walk,
    /// active expiry, `INFO keyspace`, memory accounting) have examined
    /// since the store was created. Those operations visit only databases
    /// that were touched, so this grows with the databases in use, not with
    /// `databases`; tests use it to check that work stays linear and
    /// bounded.
    pub fn tables_examined(&self) -> u64 {
        self.tables_examined
    }

    /// `FLUSHALL`: empties every database. Only touched databases can hold
    /// anything, so only they are visited.
    pub fn flush_all(&mut self) {
        let touched: Vec<usize> = self.touched.iter().collect();
        self.tables_examined += touched.len() as u64;
        for index in touched {
            self.flush_db(index);
        }
    }

    /// `FLUSHDB` on database `index` (no-op for an index out of range).
    pub fn flush_db(&mut self, index: usize) {
        if index >= self.dbs.len() {
            return;
        }
        self.touch(index);
        self.signal_replaced(index, index);
        let mut fresh = Db::new(self.hasher.clone(), self.next_table_id);
        self.next_table_id += 1;
        fresh.watch = std::mem::take(&mut self.dbs[index].watch);
        let old = std::mem::replace(&mut self.dbs[index], fresh);
        // A fresh table is empty and owes no snapshot anything.
        self.touched.remove(index);
        if let Some(snapshot) = self.snapshot.as_mut()
            && snapshot.owes(&old.table)
        {
            // The snapshot still owes entries of this table: hand it over
            // whole (a move, not a copy) instead of freeing it.
            snapshot.detached.push(old.table);
        } else {
            self.disposal.table(old.table);
        }
    }

    /// Removes up to `budget` keys whose TTL passed at `now_ms` (active
    /// expiry) and returns them. The work per call is bounded by `budget`
    /// whatever the size of the keyspace: at most `4 * budget` heap entries
    /// are examined, stale ones included.
    pub fn reap(&mut self, now_ms: u64, budget: usize) -> Vec<ExpiredKey> {
        let mut removed = Vec::new();
        let mut pops_left = budget.saturating_mul(REAP_POPS_PER_KEY);
        let round: Vec<usize> = self
            .touched
            .iter_from(self.reap_cursor)
            .take(REAP_MAX_DATABASES)
            .collect();
        for index in round {
            self.tables_examined += 1;
            // The next call starts after this one, so no database starves.
            self.reap_cursor = index + 1;
            if self.dbs[index].heap_len() == 0 {
                if self.dbs[index].len() == 0 && self.dbs[index].table.cow.is_none() {
                    self.touched.remove(index);
                }
                continue;
            }
            self.touch(index);
            let pops = self.dbs[index].reap(
                now_ms,
                index,
                budget - removed.len(),
                pops_left,
                &mut removed,
                &mut self.disposal,
            );
            pops_left -= pops;
            if removed.len() >= budget || pops_left == 0 {
                // More may be due here: start the next call with it.
                self.reap_cursor = index;
                return removed;
            }
        }
        removed
    }

    /// Signals the watched keys of database `emptied` about to lose its
    /// contents for those of `replaced_with` (itself for `FLUSHDB`, which
    /// empties it): each watched key in either, as Redis's
    /// `touchAllWatchedKeysInDb`.
    fn signal_replaced(&mut self, emptied: usize, replaced_with: usize) {
        if self.dbs[emptied].watch.is_empty() {
            return;
        }
        let flush = emptied == replaced_with;
        let hits: Vec<(Bytes, bool)> = self.dbs[emptied]
            .watch
            .keys()
            .filter_map(|key| {
                let existed = self.dbs[emptied].table.locate(key).is_some();
                let in_other = !flush && self.dbs[replaced_with].table.locate(key).is_some();
                (existed || in_other).then(|| (key.clone(), existed))
            })
            .collect();
        for (key, existed) in hits {
            self.dbs[emptied]
                .watch
                .push(key, SignalCause::DbReplaced { existed });
        }
    }

    /// One more watcher of `key` in database `index` (`WATCH`); from now on
    /// every change of the key is signalled (see [`crate::watch`]).
    pub fn watch_key(&mut self, index: usize, key: &[u8]) {
        if let Some(db) = self.dbs.get_mut(index)
            && db.watch.add(key)
        {
            self.watched_keys += 1;
        }
    }

    /// One watcher fewer of `key` in database `index` (`UNWATCH`, `EXEC`,
    /// a client leaving).
    pub fn unwatch_key(&mut self, index: usize, key: &[u8]) {
        if let Some(db) = self.dbs.get_mut(index)
            && db.watch.remove(key)
        {
            self.watched_keys -= 1;
        }
    }

    /// Signals every changed key from now on, watched or not (`on`), or
    /// only watched ones: client tracking turns it on while it has keys
    /// or prefixes to invalidate (see [`crate::watch`]).
    pub fn set_signal_every_key(&mut self, on: bool) {
        if self.signal_every_key == on {
            return;
        }
        self.signal_every_key = on;
        for db in &mut self.dbs {
            db.watch.set_every_key(on);
        }
    }

    /// Whether every changed key is signalled now (see
    /// [`Store::set_signal_every_key`]).
    pub fn signals_every_key(&self) -> bool {
        self.signal_every_key
    }

    /// Takes the signals of watched keys (of every key while
    /// [`Store::set_signal_every_key`] is on) that changed since the last
    /// call, oldest first per database; nothing to do while no key is
    /// watched and tracking is idle.
    pub fn take_watch_signals(&mut self) -> Vec<WatchSignal> {
        let mut out = Vec::new();
        if self.watched_keys == 0 && !self.signal_every_key {
            return out;
        }
        for (index, db) in self.dbs.iter_mut().enumerate() {
            db.watch.drain_into(index, &mut out);
        }
        out
    }

    /// Whether `key` is in database `index` at `now_ms`, without removing
    /// it (Redis's `dictFind` plus `keyIsExpired`; nothing is expired while
    /// loading).
    pub fn key_presence(&self, index: usize, key: &[u8], now_ms: u64) -> KeyPresence {
        let Some(db) = self.dbs.get(index) else {
            return KeyPresence::Absent;
        };
        match db.table.locate(key) {
            None => KeyPresence::Absent,
            Some(slot) if !self.loading && db.entry_at(slot).is_expired(now_ms) => {
                KeyPresence::Expired
            }
            Some(_) => KeyPresence::Live,
        }
    }

    /// Takes the keys removed by lazy expiry since the last call, for the
    /// server to count and propagate as `DEL`.
    pub fn drain_expired(&mut self) -> Vec<ExpiredKey> {
        self.expired_announced = 0;
        std::mem::take(&mut self.expired)
    }

    /// The keys removed by lazy expiry that this has not returned yet since
    /// the last [`Store::drain_expired`]: for the server's `expired`
    /// keyspace events, which must fire when the key expires (before the
    /// events of the command that found it expired), while the keys stay
    /// for `drain_expired`.
    pub fn take_unannounced_expired(&mut self) -> &[ExpiredKey] {
        let start = self.expired_announced.min(self.expired.len());
        self.expired_announced = self.expired.len();
        &self.expired[start..]
    }

    /// `INFO keyspace` lines for the non-empty databases.
    pub fn keyspace_info(&self, now_ms: u64) -> Vec<KeyspaceInfo> {
        self.touched
            .iter()
            .map(|index| (index, &self.dbs[index]))
            .filter(|(_, db)| db.len() > 0)
            .map(|(index, db)| KeyspaceInfo {
                db: index,
                keys: db.len(),
                expires: db.expires(),
                avg_ttl: db.avg_ttl(now_ms),
            })
            .collect()
    }

    /// Estimated bytes the keyspace uses: entries, tables, expiry heaps and
    /// any snapshot in progress.
    pub fn used_memory(&self) -> usize {
        // Untouched databases are empty: count what an empty one costs.
        let touched = self.touched.iter().count();
        let empty = Db::new(self.hasher.clone(), 0).memory_bytes();
        let dbs: usize = self
            .touched
            .iter()
            .map(|index| self.dbs[index].memory_bytes())
            .sum();
        dbs + (self.dbs.len() - touched) * empty + self.snapshot_memory()
    }

    /// The bookkeeping bytes of each non-empty database, in index order.
    pub fn db_overheads(&self) -> Vec<DbOverhead> {
        let mut found: Vec<DbOverhead> = self
            .touched
            .iter()
            .map(|index| (index, &self.dbs[index]))
            .filter(|(_, db)| db.len() > 0)
            .map(|(index, db)| DbOverhead {
                db: index,
                keys: db.len(),
                table: db.table.overhead_bytes(),
                expiry: db.expiry_bytes(),
            })
            .collect();
        found.sort_unstable_by_key(|overhead| overhead.db);
        found
    }

    /// What [`Store::used_memory`] reports for this store when empty: its
    /// databases' empty tables (`MEMORY STATS`'s `startup.allocated`).
    pub fn empty_memory(&self) -> usize {
        self.dbs.len() * Db::new(self.hasher.clone(), 0).memory_bytes()
    }

    /// Entries in the expiry heaps of all databases, stale ones included
    /// (bounded by about twice the number of keys with a TTL).
    pub fn expiry_heap_entries(&self) -> usize {
        self.touched
            .iter()
            .map(|index| self.dbs[index].heap_len())
            .sum()
    }

    /// Bytes held only because a snapshot is in progress.
    pub fn snapshot_memory(&self) -> usize {
        self.snapshot.as_ref().map_or(0, |s| {
            s.memory_bytes(self.touched.iter().map(|index| &self.dbs[index].table))
        })
    }

    /// Starts a point-in-time snapshot of every database as of `now_ms` (see
    /// [`crate::snapshot`]). Costs O(1) whatever the number of databases:
    /// tables are attached lazily. Only one snapshot can be in progress.
    pub fn begin_snapshot(&mut self, now_ms: u64) -> Result<SnapshotHandle, StoreError> {
        if self.snapshot.is_some() {
            return Err(StoreError::SnapshotInProgress);
        }
        let id = self.next_snapshot_id;
        self.next_snapshot_id += 1;
        // Versions are snapshot ids: strictly increasing, and above the 0
        // every segment starts with.
        self.snapshot = Some(SnapshotState::begin(id, now_ms, self.next_table_id));
        Ok(SnapshotHandle { id })
    }

    /// Whether a snapshot is being iterated.
    pub fn snapshot_in_progress(&self) -> bool {
        self.snapshot.is_some()
    }

    /// The next batch of at most `max_entries` entries of the snapshot,
    /// examining at most [`SNAPSHOT_STEP_MAX_TABLES`] tables: bounded work,
    /// for a caller that holds a lock other clients wait for. `None` means
    /// the snapshot is complete (it is then closed); a batch may be empty
    /// when the call examined its share of tables without finding entries.
    /// A handle of a finished or aborted snapshot yields `None`.
    pub fn snapshot_step(
        &mut self,
        handle: &mut SnapshotHandle,
        max_entries: usize,
    ) -> Option<Vec<SnapshotEntry>> {
        let snapshot = self.snapshot.as_mut().filter(|s| s.id == handle.id)?;
        let batch = snapshot.next_batch(
            &mut self.dbs,
            &mut self.touched,
            max_entries,
            SNAPSHOT_STEP_MAX_TABLES,
            &mut self.tables_examined,
        );
        for table in snapshot.walked.drain(..) {
            self.disposal.table(table);
        }
        if batch.is_none() {
            self.snapshot = None;
        }
        batch
    }

    /// The next batch of at most `max_entries` entries of the snapshot (at
    /// least one entry when any is left). An empty batch means the snapshot is
    /// complete; it is then closed. A handle of a finished or aborted snapshot
    /// yields empty batches. Unlike [`Store::snapshot_step`], one call may
    /// examine any number of empty tables.
    pub fn snapshot_next(
        &mut self,
        handle: &mut SnapshotHandle,
        max_entries: usize,
    ) -> Vec<SnapshotEntry> {
        loop {
            match self.snapshot_step(handle, max_entries) {
                Some(batch) if batch.is_empty() => continue,
                Some(batch) => return batch,
                None => return Vec::new(),
            }
        }
    }

    /// Abandons a snapshot, releasing what it held. Only touched databases
    /// can carry its copy-on-write state.
    pub fn abort_snapshot(&mut self, handle: SnapshotHandle) {
        if self.snapshot.as_ref().is_some_and(|s| s.id == handle.id) {
            if let Some(snapshot) = self.snapshot.take() {
                // Tables flushed during the snapshot: free them like any
                // flushed table.
                for table in snapshot.detached.into_iter().chain(snapshot.walked) {
                    self.disposal.table(table);
                }
            }
            for index in self.touched.iter() {
                self.tables_examined += 1;
                self.dbs[index].table.cow = None;
            }
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: cheap, good enough to pick keys, seeded per store.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Runs commands on one database at one instant. Obtained from [`Store::db`];
/// the per-command methods live in [`crate::ops`].
#[derive(Debug)]
pub struct DbHandle<'s> {
    pub(crate) store: &'s mut Store,
    pub(crate) index: usize,
    pub(crate) now: u64,
}

impl DbHandle<'_> {
    /// The database index this handle works on.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The instant this handle's commands run at (ms since the epoch).
    pub fn now(&self) -> u64 {
        self.now
    }

    pub(crate) fn db(&self) -> &Db {
        &self.store.dbs[self.index]
    }

    pub(crate) fn db_mut(&mut self) -> &mut Db {
        self.store.db_for_write(self.index)
    }

    pub(crate) fn max_string_len(&self) -> usize {
        self.store.config.max_string_len
    }

    pub(crate) fn limits(&self) -> EncodingLimits {
        self.store.config.encoding
    }

    /// Frees an entry that left the keyspace, or queues it as garbage.
    pub(crate) fn dispose(&mut self, entry: impl Into<Option<Entry>>) {
        self.store.dispose(entry.into());
    }

    /// Frees chunks cut off a list, or queues them as garbage.
    pub(crate) fn dispose_list_chunks(&mut self, dropped: crate::kinds::list::DroppedChunks) {
        self.store.disposal.list_chunks(dropped);
    }

    /// Finds a live key in database `index` (lazily expiring it) and
    /// stamps its access clock, as Redis's `lookupKey` without
    /// `LOOKUP_NOTOUCH`.
    pub(crate) fn find_in(&mut self, index: usize, key: &[u8]) -> Option<Slot> {
        self.lookup_in(index, key, true)
    }

    /// Finds a live key (lazily expiring it) without stamping its access
    /// clock: Redis's `LOOKUP_NOTOUCH` lookups (`EXISTS`, `TYPE`, `TTL`
    /// and its siblings, `OBJECT`, the `TYPE` filter of `SCAN`).
    pub(crate) fn find_untouched(&mut self, key: &[u8]) -> Option<Slot> {
        self.lookup_in(self.index, key, false)
    }

    fn lookup_in(&mut self, index: usize, key: &[u8], touch: bool) -> Option<Slot> {
        let now = self.expiry_now();
        if self.store.expiry_paused {
            // CLIENT PAUSE: an expired key is absent but stays.
            return self.store.dbs[index].find_unexpired(key, now);
        }
        // A lookup may remove the key it finds expired: a change.
        self.store.touch(index);
        let store = &mut *self.store;
        let db = &mut store.dbs[index];
        let slot = db.find(key, now, index, &mut store.expired, &mut store.disposal)?;
        // Not while a snapshot is alive, as Redis skips it while a child
        // process runs (`hasActiveChildProcess`): the stamp would be the
        // first write to the segment and copy it.
        if touch && store.snapshot.is_none() {
            let clock = store.lru_clock;
            db.stamp_lru(slot, clock);
            if let Some(shared) = db.entry_at(slot).shared_integer() {
                let start = store.start_clock.unwrap_or(clock);
                store
                    .shared_clocks
                    .get_or_insert_with(|| vec![start; OBJ_SHARED_INTEGERS].into_boxed_slice())
                    [shared] = clock;
            }
        }
        Some(slot)
    }

    /// `OBJECT IDLETIME`: whole seconds since the key was last accessed
    /// (see `entry`'s module docs), `None` when missing. Does not count as
    /// an access.
    ///
    /// A key holding an integer Redis keeps as a shared object (`int`
    /// encoded, `0..10000`) reports the shared object's idle time, as
    /// Redis does: every access of any key holding that integer restarts
    /// it, and it starts when the store is first used (Redis: at server
    /// start), not when the key was written.
    pub fn idle_time(&mut self, key: &[u8]) -> Option<u64> {
        let slot = self.find_untouched(key)?;
        let entry = self.db().entry_at(slot);
        let stamp = match entry.shared_integer() {
            Some(shared) => match &self.store.shared_clocks {
                Some(clocks) => clocks[shared],
                None => self.store.start_clock.unwrap_or(self.store.lru_clock),
            },
            None => entry.lru(),
        };
        Some(idle_seconds(lru_clock(self.now), stamp))
    }

    /// The instant deadlines are judged against, `None` while the store is
    /// loading and nothing expires (see [`Store::set_loading`]).
    pub(crate) fn expiry_now(&self) -> Option<u64> {
        (!self.store.loading).then_some(self.now)
    }

    /// Whether a deadline given to a command has already passed, so that
    /// the command deletes the key instead of setting it (Redis's
    /// `checkAlreadyExpired`); never while loading.
    pub(crate) fn already_expired(&self, deadline: i64) -> bool {
        self.expiry_now()
            .is_some_and(|now| deadline <= i64::try_from(now).unwrap_or(i64::MAX))
    }

    /// Finds a live key in this database (lazily expiring it).
    pub(crate) fn find(&mut self, key: &[u8]) -> Option<Slot> {
        self.find_in(self.index, key)
    }

    /// Finds a live key that must hold a value of kind `kind`: a key of
    /// another kind is `WRONGTYPE`.
    pub(crate) fn find_kind(
        &mut self,
        key: &[u8],
        kind: ValueKind,
    ) -> Result<Option<Slot>, StoreError> {
        match self.find(key) {
            Some(slot) if self.db().entry_at(slot).kind() != kind => Err(StoreError::WrongType),
            found => Ok(found),
        }
    }

    /// Finds a live key that must hold a string.
    pub(crate) fn find_string(&mut self, key: &[u8]) -> Result<Option<Slot>, StoreError> {
        self.find_kind(key, ValueKind::String)
    }

    pub(crate) fn random(&mut self) -> u64 {
        self.store.next_random()
    }

    /// `DBSIZE`: keys in this database (expired keys not yet removed count,
    /// as in Redis).
    pub fn dbsize(&self) -> usize {
        self.db().len()
    }

    /// `FLUSHDB`.
    pub fn flush(&mut self) {
        self.store.flush_db(self.index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_can_move_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Store>();
    }

    #[test]
    fn nothing_expires_while_loading_and_passed_deadlines_expire_after() {
        use crate::{ExpireCondition, ExpireOutcome, Expiry};
        let mut store = Store::default();
        store.set_loading(true);
        let mut db = store.db(0, 1_000).unwrap();
        db.set(b"k", b"v", crate::SetOptions::default()).unwrap();
        // A deadline already in the past is set, not turned into a delete.
        assert_eq!(
            db.expire(b"k", Expiry::UnixMillis(500), ExpireCondition::Always),
            Ok(ExpireOutcome::Set(500))
        );
        // Lookups keep the key: a later record (PERSIST) still finds it.
        assert_eq!(db.get(b"k").unwrap(), Some(&b"v"[..]));
        assert!(db.persist(b"k"));
        assert_eq!(
            db.expire(b"k", Expiry::UnixMillis(600), ExpireCondition::Always),
            Ok(ExpireOutcome::Set(600))
        );
        assert!(store.drain_expired().is_empty());

        store.set_loading(false);
        let mut db = store.db(0, 1_000).unwrap();
        assert_eq!(db.get(b"k").unwrap(), None);
        assert_eq!(store.drain_expired().len(), 1);
    }
}
