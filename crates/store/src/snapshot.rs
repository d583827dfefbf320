//! Point-in-time snapshots of every database, taken while writers carry on.
//!
//! An AOF rewrite needs the whole keyspace as it was at one instant T, but the
//! server cannot stop serving while millions of keys are written out, and it
//! has no `fork()` to lean on. This module implements the fork-less scheme
//! Dragonfly uses, on top of the segmented tables of the `table` module.
//!
//! # Versions and copy-on-write
//!
//! [`Store::begin_snapshot`](crate::Store::begin_snapshot) picks a new
//! version V (a store-wide counter) and records which tables existed at T
//! (table ids only increase). That is all it does: O(1), whatever the
//! number of databases (see "Lazy attachment" below).
//!
//! Every segment carries the version it was last handed to a snapshot with.
//! A segment whose version is below V still holds exactly its contents at T,
//! because nothing has written to it since. Two parties bring segments up to
//! V, and whichever comes first does the work:
//!
//! * **The walker** ([`Store::snapshot_next`](crate::Store::snapshot_next))
//!   visits the segments of each table in position order and emits every
//!   segment still below V, then stamps it with V.
//! * **A writer** about to change a segment below V first copies the
//!   segment's current entries into one contiguous byte image (a single
//!   `memcpy`-like pass over at most `SEGMENT_MAX_ENTRIES` entries) and queues
//!   it on the table's pending list, then stamps the segment and proceeds.
//!   The walker drains pending images before visiting more segments.
//!
//! So a writer pays at most one bounded segment copy per segment per
//! snapshot, and the extra memory is only the images of segments written to
//! before the walker reached them. A segment that splits after being stamped
//! gives both halves version V, so they are not emitted twice; splits of an
//! unstamped segment cannot happen, since the split is itself a write.
//!
//! # Databases moving under the snapshot
//!
//! The snapshot records at T which table (by id) each database index held,
//! and labels entries with that index. `SWAPDB` swaps tables between indexes,
//! so the walker looks tables up by id and still labels them as at T.
//! `FLUSHDB`/`FLUSHALL` replace a table with a fresh one; when the old one
//! still owes entries to the snapshot it is moved (not copied) into the
//! snapshot, which walks it later and frees it. `MOVE`, `COPY`, `RENAME` are
//! ordinary writes to the segments they touch.
//!
//! Keys already expired at T are left out, as Redis's rewrite leaves them out.
//!
//! # Lazy attachment, and work linear in the databases in use
//!
//! A server may have a million databases, and every step of a snapshot runs
//! under the server's dataset lock, so no step may visit every database.
//! A table gets its `CopyOnWrite` record (with its database index at T) only
//! when something is about to change or move it (the store's `touch`), or
//! when the walker reaches it. Until then it has not changed or moved since
//! T, so its current position is its index at T. The walker's main pass
//! visits positions in increasing order, but only those in the store's set
//! of touched databases ([`crate::db_set`]): an untouched database is empty.
//! A table behind the walker's cursor that was never attached was skipped
//! because it was empty: touching it marks it as owing nothing. `SWAPDB`
//! attaches both tables before swapping; a table still owed that lands
//! behind the cursor is queued for a second pass. Detached (flushed) tables
//! are walked last. So each table is examined a bounded number of times,
//! each step examines at most
//! [`SNAPSHOT_STEP_MAX_TABLES`](crate::SNAPSHOT_STEP_MAX_TABLES) tables, and
//! beginning, aborting and `FLUSHALL` visit only touched databases.

use bytes::Bytes;
use std::collections::VecDeque;

use crate::db::Db;
use crate::db_set::DbSet;
use crate::entry::{BlockParts, Entry};
use crate::kinds::FrozenBig;
use crate::table::{Segment, Table};
use crate::value::{HashValue, ListValue, SetValue, Value, ValueKind, ZsetValue};

/// One key of a snapshot, with the database it belonged to at time T.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotEntry {
    /// Database index at the time the snapshot was taken.
    pub db: usize,
    /// The key.
    pub key: Bytes,
    /// The value.
    pub value: Value,
    /// Absolute expiry deadline, ms since the Unix epoch.
    pub expire_at_ms: Option<u64>,
}

/// Proof of an open snapshot, passed back to
/// [`Store::snapshot_next`](crate::Store::snapshot_next).
#[derive(Debug)]
pub struct SnapshotHandle {
    pub(crate) id: u64,
}

/// Per-table copy-on-write state while a snapshot needs the table.
#[derive(Debug)]
pub(crate) struct CopyOnWrite {
    version: u64,
    /// The database index the table had at time T, which labels its
    /// entries (it may have moved since, by `SWAPDB`).
    db: usize,
    /// Old contents of segments written to before the walker reached them.
    pending: Vec<SegmentImage>,
    /// Next position the walker visits; `None` once the walk is complete.
    walk: Option<u64>,
}

impl CopyOnWrite {
    fn new(version: u64, db: usize) -> Self {
        CopyOnWrite {
            version,
            db,
            pending: Vec::new(),
            walk: Some(0),
        }
    }

    /// Called by the table before any change to `segment`.
    pub(crate) fn before_write(&mut self, segment: &mut Segment) {
        if segment.version < self.version {
            self.pending
                .push(SegmentImage::capture(segment.entries.iter()));
            segment.version = self.version;
        }
    }

    fn pending_bytes(&self) -> usize {
        self.pending
            .iter()
            .map(|image| image.bytes.capacity())
            .sum()
    }
}

/// A segment's entries copied into one buffer, each as
/// `[block length u32][the entry's packed block]`. Capturing sizes the
/// buffer in a first pass (which also pulls the blocks into cache) and then
/// does one `memcpy` per entry; the parsing is left to the walker.
///
/// Capture and decode are per kind (exhaustive matches): copying the block
/// is a capture only for a kind that lives inline in it. A kind that lives
/// out of line must capture its structure without copying it whole (a
/// shared, copy-on-write handle) and keep it beside the bytes, never a
/// `memcpy` of its pointer.
struct SegmentImage {
    bytes: Vec<u8>,
    /// Frozen views of the out-of-line values, in record order.
    frozen: Vec<FrozenBig>,
}

impl std::fmt::Debug for SegmentImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentImage")
            .field("bytes", &self.bytes.len())
            .field("frozen", &self.frozen.len())
            .finish()
    }
}

const IMAGE_LENGTH_PREFIX: usize = 4;

impl SegmentImage {
    fn capture<'a>(entries: impl Iterator<Item = &'a Entry> + Clone) -> SegmentImage {
        let size: usize = entries.clone().map(Entry::image_len).sum();
        let mut bytes = Vec::with_capacity(size);
        let mut frozen = Vec::new();
        for entry in entries {
            // Inline values (strings, packed collections) are copied with
            // their block; a big collection is frozen (O(chunks)), its
            // pointer never copied.
            frozen.extend(entry.write_image(&mut bytes));
        }
        SegmentImage { bytes, frozen }
    }

    /// Hands out every record. The image becomes one shared `Bytes` buffer
    /// and keys and values are slices of it, so decoding allocates once per
    /// segment rather than twice per entry.
    fn decode(self, mut emit: impl FnMut(Bytes, Value, Option<u64>)) {
        let buffer = Bytes::from(self.bytes);
        let mut frozen = self.frozen.into_iter();
        let mut at = 0;
        while at < buffer.len() {
            let len_bytes: [u8; IMAGE_LENGTH_PREFIX] = buffer[at..at + IMAGE_LENGTH_PREFIX]
                .try_into()
                .expect("length prefix");
            let start = at + IMAGE_LENGTH_PREFIX;
            let end = start + u32::from_le_bytes(len_bytes) as usize;
            let parts = BlockParts::parse(&buffer[start..end]);
            let key = buffer.slice(start + parts.key.start..start + parts.key.end);
            let value_bytes = buffer.slice(start + parts.value.start..start + parts.value.end);
            let value = if parts.out_of_line {
                frozen
                    .next()
                    .expect("one frozen view per out-of-line record")
                    .into_value()
            } else {
                match parts.kind {
                    ValueKind::String => Value::String(value_bytes),
                    ValueKind::Hash => Value::Hash(HashValue::from_packed(&value_bytes)),
                    ValueKind::Set => Value::Set(SetValue::from_intset(&value_bytes)),
                    ValueKind::List => Value::List(ListValue::from_packed(&value_bytes)),
                    ValueKind::Zset => Value::Zset(ZsetValue::from_packed(&value_bytes)),
                }
            };
            emit(key, value, parts.expire_at);
            at = end;
        }
    }
}

/// Which table the walker is emptying.
#[derive(Debug, Clone, Copy)]
enum Walking {
    /// The table at this database position.
    Live(usize),
    /// The last table of `detached`.
    Detached,
}

/// The store-wide state of the one snapshot in progress.
///
/// Nothing here is proportional to the number of databases, and no call
/// visits every database: see "Lazy attachment" in the module docs.
#[derive(Debug)]
pub(crate) struct SnapshotState {
    pub(crate) id: u64,
    taken_at: u64,
    /// Tables with an id below this existed at T (ids only increase).
    table_bound: u64,
    /// The main pass has dealt with every position below this one.
    cursor: usize,
    /// The table being walked.
    current: Option<Walking>,
    /// Positions that `SWAPDB` filled, behind the cursor, with a table the
    /// snapshot still needs.
    revisit: Vec<usize>,
    /// Tables flushed away while they still owed entries to this snapshot.
    pub(crate) detached: Vec<Table>,
    /// Detached tables the walk has finished with, for the store to free.
    pub(crate) walked: Vec<Table>,
    ready: VecDeque<SnapshotEntry>,
}

impl SnapshotState {
    /// A snapshot taken at `taken_at` whose tables are those with an id below
    /// `table_bound`. O(1): tables are attached lazily.
    pub(crate) fn begin(id: u64, taken_at: u64, table_bound: u64) -> SnapshotState {
        SnapshotState {
            id,
            taken_at,
            table_bound,
            cursor: 0,
            current: None,
            revisit: Vec::new(),
            detached: Vec::new(),
            walked: Vec::new(),
            ready: VecDeque::new(),
        }
    }

    /// Brings `table`, found at database `position`, up to date with this
    /// snapshot before anything changes or moves it: drops copy-on-write
    /// state left by an earlier (aborted) snapshot, and attaches this one's
    /// if the table still owes its contents at T.
    ///
    /// A table the snapshot has not attached yet has not changed or moved
    /// since T, so `position` is its index at T. Behind the cursor such a
    /// table was skipped by the walk because it was empty: it owes nothing.
    pub(crate) fn prepare(&self, table: &mut Table, position: usize) {
        if table.cow.as_ref().is_some_and(|c| c.version != self.id) {
            table.cow = None;
        }
        if table.cow.is_none() && table.id < self.table_bound && table.snapshot_seen < self.id {
            if position >= self.cursor {
                table.cow = Some(CopyOnWrite::new(self.id, position));
            }
            // Behind the cursor it owes nothing: mark it so, or once changed
            // and moved ahead by `SWAPDB` it would be taken for untouched.
            table.snapshot_seen = self.id;
        }
    }

    /// Whether `table` (already [`prepare`d](Self::prepare)) still owes
    /// entries to this snapshot.
    pub(crate) fn owes(&self, table: &Table) -> bool {
        table.cow.as_ref().is_some_and(|c| c.version == self.id)
    }

    /// Called after `SWAPDB` put `table` at `position`: a table still owed
    /// that landed behind the cursor is walked after the main pass.
    pub(crate) fn moved(&mut self, table: &Table, position: usize) {
        if self.owes(table) && position < self.cursor {
            self.revisit.push(position);
        }
    }

    /// Extra memory the snapshot holds: pending images of `tables` (the
    /// live tables that may carry copy-on-write state), detached tables and
    /// decoded entries not handed out yet.
    pub(crate) fn memory_bytes<'a>(&self, tables: impl Iterator<Item = &'a Table>) -> usize {
        let pending: usize = tables
            .filter_map(|t| t.cow.as_ref())
            .filter(|c| c.version == self.id)
            .map(CopyOnWrite::pending_bytes)
            .sum();
        let detached: usize = self
            .detached
            .iter()
            .map(|t| t.memory_bytes() + t.cow.as_ref().map_or(0, CopyOnWrite::pending_bytes))
            .sum();
        let ready: usize = self
            .ready
            .iter()
            .map(|e| e.key.len() + e.value.memory_bytes() + std::mem::size_of::<SnapshotEntry>())
            .sum();
        pending + detached + ready
    }

    /// Hands out up to `max_entries` entries, examining at most
    /// `max_tables` tables (each counted in `examined`). `None` means the
    /// snapshot is complete; an empty batch only that the table budget ran
    /// out first. `dbs` are the live databases, `touched` the set of those
    /// that may be non-empty (see [`crate::db_set`]).
    pub(crate) fn next_batch(
        &mut self,
        dbs: &mut [Db],
        touched: &mut DbSet,
        max_entries: usize,
        max_tables: usize,
        examined: &mut u64,
    ) -> Option<Vec<SnapshotEntry>> {
        let mut batch = Vec::with_capacity(max_entries.min(self.ready.len().max(1)));
        let budget_end = examined.saturating_add(max_tables.max(1) as u64);
        while batch.len() < max_entries.max(1) {
            if let Some(entry) = self.ready.pop_front() {
                batch.push(entry);
                continue;
            }
            if *examined >= budget_end {
                return Some(batch);
            }
            if !self.step(dbs, touched, examined) {
                return if batch.is_empty() { None } else { Some(batch) };
            }
        }
        Some(batch)
    }

    /// Moves one unit of work (one pending image or one segment) into
    /// `ready`, or finishes one table. Returns false when every table has
    /// been walked. Each table is examined O(1) times (plus once per
    /// `SWAPDB` that moved it), so a whole walk is linear in the databases
    /// touched, and untouched ones cost a bit each.
    fn step(&mut self, dbs: &mut [Db], touched: &mut DbSet, examined: &mut u64) -> bool {
        let Some(walking) = self.current else {
            return self.pick_next(dbs, touched, examined);
        };
        *examined += 1;
        let taken_at = self.taken_at;
        let (table, position) = match walking {
            Walking::Live(position) => (&mut dbs[position].table, Some(position)),
            Walking::Detached => match self.detached.last_mut() {
                Some(table) => (table, None),
                None => {
                    self.current = None;
                    return true;
                }
            },
        };
        let owed = table.cow.as_ref().is_some_and(|c| c.version == self.id);
        if owed {
            let db = table.cow.as_ref().map_or(0, |c| c.db);
            let ready = &mut self.ready;
            let mut push = |key: Bytes, value: Value, expire_at_ms: Option<u64>| {
                if expire_at_ms.is_none_or(|deadline| deadline >= taken_at) {
                    ready.push_back(SnapshotEntry {
                        db,
                        key,
                        value,
                        expire_at_ms,
                    });
                }
            };
            if walk_one(table, &mut push) {
                return true;
            }
            // This table is done: stop copy-on-write on it.
            table.cow = None;
        }
        match position {
            Some(position) => {
                let db = &dbs[position];
                if db.len() == 0 && db.heap_len() == 0 && db.table.cow.is_none() {
                    touched.remove(position);
                }
            }
            // Flushed away and walked: handed back to the store to free
            // (off the command path when background freeing is on).
            None => self.walked.extend(self.detached.pop()),
        }
        self.current = None;
        true
    }

    /// Chooses the next table to walk: the next touched position of the
    /// main pass, then the positions to revisit, then the detached tables.
    fn pick_next(&mut self, dbs: &mut [Db], touched: &DbSet, examined: &mut u64) -> bool {
        if let Some(position) = touched.next_from(self.cursor) {
            *examined += 1;
            // Attached before the cursor moves past it (see `prepare`).
            self.prepare(&mut dbs[position].table, position);
            self.cursor = position + 1;
            self.current = Some(Walking::Live(position));
            return true;
        }
        self.cursor = dbs.len();
        if let Some(position) = self.revisit.pop() {
            self.current = Some(Walking::Live(position));
            return true;
        }
        if !self.detached.is_empty() {
            self.current = Some(Walking::Detached);
            return true;
        }
        false
    }
}

/// Emits one pending image or one not-yet-stamped segment of `table`.
/// Returns false when the table has nothing left for the snapshot.
fn walk_one(table: &mut Table, emit: &mut impl FnMut(Bytes, Value, Option<u64>)) -> bool {
    let Some(cow) = table.cow.as_mut() else {
        return false;
    };
    if let Some(image) = cow.pending.pop() {
        image.decode(emit);
        return true;
    }
    while let Some(pos) = table.cow.as_ref().and_then(|c| c.walk) {
        let index = table.segment_index_for(pos);
        let (_, end) = table.segment_range(index, pos);
        let version = table.cow.as_ref().map_or(0, |c| c.version);
        let segment = &mut table.segments[index];
        let fresh = segment.version < version;
        if fresh {
            segment.version = version;
            SegmentImage::capture(segment.entries.iter()).decode(&mut *emit);
        }
        if let Some(cow) = table.cow.as_mut() {
            cow.walk = end;
        }
        if fresh {
            return true;
        }
    }
    false
}
