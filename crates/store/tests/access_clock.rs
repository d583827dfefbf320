//! The per-entry access clock behind `OBJECT IDLETIME`: which lookups
//! restart it (Redis's `lookupKey` without `LOOKUP_NOTOUCH`), which do not
//! (`EXISTS`, `TYPE`, `TTL`..., `OBJECT`, `RANDOMKEY`, `SCAN ... TYPE`),
//! that rebuilding an entry in place keeps it, that a new value restarts it,
//! and that no lookup stamps it while a snapshot is alive (which would copy
//! the snapshot's segments, as a child's copy-on-write would in Redis).

use redigo_store::{ScanOptions, SetOptions, Store, StoreConfig};

/// A start time on a whole second, so "n seconds later" is n clock ticks.
const T0: u64 = 1_700_000_000_000;
const SECOND: u64 = 1000;

fn store() -> Store {
    Store::new(StoreConfig::default())
}

fn idle(store: &mut Store, now: u64, key: &[u8]) -> Option<u64> {
    store.db(0, now).expect("db 0").idle_time(key)
}

#[test]
fn idle_time_counts_whole_seconds_since_creation() {
    let mut store = store();
    let mut db = store.db(0, T0 + 300).expect("db 0");
    db.set(b"k", b"v", SetOptions::default()).expect("SET");
    assert_eq!(idle(&mut store, T0 + 900, b"k"), Some(0));
    assert_eq!(idle(&mut store, T0 + SECOND, b"k"), Some(1));
    assert_eq!(idle(&mut store, T0 + 10 * SECOND + 999, b"k"), Some(10));
    assert_eq!(idle(&mut store, T0, b"missing"), None);
}

#[test]
fn touching_lookups_restart_the_clock_and_notouch_ones_do_not() {
    let mut store = store();
    let mut db = store.db(0, T0).expect("db 0");
    for key in [
        &b"get"[..],
        b"exists",
        b"type",
        b"ttl",
        b"object",
        b"touch",
        b"scan",
    ] {
        db.set(key, b"value", SetOptions::default()).expect("SET");
    }
    db.hset(b"hash", &[(b"f", b"v")]).expect("HSET");
    db.sadd(b"set", &[b"m"]).expect("SADD");
    db.set(b"incr", b"100000", SetOptions::default())
        .expect("SET");

    let later = T0 + 5 * SECOND;
    let mut db = store.db(0, later).expect("db 0");
    db.get(b"get").expect("GET");
    assert_eq!(db.exists(&[b"exists"]), 1);
    assert!(db.type_of(b"type").is_some());
    assert_eq!(db.ttl(b"ttl"), -1);
    assert_eq!(db.pttl(b"ttl"), -1);
    assert_eq!(db.expire_time(b"ttl"), -1);
    assert_eq!(db.object_encoding(b"object"), Some("embstr"));
    assert_eq!(db.peek_string(b"object"), Some(&b"value"[..]));
    assert_eq!(db.touch(&[b"touch"]), 1);
    let options = ScanOptions {
        type_name: Some(b"string"),
        ..ScanOptions::default()
    };
    db.scan(0, &options);
    db.hget(b"hash", b"f").expect("HGET");
    db.sadd(b"set", &[b"n"]).expect("SADD");
    db.incr_by(b"incr", 1).expect("INCR");

    let check = T0 + 7 * SECOND;
    for (key, expected) in [
        (&b"get"[..], 2),
        (b"exists", 7),
        (b"type", 7),
        (b"ttl", 7),
        (b"object", 7),
        (b"touch", 2),
        (b"scan", 7),
        (b"hash", 2),
        (b"set", 2),
        (b"incr", 2),
    ] {
        assert_eq!(
            idle(&mut store, check, key),
            Some(expected),
            "{}",
            String::from_utf8_lossy(key)
        );
    }
    // OBJECT IDLETIME itself is not an access either.
    assert_eq!(idle(&mut store, check, b"exists"), Some(7));
}

#[test]
fn keys_holding_a_shared_integer_report_the_shared_object_s_idle_time() {
    // Redis holds 0..10000 as shared objects: one clock for every key
    // holding the integer, started at server start, restarted by an access
    // of any of those keys, and not by writing one.
    let mut store = store();
    let mut db = store.db(0, T0).expect("db 0");
    db.set(b"other", b"x", SetOptions::default()).expect("SET");
    let mut db = store.db(0, T0 + 3 * SECOND).expect("db 0");
    db.set(b"a", b"5", SetOptions::default()).expect("SET");
    db.set(b"b", b"5", SetOptions::default()).expect("SET");
    db.set(b"big", b"10000", SetOptions::default())
        .expect("SET");
    assert_eq!(idle(&mut store, T0 + 4 * SECOND, b"a"), Some(4));
    assert_eq!(idle(&mut store, T0 + 4 * SECOND, b"big"), Some(1));
    store
        .db(0, T0 + 6 * SECOND)
        .expect("db 0")
        .get(b"a")
        .expect("GET");
    assert_eq!(idle(&mut store, T0 + 8 * SECOND, b"b"), Some(2));
    // INCR to another shared integer: that integer's clock, never touched.
    let mut db = store.db(0, T0 + 8 * SECOND).expect("db 0");
    db.incr_by(b"b", 1).expect("INCR");
    assert_eq!(idle(&mut store, T0 + 9 * SECOND, b"b"), Some(9));
    // A change that makes the string raw: its own clock, restarted by the
    // access that changed it.
    let mut db = store.db(0, T0 + 9 * SECOND).expect("db 0");
    db.append(b"a", b"x").expect("APPEND");
    assert_eq!(idle(&mut store, T0 + 10 * SECOND, b"a"), Some(1));
}

#[test]
fn rebuilding_in_place_keeps_the_clock_and_a_new_value_restarts_it() {
    let mut store = store();
    let mut db = store.db(0, T0).expect("db 0");
    db.set(b"s", b"abc", SetOptions::default()).expect("SET");
    db.set(b"o", b"abc", SetOptions::default()).expect("SET");
    // A read at T0 + 3 s, then changes at T0 + 3 s that rebuild the block.
    let mut db = store.db(0, T0 + 3 * SECOND).expect("db 0");
    db.append(b"s", &[b'x'; 100]).expect("APPEND");
    // Every rebuild keeps that stamp: 6 s later the key is 6 s idle, not
    // 9 (a lost stamp reads as the epoch's clock, not T0).
    assert_eq!(idle(&mut store, T0 + 9 * SECOND, b"s"), Some(6));
    // Overwriting is a new object: stamped now, whatever the old stamp.
    let mut db = store.db(0, T0 + 4 * SECOND).expect("db 0");
    db.set(b"o", b"new", SetOptions::default()).expect("SET");
    assert_eq!(idle(&mut store, T0 + 9 * SECOND, b"o"), Some(5));
    // RENAME moves the object; its lookup of the source counts as access.
    let mut db = store.db(0, T0 + 8 * SECOND).expect("db 0");
    db.rename(b"o", b"p").expect("RENAME");
    assert_eq!(idle(&mut store, T0 + 9 * SECOND, b"p"), Some(1));
}

#[test]
fn a_hash_converted_to_its_big_encoding_keeps_the_stamp_of_its_last_access() {
    let mut store = store();
    let mut db = store.db(0, T0).expect("db 0");
    db.hset(b"h", &[(b"f", b"v")]).expect("HSET");
    let mut db = store.db(0, T0 + 2 * SECOND).expect("db 0");
    let long = [b'v'; 100];
    db.hset(b"h", &[(&b"g"[..], &long[..])]).expect("HSET");
    assert_eq!(db.object_encoding(b"h"), Some("hashtable"));
    assert_eq!(idle(&mut store, T0 + 5 * SECOND, b"h"), Some(3));
}

#[test]
fn no_lookup_stamps_the_clock_while_a_snapshot_is_alive() {
    let mut store = store();
    let mut db = store.db(0, T0).expect("db 0");
    for i in 0..2000 {
        db.set(format!("k{i}").as_bytes(), b"v", SetOptions::default())
            .expect("SET");
    }
    let mut handle = store.begin_snapshot(T0).expect("snapshot");
    let before = store.snapshot_memory();
    let mut db = store.db(0, T0 + 4 * SECOND).expect("db 0");
    for i in 0..2000 {
        assert!(db.get(format!("k{i}").as_bytes()).expect("GET").is_some());
    }
    assert_eq!(
        store.snapshot_memory(),
        before,
        "reads during a snapshot copied segments"
    );
    assert_eq!(idle(&mut store, T0 + 6 * SECOND, b"k7"), Some(6));
    while !store.snapshot_next(&mut handle, 4096).is_empty() {}
    // Once the snapshot is over, reads stamp again.
    let mut db = store.db(0, T0 + 6 * SECOND).expect("db 0");
    db.get(b"k7").expect("GET");
    assert_eq!(idle(&mut store, T0 + 7 * SECOND, b"k7"), Some(1));
}

#[test]
fn the_clock_wraps_as_redis_s_24_bit_lru_clock() {
    // 2^24 seconds after the epoch the clock reads 0 again: a key stamped
    // just before the wrap is still a few seconds idle just after it.
    let wrap = (1u64 << 24) * SECOND;
    let mut store = store();
    let mut db = store.db(0, wrap - 2 * SECOND).expect("db 0");
    db.set(b"k", b"v", SetOptions::default()).expect("SET");
    // Redis's estimateObjectIdleTime: clock + (LRU_CLOCK_MAX - stamp).
    assert_eq!(idle(&mut store, wrap + 3 * SECOND, b"k"), Some(3 + 1));
}
