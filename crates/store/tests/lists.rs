//! Lists through the store's public API: freeing off the command path,
//! `OBJECT ENCODING`, memory accounting, and the chunk size setting.

use redigo_store::ops::lists::End;
use redigo_store::{EncodingLimits, Store, StoreConfig};

fn big_list(store: &mut Store, key: &[u8], n: usize) {
    let mut db = store.db(0, 1).expect("db 0");
    let elements: Vec<String> = (0..n).map(|i| format!("element:{i}")).collect();
    db.list_push(key, End::Right, &elements, false)
        .expect("RPUSH");
}

#[test]
fn deleting_or_trimming_away_a_big_list_hands_it_to_the_background_freer() {
    let mut store = Store::new(StoreConfig::default());
    store.set_background_free(true);
    big_list(&mut store, b"a", 100_000);
    big_list(&mut store, b"b", 100_000);
    store.db(0, 1).unwrap().del(&[b"a"]);
    assert_eq!(store.drain_garbage().len(), 1, "DEL");
    let trimmed = store.db(0, 1).unwrap().ltrim(b"b", 5, 1).unwrap();
    assert!(trimmed.key_deleted);
    assert_eq!(trimmed.removed, 100_000);
    assert_eq!(
        store.drain_garbage().len(),
        1,
        "LTRIM that empties the list"
    );
    assert_eq!(store.db(0, 1).unwrap().dbsize(), 0);
}

#[test]
fn every_list_is_a_quicklist_and_memory_follows_its_size() {
    let mut store = Store::new(StoreConfig::default());
    big_list(&mut store, b"small", 3);
    big_list(&mut store, b"big", 100_000);
    {
        let mut db = store.db(0, 1).unwrap();
        assert_eq!(db.object_encoding(b"small"), Some("quicklist"));
        assert_eq!(db.object_encoding(b"big"), Some("quicklist"));
    }
    let used = store.used_memory();
    // About 15 bytes of elements each ("element:N" and two length bytes).
    assert!(used > 1_400_000 && used < 2_200_000, "{used}");
    store.db(0, 1).unwrap().ltrim(b"big", 0, 9).unwrap();
    assert!(store.used_memory() < 10_000, "{}", store.used_memory());
}

#[test]
fn a_positive_chunk_size_limits_elements_per_chunk_and_keeps_the_order() {
    let mut store = Store::new(StoreConfig::default());
    store.set_encoding_limits(EncodingLimits {
        list_max_listpack_size: 3,
        ..EncodingLimits::default()
    });
    big_list(&mut store, b"l", 50);
    let mut db = store.db(0, 1).unwrap();
    assert_eq!(
        db.linsert(
            b"l",
            redigo_store::ops::lists::InsertWhere::After,
            b"element:10",
            b"x"
        )
        .unwrap(),
        51
    );
    assert_eq!(db.lindex(b"l", 11).unwrap().as_deref(), Some(&b"x"[..]));
    assert_eq!(
        db.lrange(b"l", 10, 12).unwrap(),
        ["element:10", "x", "element:11"]
    );
    assert_eq!(
        db.lpos(b"l", b"element:49", -1, 1, 0).unwrap(),
        Some(vec![50])
    );
}

#[test]
fn a_partial_trim_or_lrem_of_a_big_list_hands_the_cut_chunks_to_the_background_freer() {
    let mut store = Store::new(StoreConfig::default());
    store.set_background_free(true);
    // 200,000 elements of 15-16 bytes: about 400 chunks of 8 KiB.
    big_list(&mut store, b"l", 200_000);
    let trimmed = store.db(0, 1).unwrap().ltrim(b"l", 100_000, -1001).unwrap();
    assert_eq!((trimmed.removed, trimmed.key_deleted), (101_000, false));
    let garbage = store.drain_garbage();
    assert_eq!(garbage.len(), 1, "one batch of chunks");
    // Whole chunks only: the two chunks cut through are edited in place.
    let queued = garbage[0].elements();
    assert!(queued > 95_000 && queued <= 101_000, "{queued}");
    drop(garbage);
    let mut db = store.db(0, 1).unwrap();
    assert_eq!(db.llen(b"l").unwrap(), 99_000);
    assert_eq!(db.lindex(b"l", 0).unwrap().unwrap(), "element:100000");
    assert_eq!(db.lindex(b"l", -1).unwrap().unwrap(), "element:198999");
    // A trim of a few chunks (at most LAZYFREE_THRESHOLD) is freed inline.
    db.ltrim(b"l", 10_000, -1).unwrap();
    assert!(store.drain_garbage().is_empty());
    // LREM that rewrites most chunks queues the chunks it replaced.
    let mut db = store.db(0, 1).unwrap();
    // 60,000 elements of 30 bytes: about 230 chunks, 195 of them rebuilt.
    let x = "x".repeat(30);
    let elements: Vec<&str> = (0..60_000).map(|_| x.as_str()).collect();
    db.list_push(b"r", End::Right, &elements, false).unwrap();
    assert_eq!(db.lrem(b"r", 50_000, x.as_bytes()).unwrap().removed, 50_000);
    let garbage = store.drain_garbage();
    assert_eq!(garbage.len(), 1);
    assert!(garbage[0].elements() >= 50_000, "{}", garbage[0].elements());
}

#[test]
fn list_compress_depth_shrinks_a_big_list_of_compressible_elements() {
    let used = |depth: usize| {
        let mut store = Store::new(StoreConfig::default());
        store.set_encoding_limits(EncodingLimits {
            list_compress_depth: depth,
            ..EncodingLimits::default()
        });
        let mut db = store.db(0, 1).unwrap();
        let elements: Vec<String> = (0..200_000).map(|n| format!("user:event:{n}")).collect();
        db.list_push(b"l", End::Right, &elements, false).unwrap();
        assert_eq!(
            db.lindex(b"l", 123_456).unwrap().unwrap(),
            "user:event:123456"
        );
        let middle = db.lrange(b"l", 99_999, 100_001).unwrap();
        assert_eq!(
            middle,
            ["user:event:99999", "user:event:100000", "user:event:100001"]
        );
        store.used_memory()
    };
    let (plain, compressed) = (used(0), used(1));
    assert!(
        compressed * 3 < plain,
        "depth 1: {compressed} bytes, depth 0: {plain}"
    );
}

#[test]
fn config_set_of_the_depth_changes_lists_created_after_it_not_existing_ones() {
    let mut store = Store::new(StoreConfig::default());
    let fill = |store: &mut Store, key: &[u8]| {
        let elements: Vec<String> = (0..100_000).map(|n| format!("user:event:{n}")).collect();
        let mut db = store.db(0, 1).unwrap();
        db.list_push(key, End::Right, &elements, false).unwrap();
    };
    fill(&mut store, b"old");
    let before = store.used_memory();
    store.set_encoding_limits(EncodingLimits {
        list_compress_depth: 1,
        ..EncodingLimits::default()
    });
    // Written again: still uncompressed, as in Redis 7.0 (the depth is the
    // list's own, from its creation).
    store
        .db(0, 1)
        .unwrap()
        .list_push(b"old", End::Left, &["x"], false)
        .unwrap();
    let after_write = store.used_memory();
    assert!(after_write + 10_000 > before, "{after_write} vs {before}");
    fill(&mut store, b"new");
    let new_list = store.used_memory() - after_write;
    assert!(new_list * 3 < before, "{new_list} vs {before}");
}
