//! `MEMORY USAGE`'s estimate: exact for strings and packed collections
//! whatever the sample count, sampled and extrapolated for a big
//! collection's elements (exact when every element is sampled), and a
//! lookup that neither expires the key nor counts as an access (Redis's
//! plain `dictFind`).

use redigo_store::{Expiry, SetOptions, SetTtl, Store, StoreConfig};

const T0: u64 = 1_700_000_000_000;

#[test]
fn small_values_are_exact_whatever_the_samples() {
    let mut store = Store::new(StoreConfig::default());
    let mut db = store.db(0, T0).expect("db 0");
    db.set(b"s", b"hello", SetOptions::default()).expect("SET");
    db.hset(b"h", &[(b"f", b"v"), (b"g", b"w")]).expect("HSET");
    db.sadd(b"i", &[b"1", b"2", b"3"]).expect("SADD");
    for key in [&b"s"[..], b"h", b"i"] {
        let exact = db.memory_usage(key, usize::MAX).expect("present");
        for samples in [0, 1, 5] {
            assert_eq!(db.memory_usage(key, samples), Some(exact));
        }
    }
    assert!(db.memory_usage(b"h", 5) > db.memory_usage(b"s", 5));
    assert_eq!(db.memory_usage(b"missing", 5), None);
}

#[test]
fn big_collections_extrapolate_from_the_samples() {
    let mut store = Store::new(StoreConfig::default());
    let mut db = store.db(0, T0).expect("db 0");
    let fields: Vec<(String, String)> = (0..20_000)
        .map(|i| (format!("field:{i:06}"), format!("value:{i:06}")))
        .collect();
    for batch in fields.chunks(500) {
        let pairs: Vec<(&[u8], &[u8])> = batch
            .iter()
            .map(|(f, v)| (f.as_bytes(), v.as_bytes()))
            .collect();
        db.hset(b"h", &pairs).expect("HSET");
    }
    assert_eq!(db.object_encoding(b"h"), Some("hashtable"));
    let exact = db.memory_usage(b"h", usize::MAX).expect("present");
    assert_eq!(db.memory_usage(b"h", 20_000), Some(exact));
    // Equal-sized elements: five samples extrapolate to the exact figure.
    let sampled = db.memory_usage(b"h", 5).expect("present");
    assert_eq!(sampled, exact, "fields of one size extrapolate exactly");
    assert!(exact > 20_000 * 26, "{exact} bytes for 20000 fields");
    // Now one field far longer than the rest: only a sample that meets it
    // counts it, so the full count differs from a one-element estimate
    // that misses it.
    let long = vec![b'x'; 100_000];
    db.hset(b"h", &[(&b"field:000000"[..], &long[..])])
        .expect("HSET");
    let exact = db.memory_usage(b"h", usize::MAX).expect("present");
    let one = db.memory_usage(b"h", 1).expect("present");
    assert_ne!(one, exact);
}

#[test]
fn the_lookup_neither_expires_nor_touches() {
    let mut store = Store::new(StoreConfig::default());
    let mut db = store.db(0, T0).expect("db 0");
    let options = SetOptions {
        ttl: SetTtl::Expire(Expiry::UnixMillis(T0 as i64 + 10)),
        ..SetOptions::default()
    };
    db.set(b"k", b"v", options).expect("SET");
    let db = store.db(0, T0 + 5_000).expect("db 0");
    assert!(
        db.memory_usage(b"k", 5).is_some(),
        "Redis's dictFind sees it"
    );
    assert!(store.drain_expired().is_empty());
    let mut db = store.db(0, T0 + 5_000).expect("db 0");
    db.set(b"idle", b"v", SetOptions::default()).expect("SET");
    let mut db = store.db(0, T0 + 9_000).expect("db 0");
    db.memory_usage(b"idle", 5);
    assert_eq!(db.idle_time(b"idle"), Some(4));
}
