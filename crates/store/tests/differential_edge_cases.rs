//! Edge cases of the string, key and TTL commands, each run on a real
//! redis-server 7.0 (the oracle) and on the store; the replies must be the
//! same bytes. The store's results are encoded as RESP2 the way the server
//! will encode them (`-{err}\r\n`, `:n\r\n`, bulk strings, nil).
//!
//! Time-dependent cases use the system clock on both sides and TTLs of many
//! seconds, so the few milliseconds between the two runs cannot change a
//! reply.

use redigo_store::{
    Clock, ExpireCondition, Expiry, GetExTtl, SetCondition, SetOptions, SetTtl, Store, StoreConfig,
    SystemClock,
};

mod support;

use support::{Reply, bulk, expire_reply, float, int, ok, set_reply, status};

type Case = (&'static [&'static str], fn(&mut Store, u64) -> Reply);

fn opts(condition: SetCondition, ttl: SetTtl, get: bool) -> SetOptions {
    SetOptions {
        condition,
        ttl,
        get,
    }
}

const CASES: &[Case] = &[
    (&["SET", "s", "hello"], |st, now| {
        set_reply(
            st.db(0, now)
                .unwrap()
                .set(b"s", b"hello", SetOptions::default()),
            false,
        )
    }),
    (&["SET", "s", "x", "EX", "0"], |st, now| {
        set_reply(
            st.db(0, now).unwrap().set(
                b"s",
                b"x",
                opts(
                    SetCondition::Always,
                    SetTtl::Expire(Expiry::Seconds(0)),
                    false,
                ),
            ),
            false,
        )
    }),
    (&["SET", "s", "x", "PX", "-1"], |st, now| {
        set_reply(
            st.db(0, now).unwrap().set(
                b"s",
                b"x",
                opts(
                    SetCondition::Always,
                    SetTtl::Expire(Expiry::Millis(-1)),
                    false,
                ),
            ),
            false,
        )
    }),
    (
        &["SET", "s", "x", "EX", "9223372036854775807"],
        |st, now| {
            set_reply(
                st.db(0, now).unwrap().set(
                    b"s",
                    b"x",
                    opts(
                        SetCondition::Always,
                        SetTtl::Expire(Expiry::Seconds(i64::MAX)),
                        false,
                    ),
                ),
                false,
            )
        },
    ),
    (
        &["SET", "s", "x", "PX", "9223372036854775807"],
        |st, now| {
            set_reply(
                st.db(0, now).unwrap().set(
                    b"s",
                    b"x",
                    opts(
                        SetCondition::Always,
                        SetTtl::Expire(Expiry::Millis(i64::MAX)),
                        false,
                    ),
                ),
                false,
            )
        },
    ),
    (&["SET", "s", "world", "NX", "GET"], |st, now| {
        set_reply(
            st.db(0, now).unwrap().set(
                b"s",
                b"world",
                opts(SetCondition::IfAbsent, SetTtl::Clear, true),
            ),
            true,
        )
    }),
    (
        &["SET", "s", "world", "XX", "GET", "EX", "100"],
        |st, now| {
            set_reply(
                st.db(0, now).unwrap().set(
                    b"s",
                    b"world",
                    opts(
                        SetCondition::IfPresent,
                        SetTtl::Expire(Expiry::Seconds(100)),
                        true,
                    ),
                ),
                true,
            )
        },
    ),
    (&["TTL", "s"], |st, now| {
        Reply::Int(st.db(0, now).unwrap().ttl(b"s"))
    }),
    (&["SET", "s", "again", "KEEPTTL"], |st, now| {
        set_reply(
            st.db(0, now).unwrap().set(
                b"s",
                b"again",
                opts(SetCondition::Always, SetTtl::Keep, false),
            ),
            false,
        )
    }),
    (&["TTL", "s"], |st, now| {
        Reply::Int(st.db(0, now).unwrap().ttl(b"s"))
    }),
    (&["SET", "fresh", "v", "XX"], |st, now| {
        set_reply(
            st.db(0, now).unwrap().set(
                b"fresh",
                b"v",
                opts(SetCondition::IfPresent, SetTtl::Clear, false),
            ),
            false,
        )
    }),
    (&["SET", "s", "plain"], |st, now| {
        set_reply(
            st.db(0, now)
                .unwrap()
                .set(b"s", b"plain", SetOptions::default()),
            false,
        )
    }),
    (&["TTL", "s"], |st, now| {
        Reply::Int(st.db(0, now).unwrap().ttl(b"s"))
    }),
    (&["TTL", "missing"], |st, now| {
        Reply::Int(st.db(0, now).unwrap().ttl(b"missing"))
    }),
    (&["GETEX", "s", "EX", "0"], |st, now| {
        match st
            .db(0, now)
            .unwrap()
            .get_ex(b"s", GetExTtl::Expire(Expiry::Seconds(0)))
        {
            Ok((v, _)) => bulk(v.as_deref()),
            Err(e) => Reply::Err(e),
        }
    }),
    (&["GETEX", "s", "PXAT", "1"], |st, now| {
        match st
            .db(0, now)
            .unwrap()
            .get_ex(b"s", GetExTtl::Expire(Expiry::UnixMillis(1)))
        {
            Ok((v, _)) => bulk(v.as_deref()),
            Err(e) => Reply::Err(e),
        }
    }),
    (&["EXISTS", "s"], |st, now| {
        int(ok(st.db(0, now).unwrap().exists(&[b"s"])))
    }),
    (&["SETEX", "s", "0", "v"], |st, now| {
        status(st.db(0, now).unwrap().set_ex(b"s", 0, b"v"))
    }),
    (&["PSETEX", "s", "-5", "v"], |st, now| {
        status(st.db(0, now).unwrap().pset_ex(b"s", -5, b"v"))
    }),
    (&["SET", "n", "9223372036854775806"], |st, now| {
        set_reply(
            st.db(0, now)
                .unwrap()
                .set(b"n", b"9223372036854775806", SetOptions::default()),
            false,
        )
    }),
    (&["INCR", "n"], |st, now| {
        int(st.db(0, now).unwrap().incr_by(b"n", 1))
    }),
    (&["INCR", "n"], |st, now| {
        int(st.db(0, now).unwrap().incr_by(b"n", 1))
    }),
    (&["DECRBY", "n", "-9223372036854775808"], |st, now| {
        int(st.db(0, now).unwrap().decr_by(b"n", i64::MIN))
    }),
    (&["SET", "n", "007"], |st, now| {
        set_reply(
            st.db(0, now)
                .unwrap()
                .set(b"n", b"007", SetOptions::default()),
            false,
        )
    }),
    (&["INCR", "n"], |st, now| {
        int(st.db(0, now).unwrap().incr_by(b"n", 1))
    }),
    (&["SET", "n", "-0"], |st, now| {
        set_reply(
            st.db(0, now)
                .unwrap()
                .set(b"n", b"-0", SetOptions::default()),
            false,
        )
    }),
    (&["INCRBY", "n", "5"], |st, now| {
        int(st.db(0, now).unwrap().incr_by(b"n", 5))
    }),
    (&["DECR", "counter"], |st, now| {
        int(st.db(0, now).unwrap().incr_by(b"counter", -1))
    }),
    (&["APPEND", "counter", "0"], |st, now| {
        int(st.db(0, now).unwrap().append(b"counter", b"0"))
    }),
    (&["INCRBY", "counter", "1"], |st, now| {
        int(st.db(0, now).unwrap().incr_by(b"counter", 1))
    }),
    (&["SETRANGE", "r", "-1", "x"], |st, now| {
        int(st.db(0, now).unwrap().set_range(b"r", -1, b"x"))
    }),
    (&["SETRANGE", "r", "5", ""], |st, now| {
        int(st.db(0, now).unwrap().set_range(b"r", 5, b""))
    }),
    (&["EXISTS", "r"], |st, now| {
        int(ok(st.db(0, now).unwrap().exists(&[b"r"])))
    }),
    (&["SETRANGE", "r", "3", "ab"], |st, now| {
        int(st.db(0, now).unwrap().set_range(b"r", 3, b"ab"))
    }),
    (&["GET", "r"], |st, now| {
        st.db(0, now)
            .unwrap()
            .get(b"r")
            .map_or_else(Reply::Err, bulk)
    }),
    (&["SETRANGE", "r", "536870911", "xy"], |st, now| {
        int(st.db(0, now).unwrap().set_range(b"r", 536_870_911, b"xy"))
    }),
    (&["GETRANGE", "r", "-3", "-1"], |st, now| {
        st.db(0, now)
            .unwrap()
            .get_range(b"r", -3, -1)
            .map_or_else(Reply::Err, |v| Reply::Bulk(v.to_vec()))
    }),
    (&["GETRANGE", "r", "-1", "-3"], |st, now| {
        st.db(0, now)
            .unwrap()
            .get_range(b"r", -1, -3)
            .map_or_else(Reply::Err, |v| Reply::Bulk(v.to_vec()))
    }),
    (&["GETRANGE", "r", "1", "100"], |st, now| {
        st.db(0, now)
            .unwrap()
            .get_range(b"r", 1, 100)
            .map_or_else(Reply::Err, |v| Reply::Bulk(v.to_vec()))
    }),
    (&["GETRANGE", "r", "-100", "0"], |st, now| {
        st.db(0, now)
            .unwrap()
            .get_range(b"r", -100, 0)
            .map_or_else(Reply::Err, |v| Reply::Bulk(v.to_vec()))
    }),
    (&["GETRANGE", "nokey", "0", "-1"], |st, now| {
        st.db(0, now)
            .unwrap()
            .get_range(b"nokey", 0, -1)
            .map_or_else(Reply::Err, |v| Reply::Bulk(v.to_vec()))
    }),
    (&["STRLEN", "r"], |st, now| {
        int(st.db(0, now).unwrap().strlen(b"r"))
    }),
    (&["EXISTS", "r", "r", "nokey"], |st, now| {
        int(ok(st.db(0, now).unwrap().exists(&[
            &b"r"[..],
            b"r",
            b"nokey",
        ])))
    }),
    (&["DEL", "r", "r", "nokey"], |st, now| {
        int(ok(st.db(0, now).unwrap().del(&[&b"r"[..], b"r", b"nokey"])))
    }),
    (&["SET", "t", "v"], |st, now| {
        set_reply(
            st.db(0, now)
                .unwrap()
                .set(b"t", b"v", SetOptions::default()),
            false,
        )
    }),
    (&["EXPIRE", "t", "100", "GT"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::Seconds(100),
            ExpireCondition::IfGreater,
        ))
    }),
    (&["EXPIRE", "t", "100", "XX"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::Seconds(100),
            ExpireCondition::IfTtl,
        ))
    }),
    (&["EXPIRE", "t", "100", "LT"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::Seconds(100),
            ExpireCondition::IfLess,
        ))
    }),
    (&["EXPIRE", "t", "200", "NX"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::Seconds(200),
            ExpireCondition::IfNoTtl,
        ))
    }),
    (&["EXPIRE", "t", "50", "GT"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::Seconds(50),
            ExpireCondition::IfGreater,
        ))
    }),
    (&["EXPIRE", "t", "200", "GT"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::Seconds(200),
            ExpireCondition::IfGreater,
        ))
    }),
    (&["TTL", "t"], |st, now| {
        Reply::Int(st.db(0, now).unwrap().ttl(b"t"))
    }),
    (&["EXPIRE", "t", "9223372036854775807"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::Seconds(i64::MAX),
            ExpireCondition::Always,
        ))
    }),
    (&["PEXPIRE", "t", "9223372036854775807"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::Millis(i64::MAX),
            ExpireCondition::Always,
        ))
    }),
    (&["PEXPIREAT", "t", "9223372036854775807"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::UnixMillis(i64::MAX),
            ExpireCondition::Always,
        ))
    }),
    (&["PEXPIRETIME", "t"], |st, now| {
        Reply::Int(st.db(0, now).unwrap().pexpire_time(b"t"))
    }),
    (&["EXPIRETIME", "t"], |st, now| {
        Reply::Int(st.db(0, now).unwrap().expire_time(b"t"))
    }),
    (&["PERSIST", "t"], |st, now| {
        int(ok(st.db(0, now).unwrap().persist(b"t") as i64))
    }),
    (&["PERSIST", "t"], |st, now| {
        int(ok(st.db(0, now).unwrap().persist(b"t") as i64))
    }),
    (&["EXPIRETIME", "t"], |st, now| {
        Reply::Int(st.db(0, now).unwrap().expire_time(b"t"))
    }),
    (&["EXPIREAT", "t", "-5"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::UnixSeconds(-5),
            ExpireCondition::Always,
        ))
    }),
    (&["EXISTS", "t"], |st, now| {
        int(ok(st.db(0, now).unwrap().exists(&[b"t"])))
    }),
    (&["EXPIRE", "t", "10"], |st, now| {
        expire_reply(st.db(0, now).unwrap().expire(
            b"t",
            Expiry::Seconds(10),
            ExpireCondition::Always,
        ))
    }),
    (&["SET", "a", "1"], |st, now| {
        set_reply(
            st.db(0, now)
                .unwrap()
                .set(b"a", b"1", SetOptions::default()),
            false,
        )
    }),
    (&["RENAME", "a", "a"], |st, now| {
        st.db(0, now)
            .unwrap()
            .rename(b"a", b"a")
            .map_or_else(Reply::Err, |()| Reply::Ok)
    }),
    (&["RENAMENX", "a", "a"], |st, now| {
        int(st.db(0, now).unwrap().rename_nx(b"a", b"a").map(i64::from))
    }),
    (&["RENAME", "nokey", "a"], |st, now| {
        st.db(0, now)
            .unwrap()
            .rename(b"nokey", b"a")
            .map_or_else(Reply::Err, |()| Reply::Ok)
    }),
    (&["RENAME", "nokey", "nokey"], |st, now| {
        st.db(0, now)
            .unwrap()
            .rename(b"nokey", b"nokey")
            .map_or_else(Reply::Err, |()| Reply::Ok)
    }),
    (&["MOVE", "a", "0"], |st, now| {
        int(st.db(0, now).unwrap().move_key(b"a", 0).map(i64::from))
    }),
    (&["MOVE", "nokey", "0"], |st, now| {
        int(st.db(0, now).unwrap().move_key(b"nokey", 0).map(i64::from))
    }),
    (&["MOVE", "a", "16"], |st, now| {
        int(st.db(0, now).unwrap().move_key(b"a", 16).map(i64::from))
    }),
    (&["COPY", "a", "a"], |st, now| {
        int(st
            .db(0, now)
            .unwrap()
            .copy(b"a", b"a", None, false)
            .map(i64::from))
    }),
    (&["COPY", "a", "a", "DB", "1"], |st, now| {
        int(st
            .db(0, now)
            .unwrap()
            .copy(b"a", b"a", Some(1), false)
            .map(i64::from))
    }),
    (&["COPY", "a", "a", "DB", "1"], |st, now| {
        int(st
            .db(0, now)
            .unwrap()
            .copy(b"a", b"a", Some(1), false)
            .map(i64::from))
    }),
    (&["COPY", "a", "a", "DB", "1", "REPLACE"], |st, now| {
        int(st
            .db(0, now)
            .unwrap()
            .copy(b"a", b"a", Some(1), true)
            .map(i64::from))
    }),
    (&["COPY", "nokey", "b"], |st, now| {
        int(st
            .db(0, now)
            .unwrap()
            .copy(b"nokey", b"b", None, false)
            .map(i64::from))
    }),
    (&["MOVE", "a", "1"], |st, now| {
        int(st.db(0, now).unwrap().move_key(b"a", 1).map(i64::from))
    }),
    (&["SET", "m1", "x"], |st, now| {
        set_reply(
            st.db(0, now)
                .unwrap()
                .set(b"m1", b"x", SetOptions::default()),
            false,
        )
    }),
    (&["MSETNX", "m2", "y", "m1", "z"], |st, now| {
        int(ok(st
            .db(0, now)
            .unwrap()
            .mset_nx(&[(&b"m2"[..], &b"y"[..]), (b"m1", b"z")])
            as i64))
    }),
    (&["EXISTS", "m2"], |st, now| {
        int(ok(st.db(0, now).unwrap().exists(&[b"m2"])))
    }),
    (&["SETNX", "m1", "q"], |st, now| {
        int(ok(st.db(0, now).unwrap().set_nx(b"m1", b"q") as i64))
    }),
    (&["GETSET", "m1", "new"], |st, now| {
        st.db(0, now)
            .unwrap()
            .get_set(b"m1", b"new")
            .map_or_else(Reply::Err, |v| bulk(v.as_deref()))
    }),
    (&["GETDEL", "m1"], |st, now| {
        st.db(0, now)
            .unwrap()
            .get_del(b"m1")
            .map_or_else(Reply::Err, |v| bulk(v.as_deref()))
    }),
    (&["GETDEL", "m1"], |st, now| {
        st.db(0, now)
            .unwrap()
            .get_del(b"m1")
            .map_or_else(Reply::Err, |v| bulk(v.as_deref()))
    }),
    (&["TYPE", "s"], |st, now| {
        Reply::Status(
            st.db(0, now)
                .unwrap()
                .type_of(b"s")
                .map_or("none", |k| k.as_str()),
        )
    }),
    (&["TYPE", "n"], |st, now| {
        Reply::Status(
            st.db(0, now)
                .unwrap()
                .type_of(b"n")
                .map_or("none", |k| k.as_str()),
        )
    }),
    (&["SET", "f", "10.5", "EX", "100"], |st, now| {
        set_reply(
            st.db(0, now).unwrap().set(
                b"f",
                b"10.5",
                opts(
                    SetCondition::Always,
                    SetTtl::Expire(Expiry::Seconds(100)),
                    false,
                ),
            ),
            false,
        )
    }),
    (&["INCRBYFLOAT", "f", "0.1"], |st, now| {
        float(st.db(0, now).unwrap().incr_by_float(b"f", b"0.1"))
    }),
    (&["TTL", "f"], |st, now| {
        Reply::Int(st.db(0, now).unwrap().ttl(b"f"))
    }),
    (&["INCRBYFLOAT", "f", "1e400"], |st, now| {
        float(st.db(0, now).unwrap().incr_by_float(b"f", b"1e400"))
    }),
    (&["INCRBYFLOAT", "f", "abc"], |st, now| {
        float(st.db(0, now).unwrap().incr_by_float(b"f", b"abc"))
    }),
    (&["INCRBYFLOAT", "f", "inf"], |st, now| {
        float(st.db(0, now).unwrap().incr_by_float(b"f", b"inf"))
    }),
    (&["INCRBYFLOAT", "newf", "5.0e3"], |st, now| {
        float(st.db(0, now).unwrap().incr_by_float(b"newf", b"5.0e3"))
    }),
    (&["INCRBYFLOAT", "newf", "-5000"], |st, now| {
        float(st.db(0, now).unwrap().incr_by_float(b"newf", b"-5000"))
    }),
    (&["INCRBYFLOAT", "s", "1"], |st, now| {
        float(st.db(0, now).unwrap().incr_by_float(b"s", b"1"))
    }),
    (&["DBSIZE"], |st, now| {
        int(ok(st.db(0, now).unwrap().dbsize()))
    }),
];

#[test]
fn edge_cases_match_redis_server() {
    let Some(redis) = redigo_tests::oracle() else {
        return;
    };
    let mut conn = redis.connect();
    let mut store = Store::new(StoreConfig::default());
    for (args, run) in CASES {
        let args_bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let expected = conn.command(&args_bytes);
        let now = SystemClock.now_ms();
        let got = run(&mut store, now).encode();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "{}",
            args.join(" ")
        );
    }
}
