//! Active expiry (`reap`) honours its budget, reports what it removed, skips
//! stale heap entries, and the heap never grows without bound; `INFO`
//! keyspace counters follow.

use redigo_store::{
    ExpireCondition, Expiry, KeyspaceInfo, SetOptions, SetTtl, Store, StoreConfig, expiry_heap,
};

const NOW: u64 = 1_000_000;

fn set_with_deadline(store: &mut Store, db: usize, key: &str, deadline: u64) {
    let options = SetOptions {
        ttl: SetTtl::Expire(Expiry::UnixMillis(deadline as i64)),
        ..SetOptions::default()
    };
    store
        .db(db, NOW)
        .expect("db")
        .set(key.as_bytes(), b"v", options)
        .expect("SET");
}

#[test]
fn reap_removes_due_keys_within_budget_in_deadline_order() {
    let mut store = Store::new(StoreConfig::default());
    for i in 0..10u64 {
        set_with_deadline(&mut store, 0, &format!("k{i}"), NOW + 10 + i);
    }
    set_with_deadline(&mut store, 0, "later", NOW + 1_000);
    assert!(store.reap(NOW + 5, 100).is_empty(), "nothing is due yet");
    let first = store.reap(NOW + 100, 4);
    let keys: Vec<&[u8]> = first.iter().map(|e| &e.key[..]).collect();
    assert_eq!(keys, [&b"k0"[..], b"k1", b"k2", b"k3"]);
    let rest = store.reap(NOW + 100, 100);
    assert_eq!(rest.len(), 6);
    assert!(rest.iter().all(|e| e.db == 0 && e.key != "later"));
    let db = store.db(0, NOW + 100).expect("db");
    assert_eq!(db.dbsize(), 1);
    assert!(
        store.drain_expired().is_empty(),
        "reaped keys are returned, not queued"
    );
}

#[test]
fn reap_visits_every_database() {
    let mut store = Store::new(StoreConfig::default());
    set_with_deadline(&mut store, 3, "a", NOW + 1);
    set_with_deadline(&mut store, 15, "b", NOW + 1);
    let mut reaped: Vec<(usize, Vec<u8>)> = store
        .reap(NOW + 10, 10)
        .into_iter()
        .map(|e| (e.db, e.key.to_vec()))
        .collect();
    reaped.sort();
    assert_eq!(reaped, [(3, b"a".to_vec()), (15, b"b".to_vec())]);
}

#[test]
fn stale_heap_entries_are_skipped_and_compacted() {
    let mut store = Store::new(StoreConfig::default());
    for i in 0..1_000u64 {
        set_with_deadline(&mut store, 0, &format!("k{i}"), NOW + 10_000 + i);
    }
    // Persisting and re-expiring leaves stale entries behind...
    for round in 0..5u64 {
        let mut db = store.db(0, NOW).expect("db");
        for i in 0..1_000u64 {
            let key = format!("k{i}");
            db.expire(
                key.as_bytes(),
                Expiry::UnixMillis((NOW + 20_000 + round + i) as i64),
                ExpireCondition::Always,
            )
            .expect("EXPIRE");
        }
        // ...but never more than the live entries plus a small constant.
        assert!(store.expiry_heap_entries() <= 2 * 1_000 + expiry_heap::COMPACT_MIN_LEN);
    }
    // Deleting every key leaves only stale entries, which get compacted away.
    let keys: Vec<String> = (0..1_000).map(|i| format!("k{i}")).collect();
    assert_eq!(store.db(0, NOW).expect("db").del(&keys), 1_000);
    assert!(store.expiry_heap_entries() <= expiry_heap::COMPACT_MIN_LEN);
    assert!(store.reap(u64::MAX, 10).is_empty());
}

#[test]
fn reap_work_is_bounded_even_when_the_heap_is_all_stale() {
    let mut store = Store::new(StoreConfig::default());
    // 50 stale entries (below the compaction threshold) all due.
    for i in 0..50u64 {
        set_with_deadline(&mut store, 0, &format!("k{i}"), NOW + 1);
        store
            .db(0, NOW)
            .expect("db")
            .persist(format!("k{i}").as_bytes());
    }
    set_with_deadline(&mut store, 0, "due", NOW + 2);
    // Budget 2: at most 8 heap entries examined, so the live one (examined
    // last) is not reached in the first call.
    assert!(store.reap(NOW + 10, 2).is_empty());
    let mut total = Vec::new();
    for _ in 0..10 {
        total.extend(store.reap(NOW + 10, 2));
    }
    assert_eq!(total.len(), 1);
    assert_eq!(total[0].key, &b"due"[..]);
}

#[test]
fn keyspace_info_counts_keys_expires_and_average_ttl() {
    let mut store = Store::new(StoreConfig::default());
    assert!(store.keyspace_info(NOW).is_empty());
    set_with_deadline(&mut store, 2, "a", NOW + 1_000);
    set_with_deadline(&mut store, 2, "b", NOW + 3_000);
    store
        .db(2, NOW)
        .expect("db")
        .set(b"c", b"v", SetOptions::default())
        .expect("SET");
    assert_eq!(
        store.keyspace_info(NOW),
        [KeyspaceInfo {
            db: 2,
            keys: 3,
            expires: 2,
            avg_ttl: 2_000
        }]
    );
    store.db(2, NOW).expect("db").persist(b"a");
    assert_eq!(store.keyspace_info(NOW)[0].expires, 1);
    assert!(store.used_memory() > 0);
}

#[test]
fn overwriting_an_expired_key_reports_it_expired() {
    let mut store = Store::new(StoreConfig::default());
    set_with_deadline(&mut store, 0, "k", NOW + 1);
    let mut db = store.db(0, NOW + 2).expect("db");
    db.set(b"k", b"fresh", SetOptions::default()).expect("SET");
    let expired = store.drain_expired();
    assert_eq!(expired.len(), 1);
    assert_eq!((expired[0].db, &expired[0].key[..]), (0, &b"k"[..]));
}

#[test]
fn keys_set_aside_by_a_compaction_are_still_reaped() {
    let mut store = Store::new(StoreConfig::default());
    for i in 0..2_000u64 {
        set_with_deadline(&mut store, 0, &format!("k{i}"), NOW + 100 + i);
    }
    // Deleting most keys makes the heap mostly stale and starts a
    // compaction that sets entries aside.
    let doomed: Vec<String> = (0..1_500).map(|i| format!("k{i}")).collect();
    store.db(0, NOW).expect("db").del(&doomed);
    let mut reaped = 0;
    for _ in 0..1_000 {
        reaped += store.reap(NOW + 10_000, 20).len();
    }
    assert_eq!(reaped, 500, "every remaining key expired actively");
    assert_eq!(store.db(0, NOW + 10_000).expect("db").dbsize(), 0);
    assert_eq!(store.expiry_heap_entries(), 0);
}
