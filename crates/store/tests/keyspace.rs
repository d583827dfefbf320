//! Key-level commands the model test does not drive: RANDOMKEY, KEYS with
//! patterns, TOUCH/UNLINK, SWAPDB/FLUSHALL, database index checks, and the
//! outcomes the server propagates (GETEX and EXPIRE effects).

use std::collections::HashSet;

use redigo_store::{
    ExpireCondition, ExpireOutcome, Expiry, GetExEffect, GetExTtl, SetOptions, SetTtl, Store,
    StoreConfig, StoreError, ValueKind,
};

const NOW: u64 = 5_000_000;

fn store_with(keys: &[&str]) -> Store {
    let mut store = Store::new(StoreConfig::default());
    let mut db = store.db(0, NOW).expect("db 0");
    for key in keys {
        db.set(key.as_bytes(), b"v", SetOptions::default())
            .expect("SET");
    }
    store
}

fn expiring(deadline: u64) -> SetOptions {
    SetOptions {
        ttl: SetTtl::Expire(Expiry::UnixMillis(deadline as i64)),
        ..SetOptions::default()
    }
}

#[test]
fn randomkey_returns_live_keys_and_removes_expired_ones() {
    let mut store = store_with(&["a", "b", "c"]);
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let key = store
            .db(0, NOW)
            .expect("db")
            .random_key()
            .expect("non-empty");
        seen.insert(key.to_vec());
    }
    assert_eq!(seen.len(), 3, "every key comes up eventually: {seen:?}");

    let mut store = Store::new(StoreConfig::default());
    let mut db = store.db(0, NOW).expect("db");
    for i in 0..10 {
        db.set(format!("gone{i}").as_bytes(), b"v", expiring(NOW + 1))
            .expect("SET");
    }
    db.set(b"live", b"v", SetOptions::default()).expect("SET");
    let mut later = store.db(0, NOW + 10).expect("db");
    assert_eq!(later.random_key().as_deref(), Some(&b"live"[..]));
    later.del(&[b"live"]);
    assert_eq!(
        later.random_key(),
        None,
        "only expired keys left: they are removed"
    );
    assert_eq!(later.dbsize(), 0);
    assert_eq!(store.drain_expired().len(), 10);
    assert_eq!(store.db(1, NOW).expect("db").random_key(), None);
}

#[test]
fn keys_filters_by_glob_and_skips_expired_without_removing() {
    let mut store = store_with(&["user:1", "user:2", "order:1", "User:3"]);
    store
        .db(0, NOW)
        .expect("db")
        .set(b"user:old", b"v", expiring(NOW - 1))
        .expect("SET");
    let db = store.db(0, NOW).expect("db");
    let mut users: Vec<Vec<u8>> = db.keys(b"user:*").into_iter().map(|k| k.to_vec()).collect();
    users.sort();
    assert_eq!(users, [b"user:1".to_vec(), b"user:2".to_vec()]);
    assert_eq!(db.keys(b"*").len(), 4);
    assert_eq!(db.keys(b"[uo]*:1").len(), 2);
    assert_eq!(
        db.dbsize(),
        5,
        "KEYS leaves expired keys in place, as Redis"
    );
    assert!(store.drain_expired().is_empty());
}

#[test]
fn touch_and_unlink_count_like_exists_and_del() {
    let mut store = store_with(&["a", "b"]);
    let mut db = store.db(0, NOW).expect("db");
    assert_eq!(db.touch(&[&b"a"[..], b"a", b"zz"]), 2);
    assert_eq!(db.unlink(&[&b"a"[..], b"a", b"b"]), 2);
    assert_eq!(db.dbsize(), 0);
}

#[test]
fn swapdb_and_flushall_move_whole_databases() {
    let mut store = store_with(&["a"]);
    store
        .db(1, NOW)
        .expect("db")
        .set(b"b", b"v", SetOptions::default())
        .expect("SET");
    store.swap_db(0, 1).expect("valid");
    assert_eq!(
        store.db(0, NOW).expect("db").get(b"b").expect("string"),
        Some(&b"v"[..])
    );
    assert_eq!(
        store.db(1, NOW).expect("db").type_of(b"a"),
        Some(ValueKind::String)
    );
    assert_eq!(store.swap_db(0, 16), Err(StoreError::DbIndexOutOfRange));
    store.flush_all();
    assert!(store.keyspace_info(NOW).is_empty());
    assert!(matches!(
        store.db(16, NOW),
        Err(StoreError::DbIndexOutOfRange)
    ));
    assert_eq!(store.check_db(15), Ok(()));
}

#[test]
fn getex_reports_what_to_propagate() {
    let mut store = store_with(&["k"]);
    let mut db = store.db(0, NOW).expect("db");
    let (value, effect) = db
        .get_ex(b"k", GetExTtl::Expire(Expiry::Seconds(10)))
        .expect("GETEX");
    assert_eq!(
        (value.as_deref(), effect),
        (Some(&b"v"[..]), GetExEffect::Expire(NOW + 10_000))
    );
    assert_eq!(
        db.get_ex(b"k", GetExTtl::Persist).expect("GETEX").1,
        GetExEffect::Persisted
    );
    assert_eq!(
        db.get_ex(b"k", GetExTtl::Persist).expect("GETEX").1,
        GetExEffect::None
    );
    let (value, effect) = db
        .get_ex(b"k", GetExTtl::Expire(Expiry::UnixMillis(NOW as i64)))
        .expect("GETEX");
    assert_eq!(
        (value.as_deref(), effect),
        (Some(&b"v"[..]), GetExEffect::Deleted)
    );
    assert_eq!(db.dbsize(), 0);
    assert_eq!(
        db.get_ex(b"k", GetExTtl::Unchanged).expect("GETEX"),
        (None, GetExEffect::None)
    );
}

#[test]
fn expire_reports_set_or_deleted() {
    let mut store = store_with(&["k"]);
    let mut db = store.db(0, NOW).expect("db");
    assert_eq!(
        db.expire(b"k", Expiry::Millis(250), ExpireCondition::Always),
        Ok(ExpireOutcome::Set(NOW + 250))
    );
    assert_eq!(db.pttl(b"k"), 250);
    assert_eq!(
        db.expire(b"k", Expiry::Millis(0), ExpireCondition::Always),
        Ok(ExpireOutcome::Deleted)
    );
    assert_eq!(
        db.expire(b"k", Expiry::Millis(10), ExpireCondition::Always),
        Ok(ExpireOutcome::NotSet)
    );
    assert_eq!(
        db.expire(b"k", Expiry::Seconds(i64::MIN), ExpireCondition::Always),
        Err(StoreError::InvalidExpireTime { command: "expire" })
    );
}

#[test]
fn strings_grow_in_place_up_to_the_configured_limit() {
    let mut store = Store::new(StoreConfig {
        max_string_len: 10,
        ..StoreConfig::default()
    });
    let mut db = store.db(0, NOW).expect("db");
    assert_eq!(db.append(b"s", b"12345"), Ok(5));
    assert_eq!(db.append(b"s", b"67890"), Ok(10));
    assert_eq!(db.append(b"s", b"x"), Err(StoreError::StringTooLong));
    assert_eq!(db.set_range(b"s", 9, b"yz"), Err(StoreError::StringTooLong));
    assert_eq!(db.set_range(b"s", 8, b"yz"), Ok(10));
    assert_eq!(db.get(b"s"), Ok(Some(&b"12345678yz"[..])));
    assert_eq!(db.set_range(b"t", 10, b"a"), Err(StoreError::StringTooLong));
    store.set_max_string_len(11);
    let mut db = store.db(0, NOW).expect("db");
    assert_eq!(
        db.append(b"s", b"!"),
        Ok(11),
        "the new limit applies at once"
    );
    let before = store.used_memory();
    store.db(0, NOW).expect("db").del(&[b"s"]);
    assert!(store.used_memory() < before, "used_memory follows removals");
}

#[test]
fn values_and_encodings_of_any_kind_are_readable() {
    use redigo_store::Value;
    let mut store = Store::default();
    let mut db = store.db(0, 1_000).unwrap();
    db.set(b"n", b"42", SetOptions::default()).unwrap();
    db.set(b"s", b"hello", SetOptions::default()).unwrap();
    db.set(b"long", &[b'x'; 45], SetOptions::default()).unwrap();
    assert_eq!(db.object_encoding(b"n"), Some("int"));
    assert_eq!(db.object_encoding(b"s"), Some("embstr"));
    assert_eq!(db.object_encoding(b"long"), Some("raw"));
    db.append(b"s", b"!").unwrap();
    assert_eq!(db.object_encoding(b"s"), Some("raw"));
    // A change in place that does not lengthen the string makes it raw too,
    // as Redis unshares it into a raw sds (`SETRANGE c 1 0` on an int).
    db.set(b"c", b"9223372036854775807", SetOptions::default())
        .unwrap();
    assert_eq!(db.object_encoding(b"c"), Some("int"));
    assert_eq!(db.set_range(b"c", 1, b"0").unwrap(), 19);
    assert_eq!(db.object_encoding(b"c"), Some("raw"));
    assert_eq!(db.get(b"c").unwrap(), Some(&b"9023372036854775807"[..]));
    // COPY keeps the encoding, as Redis's dupStringObject does.
    assert!(db.copy(b"c", b"c2", None, false).unwrap());
    assert_eq!(db.object_encoding(b"c2"), Some("raw"));
    // So does RENAME.
    assert!(db.rename(b"c2", b"c3").is_ok());
    assert_eq!(db.object_encoding(b"c3"), Some("raw"));
    db.set(b"e", b"abc", SetOptions::default()).unwrap();
    assert_eq!(db.append(b"e", b"").unwrap(), 3);
    assert_eq!(db.object_encoding(b"e"), Some("raw"));
    assert_eq!(db.object_encoding(b"missing"), None);
    assert_eq!(
        db.value(b"s"),
        Some(Value::String(bytes::Bytes::from_static(b"hello!")))
    );
    assert_eq!(db.value(b"missing"), None);
}
