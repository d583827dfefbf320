//! Hashes and sets in the store: encodings and their conversions at each
//! threshold, WRONGTYPE on every path, empty keys deleted, generic key
//! commands on the new kinds, snapshots of big collections being changed,
//! background freeing, and the rewrite commands.

use bytes::Bytes;
use redigo_store::{
    EncodingLimits, ExpireCondition, Expiry, HashValue, SetOptions, SetValue, Store, StoreConfig,
    StoreError, Value,
};

const NOW: u64 = 1_000_000;

fn store() -> Store {
    Store::new(StoreConfig::default())
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn encoding(store: &mut Store, key: &[u8]) -> Option<&'static str> {
    store.db(0, NOW).unwrap().object_encoding(key)
}

#[test]
fn hset_hget_hdel_and_the_empty_hash_is_deleted() {
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    assert_eq!(
        db.hset(b"h", &[("a", "1"), ("b", "2"), ("a", "3")])
            .unwrap(),
        2
    );
    assert_eq!(db.hget(b"h", b"a").unwrap(), Some(&b"3"[..]));
    assert_eq!(db.hlen(b"h").unwrap(), 2);
    assert_eq!(db.hstrlen(b"h", b"a").unwrap(), 1);
    assert!(db.hexists(b"h", b"b").unwrap());
    assert_eq!(
        db.hgetall(b"h").unwrap(),
        vec![(b("a"), b("3")), (b("b"), b("2"))],
        "insertion order, updated in place"
    );
    assert_eq!(
        db.hmget(b"h", &["b", "zz"]).unwrap(),
        vec![Some(b("2")), None]
    );
    assert!(!db.hsetnx(b"h", b"a", b"x").unwrap());
    assert!(db.hsetnx(b"h", b"c", b"x").unwrap());
    let removed = db.hdel(b"h", &["a", "nope", "b", "c", "again"]).unwrap();
    assert_eq!((removed.removed, removed.key_deleted), (3, true));
    assert_eq!(db.exists(&[b"h"]), 0);
    assert_eq!(db.type_of(b"h"), None);
}

#[test]
fn hash_encoding_converts_at_each_threshold_and_never_back() {
    let mut st = store();
    st.set_encoding_limits(EncodingLimits {
        hash_max_listpack_entries: 4,
        hash_max_listpack_value: 8,
        ..EncodingLimits::default()
    });
    // Entries: the fifth field converts.
    {
        let mut db = st.db(0, NOW).unwrap();
        for i in 0..4 {
            db.hset(b"many", &[(format!("f{i}"), "v")]).unwrap();
        }
    }
    assert_eq!(encoding(&mut st, b"many"), Some("listpack"));
    st.db(0, NOW)
        .unwrap()
        .hset(b"many", &[("f4", "v")])
        .unwrap();
    assert_eq!(encoding(&mut st, b"many"), Some("hashtable"));
    // Never back, even when emptied to one field.
    st.db(0, NOW)
        .unwrap()
        .hdel(b"many", &["f0", "f1", "f2", "f3"])
        .unwrap();
    assert_eq!(encoding(&mut st, b"many"), Some("hashtable"));

    // A long value (9 > 8 bytes) converts, a value of exactly 8 does not.
    st.db(0, NOW)
        .unwrap()
        .hset(b"long", &[("f", "12345678")])
        .unwrap();
    assert_eq!(encoding(&mut st, b"long"), Some("listpack"));
    st.db(0, NOW)
        .unwrap()
        .hset(b"long", &[("f", "123456789")])
        .unwrap();
    assert_eq!(encoding(&mut st, b"long"), Some("hashtable"));
    // A long field on HSETNX of an absent field.
    st.db(0, NOW)
        .unwrap()
        .hsetnx(b"nx", b"field-long", b"v")
        .unwrap();
    assert_eq!(encoding(&mut st, b"nx"), Some("hashtable"));

    // An increment to a longer value: HINCRBYFLOAT's result is 11 bytes.
    st.db(0, NOW).unwrap().hset(b"f", &[("x", "1")]).unwrap();
    st.db(0, NOW)
        .unwrap()
        .hincrbyfloat(b"f", b"x", b"0.000001")
        .unwrap();
    assert_eq!(
        encoding(&mut st, b"f"),
        Some("listpack"),
        "1.000001 is 8 bytes"
    );
    st.db(0, NOW)
        .unwrap()
        .hincrbyfloat(b"f", b"x", b"1000")
        .unwrap();
    assert_eq!(
        encoding(&mut st, b"f"),
        Some("hashtable"),
        "1001.000001 is 11 bytes"
    );
    // HINCRBY to a 9-digit integer.
    st.db(0, NOW)
        .unwrap()
        .hincrby(b"i", b"x", 99_999_999)
        .unwrap();
    assert_eq!(encoding(&mut st, b"i"), Some("listpack"));
    st.db(0, NOW).unwrap().hincrby(b"i", b"x", 1).unwrap();
    assert_eq!(encoding(&mut st, b"i"), Some("hashtable"));

    // Lowering the entry limit at run time: the next write converts, even an
    // update of an existing field (Redis checks the length after every set).
    st.db(0, NOW)
        .unwrap()
        .hset(b"cfg", &[("a", "1"), ("b", "2"), ("c", "3")])
        .unwrap();
    st.set_encoding_limits(EncodingLimits {
        hash_max_listpack_entries: 2,
        ..st.encoding_limits()
    });
    assert_eq!(encoding(&mut st, b"cfg"), Some("listpack"), "no write yet");
    st.db(0, NOW).unwrap().hset(b"cfg", &[("a", "9")]).unwrap();
    assert_eq!(encoding(&mut st, b"cfg"), Some("hashtable"));
    let mut db = st.db(0, NOW).unwrap();
    assert_eq!(db.hget(b"cfg", b"a").unwrap(), Some(&b"9"[..]));
    assert_eq!(db.hlen(b"cfg").unwrap(), 3);
}

#[test]
fn default_hash_thresholds_are_redis_s() {
    let mut st = store();
    {
        let mut db = st.db(0, NOW).unwrap();
        let pairs: Vec<(String, String)> =
            (0..512).map(|i| (format!("f{i}"), "v".into())).collect();
        db.hset(b"h", &pairs).unwrap();
        db.hset(b"v", &[("f", "x".repeat(64))]).unwrap();
    }
    assert_eq!(encoding(&mut st, b"h"), Some("listpack"));
    assert_eq!(encoding(&mut st, b"v"), Some("listpack"));
    {
        let mut db = st.db(0, NOW).unwrap();
        db.hset(b"h", &[("f512", "v")]).unwrap();
        db.hset(b"v", &[("f", "x".repeat(65))]).unwrap();
    }
    assert_eq!(encoding(&mut st, b"h"), Some("hashtable"));
    assert_eq!(encoding(&mut st, b"v"), Some("hashtable"));
    assert_eq!(st.db(0, NOW).unwrap().hlen(b"h").unwrap(), 513);
}

#[test]
fn hincr_errors_are_redis_s() {
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    db.hset(
        b"h",
        &[("s", "abc"), ("n", "9223372036854775807"), ("f", "1.5")],
    )
    .unwrap();
    let err = |e: StoreError| e.to_string();
    assert_eq!(
        err(db.hincrby(b"h", b"s", 1).unwrap_err()),
        "ERR hash value is not an integer"
    );
    assert_eq!(
        err(db.hincrby(b"h", b"n", 1).unwrap_err()),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(db.hincrby(b"h", b"new", -5).unwrap(), -5);
    assert_eq!(
        err(db.hincrbyfloat(b"h", b"s", b"1").unwrap_err()),
        "ERR hash value is not a float"
    );
    assert_eq!(
        err(db.hincrbyfloat(b"h", b"f", b"inf").unwrap_err()),
        "ERR value is NaN or Infinity"
    );
    assert_eq!(
        err(db.hincrbyfloat(b"h", b"f", b"x").unwrap_err()),
        "ERR value is not a valid float"
    );
    assert_eq!(db.hincrbyfloat(b"h", b"f", b"0.1").unwrap(), b("1.6"));
    assert_eq!(
        db.hincrbyfloat(b"h", b"n", b"1").unwrap(),
        b("9223372036854775808")
    );
    // Errors change nothing, and never create the key.
    assert_eq!(db.hget(b"h", b"s").unwrap(), Some(&b"abc"[..]));
    assert!(db.hincrbyfloat(b"missing", b"f", b"inf").is_err());
    assert_eq!(db.exists(&[b"missing"]), 0);
}

#[test]
fn wrongtype_on_every_path() {
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    db.hset(b"h", &[("f", "1")]).unwrap();
    db.sadd(b"s", &["1"]).unwrap();
    db.set(b"str", b"v", SetOptions::default()).unwrap();
    for key in [&b"h"[..], b"s"] {
        assert_eq!(db.get(key), Err(StoreError::WrongType));
        assert_eq!(db.append(key, b"x"), Err(StoreError::WrongType));
        assert_eq!(db.incr_by(key, 1), Err(StoreError::WrongType));
        assert_eq!(db.incr_by_float(key, b"1"), Err(StoreError::WrongType));
        assert_eq!(db.set_range(key, 0, b"x"), Err(StoreError::WrongType));
        assert_eq!(db.strlen(key), Err(StoreError::WrongType));
        assert!(db.get_del(key).is_err());
    }
    assert_eq!(db.mget(&[b"h", b"s"]), vec![None, None]);
    assert_eq!(db.hset(b"s", &[("f", "v")]), Err(StoreError::WrongType));
    assert_eq!(db.hget(b"str", b"f"), Err(StoreError::WrongType));
    assert_eq!(db.hincrby(b"s", b"f", 1), Err(StoreError::WrongType));
    assert_eq!(db.hgetall(b"str"), Err(StoreError::WrongType));
    assert_eq!(db.sadd(b"h", &["x"]), Err(StoreError::WrongType));
    assert_eq!(db.smembers(b"str"), Err(StoreError::WrongType));
    assert_eq!(db.sinter(&[&b"s"[..], b"h"]), Err(StoreError::WrongType));
    assert_eq!(
        db.sinter(&[&b"missing"[..], b"h"]),
        Err(StoreError::WrongType),
        "every key is looked up first"
    );
    assert_eq!(db.smove(b"s", b"h", b"1"), Err(StoreError::WrongType));
    assert_eq!(
        db.smove(b"missing", b"h", b"1"),
        Ok(false),
        "missing source first"
    );
    // Nothing changed.
    assert_eq!(db.hgetall(b"h").unwrap(), vec![(b("f"), b("1"))]);
    assert_eq!(db.smembers(b"s").unwrap(), vec![b("1")]);
    // SET overwrites any kind, as Redis.
    db.set(b"h", b"now a string", SetOptions::default())
        .unwrap();
    assert_eq!(db.get(b"h").unwrap(), Some(&b"now a string"[..]));
}

#[test]
fn set_encoding_converts_on_non_integers_and_size() {
    let mut st = store();
    st.set_encoding_limits(EncodingLimits {
        set_max_intset_entries: 3,
        ..EncodingLimits::default()
    });
    st.db(0, NOW)
        .unwrap()
        .sadd(b"s", &["3", "-1", "2"])
        .unwrap();
    assert_eq!(encoding(&mut st, b"s"), Some("intset"));
    assert_eq!(
        st.db(0, NOW).unwrap().smembers(b"s").unwrap(),
        vec![b("-1"), b("2"), b("3")],
        "intsets answer in ascending order"
    );
    st.db(0, NOW).unwrap().sadd(b"s", &["4"]).unwrap();
    assert_eq!(encoding(&mut st, b"s"), Some("hashtable"));
    // Non-canonical integers are strings.
    for member in ["abc", "+1", "01", " 1", "-0", "9223372036854775808"] {
        let key = format!("k{member}");
        st.db(0, NOW).unwrap().sadd(b"i", &["1"]).unwrap();
        st.db(0, NOW).unwrap().sadd(key.as_bytes(), &["1"]).unwrap();
        assert_eq!(encoding(&mut st, key.as_bytes()), Some("intset"));
        st.db(0, NOW)
            .unwrap()
            .sadd(key.as_bytes(), &[member])
            .unwrap();
        assert_eq!(
            encoding(&mut st, key.as_bytes()),
            Some("hashtable"),
            "{member}"
        );
        assert!(
            st.db(0, NOW)
                .unwrap()
                .sismember(key.as_bytes(), member.as_bytes())
                .unwrap()
        );
    }
    st.db(0, NOW)
        .unwrap()
        .sadd(b"big", &["-9223372036854775808", "9223372036854775807"])
        .unwrap();
    assert_eq!(encoding(&mut st, b"big"), Some("intset"));
    // A store result is built through the add path: integers give an intset.
    let mut db = st.db(0, NOW).unwrap();
    db.sadd(b"a", &["1", "2", "x"]).unwrap();
    db.sadd(b"b", &["1", "2", "y"]).unwrap();
    assert_eq!(db.sinterstore(b"dst", &[&b"a"[..], b"b"]).unwrap().len, 2);
    assert_eq!(db.object_encoding(b"dst"), Some("intset"));
}

#[test]
fn set_commands_follow_redis() {
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    assert_eq!(db.sadd(b"a", &["1", "2", "3", "x"]).unwrap(), 4);
    assert_eq!(db.sadd(b"a", &["1", "y"]).unwrap(), 1);
    db.sadd(b"b", &["2", "3", "z"]).unwrap();
    db.sadd(b"c", &["3", "x"]).unwrap();
    let sorted = |mut v: Vec<Bytes>| {
        v.sort();
        v
    };
    assert_eq!(
        sorted(db.sinter(&[&b"a"[..], b"b"]).unwrap()),
        vec![b("2"), b("3")]
    );
    assert_eq!(db.sintercard(&[&b"a"[..], b"b"], 1).unwrap(), 1);
    assert_eq!(db.sintercard(&[&b"a"[..], b"b"], 0).unwrap(), 2);
    assert_eq!(db.sintercard(&[&b"a"[..], b"nope"], 0).unwrap(), 0);
    assert_eq!(
        sorted(db.sunion(&[&b"b"[..], b"c", b"nope"]).unwrap()),
        vec![b("2"), b("3"), b("x"), b("z")]
    );
    assert_eq!(
        sorted(db.sdiff(&[&b"a"[..], b"b", b"c"]).unwrap()),
        vec![b("1"), b("y")]
    );
    assert!(db.sdiff(&[&b"a"[..], b"a"]).unwrap().is_empty());
    assert!(db.sdiff(&[&b"nope"[..], b"a"]).unwrap().is_empty());
    assert_eq!(db.smismember(b"a", &["1", "q"]).unwrap(), vec![true, false]);
    // SMOVE to the same set answers membership and changes nothing.
    assert!(db.smove(b"a", b"a", b"1").unwrap());
    assert!(!db.smove(b"a", b"a", b"q").unwrap());
    assert_eq!(db.scard(b"a").unwrap(), 5);
    assert!(db.smove(b"c", b"new", b"x").unwrap());
    assert!(db.smove(b"c", b"new", b"3").unwrap());
    assert_eq!(db.exists(&[b"c"]), 0, "emptied source deleted");
    assert_eq!(sorted(db.smembers(b"new").unwrap()), vec![b("3"), b("x")]);
    // Store commands overwrite any kind and clear the TTL; an empty
    // result deletes the destination.
    db.set(b"dst", b"str", SetOptions::default()).unwrap();
    db.expire(b"dst", Expiry::Seconds(100), ExpireCondition::Always)
        .unwrap();
    let stored = db.sunionstore(b"dst", &[&b"b"[..]]).unwrap();
    assert_eq!((stored.len, stored.destination_deleted), (3, false));
    assert_eq!(db.ttl(b"dst"), -1);
    let stored = db.sinterstore(b"dst", &[&b"b"[..], b"nope"]).unwrap();
    assert_eq!((stored.len, stored.destination_deleted), (0, true));
    assert_eq!(db.exists(&[b"dst"]), 0);
    let stored = db.sdiffstore(b"dst", &[&b"b"[..], b"b"]).unwrap();
    assert_eq!((stored.len, stored.destination_deleted), (0, false));
    // SREM deletes the key with its last member.
    let removed = db.srem(b"b", &["2", "3", "z", "w"]).unwrap();
    assert_eq!((removed.removed, removed.key_deleted), (3, true));
}

#[test]
fn spop_and_srandmember_shapes_and_coverage() {
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    let members: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    db.sadd(b"s", &members).unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..400 {
        let mut picks: Vec<(Bytes, Option<Bytes>)> = Vec::new();
        db.srandmember_with_count(b"s", 5, &mut picks).unwrap();
        let distinct: std::collections::HashSet<_> = picks.iter().map(|p| p.0.clone()).collect();
        assert_eq!(distinct.len(), 5);
        seen.extend(distinct);
    }
    assert_eq!(seen.len(), 20, "every member comes up");
    let mut picks: Vec<(Bytes, Option<Bytes>)> = Vec::new();
    db.srandmember_with_count(b"s", -50, &mut picks).unwrap();
    assert_eq!(picks.len(), 50, "negative counts repeat");
    let mut picks: Vec<(Bytes, Option<Bytes>)> = Vec::new();
    db.srandmember_with_count(b"s", 100, &mut picks).unwrap();
    assert_eq!(picks.len(), 20);
    // SPOP with a count: distinct, removed, the rest stays.
    let popped = db.spop(b"s", Some(3)).unwrap();
    assert_eq!(popped.members.len(), 3);
    assert!(!popped.key_deleted && !popped.whole_set);
    assert_eq!(db.scard(b"s").unwrap(), 17);
    for m in &popped.members {
        assert!(!db.sismember(b"s", m).unwrap());
    }
    // Popping most of it rebuilds the set from the few that stay.
    let popped = db.spop(b"s", Some(15)).unwrap();
    assert_eq!(popped.members.len(), 15);
    assert_eq!(db.scard(b"s").unwrap(), 2);
    let single = db.spop(b"s", None).unwrap();
    assert_eq!(single.members.len(), 1);
    let last = db.spop(b"s", None).unwrap();
    assert!(last.key_deleted && !last.whole_set);
    db.sadd(b"t", &["1", "2"]).unwrap();
    let all = db.spop(b"t", Some(5)).unwrap();
    assert!(all.key_deleted && all.whole_set);
    assert_eq!(all.members.len(), 2);
    assert_eq!(db.spop(b"t", Some(1)).unwrap().members.len(), 0);
}

#[test]
fn spop_rebuild_chooses_the_encoding_afresh() {
    // Redis's SPOP count, when few members stay, builds a new set from
    // them with setTypeCreate: integers that stay make an intset again.
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    let members: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    db.sadd(b"s", &members).unwrap();
    db.sadd(b"s", &["x"]).unwrap();
    assert_eq!(db.object_encoding(b"s"), Some("hashtable"));
    let mut popped = db.spop(b"s", Some(10)).unwrap();
    let remaining = db.smembers(b"s").unwrap();
    popped.members.extend(remaining.clone());
    assert_eq!(popped.members.len(), 11);
    let expected = if remaining[0] == b("x") {
        "hashtable"
    } else {
        "intset"
    };
    assert_eq!(db.object_encoding(b"s"), Some(expected));
}

#[test]
fn hrandfield_with_values_and_counts() {
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    let pairs: Vec<(String, String)> = (0..10)
        .map(|i| (format!("f{i}"), format!("v{i}")))
        .collect();
    db.hset(b"h", &pairs).unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..300 {
        let mut picks: Vec<(Bytes, Option<Bytes>)> = Vec::new();
        db.hrandfield_with_count(b"h", 3, true, &mut picks).unwrap();
        assert_eq!(picks.len(), 3);
        for (f, v) in picks {
            assert_eq!(v.unwrap()[1..], f[1..], "value belongs to its field");
            seen.insert(f);
        }
    }
    assert_eq!(seen.len(), 10);
    let mut picks: Vec<(Bytes, Option<Bytes>)> = Vec::new();
    db.hrandfield_with_count(b"h", -25, false, &mut picks)
        .unwrap();
    assert_eq!(picks.len(), 25);
    assert!(picks.iter().all(|p| p.1.is_none()));
    let mut picks: Vec<(Bytes, Option<Bytes>)> = Vec::new();
    db.hrandfield_with_count(b"missing", -5, false, &mut picks)
        .unwrap();
    assert!(picks.is_empty());
    assert!(db.hrandfield(b"h").unwrap().is_some());
}

#[test]
fn hscan_and_sscan_return_small_values_whole_and_walk_big_ones() {
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    db.hset(b"small", &[("a", "1"), ("b", "2"), ("ab", "3")])
        .unwrap();
    let page = db.hscan(b"small", 0, Some(b"a*"), 1).unwrap();
    assert_eq!(page.cursor, 0);
    assert_eq!(page.items, vec![b("a"), b("1"), b("ab"), b("3")]);
    let pairs: Vec<(String, String)> = (0..3000)
        .map(|i| (format!("f{i}"), format!("{i}")))
        .collect();
    db.hset(b"big", &pairs).unwrap();
    let mut fields = std::collections::HashSet::new();
    let mut cursor = 0;
    let mut calls = 0;
    loop {
        let page = db.hscan(b"big", cursor, None, 100).unwrap();
        for pair in page.items.chunks(2) {
            assert!(fields.insert(pair[0].clone()));
        }
        calls += 1;
        cursor = page.cursor;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(fields.len(), 3000);
    assert!(calls > 10, "{calls} calls");
    db.sadd(b"ints", &["3", "1", "2"]).unwrap();
    let page = db.sscan(b"ints", 0, None, 1).unwrap();
    assert_eq!((page.cursor, page.items), (0, vec![b("1"), b("2"), b("3")]));
}

#[test]
fn rename_copy_move_keep_kind_value_and_ttl() {
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    let pairs: Vec<(String, String)> = (0..1000).map(|i| (format!("f{i}"), "v".into())).collect();
    db.hset(b"big", &pairs).unwrap();
    db.hset(b"small", &[("f", "v")]).unwrap();
    db.sadd(b"set", &["1", "a"]).unwrap();
    db.expire(b"big", Expiry::Seconds(100), ExpireCondition::Always)
        .unwrap();
    db.rename(b"big", b"big2").unwrap();
    assert_eq!(db.hlen(b"big2").unwrap(), 1000);
    assert_eq!(db.ttl(b"big2"), 100);
    assert!(db.copy(b"big2", b"big3", None, false).unwrap());
    db.hset(b"big3", &[("f0", "changed")]).unwrap();
    assert_eq!(
        db.hget(b"big2", b"f0").unwrap(),
        Some(&b"v"[..]),
        "copies are independent"
    );
    assert_eq!(db.hget(b"big3", b"f0").unwrap(), Some(&b"changed"[..]));
    assert_eq!(db.object_encoding(b"big3"), Some("hashtable"));
    assert!(db.copy(b"small", b"small2", Some(1), false).unwrap());
    assert!(db.move_key(b"set", 1).unwrap());
    assert_eq!(db.type_of(b"set"), None);
    let mut db1 = st.db(1, NOW).unwrap();
    assert_eq!(db1.hgetall(b"small2").unwrap(), vec![(b("f"), b("v"))]);
    assert_eq!(db1.scard(b"set").unwrap(), 2);
    assert_eq!(db1.type_of(b"set").map(|k| k.as_str()), Some("set"));
    assert_eq!(db1.type_of(b"small2").map(|k| k.as_str()), Some("hash"));
    let page = db1.scan(
        0,
        &redigo_store::ScanOptions {
            count: 100,
            type_name: Some(b"SET"),
            ..Default::default()
        },
    );
    assert_eq!(page.keys, vec![b("set")]);
}

#[test]
fn values_and_expiry_of_collections() {
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    db.hset(b"h", &[("f", "v")]).unwrap();
    db.sadd(b"s", &["m"]).unwrap();
    db.expire(b"h", Expiry::Millis(10), ExpireCondition::Always)
        .unwrap();
    assert_eq!(
        db.value(b"h"),
        Some(Value::Hash(HashValue::from_pairs(vec![(b("f"), b("v"))])))
    );
    assert_eq!(
        db.value(b"s"),
        Some(Value::Set(SetValue::from_members(vec![b("m")])))
    );
    let mut db = st.db(0, NOW + 11).unwrap();
    assert_eq!(db.hget(b"h", b"f").unwrap(), None);
    assert_eq!(st.drain_expired().len(), 1);
}

#[test]
fn del_of_a_big_hash_moves_it_to_the_garbage_list() {
    let mut st = store();
    st.set_background_free(true);
    let pairs: Vec<(String, String)> = (0..10_000).map(|i| (format!("f{i}"), "v".into())).collect();
    {
        let mut db = st.db(0, NOW).unwrap();
        db.hset(b"big", &pairs).unwrap();
        db.hset(b"small", &[("f", "v")]).unwrap();
        assert_eq!(db.del(&[&b"big"[..], b"small"]), 2);
    }
    let garbage = st.drain_garbage();
    assert_eq!(garbage.len(), 1, "only the big value is deferred");
    assert_eq!(garbage[0].elements(), 10_000);
    // Overwrite, expiry and FLUSHDB defer too.
    {
        let mut db = st.db(0, NOW).unwrap();
        db.sadd(b"s", &pairs.iter().map(|p| &p.0).collect::<Vec<_>>())
            .unwrap();
        db.set(b"s", b"x", SetOptions::default()).unwrap();
    }
    assert_eq!(st.drain_garbage().len(), 1);
    st.db(0, NOW).unwrap().hset(b"t", &pairs).unwrap();
    st.flush_db(0);
    assert_eq!(st.drain_garbage().len(), 1);
    // A table flushed while a snapshot still needs it is freed once the
    // walk is done with it, through the garbage list too.
    st.db(0, NOW).unwrap().hset(b"t", &pairs).unwrap();
    let mut handle = st.begin_snapshot(NOW).unwrap();
    st.flush_db(0);
    assert!(!st.has_garbage(), "the snapshot still needs the old table");
    while !st.snapshot_next(&mut handle, 100).is_empty() {}
    assert_eq!(st.drain_garbage().len(), 1);
    // Without background freeing nothing waits.
    st.set_background_free(false);
    st.db(0, NOW).unwrap().hset(b"u", &pairs).unwrap();
    st.db(0, NOW).unwrap().del(&[b"u"]);
    assert!(!st.has_garbage());
}

#[test]
fn rewrite_of_collections_is_batched_with_the_deadline_last() {
    let mut st = store();
    let mut db = st.db(0, NOW).unwrap();
    let members: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
    db.sadd(b"s", &members).unwrap();
    db.expire(
        b"s",
        Expiry::UnixMillis(NOW as i64 + 5000),
        ExpireCondition::Always,
    )
    .unwrap();
    let value = db.value(b"s").unwrap();
    let mut commands: Vec<Vec<Vec<u8>>> = Vec::new();
    value.rewrite(b"s", Some(NOW + 5000), &mut |args| {
        commands.push(args.iter().map(|a| a.to_vec()).collect())
    });
    assert_eq!(commands.len(), 3);
    assert_eq!(commands[0].len(), 2 + 64);
    assert_eq!(commands[1].len(), 2 + 36);
    assert_eq!(commands[0][0], b"SADD");
    assert_eq!(commands[2][0], b"PEXPIREAT");
    let mut all: Vec<Vec<u8>> = commands[..2].iter().flat_map(|c| c[2..].to_vec()).collect();
    all.sort();
    let mut expected: Vec<Vec<u8>> = members.iter().map(|m| m.as_bytes().to_vec()).collect();
    expected.sort();
    assert_eq!(all, expected);
}

#[test]
fn a_snapshot_sees_a_big_hash_as_it_was_while_it_changes() {
    let mut st = store();
    let pairs: Vec<(String, String)> = (0..20_000)
        .map(|i| (format!("f{i}"), "old".into()))
        .collect();
    st.db(0, NOW).unwrap().hset(b"h", &pairs).unwrap();
    st.db(0, NOW).unwrap().sadd(b"s", &["1", "2"]).unwrap();
    let before_h = st.db(0, NOW).unwrap().value(b"h").unwrap();
    let mut handle = st.begin_snapshot(NOW).unwrap();
    // Change both before the walker gets there: the segment copy freezes the
    // hash's chunks, and the writes copy only the chunks they touch.
    {
        let mut db = st.db(0, NOW).unwrap();
        db.hset(b"h", &[("f1", "new"), ("added", "x")]).unwrap();
        db.hdel(b"h", &["f2"]).unwrap();
        db.sadd(b"s", &["3"]).unwrap();
    }
    assert!(
        st.snapshot_memory() < 200_000,
        "capturing froze chunks instead of copying 20000 fields: {} bytes",
        st.snapshot_memory()
    );
    let mut seen = Vec::new();
    loop {
        let batch = st.snapshot_next(&mut handle, 100);
        if batch.is_empty() {
            break;
        }
        seen.extend(batch);
    }
    assert_eq!(seen.len(), 2);
    let h = seen.iter().find(|e| e.key == b("h")).unwrap();
    assert_eq!(h.value, before_h);
    let s = seen.iter().find(|e| e.key == b("s")).unwrap();
    assert_eq!(
        s.value,
        Value::Set(SetValue::from_members(vec![b("1"), b("2")]))
    );
    let mut db = st.db(0, NOW).unwrap();
    assert_eq!(db.hget(b"h", b"f1").unwrap(), Some(&b"new"[..]));
    assert_eq!(db.hlen(b"h").unwrap(), 20_000);
}
