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
