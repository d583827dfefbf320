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
//! version V (a store-wide counter) and attaches a `CopyOnWrite` record to
//! every table. That is all it does: O(number of databases).
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

use bytes::Bytes;
use std::collections::VecDeque;

use crate::entry::{BlockParts, Entry};
use crate::table::{Segment, Table};
use crate::value::{Value, ValueKind};

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
    /// Old contents of segments written to before the walker reached them.
    pending: Vec<SegmentImage>,
    /// Next position the walker visits; `None` once the walk is complete.
    walk: Option<u64>,
}

impl CopyOnWrite {
    fn new(version: u64) -> Self {
        CopyOnWrite {
            version,
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
#[derive(Debug)]
struct SegmentImage {
    bytes: Vec<u8>,
}

const IMAGE_LENGTH_PREFIX: usize = 4;

impl SegmentImage {
    fn capture<'a>(entries: impl Iterator<Item = &'a Entry> + Clone) -> SegmentImage {
        let size: usize = entries
            .clone()
            .map(|e| IMAGE_LENGTH_PREFIX + e.allocated_bytes())
            .sum();
        let mut bytes = Vec::with_capacity(size);
        for entry in entries {
            let block = entry.block();
            let len = u32::try_from(block.len()).expect("entries are bounded by the string limit");
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(block);
        }
        SegmentImage { bytes }
    }

    /// Hands out every record. The image becomes one shared `Bytes` buffer
    /// and keys and values are slices of it, so decoding allocates once per
    /// segment rather than twice per entry.
    fn decode(self, mut emit: impl FnMut(Bytes, Value, Option<u64>)) {
        let buffer = Bytes::from(self.bytes);
        let mut at = 0;
        while at < buffer.len() {
            let len_bytes: [u8; IMAGE_LENGTH_PREFIX] = buffer[at..at + IMAGE_LENGTH_PREFIX]
                .try_into()
                .expect("length prefix");
            let start = at + IMAGE_LENGTH_PREFIX;
            let end = start + u32::from_le_bytes(len_bytes) as usize;
            let parts = BlockParts::parse(&buffer[start..end]);
            let key = buffer.slice(start + parts.key.start..start + parts.key.end);
            let value = match parts.kind {
                ValueKind::String => {
                    Value::String(buffer.slice(start + parts.value.start..start + parts.value.end))
                }
            };
            emit(key, value, parts.expire_at);
            at = end;
        }
    }
}

/// The store-wide state of the one snapshot in progress.
#[derive(Debug)]
pub(crate) struct SnapshotState {
    pub(crate) id: u64,
    taken_at: u64,
    /// `(database index at T, table id)` in walk order.
    order: Vec<(usize, u64)>,
    current: usize,
    /// Tables flushed away while they still owed entries to this snapshot.
    pub(crate) detached: Vec<Table>,
    ready: VecDeque<SnapshotEntry>,
}

impl SnapshotState {
    /// Attaches copy-on-write state to every table; O(databases).
    pub(crate) fn begin<'a>(
        id: u64,
        version: u64,
        taken_at: u64,
        tables: impl Iterator<Item = &'a mut Table>,
    ) -> SnapshotState {
        let mut order = Vec::new();
        for (db, table) in tables.enumerate() {
            table.cow = Some(CopyOnWrite::new(version));
            order.push((db, table.id));
        }
        SnapshotState {
            id,
            taken_at,
            order,
            current: 0,
            detached: Vec::new(),
            ready: VecDeque::new(),
        }
    }

    /// Extra memory the snapshot holds: pending images, detached tables and
    /// decoded entries not handed out yet.
    pub(crate) fn memory_bytes<'a>(&self, tables: impl Iterator<Item = &'a Table>) -> usize {
        let pending: usize = tables
            .filter_map(|t| t.cow.as_ref())
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
            .map(|e| {
                let Value::String(v) = &e.value;
                e.key.len() + v.len() + std::mem::size_of::<SnapshotEntry>()
            })
            .sum();
        pending + detached + ready
    }

    /// Hands out up to `max_entries` entries; an empty batch means the
    /// snapshot is complete. `tables` are the live databases' tables.
    pub(crate) fn next_batch(
        &mut self,
        tables: &mut [&mut Table],
        max_entries: usize,
    ) -> Vec<SnapshotEntry> {
        let mut batch = Vec::with_capacity(max_entries.min(self.ready.len().max(1)));
        while batch.len() < max_entries.max(1) {
            if let Some(entry) = self.ready.pop_front() {
                batch.push(entry);
                continue;
            }
            if !self.step(tables) {
                break;
            }
        }
        batch
    }

    /// Moves one unit of work (one pending image or one segment) into
    /// `ready`. Returns false when every table has been walked.
    fn step(&mut self, tables: &mut [&mut Table]) -> bool {
        while let Some(&(db, table_id)) = self.order.get(self.current) {
            let taken_at = self.taken_at;
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
            let table: &mut Table = if let Some(live) = tables.iter_mut().find(|t| t.id == table_id)
            {
                live
            } else if let Some(detached) = self.detached.iter_mut().find(|t| t.id == table_id) {
                detached
            } else {
                unreachable!("a snapshot's table is either live or detached until walked")
            };
            if walk_one(table, &mut push) {
                return true;
            }
            // This table is done: stop copy-on-write on it and free it if it
            // was flushed away.
            table.cow = None;
            self.detached.retain(|t| t.id != table_id);
            self.current += 1;
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
