//! What the measuring examples share: the process's resident memory, a
//! deterministic random generator, percentiles, and the snapshot-under-writes
//! loop of the `*_snapshot_pause` examples. Included with `mod common;` (a folder
//! without `main.rs`, so Cargo does not build it as an example).

#![allow(dead_code)] // Each example uses a part.

use std::time::{Duration, Instant};

use redigo_store::{SnapshotEntry, Store, Value};

/// Bytes of a memory page as `/proc/self/statm` counts them.
const PAGE_SIZE: usize = 4096;

/// The resident set size of this process (Linux only: reads
/// `/proc/self/statm`).
pub fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm field 2");
    pages * PAGE_SIZE
}

/// A small deterministic generator so runs are comparable.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next value below `bound`.
    pub fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % bound
    }
}

/// The `p` quantile (0..=1) of `times`, which must be sorted.
pub fn percentile(times: &[Duration], p: f64) -> Duration {
    times[((times.len() - 1) as f64 * p) as usize]
}

/// What [`snapshot_under_writes`] measured.
pub struct SnapshotRun {
    /// How long `begin_snapshot` took.
    pub begin_time: Duration,
    /// Each write's time, in the order they ran (unsorted).
    pub writes: Vec<Duration>,
    /// Each `snapshot_next` batch's time, including the final empty one.
    pub batches: Vec<Duration>,
    /// The most extra memory the snapshot held at a batch boundary.
    pub peak_memory: usize,
    /// Entries the snapshot handed out.
    pub emitted: usize,
    /// The last entry whose value `is_subject` picked.
    pub frozen: Option<SnapshotEntry>,
}

/// Like a server doing an AOF rewrite under its lock: begins a snapshot of
/// `store`, then alternates `writes_per_batch` calls of `write` (each
/// returns the time of its write) with one timed `snapshot_next(batch)`,
/// until the snapshot is complete.
pub fn snapshot_under_writes(
    store: &mut Store,
    writes_per_batch: usize,
    batch: usize,
    mut write: impl FnMut(&mut Store) -> Duration,
    is_subject: impl Fn(&Value) -> bool,
) -> SnapshotRun {
    let begin = Instant::now();
    let mut handle = store.begin_snapshot(1).expect("no snapshot running");
    let begin_time = begin.elapsed();
    let (mut writes, mut batches) = (Vec::new(), Vec::new());
    let mut peak_memory = 0;
    let mut frozen = None;
    let mut emitted = 0;
    loop {
        for _ in 0..writes_per_batch {
            writes.push(write(store));
        }
        peak_memory = peak_memory.max(store.snapshot_memory());
        let started = Instant::now();
        let entries = store.snapshot_next(&mut handle, batch);
        batches.push(started.elapsed());
        if entries.is_empty() {
            break;
        }
        emitted += entries.len();
        for entry in entries {
            if is_subject(&entry.value) {
                frozen = Some(entry);
            }
        }
    }
    SnapshotRun {
        begin_time,
        writes,
        batches,
        peak_memory,
        emitted,
        frozen,
    }
}
