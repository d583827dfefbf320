//! How long a writer changing a 1,000,000-field hash can be held up by a
//! point-in-time snapshot of it, how much extra memory the snapshot holds,
//! and how long `DEL` of that hash takes with background freeing.
//!
//! ```sh
//! cargo run --release -p redigo-store --example collection_snapshot_pause [fields] [writes_per_batch] [string_keys]
//! ```
//!
//! The store holds one hash of `fields` fields and `string_keys` string
//! keys (so the walk has other work to interleave with). Like a server
//! doing an AOF rewrite under its lock, the run alternates
//! `writes_per_batch` `HSET`s of random fields of the hash (each timed) with
//! one `snapshot_next(1000)` batch (timed; a writer queued behind the lock
//! waits for it too), until the snapshot is complete. The frozen hash the
//! snapshot hands out is then rewritten (`HSET` batches), as the rewrite
//! thread would do outside the lock. Last, `DEL` of the hash is timed with
//! background freeing on, then the drop of the garbage it produced.

mod common;

use common::{Lcg, SnapshotRun, percentile, snapshot_under_writes};
use std::time::Instant;

use redigo_store::{SetOptions, Store, StoreConfig, Value};

const DEFAULT_FIELDS: usize = 1_000_000;
const DEFAULT_WRITES_PER_BATCH: usize = 20;
const DEFAULT_STRING_KEYS: usize = 100_000;
const BATCH: usize = 1_000;

/// Resident set size (Linux `/proc/self/statm`; 0 elsewhere).
fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut arg = |default: usize| args.next().and_then(|a| a.parse().ok()).unwrap_or(default);
    let fields = arg(DEFAULT_FIELDS);
    let writes_per_batch = arg(DEFAULT_WRITES_PER_BATCH);
    let string_keys = arg(DEFAULT_STRING_KEYS);
    let mut store = Store::new(StoreConfig::default());
    {
        let mut db = store.db(0, 1).expect("db 0");
        for start in (0..fields).step_by(1000) {
            let pairs: Vec<(String, String)> = (start..(start + 1000).min(fields))
                .map(|i| (format!("field:{i}"), format!("value:{i}")))
                .collect();
            db.hset(b"bighash", &pairs).expect("HSET");
        }
        for i in 0..string_keys {
            db.set(
                format!("key:{i:09}").as_bytes(),
                b"0123456789abcdef",
                SetOptions::default(),
            )
            .expect("SET");
        }
    }
    let used = store.used_memory();
    let mut rng = Lcg(7);
    let write = |store: &mut Store, rng: &mut Lcg| {
        let field = format!("field:{}", rng.next(fields));
        let started = Instant::now();
        store
            .db(0, 1)
            .expect("db 0")
            .hset(b"bighash", &[(field.as_bytes(), &b"changed"[..])])
            .expect("HSET");
        started.elapsed()
    };
    let mut baseline = Vec::new();
    for _ in 0..10_000 {
        baseline.push(write(&mut store, &mut rng));
    }
    baseline.sort_unstable();

    let rss_before = resident_bytes();
    let SnapshotRun {
        begin_time,
        mut writes,
        mut batches,
        peak_memory,
        emitted,
        frozen: frozen_hash,
    } = snapshot_under_writes(
        &mut store,
        writes_per_batch,
        BATCH,
        |store| write(store, &mut rng),
        |value| matches!(value, Value::Hash(_)),
    );
    let hash = frozen_hash.expect("the snapshot holds the hash");
    assert_eq!(emitted, string_keys + 1);
    // Chunks copied because the frozen hash (held by the rewrite until it
    // has written it) still shares them, plus the snapshot's own images.
    let rss_growth = resident_bytes().saturating_sub(rss_before);
    let rewrite_started = Instant::now();
    let mut commands = 0;
    hash.value
        .rewrite(&hash.key, hash.expire_at_ms, &mut |_args| commands += 1);
    let rewrite_time = rewrite_started.elapsed();
    drop(hash);
    writes.sort_unstable();
    batches.sort_unstable();
    println!(
        "hash of {fields} fields + {string_keys} string keys, used_memory {used} bytes; {} HSETs during the snapshot",
        writes.len()
    );
    println!("begin_snapshot: {begin_time:?}");
    println!(
        "HSET without a snapshot: p50 {:?}, p99 {:?}, max {:?}",
        percentile(&baseline, 0.5),
        percentile(&baseline, 0.99),
        baseline[baseline.len() - 1]
    );
    println!(
        "HSET during the snapshot: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        percentile(&writes, 0.5),
        percentile(&writes, 0.99),
        percentile(&writes, 0.999),
        writes[writes.len() - 1]
    );
    println!(
        "snapshot_next({BATCH}) ({} batches): p50 {:?}, p99 {:?}, max {:?}",
        batches.len(),
        percentile(&batches, 0.5),
        percentile(&batches, 0.99),
        batches[batches.len() - 1]
    );
    println!(
        "peak extra memory held by the snapshot: {peak_memory} bytes ({:.1}% of used_memory)",
        peak_memory as f64 * 100.0 / used as f64
    );
    println!(
        "RSS growth while the snapshot and the frozen hash were alive: {rss_growth} bytes ({:.1}% of used_memory)",
        rss_growth as f64 * 100.0 / used as f64
    );
    println!(
        "rewrite of the frozen hash (outside the lock): {commands} commands in {rewrite_time:?}"
    );

    store.set_background_free(true);
    let started = Instant::now();
    store.db(0, 1).expect("db 0").del(&[b"bighash"]);
    let del_time = started.elapsed();
    let garbage = store.drain_garbage();
    let started = Instant::now();
    drop(garbage);
    println!(
        "DEL of the hash: {del_time:?} on the command path; freeing it (background thread's work): {:?}",
        started.elapsed()
    );
}
