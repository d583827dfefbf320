//! Differential test against redis-server 7.0: random command sequences are
//! sent to a real redis-server (the oracle) and run on the store, and every
//! reply must be the same bytes, across databases (`SELECT`, `SWAPDB`,
//! `MOVE`, `COPY ... DB`).
//!
//! Only time-independent observations are made: deadlines are absolute
//! (`EXAT`/`PXAT`, `EXPIREAT`) far in the future or in the past, or relative
//! but large, and TTLs are read back with `PEXPIRETIME`, so the
//! milliseconds between the two runs cannot change a reply.

mod support;

use proptest::prelude::*;
use redigo_store::{
    Clock, ExpireCondition, Expiry, GetExTtl, SetCondition, SetOptions, SetTtl, Store, StoreConfig,
    SystemClock,
};
use support::{Reply, bulk, expire_reply, float, int, set_reply, status};

const KEYS: &[&str] = &["a", "b", "c"];
const VALUES: &[&str] = &[
    "",
    "0",
    "-7",
    "10.5",
    "1e3",
    "abc",
    "9223372036854775807",
    "3.0e2",
];
const INCREMENTS: &[&str] = &[
    "1",
    "-1.5",
    "0.1",
    "1e400",
    "abc",
    "-9223372036854775808",
    "inf",
];
/// Far-future absolute deadlines (ms and s) and a past one.
const FUTURE_MS: i64 = 4_000_000_000_000;
const FUTURE_S: i64 = 4_000_000_000;

#[derive(Debug, Clone)]
enum Op {
    Set(usize, usize, SetCondition, SetTtl, bool),
    Get(usize),
    GetSet(usize, usize),
    GetDel(usize),
    GetEx(usize, GetExTtl),
    MGet(Vec<usize>),
    MSetNx(Vec<(usize, usize)>),
    IncrBy(usize, i64),
    IncrByFloat(usize, usize),
    Append(usize, usize),
    SetRange(usize, i64, usize),
    GetRange(usize, i64, i64),
    Strlen(usize),
    Del(Vec<usize>),
    Exists(Vec<usize>),
    Expire(usize, Expiry, ExpireCondition),
    PExpireTime(usize),
    Persist(usize),
    Rename(usize, usize, bool),
    Copy(usize, usize, Option<usize>, bool),
    Move(usize, usize),
    Type(usize),
    DbSize,
    Select(usize),
    SwapDb(usize, usize),
    FlushDb,
}

fn ttl() -> impl Strategy<Value = Expiry> {
    prop_oneof![
        Just(Expiry::UnixMillis(FUTURE_MS)),
        Just(Expiry::UnixMillis(FUTURE_MS + 5)),
        Just(Expiry::UnixSeconds(FUTURE_S)),
        Just(Expiry::UnixMillis(1)),
        Just(Expiry::UnixSeconds(-3)),
        Just(Expiry::Seconds(0)),
        Just(Expiry::Millis(-2)),
        Just(Expiry::Seconds(i64::MAX)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let key = || 0..KEYS.len();
    let value = || 0..VALUES.len();
    let keys = || prop::collection::vec(0..KEYS.len(), 1..4);
    let condition = prop_oneof![
        Just(SetCondition::Always),
        Just(SetCondition::IfAbsent),
        Just(SetCondition::IfPresent)
    ];
    let set_ttl = prop_oneof![
        Just(SetTtl::Clear),
        Just(SetTtl::Keep),
        ttl().prop_map(SetTtl::Expire)
    ];
    let getex = prop_oneof![
        Just(GetExTtl::Unchanged),
        Just(GetExTtl::Persist),
        ttl().prop_map(GetExTtl::Expire)
    ];
    let expire_condition = prop_oneof![
        Just(ExpireCondition::Always),
        Just(ExpireCondition::IfNoTtl),
        Just(ExpireCondition::IfTtl),
        Just(ExpireCondition::IfGreater),
        Just(ExpireCondition::IfLess),
    ];
    let index = || prop::sample::select(vec![0i64, 1, 3, -1, -2, -20, 50]);
    prop_oneof![
        6 => (key(), value(), condition, set_ttl, any::<bool>())
            .prop_map(|(k, v, c, t, g)| Op::Set(k, v, c, t, g)),
        3 => key().prop_map(Op::Get),
        1 => (key(), value()).prop_map(|(k, v)| Op::GetSet(k, v)),
        1 => key().prop_map(Op::GetDel),
        2 => (key(), getex).prop_map(|(k, t)| Op::GetEx(k, t)),
        1 => keys().prop_map(Op::MGet),
        1 => prop::collection::vec((key(), value()), 1..3).prop_map(Op::MSetNx),
        2 => (key(), prop::sample::select(vec![1i64, -3, i64::MAX, i64::MIN])).prop_map(|(k, d)| Op::IncrBy(k, d)),
        2 => (key(), 0..INCREMENTS.len()).prop_map(|(k, i)| Op::IncrByFloat(k, i)),
        1 => (key(), value()).prop_map(|(k, v)| Op::Append(k, v)),
        1 => (key(), prop::sample::select(vec![-1i64, 0, 2, 7]), value()).prop_map(|(k, o, v)| Op::SetRange(k, o, v)),
        1 => (key(), index(), index()).prop_map(|(k, s, e)| Op::GetRange(k, s, e)),
        1 => key().prop_map(Op::Strlen),
        2 => keys().prop_map(Op::Del),
        1 => keys().prop_map(Op::Exists),
        3 => (key(), ttl(), expire_condition).prop_map(|(k, e, c)| Op::Expire(k, e, c)),
        2 => key().prop_map(Op::PExpireTime),
        1 => key().prop_map(Op::Persist),
        2 => (key(), key(), any::<bool>()).prop_map(|(s, d, nx)| Op::Rename(s, d, nx)),
        1 => (key(), key(), prop::option::of(0..2usize), any::<bool>()).prop_map(|(s, d, db, r)| Op::Copy(s, d, db, r)),
        1 => (key(), 0..2usize).prop_map(|(k, db)| Op::Move(k, db)),
        1 => key().prop_map(Op::Type),
        1 => Just(Op::DbSize),
        1 => (0..3usize).prop_map(Op::Select),
        1 => (0..3usize, 0..3usize).prop_map(|(a, b)| Op::SwapDb(a, b)),
        1 => Just(Op::FlushDb),
    ]
}

fn expiry_args(expiry: Expiry) -> [String; 2] {
    match expiry {
        Expiry::Seconds(n) => ["EX".into(), n.to_string()],
        Expiry::Millis(n) => ["PX".into(), n.to_string()],
        Expiry::UnixSeconds(n) => ["EXAT".into(), n.to_string()],
        Expiry::UnixMillis(n) => ["PXAT".into(), n.to_string()],
    }
}

/// The command as redis-server receives it.
fn args(op: &Op) -> Vec<String> {
    let k = |i: usize| KEYS[i].to_string();
    let v = |i: usize| VALUES[i].to_string();
    let mut out: Vec<String> = Vec::new();
    match op {
        Op::Set(key, value, condition, ttl, get) => {
            out.extend(["SET".into(), k(*key), v(*value)]);
            match condition {
                SetCondition::Always => {}
                SetCondition::IfAbsent => out.push("NX".into()),
                SetCondition::IfPresent => out.push("XX".into()),
            }
            if *get {
                out.push("GET".into());
            }
            match ttl {
                SetTtl::Clear => {}
                SetTtl::Keep => out.push("KEEPTTL".into()),
                SetTtl::Expire(e) => out.extend(expiry_args(*e)),
            }
        }
        Op::Get(key) => out.extend(["GET".into(), k(*key)]),
        Op::GetSet(key, value) => out.extend(["GETSET".into(), k(*key), v(*value)]),
        Op::GetDel(key) => out.extend(["GETDEL".into(), k(*key)]),
        Op::GetEx(key, ttl) => {
            out.extend(["GETEX".into(), k(*key)]);
            match ttl {
                GetExTtl::Unchanged => {}
                GetExTtl::Persist => out.push("PERSIST".into()),
                GetExTtl::Expire(e) => out.extend(expiry_args(*e)),
            }
        }
        Op::MGet(keys) => {
            out.push("MGET".into());
            out.extend(keys.iter().map(|i| k(*i)));
        }
        Op::MSetNx(pairs) => {
            out.push("MSETNX".into());
            for (key, value) in pairs {
                out.extend([k(*key), v(*value)]);
            }
        }
        Op::IncrBy(key, delta) => out.extend(["INCRBY".into(), k(*key), delta.to_string()]),
        Op::IncrByFloat(key, i) => {
            out.extend(["INCRBYFLOAT".into(), k(*key), INCREMENTS[*i].into()])
        }
        Op::Append(key, value) => out.extend(["APPEND".into(), k(*key), v(*value)]),
        Op::SetRange(key, offset, value) => {
            out.extend(["SETRANGE".into(), k(*key), offset.to_string(), v(*value)])
        }
        Op::GetRange(key, s, e) => {
            out.extend(["GETRANGE".into(), k(*key), s.to_string(), e.to_string()])
        }
        Op::Strlen(key) => out.extend(["STRLEN".into(), k(*key)]),
        Op::Del(keys) => {
            out.push("DEL".into());
            out.extend(keys.iter().map(|i| k(*i)));
        }
        Op::Exists(keys) => {
            out.push("EXISTS".into());
            out.extend(keys.iter().map(|i| k(*i)));
        }
        Op::Expire(key, expiry, condition) => {
            let (name, n) = match expiry {
                Expiry::Seconds(n) => ("EXPIRE", n),
                Expiry::Millis(n) => ("PEXPIRE", n),
                Expiry::UnixSeconds(n) => ("EXPIREAT", n),
                Expiry::UnixMillis(n) => ("PEXPIREAT", n),
            };
            out.extend([name.into(), k(*key), n.to_string()]);
            match condition {
                ExpireCondition::Always => {}
                ExpireCondition::IfNoTtl => out.push("NX".into()),
                ExpireCondition::IfTtl => out.push("XX".into()),
                ExpireCondition::IfGreater => out.push("GT".into()),
                ExpireCondition::IfLess => out.push("LT".into()),
            }
        }
        Op::PExpireTime(key) => out.extend(["PEXPIRETIME".into(), k(*key)]),
        Op::Persist(key) => out.extend(["PERSIST".into(), k(*key)]),
        Op::Rename(s, d, nx) => {
            out.extend([if *nx { "RENAMENX" } else { "RENAME" }.into(), k(*s), k(*d)])
        }
        Op::Copy(s, d, db, replace) => {
            out.extend(["COPY".into(), k(*s), k(*d)]);
            if let Some(db) = db {
                out.extend(["DB".into(), db.to_string()]);
            }
            if *replace {
                out.push("REPLACE".into());
            }
        }
        Op::Move(key, db) => out.extend(["MOVE".into(), k(*key), db.to_string()]),
        Op::Type(key) => out.extend(["TYPE".into(), k(*key)]),
        Op::DbSize => out.push("DBSIZE".into()),
        Op::Select(db) => out.extend(["SELECT".into(), db.to_string()]),
        Op::SwapDb(a, b) => out.extend(["SWAPDB".into(), a.to_string(), b.to_string()]),
        Op::FlushDb => out.push("FLUSHDB".into()),
    }
    out
}

/// The same command on the store; `selected` is the connection's database.
fn run(store: &mut Store, selected: &mut usize, op: &Op) -> Reply {
    let k = |i: usize| KEYS[i].as_bytes();
    let v = |i: usize| VALUES[i].as_bytes();
    match op {
        Op::Select(index) => {
            *selected = *index;
            return Reply::Ok;
        }
        Op::SwapDb(a, b) => return status(store.swap_db(*a, *b)),
        _ => {}
    }
    let mut db = store.db(*selected, SystemClock.now_ms()).expect("valid db");
    match op {
        Op::Set(key, value, condition, ttl, get) => set_reply(
            db.set(
                k(*key),
                v(*value),
                SetOptions {
                    condition: *condition,
                    ttl: *ttl,
                    get: *get,
                },
            ),
            *get,
        ),
        Op::Get(key) => db.get(k(*key)).map_or_else(Reply::Err, bulk),
        Op::GetSet(key, value) => db
            .get_set(k(*key), v(*value))
            .map_or_else(Reply::Err, |p| bulk(p.as_deref())),
        Op::GetDel(key) => db
            .get_del(k(*key))
            .map_or_else(Reply::Err, |p| bulk(p.as_deref())),
        Op::GetEx(key, ttl) => db
            .get_ex(k(*key), *ttl)
            .map_or_else(Reply::Err, |(p, _)| bulk(p.as_deref())),
        Op::MGet(keys) => {
            let keys: Vec<&[u8]> = keys.iter().map(|i| k(*i)).collect();
            Reply::Array(db.mget(&keys).into_iter().map(bulk).collect())
        }
        Op::MSetNx(pairs) => {
            let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(a, b)| (k(*a), v(*b))).collect();
            Reply::Int(i64::from(db.mset_nx(&pairs)))
        }
        Op::IncrBy(key, delta) => int(db.incr_by(k(*key), *delta)),
        Op::IncrByFloat(key, i) => float(db.incr_by_float(k(*key), INCREMENTS[*i].as_bytes())),
        Op::Append(key, value) => int(db.append(k(*key), v(*value))),
        Op::SetRange(key, offset, value) => int(db.set_range(k(*key), *offset, v(*value))),
        Op::GetRange(key, s, e) => db
            .get_range(k(*key), *s, *e)
            .map_or_else(Reply::Err, |r| Reply::Bulk(r.to_vec())),
        Op::Strlen(key) => int(db.strlen(k(*key))),
        Op::Del(keys) => {
            let keys: Vec<&[u8]> = keys.iter().map(|i| k(*i)).collect();
            Reply::Int(db.del(&keys) as i64)
        }
        Op::Exists(keys) => {
            let keys: Vec<&[u8]> = keys.iter().map(|i| k(*i)).collect();
            Reply::Int(db.exists(&keys) as i64)
        }
        Op::Expire(key, expiry, condition) => expire_reply(db.expire(k(*key), *expiry, *condition)),
        Op::PExpireTime(key) => Reply::Int(db.pexpire_time(k(*key))),
        Op::Persist(key) => Reply::Int(i64::from(db.persist(k(*key)))),
        Op::Rename(s, d, false) => status(db.rename(k(*s), k(*d))),
        Op::Rename(s, d, true) => int(db.rename_nx(k(*s), k(*d)).map(i64::from)),
        Op::Copy(s, d, target, replace) => {
            int(db.copy(k(*s), k(*d), *target, *replace).map(i64::from))
        }
        Op::Move(key, target) => int(db.move_key(k(*key), *target).map(i64::from)),
        Op::Type(key) => Reply::Status(db.type_of(k(*key)).map_or("none", |t| t.as_str())),
        Op::DbSize => Reply::Int(db.dbsize() as i64),
        Op::FlushDb => {
            db.flush();
            Reply::Ok
        }
        Op::Select(_) | Op::SwapDb(..) => unreachable!("handled above"),
    }
}

#[test]
fn random_command_sequences_match_redis_server() {
    let Some(redis) = redigo_tests::oracle() else {
        return;
    };
    let conn = std::cell::RefCell::new(redis.connect());
    let config = ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = prop::collection::vec(op(), 1..80);
    runner
        .run(&strategy, |ops| {
            assert_eq!(conn.borrow_mut().command(&[b"FLUSHALL"]), b"+OK\r\n");
            let mut store = Store::new(StoreConfig::default());
            let mut selected = 0;
            assert_eq!(conn.borrow_mut().command(&[b"SELECT", b"0"]), b"+OK\r\n");
            for (step, op) in ops.iter().enumerate() {
                let words = args(op);
                let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
                let expected = conn.borrow_mut().command(&words);
                let got = run(&mut store, &mut selected, op).encode();
                prop_assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&expected),
                    "step {}: {:?}",
                    step,
                    op
                );
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
