//! How long a writer changing a 1,000,000-member sorted set can be held up
//! by a point-in-time snapshot of it, how much extra memory that costs, and
//! `ZADD`/`ZRANK`/`ZRANGE` of 10 at a random rank on the order-statistic
//! B-tree, in-process.
//!
//! ```sh
//! cargo run --release -p redigo-store --example zset_snapshot_pause [members] [writes_per_batch]
//! ```
//!
//! Like a server doing an AOF rewrite under its lock, the run alternates
//! `writes_per_batch` `ZADD`s of random members with new random scores
//! (each timed) with one `snapshot_next(1000)` batch over the sorted set and
//! 100,000 string keys, until the snapshot is complete; then the frozen
//! sorted set is rewritten (`ZADD` batches), as the rewrite thread would do
//! outside the lock. Last, `DEL` with background freeing is timed.

mod common;

use common::{Lcg, SnapshotRun, percentile, resident_bytes, snapshot_under_writes};
use std::time::{Duration, Instant};

use redigo_store::ops::zsets::{RangeQuery, RangeSpec, ZaddFlags};
use redigo_store::{SetOptions, Store, StoreConfig, Value};

const DEFAULT_MEMBERS: usize = 1_000_000;
const DEFAULT_WRITES_PER_BATCH: usize = 20;
const STRING_KEYS: usize = 100_000;
const BATCH: usize = 1_000;
const TIMED_OPS: usize = 100_000;

fn report(name: &str, times: &mut [Duration]) {
    times.sort_unstable();
    println!(
        "{name}: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        percentile(times, 0.5),
        percentile(times, 0.99),
        percentile(times, 0.999),
        times[times.len() - 1]
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut arg = |default: usize| args.next().and_then(|a| a.parse().ok()).unwrap_or(default);
    let members = arg(DEFAULT_MEMBERS);
    let writes_per_batch = arg(DEFAULT_WRITES_PER_BATCH);
    let mut store = Store::new(StoreConfig::default());
    let mut rng = Lcg(7);
    {
        let mut db = store.db(0, 1).expect("db 0");
        for start in (0..members).step_by(1000) {
            let names: Vec<String> = (start..(start + 1000).min(members))
                .map(|i| format!("member:{i}"))
                .collect();
            let pairs: Vec<(f64, &[u8])> = names
                .iter()
                .map(|m| (rng.next(1_000_000_000) as f64 / 7.0, m.as_bytes()))
                .collect();
            db.zadd(b"bigzset", ZaddFlags::default(), &pairs)
                .expect("ZADD");
        }
        for i in 0..STRING_KEYS {
            db.set(
                format!("key:{i:09}").as_bytes(),
                b"0123456789abcdef",
                SetOptions::default(),
            )
            .expect("SET");
        }
    }
    let used = store.used_memory();
    let write = |store: &mut Store, rng: &mut Lcg| {
        let member = format!("member:{}", rng.next(members));
        let score = rng.next(1_000_000_000) as f64 / 7.0;
        let started = Instant::now();
        store
            .db(0, 1)
            .expect("db 0")
            .zadd(
                b"bigzset",
                ZaddFlags::default(),
                &[(score, member.as_bytes())],
            )
            .expect("ZADD");
        started.elapsed()
    };
    // Operations on the B-tree alone.
    let mut zadd = Vec::with_capacity(TIMED_OPS);
    for _ in 0..TIMED_OPS {
        zadd.push(write(&mut store, &mut rng));
    }
    let mut zrank = Vec::with_capacity(TIMED_OPS);
    let mut zrange = Vec::with_capacity(TIMED_OPS);
    {
        let mut db = store.db(0, 1).expect("db 0");
        for _ in 0..TIMED_OPS {
            let member = format!("member:{}", rng.next(members));
            let started = Instant::now();
            let rank = db
                .zrank(b"bigzset", member.as_bytes(), false)
                .expect("ZRANK");
            zrank.push(started.elapsed());
            assert!(rank.is_some());
            let start = rng.next(members - 10) as i64;
            let query = RangeQuery {
                spec: RangeSpec::Rank(start, start + 9),
                rev: false,
                limit: None,
            };
            let started = Instant::now();
            let items = db
                .zrange(b"bigzset", &query)
                .expect("ZRANGE")
                .expect("live");
            zrange.push(started.elapsed());
            assert_eq!(items.len(), 10);
        }
    }
    println!(
        "sorted set of {members} members + {STRING_KEYS} string keys, used_memory {used} bytes"
    );
    report("ZADD (update to a random score)", &mut zadd);
    report("ZRANK", &mut zrank);
    report("ZRANGE of 10 at a random rank", &mut zrange);

    let rss_before = resident_bytes();
    let SnapshotRun {
        begin_time,
        mut writes,
        mut batches,
        peak_memory,
        emitted: _,
        frozen,
    } = snapshot_under_writes(
        &mut store,
        writes_per_batch,
        BATCH,
        |store| write(store, &mut rng),
        |value| matches!(value, Value::Zset(_)),
    );
    let zset = frozen.expect("the snapshot holds the sorted set");
    let rss_growth = resident_bytes().saturating_sub(rss_before);
    let started = Instant::now();
    let mut commands = 0;
    zset.value
        .rewrite(&zset.key, zset.expire_at_ms, &mut |_args| commands += 1);
    let rewrite_time = started.elapsed();
    drop(zset);
    println!(
        "begin_snapshot: {begin_time:?}; {} ZADDs during the snapshot",
        writes.len()
    );
    report("ZADD during the snapshot", &mut writes);
    report(&format!("snapshot_next({BATCH})"), &mut batches);
    println!(
        "peak extra memory held by the snapshot: {peak_memory} bytes; RSS growth while it was alive: {rss_growth} bytes ({:.1}% of used_memory)",
        rss_growth as f64 * 100.0 / used as f64
    );
    println!(
        "rewrite of the frozen sorted set (outside the lock): {commands} commands in {rewrite_time:?}"
    );

    store.set_background_free(true);
    let started = Instant::now();
    store.db(0, 1).expect("db 0").del(&[b"bigzset"]);
    let del_time = started.elapsed();
    let garbage = store.drain_garbage();
    let started = Instant::now();
    drop(garbage);
    println!(
        "DEL of the sorted set: {del_time:?} on the command path; freeing it (background thread's work): {:?}",
        started.elapsed()
    );
}
