//! How long a writer pushing and popping a 1,000,000-element list can be
//! held up by a point-in-time snapshot of it (the AOF rewrite's view), how
//! much extra memory the snapshot holds, and how long `DEL` of the list
//! takes with background freeing.
//!
//! ```sh
//! cargo run --release -p redigo-store --example list_snapshot_pause [elements] [writes_per_batch] [string_keys]
//! ```
//!
//! As `collection_snapshot_pause` does for a hash: the run alternates
//! `writes_per_batch` writes to the list (each timed: an `LPUSH` at the
//! head, an `RPOP` at the tail, and every tenth an `LSET` at a random
//! index, which copies a chunk in the middle still shared with the
//! snapshot) with one `snapshot_next(1000)` batch (timed), until the
//! snapshot is complete; then the frozen list is rewritten (`RPUSH`
//! batches) as the rewrite thread would do outside the lock, and `DEL` of
//! the list is timed with background freeing on.

mod common;

use common::{Lcg, SnapshotRun, percentile, snapshot_under_writes};
use std::time::Instant;

use redigo_store::ops::lists::End;
use redigo_store::{SetOptions, Store, StoreConfig, Value};

const DEFAULT_ELEMENTS: usize = 1_000_000;
const DEFAULT_WRITES_PER_BATCH: usize = 20;
const DEFAULT_STRING_KEYS: usize = 100_000;
const BATCH: usize = 1_000;
/// Every this many writes, one is an `LSET` in the middle of the list.
const LSET_EVERY: usize = 10;

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
    let elements = arg(DEFAULT_ELEMENTS);
    let writes_per_batch = arg(DEFAULT_WRITES_PER_BATCH);
    let string_keys = arg(DEFAULT_STRING_KEYS);
    let mut store = Store::new(StoreConfig::default());
    {
        let mut db = store.db(0, 1).expect("db 0");
        for start in (0..elements).step_by(1000) {
            let batch: Vec<String> = (start..(start + 1000).min(elements))
                .map(|i| format!("e{i:07}"))
                .collect();
            db.list_push(b"biglist", End::Right, &batch, false)
                .expect("RPUSH");
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
    let mut count = 0usize;
    let mut write = |store: &mut Store, rng: &mut Lcg| {
        count += 1;
        let mut db = store.db(0, 1).expect("db 0");
        let started = Instant::now();
        if count % LSET_EVERY == 0 {
            let index = rng.next(elements / 2) as i64;
            db.lset(b"biglist", index, b"changed").expect("LSET");
        } else if count % 2 == 0 {
            db.list_push(b"biglist", End::Left, &[b"pushed"], false)
                .expect("LPUSH");
        } else {
            db.list_pop(b"biglist", End::Right, None).expect("RPOP");
        }
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
        emitted: _,
        frozen: frozen_list,
    } = snapshot_under_writes(
        &mut store,
        writes_per_batch,
        BATCH,
        |store| write(store, &mut rng),
        |value| matches!(value, Value::List(_)),
    );
    let list = frozen_list.expect("the snapshot holds the list");
    let rss_growth = resident_bytes().saturating_sub(rss_before);
    let rewrite_started = Instant::now();
    let mut commands = 0;
    list.value
        .rewrite(&list.key, list.expire_at_ms, &mut |_args| commands += 1);
    let rewrite_time = rewrite_started.elapsed();
    drop(list);
    writes.sort_unstable();
    batches.sort_unstable();
    println!(
        "list of {elements} elements + {string_keys} string keys, used_memory {used} bytes; {} writes during the snapshot",
        writes.len()
    );
    println!("begin_snapshot: {begin_time:?}");
    println!(
        "LPUSH/RPOP/LSET without a snapshot: p50 {:?}, p99 {:?}, max {:?}",
        percentile(&baseline, 0.5),
        percentile(&baseline, 0.99),
        baseline[baseline.len() - 1]
    );
    println!(
        "LPUSH/RPOP/LSET during the snapshot: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
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
        "RSS growth while the snapshot and the frozen list were alive: {rss_growth} bytes ({:.1}% of used_memory)",
        rss_growth as f64 * 100.0 / used as f64
    );
    println!(
        "rewrite of the frozen list (outside the lock): {commands} commands in {rewrite_time:?}"
    );

    store.set_background_free(true);
    let started = Instant::now();
    store.db(0, 1).expect("db 0").del(&[b"biglist"]);
    let del_time = started.elapsed();
    let garbage = store.drain_garbage();
    let started = Instant::now();
    let pieces = garbage.len();
    drop(garbage);
    println!(
        "DEL of the list: {del_time:?} on the command path ({pieces} garbage item(s)); freeing it (background thread's work): {:?}",
        started.elapsed()
    );
}
