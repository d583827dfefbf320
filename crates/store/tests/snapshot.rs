//! Snapshots yield exactly the state at the instant they were taken, while a
//! writer keeps mutating the live store between batches, including
//! `SWAPDB`, `FLUSHDB`, `FLUSHALL`, `MOVE`, `COPY` and `RENAME`, and on
//! hashes and sets in both encodings (`HSET`, `HDEL`, `SADD` between
//! batches; a big hash must come out as it was, not as it became).

use std::collections::BTreeSet;

use proptest::prelude::*;
use redigo_store::ops::lists::End;
use redigo_store::{Expiry, SetOptions, SetTtl, SnapshotEntry, Store, StoreConfig, Value};

const DATABASES: usize = 3;
const NOW: u64 = 10_000_000;
/// Enough keys for several segments per database, so copy-on-write of
/// segments not yet walked and walked segments both happen.
const KEYS_PER_DB: usize = 2_500;

type Row = (usize, Vec<u8>, Vec<u8>, Option<u64>);

fn key(i: usize) -> Vec<u8> {
    format!("k{i}").into_bytes()
}

fn populated_store() -> Store {
    let mut store = Store::new(StoreConfig {
        databases: DATABASES,
        ..StoreConfig::default()
    });
    for db_index in 0..DATABASES {
        let mut db = store.db(db_index, NOW).expect("valid db");
        for i in 0..KEYS_PER_DB {
            let ttl = match i % 7 {
                0 => SetTtl::Expire(Expiry::UnixMillis(NOW as i64 + 60_000)),
                // Already expired at T (a past PXAT is accepted and stored):
                // the snapshot must leave it out.
                1 => SetTtl::Expire(Expiry::UnixMillis(NOW as i64 - 1)),
                _ => SetTtl::Clear,
            };
            let value = format!("v{db_index}-{i}");
            db.set(
                &key(i),
                value.as_bytes(),
                SetOptions {
                    ttl,
                    ..SetOptions::default()
                },
            )
            .expect("SET");
            // Some keys hold collections instead (none of the already
            // expired ones, which EXPIRE would delete): small hashes,
            // intsets and sets of strings, and one big hash per database.
            // Key 3 of each database is a big list (many chunks).
            let kind = match i {
                2 => 5,
                3 => 6,
                _ => i % 5,
            };
            if i % 7 != 1 && kind >= 3 {
                db.del(&[key(i)]);
                match kind {
                    3 => {
                        db.hset(&key(i), &[("a", value.as_str()), ("b", "2")])
                            .expect("HSET");
                    }
                    4 => {
                        let members = if i % 2 == 0 { ["1", "2"] } else { ["x", "y"] };
                        db.sadd(&key(i), &members).expect("SADD");
                    }
                    6 => {
                        let elements: Vec<String> = (0..5000).map(|e| format!("e{e}")).collect();
                        db.list_push(&key(i), End::Right, &elements, false)
                            .expect("RPUSH");
                    }
                    _ => {
                        let pairs: Vec<(String, String)> = (0..600)
                            .map(|f| (format!("f{f}"), format!("{f}")))
                            .collect();
                        db.hset(&key(i), &pairs).expect("HSET");
                    }
                }
                if i % 7 == 0 {
                    db.expire(
                        &key(i),
                        Expiry::UnixMillis(NOW as i64 + 60_000),
                        redigo_store::ExpireCondition::Always,
                    )
                    .expect("EXPIRE");
                }
            }
        }
    }
    store
}

/// The live state as the snapshot must report it.
fn state(store: &mut Store, now: u64) -> BTreeSet<Row> {
    let mut rows = BTreeSet::new();
    for db_index in 0..store.databases() {
        let mut db = store.db(db_index, now).expect("valid db");
        for k in db.keys(b"*") {
            // Read with the commands, not through `Value` (which shares the
            // snapshot's frozen views), so the two sides are independent.
            let value = match db.type_of(&k).expect("live") {
                redigo_store::ValueKind::String => {
                    db.get(&k).expect("string").expect("live").to_vec()
                }
                redigo_store::ValueKind::Hash => {
                    let mut pairs = db.hgetall(&k).expect("hash");
                    pairs.sort();
                    format!("hash {pairs:?}").into_bytes()
                }
                redigo_store::ValueKind::Set => {
                    let mut members = db.smembers(&k).expect("set");
                    members.sort();
                    format!("set {members:?}").into_bytes()
                }
                redigo_store::ValueKind::List => {
                    let elements = db.lrange(&k, 0, -1).expect("list");
                    format!("list {elements:?}").into_bytes()
                }
                redigo_store::ValueKind::Zset => {
                    let all = redigo_store::ops::zsets::RangeQuery {
                        spec: redigo_store::ops::zsets::RangeSpec::Rank(0, -1),
                        rev: false,
                        limit: None,
                    };
                    let items = db.zrange(&k, &all).expect("zset").expect("live");
                    render_zset(items)
                }
            };
            let deadline = db.pexpire_time(&k);
            rows.insert((
                db_index,
                k.to_vec(),
                value,
                (deadline >= 0).then_some(deadline as u64),
            ));
        }
    }
    rows
}

/// A value as comparable bytes: a collection canonically (sorted).
fn render(value: Value) -> Vec<u8> {
    match value {
        Value::String(value) => value.to_vec(),
        Value::Hash(hash) => format!("hash {:?}", hash.to_sorted_pairs()).into_bytes(),
        Value::Set(set) => format!("set {:?}", set.to_sorted()).into_bytes(),
        Value::List(list) => format!("list {:?}", list.to_vec()).into_bytes(),
        Value::Zset(zset) => render_zset(zset.to_vec()),
    }
}

/// A sorted set in order, scores as bits (so `-0` and `0` differ).
fn render_zset(items: Vec<(bytes::Bytes, f64)>) -> Vec<u8> {
    let items: Vec<(bytes::Bytes, u64)> =
        items.into_iter().map(|(m, s)| (m, s.to_bits())).collect();
    format!("zset {items:?}").into_bytes()
}

fn row(entry: SnapshotEntry) -> Row {
    (
        entry.db,
        entry.key.to_vec(),
        render(entry.value),
        entry.expire_at_ms,
    )
}

#[derive(Debug, Clone)]
enum Write {
    Set(usize, usize),
    Del(usize, usize),
    Expire(usize, usize),
    Append(usize, usize),
    Rename(usize, usize, usize),
    Move(usize, usize, usize),
    Copy(usize, usize, usize),
    SwapDb(usize, usize),
    FlushDb(usize),
    FlushAll,
    HSet(usize, usize, usize),
    HDel(usize, usize, usize),
    SAdd(usize, usize, usize),
    /// Push at one end and pop at the other, on `k` and on the big list.
    ListPushPop(usize, usize, usize),
    /// `LSET` in the middle of the big list.
    ListSet(usize, usize),
}

fn write() -> impl Strategy<Value = Write> {
    let db = || 0..DATABASES;
    // Include fresh keys beyond the populated range, so segments split.
    let k = || 0..KEYS_PER_DB * 2;
    prop_oneof![
        40 => (db(), k()).prop_map(|(d, k)| Write::Set(d, k)),
        10 => (db(), k()).prop_map(|(d, k)| Write::Del(d, k)),
        5 => (db(), k()).prop_map(|(d, k)| Write::Expire(d, k)),
        5 => (db(), k()).prop_map(|(d, k)| Write::Append(d, k)),
        3 => (db(), k(), k()).prop_map(|(d, a, b)| Write::Rename(d, a, b)),
        3 => (db(), k(), db()).prop_map(|(d, k, t)| Write::Move(d, k, t)),
        3 => (db(), k(), db()).prop_map(|(d, k, t)| Write::Copy(d, k, t)),
        1 => (db(), db()).prop_map(|(a, b)| Write::SwapDb(a, b)),
        1 => db().prop_map(Write::FlushDb),
        1 => Just(Write::FlushAll),
        8 => (db(), k(), 0..700usize).prop_map(|(d, k, f)| Write::HSet(d, k, f)),
        4 => (db(), k(), 0..700usize).prop_map(|(d, k, f)| Write::HDel(d, k, f)),
        6 => (db(), k(), 0..20usize).prop_map(|(d, k, m)| Write::SAdd(d, k, m)),
        8 => (db(), k(), 0..4usize).prop_map(|(d, k, m)| Write::ListPushPop(d, k, m)),
        3 => (db(), 0..6000usize).prop_map(|(d, i)| Write::ListSet(d, i)),
    ]
}

fn apply(store: &mut Store, write: &Write, now: u64) {
    match *write {
        Write::SwapDb(a, b) => store.swap_db(a, b).expect("valid dbs"),
        Write::FlushAll => store.flush_all(),
        Write::FlushDb(d) => store.db(d, now).expect("valid db").flush(),
        Write::Set(d, k) => {
            let mut db = store.db(d, now).expect("valid db");
            db.set(&key(k), b"overwritten", SetOptions::default())
                .expect("SET");
        }
        Write::Del(d, k) => {
            store.db(d, now).expect("valid db").del(&[key(k)]);
        }
        Write::Expire(d, k) => {
            let mut db = store.db(d, now).expect("valid db");
            db.expire(
                &key(k),
                Expiry::Seconds(5),
                redigo_store::ExpireCondition::Always,
            )
            .expect("EXPIRE");
        }
        Write::Append(d, k) => {
            let mut db = store.db(d, now).expect("valid db");
            let kind = db.type_of(&key(k));
            let appended = db.append(&key(k), b"+");
            // On a collection APPEND is WRONGTYPE; anything else appends.
            if kind.is_some_and(|kind| kind != redigo_store::ValueKind::String) {
                assert_eq!(appended, Err(redigo_store::StoreError::WrongType));
            } else {
                appended.expect("APPEND");
            }
        }
        Write::Rename(d, a, b) => {
            let _ = store.db(d, now).expect("valid db").rename(&key(a), &key(b));
        }
        Write::Move(d, k, t) => {
            let _ = store.db(d, now).expect("valid db").move_key(&key(k), t);
        }
        // Writes to keys of another kind answer WRONGTYPE and change nothing.
        Write::HSet(d, k, f) => {
            let field = format!("f{f}");
            let _ = store
                .db(d, now)
                .expect("valid db")
                .hset(&key(k), &[(field.as_str(), "changed")]);
            // The big hash of each database is written to often.
            let _ = store
                .db(d, now)
                .expect("valid db")
                .hset(&key(2), &[(field.as_str(), "changed")]);
        }
        Write::HDel(d, k, f) => {
            let field = format!("f{f}");
            let _ = store.db(d, now).expect("valid db").hdel(&key(k), &[&field]);
            let _ = store.db(d, now).expect("valid db").hdel(&key(2), &[&field]);
        }
        Write::SAdd(d, k, m) => {
            // Integers keep an intset an intset; "m.." converts it.
            let member = if m % 2 == 0 {
                m.to_string()
            } else {
                format!("m{m}")
            };
            let _ = store.db(d, now).expect("valid db").sadd(&key(k), &[member]);
        }
        Write::ListPushPop(d, k, m) => {
            let (push, pop) = if m % 2 == 0 {
                (End::Left, End::Right)
            } else {
                (End::Right, End::Left)
            };
            for target in [key(k), key(3)] {
                let mut db = store.db(d, now).expect("valid db");
                let _ = db.list_push(&target, push, &[format!("p{m}")], false);
                if m >= 2 {
                    let _ = db.list_pop(&target, pop, Some(m));
                }
            }
        }
        Write::ListSet(d, i) => {
            let _ = store
                .db(d, now)
                .expect("valid db")
                .lset(&key(3), i as i64, b"set");
        }
        Write::Copy(d, k, t) => {
            let _ = store
                .db(d, now)
                .expect("valid db")
                .copy(&key(k), &key(k + 1), Some(t), true);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn snapshot_is_the_state_at_the_time_it_was_taken(
        steps in prop::collection::vec((prop::collection::vec(write(), 0..40), 1..400usize), 1..60),
    ) {
        let mut store = populated_store();
        let expected = state(&mut store, NOW);
        let mut handle = store.begin_snapshot(NOW).expect("first snapshot");
        prop_assert!(store.begin_snapshot(NOW).is_err(), "only one snapshot at a time");
        let mut got = Vec::new();
        let mut now = NOW;
        let mut steps = steps.into_iter();
        loop {
            let (writes, batch) = steps.next().unwrap_or((Vec::new(), 10_000));
            for w in &writes {
                apply(&mut store, w, now);
            }
            now += 1;
            let entries = store.snapshot_next(&mut handle, batch);
            prop_assert!(entries.len() <= batch);
            if entries.is_empty() {
                break;
            }
            got.extend(entries.into_iter().map(row));
        }
        prop_assert!(!store.snapshot_in_progress());
        prop_assert_eq!(store.snapshot_memory(), 0);
        let got_set: BTreeSet<Row> = got.iter().cloned().collect();
        prop_assert_eq!(got.len(), got_set.len(), "an entry was emitted twice");
        prop_assert_eq!(got_set, expected);
    }
}

#[test]
fn copy_on_write_memory_is_released_when_the_snapshot_ends() {
    let mut store = populated_store();
    let mut handle = store.begin_snapshot(NOW).expect("snapshot");
    assert_eq!(
        store.snapshot_memory(),
        0,
        "taking a snapshot copies nothing"
    );
    store
        .db(0, NOW)
        .expect("db")
        .set(b"k3", b"new", SetOptions::default())
        .expect("SET");
    assert!(
        store.snapshot_memory() > 0,
        "the first write to a segment queued its old contents"
    );
    let before_flush = store.snapshot_memory();
    store.flush_all();
    assert!(
        store.snapshot_memory() > before_flush,
        "flushed tables are kept for the snapshot"
    );
    let mut total = 0;
    loop {
        let batch = store.snapshot_next(&mut handle, 1_000);
        if batch.is_empty() {
            break;
        }
        total += batch.len();
    }
    assert_eq!(
        total,
        DATABASES * (0..KEYS_PER_DB).filter(|i| i % 7 != 1).count()
    );
    assert_eq!(store.snapshot_memory(), 0);
    assert!(
        store.snapshot_next(&mut handle, 10).is_empty(),
        "a finished handle yields nothing"
    );
}

#[test]
fn aborted_snapshot_stops_copy_on_write() {
    let mut store = populated_store();
    let handle = store.begin_snapshot(NOW).expect("snapshot");
    store.db(1, NOW).expect("db").del(&[b"k5"]);
    assert!(store.snapshot_memory() > 0);
    store.abort_snapshot(handle);
    assert!(!store.snapshot_in_progress());
    assert_eq!(store.snapshot_memory(), 0);
    store.db(1, NOW).expect("db").del(&[b"k6"]);
    assert_eq!(store.snapshot_memory(), 0);
    assert!(
        store.begin_snapshot(NOW).is_ok(),
        "a new snapshot can start"
    );
}

/// Databases for the many-database tests: enough that quadratic work (the
/// old walk searched every table for each table) would be 10^10 steps.
const MANY_DATABASES: usize = 100_000;
/// Every `SPARSE_EVERY`th database holds keys.
const SPARSE_EVERY: usize = 10;

fn sparse_store() -> Store {
    let mut store = Store::new(StoreConfig {
        databases: MANY_DATABASES,
        ..StoreConfig::default()
    });
    for db_index in (0..MANY_DATABASES).step_by(SPARSE_EVERY) {
        let mut db = store.db(db_index, NOW).expect("valid db");
        db.set(
            b"k",
            format!("v{db_index}").as_bytes(),
            SetOptions::default(),
        )
        .expect("SET");
    }
    store
}

/// Structural, not timed: the work of beginning, walking, aborting and
/// flushing is counted in tables examined, which must be O(1) for the
/// begin and linear in the databases in use for the rest, with a bounded
/// number of tables per `snapshot_step` (the server holds its lock for one
/// step).
#[test]
fn snapshot_and_flushall_work_is_linear_in_the_databases_in_use() {
    let mut store = sparse_store();
    let in_use = MANY_DATABASES / SPARSE_EVERY;
    let expected = state(&mut store, NOW);

    let before = store.tables_examined();
    let mut handle = store.begin_snapshot(NOW).expect("snapshot");
    assert_eq!(store.tables_examined(), before, "begin_snapshot is O(1)");

    let mut got = BTreeSet::new();
    loop {
        let step_start = store.tables_examined();
        let Some(batch) = store.snapshot_step(&mut handle, 256) else {
            break;
        };
        assert!(
            store.tables_examined() - step_start
                <= redigo_store::SNAPSHOT_STEP_MAX_TABLES as u64 + 1,
            "one step examined {} tables",
            store.tables_examined() - step_start
        );
        got.extend(batch.into_iter().map(row));
    }
    assert_eq!(got, expected);
    let walk = store.tables_examined() - before;
    assert!(
        walk <= 3 * in_use as u64,
        "walking {in_use} databases in use examined {walk} tables"
    );

    // An aborted snapshot and FLUSHALL visit only the databases in use too.
    let before = store.tables_examined();
    let handle = store.begin_snapshot(NOW).expect("snapshot");
    store.abort_snapshot(handle);
    store.flush_all();
    let work = store.tables_examined() - before;
    assert!(
        work <= 2 * in_use as u64,
        "abort and FLUSHALL examined {work} tables"
    );
    assert!(store.keyspace_info(NOW).is_empty());

    // Untouched databases are not visited at all.
    let before = store.tables_examined();
    store.flush_all();
    let handle = store.begin_snapshot(NOW).expect("snapshot");
    let mut handle = handle;
    assert!(store.snapshot_next(&mut handle, 256).is_empty());
    assert_eq!(store.tables_examined(), before);
}

/// Deterministic pseudo-random numbers for the interleaving test.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Tables are attached to a snapshot lazily, by position: `SWAPDB` moving
/// tables across the walker's position (both ways), flushes and writes
/// between single-entry steps must still give exactly the state at T, each
/// entry once, labelled with its database at T.
#[test]
fn lazily_attached_tables_survive_swaps_across_the_walk() {
    const DBS: usize = 300;
    for seed in 1..=20u64 {
        let mut rng = Lcg(seed);
        let mut store = Store::new(StoreConfig {
            databases: DBS,
            ..StoreConfig::default()
        });
        for _ in 0..DBS {
            let d = rng.below(DBS);
            let k = rng.below(5);
            store
                .db(d, NOW)
                .expect("valid db")
                .set(&key(k), format!("v{d}").as_bytes(), SetOptions::default())
                .expect("SET");
        }
        let expected = state(&mut store, NOW);
        let mut handle = store.begin_snapshot(NOW).expect("snapshot");
        let mut got = Vec::new();
        loop {
            // FLUSHALL is rare: it hands every table still owed to the
            // snapshot over at once, leaving nothing for swaps to move.
            match rng.below(400) {
                0..=149 => store
                    .swap_db(rng.below(DBS), rng.below(DBS))
                    .expect("valid dbs"),
                150..=169 => store.db(rng.below(DBS), NOW).expect("valid db").flush(),
                170 => store.flush_all(),
                _ => {
                    let d = rng.below(DBS);
                    let mut db = store.db(d, NOW).expect("valid db");
                    db.set(&key(rng.below(5)), b"new", SetOptions::default())
                        .expect("SET");
                }
            }
            let Some(batch) = store.snapshot_step(&mut handle, 1) else {
                break;
            };
            got.extend(batch.into_iter().map(row));
        }
        let got_set: BTreeSet<Row> = got.iter().cloned().collect();
        assert_eq!(
            got.len(),
            got_set.len(),
            "seed {seed}: an entry was emitted twice"
        );
        assert_eq!(got_set, expected, "seed {seed}");
        assert_eq!(store.snapshot_memory(), 0);
    }
}
