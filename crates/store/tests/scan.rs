//! SCAN's guarantee: every key present for the whole iteration is returned
//! at least once, even while the table grows (segments split) and shrinks
//! between calls.

use std::collections::HashSet;

use redigo_store::{Expiry, ScanOptions, SetOptions, SetTtl, Store, StoreConfig};

const NOW: u64 = 1_000;

fn set(store: &mut Store, key: &str) {
    store
        .db(0, NOW)
        .expect("db 0")
        .set(key.as_bytes(), b"v", SetOptions::default())
        .expect("SET");
}

fn full_scan(
    store: &mut Store,
    options: &ScanOptions<'_>,
    mut between: impl FnMut(&mut Store, usize),
) -> Vec<Vec<u8>> {
    let mut seen = Vec::new();
    let mut cursor = 0;
    let mut calls = 0;
    loop {
        let page = store.db(0, NOW).expect("db 0").scan(cursor, options);
        seen.extend(page.keys.iter().map(|k| k.to_vec()));
        cursor = page.cursor;
        calls += 1;
        if cursor == 0 {
            return seen;
        }
        between(store, calls);
        assert!(calls < 1_000_000, "scan never finished");
    }
}

#[test]
fn keys_present_throughout_are_returned_while_the_table_grows() {
    let mut store = Store::new(StoreConfig::default());
    for i in 0..1_000 {
        set(&mut store, &format!("stable:{i}"));
    }
    let mut added = 0;
    let seen = full_scan(
        &mut store,
        &ScanOptions {
            count: 50,
            ..ScanOptions::default()
        },
        |store, call| {
            // Between calls: 300 new keys (forcing many splits), and delete some
            // of the keys added earlier.
            for _ in 0..300 {
                set(store, &format!("new:{added}"));
                added += 1;
            }
            let doomed: Vec<Vec<u8>> = (0..100)
                .map(|i| format!("new:{}", call * 37 + i).into_bytes())
                .collect();
            store.db(0, NOW).expect("db 0").del(&doomed);
        },
    );
    assert!(
        added > 10_000,
        "the table grew a lot during the scan ({added} keys added)"
    );
    let seen: HashSet<Vec<u8>> = seen.into_iter().collect();
    for i in 0..1_000 {
        assert!(
            seen.contains(format!("stable:{i}").as_bytes()),
            "stable:{i} was skipped"
        );
    }
}

#[test]
fn a_quiet_scan_returns_every_key_exactly_once() {
    let mut store = Store::new(StoreConfig::default());
    for i in 0..5_000 {
        set(&mut store, &format!("k{i}"));
    }
    let seen = full_scan(
        &mut store,
        &ScanOptions {
            count: 7,
            ..ScanOptions::default()
        },
        |_, _| {},
    );
    assert_eq!(seen.len(), 5_000);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 5_000);
}

#[test]
fn count_bounds_the_page_size_roughly() {
    let mut store = Store::new(StoreConfig::default());
    for i in 0..2_000 {
        set(&mut store, &format!("k{i}"));
    }
    let page = store.db(0, NOW).expect("db 0").scan(
        0,
        &ScanOptions {
            count: 10,
            ..ScanOptions::default()
        },
    );
    assert_eq!(
        page.keys.len(),
        10,
        "no hash collisions among 2000 keys, so exactly COUNT"
    );
    assert_ne!(page.cursor, 0);
}

#[test]
fn match_and_type_filter_and_expired_keys_are_removed() {
    let mut store = Store::new(StoreConfig::default());
    for i in 0..100 {
        set(&mut store, &format!("user:{i}"));
        set(&mut store, &format!("order:{i}"));
    }
    let past = SetOptions {
        ttl: SetTtl::Expire(Expiry::UnixMillis(NOW as i64 - 1)),
        ..SetOptions::default()
    };
    store
        .db(0, NOW)
        .expect("db 0")
        .set(b"user:gone", b"v", past)
        .expect("SET");
    let users = full_scan(
        &mut store,
        &ScanOptions {
            pattern: Some(b"user:*"),
            count: 10,
            ..ScanOptions::default()
        },
        |_, _| {},
    );
    assert_eq!(users.len(), 100);
    assert!(users.iter().all(|k| k.starts_with(b"user:")));
    let expired = store.drain_expired();
    assert_eq!(expired.len(), 1, "SCAN removes the expired keys it meets");
    assert_eq!(expired[0].key, &b"user:gone"[..]);
    let strings = full_scan(
        &mut store,
        &ScanOptions {
            type_name: Some(b"STRING"),
            count: 1000,
            ..ScanOptions::default()
        },
        |_, _| {},
    );
    assert_eq!(strings.len(), 200);
    let hashes = full_scan(
        &mut store,
        &ScanOptions {
            type_name: Some(b"hash"),
            count: 1000,
            ..ScanOptions::default()
        },
        |_, _| {},
    );
    assert!(hashes.is_empty());
}

#[test]
fn an_empty_database_scans_to_cursor_zero() {
    let mut store = Store::new(StoreConfig::default());
    let page = store
        .db(3, NOW)
        .expect("db 3")
        .scan(0, &ScanOptions::default());
    assert_eq!(page.cursor, 0);
    assert!(page.keys.is_empty());
    // Any cursor is accepted, as in Redis.
    let page = store
        .db(3, NOW)
        .expect("db 3")
        .scan(u64::MAX, &ScanOptions::default());
    assert_eq!(page.cursor, 0);
}
