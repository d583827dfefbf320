//! How long a writer can be held up by a point-in-time snapshot, and how much
//! extra memory the snapshot costs, on one million keys.
//!
//! ```sh
//! cargo run --release -p redigo-store --example snapshot_pause [keys] [writes_per_batch] [batch]
//! ```
//!
//! The run mimics a server doing an AOF rewrite: under its lock it alternates
//! client writes (overwrites of random existing keys, each a first touch of a
//! segment with high probability early on) with `snapshot_next` batches. It
//! reports the slowest single write (which includes any copy-on-write of a
//! segment), the slowest `snapshot_next` batch (a writer queued behind the
//! lock waits for that too), the same slowest write with no snapshot for
//! comparison, and the peak of `Store::snapshot_memory`.

mod common;

use common::Lcg;
use std::time::{Duration, Instant};

use redigo_store::{SetOptions, Store, StoreConfig};

const DEFAULT_KEYS: usize = 1_000_000;
const DEFAULT_WRITES_PER_BATCH: usize = 200;
const DEFAULT_BATCH: usize = 1_000;
const VALUE_LEN: usize = 16;

fn key(i: usize) -> String {
    format!("key:{i:09}")
}

fn timed_write(store: &mut Store, rng: &mut Lcg, keys: usize, value: &[u8]) -> Duration {
    let k = key(rng.next(keys));
    let started = Instant::now();
    store
        .db(0, 1)
        .expect("db 0")
        .set(k.as_bytes(), value, SetOptions::default())
        .expect("SET");
    started.elapsed()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let keys: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_KEYS);
    let writes_per_batch: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_WRITES_PER_BATCH);
    let batch: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_BATCH);
    let value = [b'v'; VALUE_LEN];
    let mut store = Store::new(StoreConfig::default());
    {
        let mut db = store.db(0, 1).expect("db 0");
        for i in 0..keys {
            db.set(key(i).as_bytes(), &value, SetOptions::default())
                .expect("SET");
        }
    }
    let mut rng = Lcg(42);

    let mut baseline_max = Duration::ZERO;
    for _ in 0..(keys / batch + 1) * writes_per_batch {
        baseline_max = baseline_max.max(timed_write(&mut store, &mut rng, keys, &value));
    }

    let begin_started = Instant::now();
    let mut handle = store.begin_snapshot(1).expect("no snapshot in progress");
    let begin_time = begin_started.elapsed();
    let mut write_times: Vec<Duration> = Vec::new();
    let mut copy_times: Vec<Duration> = Vec::new();
    let mut batch_times: Vec<Duration> = Vec::new();
    let mut peak_memory = 0;
    let mut emitted = 0;
    let mut writes = 0;
    let started = Instant::now();
    loop {
        for _ in 0..writes_per_batch {
            let held_before = store.snapshot_memory();
            let took = timed_write(&mut store, &mut rng, keys, &value);
            if store.snapshot_memory() > held_before {
                // This write was a segment's first touch: it paid the copy.
                copy_times.push(took);
            }
            write_times.push(took);
            writes += 1;
        }
        peak_memory = peak_memory.max(store.snapshot_memory());
        let batch_started = Instant::now();
        let entries = store.snapshot_next(&mut handle, batch);
        batch_times.push(batch_started.elapsed());
        if entries.is_empty() {
            break;
        }
        emitted += entries.len();
    }
    let total = started.elapsed();
    assert_eq!(emitted, keys, "the snapshot holds every key exactly once");
    println!("keys: {keys}, writes during the snapshot: {writes}, batch size: {batch}");
    println!("begin_snapshot: {begin_time:?}");
    println!("slowest write without a snapshot: {baseline_max:?}");
    write_times.sort_unstable();
    copy_times.sort_unstable();
    let percentile = |times: &[Duration], p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "writes during the snapshot: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        percentile(&write_times, 0.5),
        percentile(&write_times, 0.99),
        percentile(&write_times, 0.999),
        write_times[write_times.len() - 1]
    );
    if !copy_times.is_empty() {
        println!(
            "writes that copied a segment ({}): p50 {:?}, p99 {:?}, max {:?}",
            copy_times.len(),
            percentile(&copy_times, 0.5),
            percentile(&copy_times, 0.99),
            copy_times[copy_times.len() - 1]
        );
    }
    batch_times.sort_unstable();
    println!(
        "snapshot_next({batch}) batches ({}): p50 {:?}, p99 {:?}, max {:?}",
        batch_times.len(),
        percentile(&batch_times, 0.5),
        percentile(&batch_times, 0.99),
        batch_times[batch_times.len() - 1]
    );
    println!("whole snapshot iterated in {total:?}");
    println!(
        "peak extra memory held by the snapshot: {peak_memory} bytes ({:.1}% of used_memory {})",
        peak_memory as f64 * 100.0 / store.used_memory() as f64,
        store.used_memory()
    );
}
