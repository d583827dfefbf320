//! Hash and set edge cases run on a real redis-server 7.0 (the oracle) and
//! on the store; the replies must be the same bytes (RESP2, encoded the way
//! the server will encode them). Replies whose order Redis does not define
//! (a `hashtable` set's members) are compared sorted, and random ones
//! (`SPOP`, `SRANDMEMBER`, `HRANDFIELD` with a count) by their shape: the
//! number of elements, and membership where it is defined.
//!
//! Covers `OBJECT ENCODING` at the conversions, WRONGTYPE both ways,
//! `HINCRBYFLOAT` with NaN/Inf/huge values, integer overflow, `SINTERCARD
//! LIMIT`, `SMOVE` to the same set, negative counts, `SPOP` with a count,
//! empty keys deleted, store commands overwriting any kind.

mod support;

use bytes::Bytes;
use redigo_store::{Clock, SetOptions, Store, StoreConfig, StoreError, SystemClock};
use support::{Reply, bulk, int};

/// How a reply is compared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// Byte for byte.
    Exact,
    /// As a flat array of bulk strings, sorted.
    Sorted,
    /// As an array: its length only.
    Len,
}

type Case = (
    &'static [&'static str],
    Compare,
    fn(&mut Store, u64) -> Reply,
);

fn arr(items: Vec<Bytes>) -> Reply {
    Reply::Array(items.into_iter().map(|b| Reply::Bulk(b.to_vec())).collect())
}

fn arr_r(r: Result<Vec<Bytes>, StoreError>) -> Reply {
    r.map_or_else(Reply::Err, arr)
}

fn pairs_r(r: Result<Vec<(Bytes, Bytes)>, StoreError>) -> Reply {
    r.map_or_else(Reply::Err, |pairs| {
        arr(pairs.into_iter().flat_map(|(f, v)| [f, v]).collect())
    })
}

fn bool_r(r: Result<bool, StoreError>) -> Reply {
    int(r.map(i64::from))
}

fn bulk_r(r: Result<Option<Bytes>, StoreError>) -> Reply {
    r.map_or_else(Reply::Err, |v| bulk(v.as_deref()))
}

fn scan_r(r: Result<redigo_store::ops::collections::CollectionScanPage, StoreError>) -> Reply {
    r.map_or_else(Reply::Err, |page| {
        Reply::Array(vec![
            Reply::Bulk(page.cursor.to_string().into_bytes()),
            arr(page.items),
        ])
    })
}

fn picks(r: Result<(), StoreError>, picked: Vec<(Bytes, Option<Bytes>)>) -> Reply {
    r.map_or_else(Reply::Err, |()| {
        arr(picked
            .into_iter()
            .flat_map(|(e, v)| std::iter::once(e).chain(v))
            .collect())
    })
}

fn encoding(st: &mut Store, now: u64, key: &[u8]) -> Reply {
    bulk(
        st.db(0, now)
            .unwrap()
            .object_encoding(key)
            .map(str::as_bytes),
    )
}

const CASES: &[Case] = &[
    (
        &["HSET", "h", "a", "1", "b", "2"],
        Compare::Exact,
        |st, now| int(st.db(0, now).unwrap().hset(b"h", &[("a", "1"), ("b", "2")])),
    ),
    (
        &["HSET", "h", "a", "3", "c", "4"],
        Compare::Exact,
        |st, now| int(st.db(0, now).unwrap().hset(b"h", &[("a", "3"), ("c", "4")])),
    ),
    (&["HGETALL", "h"], Compare::Exact, |st, now| {
        pairs_r(st.db(0, now).unwrap().hgetall(b"h"))
    }),
    (&["HKEYS", "h"], Compare::Exact, |st, now| {
        arr_r(st.db(0, now).unwrap().hkeys(b"h"))
    }),
    (&["HVALS", "h"], Compare::Exact, |st, now| {
        arr_r(st.db(0, now).unwrap().hvals(b"h"))
    }),
    (&["HGET", "h", "a"], Compare::Exact, |st, now| {
        st.db(0, now)
            .unwrap()
            .hget(b"h", b"a")
            .map_or_else(Reply::Err, bulk)
    }),
    (&["HGET", "h", "zz"], Compare::Exact, |st, now| {
        st.db(0, now)
            .unwrap()
            .hget(b"h", b"zz")
            .map_or_else(Reply::Err, bulk)
    }),
    (&["HGET", "nokey", "a"], Compare::Exact, |st, now| {
        st.db(0, now)
            .unwrap()
            .hget(b"nokey", b"a")
            .map_or_else(Reply::Err, bulk)
    }),
    (
        &["HMGET", "h", "a", "zz", "c"],
        Compare::Exact,
        |st, now| {
            st.db(0, now)
                .unwrap()
                .hmget(b"h", &["a", "zz", "c"])
                .map_or_else(Reply::Err, |v| {
                    Reply::Array(v.into_iter().map(|x| bulk(x.as_deref())).collect())
                })
        },
    ),
    (&["HMGET", "nokey", "a"], Compare::Exact, |st, now| {
        st.db(0, now)
            .unwrap()
            .hmget(b"nokey", &["a"])
            .map_or_else(Reply::Err, |v| {
                Reply::Array(v.into_iter().map(|x| bulk(x.as_deref())).collect())
            })
    }),
    (&["HLEN", "h"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hlen(b"h"))
    }),
    (&["HSTRLEN", "h", "a"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hstrlen(b"h", b"a"))
    }),
    (&["HSTRLEN", "h", "zz"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hstrlen(b"h", b"zz"))
    }),
    (&["HEXISTS", "h", "b"], Compare::Exact, |st, now| {
        bool_r(st.db(0, now).unwrap().hexists(b"h", b"b"))
    }),
    (&["HSETNX", "h", "b", "x"], Compare::Exact, |st, now| {
        bool_r(st.db(0, now).unwrap().hsetnx(b"h", b"b", b"x"))
    }),
    (&["HSETNX", "h", "d", "x"], Compare::Exact, |st, now| {
        bool_r(st.db(0, now).unwrap().hsetnx(b"h", b"d", b"x"))
    }),
    (&["OBJECT", "ENCODING", "h"], Compare::Exact, |st, now| {
        encoding(st, now, b"h")
    }),
    (&["TYPE", "h"], Compare::Exact, |st, now| {
        Reply::Status(
            st.db(0, now)
                .unwrap()
                .type_of(b"h")
                .map_or("none", |k| k.as_str()),
        )
    }),
    (&["HSCAN", "h", "0"], Compare::Exact, |st, now| {
        scan_r(st.db(0, now).unwrap().hscan(b"h", 0, None, 10))
    }),
    (
        &["HSCAN", "h", "0", "MATCH", "[ab]", "COUNT", "1"],
        Compare::Exact,
        |st, now| scan_r(st.db(0, now).unwrap().hscan(b"h", 0, Some(b"[ab]"), 1)),
    ),
    (&["HINCRBY", "h", "a", "5"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hincrby(b"h", b"a", 5))
    }),
    (&["HINCRBY", "h", "d", "5"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hincrby(b"h", b"d", 5))
    }),
    (
        &[
            "HSET",
            "h",
            "max",
            "9223372036854775807",
            "min",
            "-9223372036854775808",
        ],
        Compare::Exact,
        |st, now| {
            int(st.db(0, now).unwrap().hset(
                b"h",
                &[
                    ("max", "9223372036854775807"),
                    ("min", "-9223372036854775808"),
                ],
            ))
        },
    ),
    (&["HINCRBY", "h", "max", "1"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hincrby(b"h", b"max", 1))
    }),
    (&["HINCRBY", "h", "min", "-1"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hincrby(b"h", b"min", -1))
    }),
    (
        &["HINCRBY", "h", "max", "-9223372036854775808"],
        Compare::Exact,
        |st, now| int(st.db(0, now).unwrap().hincrby(b"h", b"max", i64::MIN)),
    ),
    (
        &["HINCRBYFLOAT", "h", "f", "0.1"],
        Compare::Exact,
        |st, now| support::float(st.db(0, now).unwrap().hincrbyfloat(b"h", b"f", b"0.1")),
    ),
    (
        &["HINCRBYFLOAT", "h", "f", "10.5"],
        Compare::Exact,
        |st, now| support::float(st.db(0, now).unwrap().hincrbyfloat(b"h", b"f", b"10.5")),
    ),
    (
        &["HINCRBYFLOAT", "h", "f", "inf"],
        Compare::Exact,
        |st, now| support::float(st.db(0, now).unwrap().hincrbyfloat(b"h", b"f", b"inf")),
    ),
    (
        &["HINCRBYFLOAT", "h", "f", "-inf"],
        Compare::Exact,
        |st, now| support::float(st.db(0, now).unwrap().hincrbyfloat(b"h", b"f", b"-inf")),
    ),
    (
        &["HINCRBYFLOAT", "h", "f", "nan"],
        Compare::Exact,
        |st, now| support::float(st.db(0, now).unwrap().hincrbyfloat(b"h", b"f", b"nan")),
    ),
    (
        &["HINCRBYFLOAT", "h", "f", "abc"],
        Compare::Exact,
        |st, now| support::float(st.db(0, now).unwrap().hincrbyfloat(b"h", b"f", b"abc")),
    ),
    (
        &["HINCRBYFLOAT", "h", "big", "1e400"],
        Compare::Exact,
        |st, now| support::float(st.db(0, now).unwrap().hincrbyfloat(b"h", b"big", b"1e400")),
    ),
    (&["OBJECT", "ENCODING", "h"], Compare::Exact, |st, now| {
        encoding(st, now, b"h")
    }),
    (
        &["HINCRBYFLOAT", "h", "huge", "1e4932"],
        Compare::Exact,
        |st, now| {
            support::float(
                st.db(0, now)
                    .unwrap()
                    .hincrbyfloat(b"h", b"huge", b"1e4932"),
            )
        },
    ),
    (
        &["HINCRBYFLOAT", "h", "huge", "1e4932"],
        Compare::Exact,
        |st, now| {
            support::float(
                st.db(0, now)
                    .unwrap()
                    .hincrbyfloat(b"h", b"huge", b"1e4932"),
            )
        },
    ),
    (&["HSET", "h", "s", "abc"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hset(b"h", &[("s", "abc")]))
    }),
    (&["HINCRBY", "h", "s", "1"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hincrby(b"h", b"s", 1))
    }),
    (
        &["HINCRBYFLOAT", "h", "s", "1"],
        Compare::Exact,
        |st, now| support::float(st.db(0, now).unwrap().hincrbyfloat(b"h", b"s", b"1")),
    ),
    (
        &["HINCRBYFLOAT", "fresh", "f", "inf"],
        Compare::Exact,
        |st, now| support::float(st.db(0, now).unwrap().hincrbyfloat(b"fresh", b"f", b"inf")),
    ),
    (&["EXISTS", "fresh"], Compare::Exact, |st, now| {
        int(Ok::<_, StoreError>(
            st.db(0, now).unwrap().exists(&[b"fresh"]),
        ))
    }),
    (&["HRANDFIELD", "h", "-7"], Compare::Len, |st, now| {
        let mut picked = Vec::new();
        let r = st
            .db(0, now)
            .unwrap()
            .hrandfield_with_count(b"h", -7, false, &mut picked);
        picks(r, picked)
    }),
    (&["HRANDFIELD", "h", "0"], Compare::Exact, |st, now| {
        let mut picked = Vec::new();
        let r = st
            .db(0, now)
            .unwrap()
            .hrandfield_with_count(b"h", 0, false, &mut picked);
        picks(r, picked)
    }),
    (
        &["HRANDFIELD", "h", "100", "WITHVALUES"],
        Compare::Sorted,
        |st, now| {
            let mut picked = Vec::new();
            let r = st
                .db(0, now)
                .unwrap()
                .hrandfield_with_count(b"h", 100, true, &mut picked);
            picks(r, picked)
        },
    ),
    (
        &["HRANDFIELD", "h", "2", "WITHVALUES"],
        Compare::Len,
        |st, now| {
            let mut picked = Vec::new();
            let r = st
                .db(0, now)
                .unwrap()
                .hrandfield_with_count(b"h", 2, true, &mut picked);
            picks(r, picked)
        },
    ),
    (&["HRANDFIELD", "nokey", "-3"], Compare::Exact, |st, now| {
        let mut picked = Vec::new();
        let r = st
            .db(0, now)
            .unwrap()
            .hrandfield_with_count(b"nokey", -3, false, &mut picked);
        picks(r, picked)
    }),
    (&["HRANDFIELD", "nokey"], Compare::Exact, |st, now| {
        bulk_r(st.db(0, now).unwrap().hrandfield(b"nokey"))
    }),
    (
        &[
            "HSET",
            "long",
            "f",
            "0123456789012345678901234567890123456789012345678901234567890123",
        ],
        Compare::Exact,
        |st, now| {
            int(st.db(0, now).unwrap().hset(
                b"long",
                &[(
                    "f",
                    "0123456789012345678901234567890123456789012345678901234567890123",
                )],
            ))
        },
    ),
    (
        &["OBJECT", "ENCODING", "long"],
        Compare::Exact,
        |st, now| encoding(st, now, b"long"),
    ),
    (
        &[
            "HSET",
            "long",
            "f",
            "01234567890123456789012345678901234567890123456789012345678901234",
        ],
        Compare::Exact,
        |st, now| {
            int(st.db(0, now).unwrap().hset(
                b"long",
                &[(
                    "f",
                    "01234567890123456789012345678901234567890123456789012345678901234",
                )],
            ))
        },
    ),
    (
        &["OBJECT", "ENCODING", "long"],
        Compare::Exact,
        |st, now| encoding(st, now, b"long"),
    ),
    (&["HDEL", "long", "f"], Compare::Exact, |st, now| {
        int(st
            .db(0, now)
            .unwrap()
            .hdel(b"long", &["f"])
            .map(|r| r.removed))
    }),
    (&["EXISTS", "long"], Compare::Exact, |st, now| {
        int(Ok::<_, StoreError>(
            st.db(0, now).unwrap().exists(&[b"long"]),
        ))
    }),
    (
        &["HDEL", "h", "a", "a", "zz", "b"],
        Compare::Exact,
        |st, now| {
            int(st
                .db(0, now)
                .unwrap()
                .hdel(b"h", &["a", "a", "zz", "b"])
                .map(|r| r.removed))
        },
    ),
    (&["SET", "str", "v"], Compare::Exact, |st, now| {
        st.db(0, now)
            .unwrap()
            .set(b"str", b"v", SetOptions::default())
            .map_or_else(Reply::Err, |_| Reply::Ok)
    }),
    (&["GET", "h"], Compare::Exact, |st, now| {
        st.db(0, now)
            .unwrap()
            .get(b"h")
            .map_or_else(Reply::Err, bulk)
    }),
    (&["APPEND", "h", "x"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().append(b"h", b"x"))
    }),
    (&["INCR", "h"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().incr_by(b"h", 1))
    }),
    (&["SETRANGE", "h", "0", "x"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().set_range(b"h", 0, b"x"))
    }),
    (&["HSET", "str", "f", "v"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hset(b"str", &[("f", "v")]))
    }),
    (&["HGETALL", "str"], Compare::Exact, |st, now| {
        pairs_r(st.db(0, now).unwrap().hgetall(b"str"))
    }),
    (
        &["SADD", "s", "3", "1", "2", "1"],
        Compare::Exact,
        |st, now| int(st.db(0, now).unwrap().sadd(b"s", &["3", "1", "2", "1"])),
    ),
    (&["SMEMBERS", "s"], Compare::Exact, |st, now| {
        arr_r(st.db(0, now).unwrap().smembers(b"s"))
    }),
    (&["OBJECT", "ENCODING", "s"], Compare::Exact, |st, now| {
        encoding(st, now, b"s")
    }),
    (
        &["SSCAN", "s", "0", "MATCH", "[12]"],
        Compare::Exact,
        |st, now| scan_r(st.db(0, now).unwrap().sscan(b"s", 0, Some(b"[12]"), 10)),
    ),
    (&["SISMEMBER", "s", "2"], Compare::Exact, |st, now| {
        bool_r(st.db(0, now).unwrap().sismember(b"s", b"2"))
    }),
    (&["SISMEMBER", "s", "02"], Compare::Exact, |st, now| {
        bool_r(st.db(0, now).unwrap().sismember(b"s", b"02"))
    }),
    (
        &["SMISMEMBER", "s", "1", "x", "3"],
        Compare::Exact,
        |st, now| {
            st.db(0, now)
                .unwrap()
                .smismember(b"s", &["1", "x", "3"])
                .map_or_else(Reply::Err, |v| {
                    Reply::Array(v.into_iter().map(|b| Reply::Int(i64::from(b))).collect())
                })
        },
    ),
    (&["SMISMEMBER", "nokey", "1"], Compare::Exact, |st, now| {
        st.db(0, now)
            .unwrap()
            .smismember(b"nokey", &["1"])
            .map_or_else(Reply::Err, |v| {
                Reply::Array(v.into_iter().map(|b| Reply::Int(i64::from(b))).collect())
            })
    }),
    (
        &["SADD", "s", "-9223372036854775808", "70000"],
        Compare::Exact,
        |st, now| {
            int(st
                .db(0, now)
                .unwrap()
                .sadd(b"s", &["-9223372036854775808", "70000"]))
        },
    ),
    (&["SMEMBERS", "s"], Compare::Exact, |st, now| {
        arr_r(st.db(0, now).unwrap().smembers(b"s"))
    }),
    (&["SADD", "t", "2", "x", "y"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().sadd(b"t", &["2", "x", "y"]))
    }),
    (&["OBJECT", "ENCODING", "t"], Compare::Exact, |st, now| {
        encoding(st, now, b"t")
    }),
    (&["SCARD", "t"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().scard(b"t"))
    }),
    (&["SINTER", "s", "t"], Compare::Sorted, |st, now| {
        arr_r(st.db(0, now).unwrap().sinter(&["s", "t"]))
    }),
    (&["SINTER", "s", "nokey", "h"], Compare::Exact, |st, now| {
        arr_r(st.db(0, now).unwrap().sinter(&["s", "nokey", "h"]))
    }),
    (&["SINTER", "s", "nokey"], Compare::Exact, |st, now| {
        arr_r(st.db(0, now).unwrap().sinter(&["s", "nokey"]))
    }),
    (&["SINTERCARD", "2", "s", "t"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().sintercard(&["s", "t"], 0))
    }),
    (
        &["SADD", "u", "1", "2", "3", "x"],
        Compare::Exact,
        |st, now| int(st.db(0, now).unwrap().sadd(b"u", &["1", "2", "3", "x"])),
    ),
    (
        &["SINTERCARD", "2", "s", "u", "LIMIT", "2"],
        Compare::Exact,
        |st, now| int(st.db(0, now).unwrap().sintercard(&["s", "u"], 2)),
    ),
    (
        &["SINTERCARD", "2", "s", "u", "LIMIT", "0"],
        Compare::Exact,
        |st, now| int(st.db(0, now).unwrap().sintercard(&["s", "u"], 0)),
    ),
    (&["SINTERCARD", "1", "h"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().sintercard(&["h"], 0))
    }),
    (
        &["SUNION", "s", "t", "nokey"],
        Compare::Sorted,
        |st, now| arr_r(st.db(0, now).unwrap().sunion(&["s", "t", "nokey"])),
    ),
    (&["SDIFF", "u", "s", "t"], Compare::Sorted, |st, now| {
        arr_r(st.db(0, now).unwrap().sdiff(&["u", "s", "t"]))
    }),
    (&["SDIFF", "u", "u"], Compare::Exact, |st, now| {
        arr_r(st.db(0, now).unwrap().sdiff(&["u", "u"]))
    }),
    (&["SDIFF", "u", "str"], Compare::Exact, |st, now| {
        arr_r(st.db(0, now).unwrap().sdiff(&["u", "str"]))
    }),
    (
        &["SINTERSTORE", "str", "s", "u"],
        Compare::Exact,
        |st, now| {
            int(st
                .db(0, now)
                .unwrap()
                .sinterstore(b"str", &["s", "u"])
                .map(|s| s.len))
        },
    ),
    (&["TYPE", "str"], Compare::Exact, |st, now| {
        Reply::Status(
            st.db(0, now)
                .unwrap()
                .type_of(b"str")
                .map_or("none", |k| k.as_str()),
        )
    }),
    (&["OBJECT", "ENCODING", "str"], Compare::Exact, |st, now| {
        encoding(st, now, b"str")
    }),
    (
        &["SUNIONSTORE", "dst", "t", "u"],
        Compare::Exact,
        |st, now| {
            int(st
                .db(0, now)
                .unwrap()
                .sunionstore(b"dst", &["t", "u"])
                .map(|s| s.len))
        },
    ),
    (
        &["SDIFFSTORE", "dst", "t", "t"],
        Compare::Exact,
        |st, now| {
            int(st
                .db(0, now)
                .unwrap()
                .sdiffstore(b"dst", &["t", "t"])
                .map(|s| s.len))
        },
    ),
    (&["EXISTS", "dst"], Compare::Exact, |st, now| {
        int(Ok::<_, StoreError>(
            st.db(0, now).unwrap().exists(&[b"dst"]),
        ))
    }),
    (
        &["SINTERSTORE", "dst", "nokey", "s"],
        Compare::Exact,
        |st, now| {
            int(st
                .db(0, now)
                .unwrap()
                .sinterstore(b"dst", &["nokey", "s"])
                .map(|s| s.len))
        },
    ),
    (&["SMOVE", "s", "s", "1"], Compare::Exact, |st, now| {
        bool_r(st.db(0, now).unwrap().smove(b"s", b"s", b"1"))
    }),
    (&["SMOVE", "s", "s", "99"], Compare::Exact, |st, now| {
        bool_r(st.db(0, now).unwrap().smove(b"s", b"s", b"99"))
    }),
    (&["SMOVE", "nokey", "h", "1"], Compare::Exact, |st, now| {
        bool_r(st.db(0, now).unwrap().smove(b"nokey", b"h", b"1"))
    }),
    (&["SMOVE", "s", "h", "1"], Compare::Exact, |st, now| {
        bool_r(st.db(0, now).unwrap().smove(b"s", b"h", b"1"))
    }),
    (&["SMOVE", "s", "moved", "1"], Compare::Exact, |st, now| {
        bool_r(st.db(0, now).unwrap().smove(b"s", b"moved", b"1"))
    }),
    (&["SMEMBERS", "moved"], Compare::Exact, |st, now| {
        arr_r(st.db(0, now).unwrap().smembers(b"moved"))
    }),
    (&["SRANDMEMBER", "u", "-9"], Compare::Len, |st, now| {
        let mut picked = Vec::new();
        let r = st
            .db(0, now)
            .unwrap()
            .srandmember_with_count(b"u", -9, &mut picked);
        picks(r, picked)
    }),
    (&["SRANDMEMBER", "u", "10"], Compare::Sorted, |st, now| {
        let mut picked = Vec::new();
        let r = st
            .db(0, now)
            .unwrap()
            .srandmember_with_count(b"u", 10, &mut picked);
        picks(r, picked)
    }),
    (&["SRANDMEMBER", "nokey"], Compare::Exact, |st, now| {
        bulk_r(st.db(0, now).unwrap().srandmember(b"nokey"))
    }),
    (&["SPOP", "nokey"], Compare::Exact, |st, now| {
        st.db(0, now)
            .unwrap()
            .spop(b"nokey", None)
            .map_or_else(Reply::Err, |p| bulk(p.members.first().map(|m| &m[..])))
    }),
    (&["SPOP", "nokey", "3"], Compare::Exact, |st, now| {
        arr_r(
            st.db(0, now)
                .unwrap()
                .spop(b"nokey", Some(3))
                .map(|p| p.members),
        )
    }),
    (&["SPOP", "u", "0"], Compare::Exact, |st, now| {
        arr_r(
            st.db(0, now)
                .unwrap()
                .spop(b"u", Some(0))
                .map(|p| p.members),
        )
    }),
    (&["SPOP", "u", "2"], Compare::Len, |st, now| {
        arr_r(
            st.db(0, now)
                .unwrap()
                .spop(b"u", Some(2))
                .map(|p| p.members),
        )
    }),
    (&["SCARD", "u"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().scard(b"u"))
    }),
    (&["SPOP", "t", "100"], Compare::Sorted, |st, now| {
        arr_r(
            st.db(0, now)
                .unwrap()
                .spop(b"t", Some(100))
                .map(|p| p.members),
        )
    }),
    (&["EXISTS", "t"], Compare::Exact, |st, now| {
        int(Ok::<_, StoreError>(st.db(0, now).unwrap().exists(&[b"t"])))
    }),
    (&["SPOP", "h"], Compare::Exact, |st, now| {
        st.db(0, now)
            .unwrap()
            .spop(b"h", None)
            .map_or_else(Reply::Err, |p| bulk(p.members.first().map(|m| &m[..])))
    }),
    (
        &["SREM", "s", "2", "3", "x", "-9223372036854775808", "70000"],
        Compare::Exact,
        |st, now| {
            int(st
                .db(0, now)
                .unwrap()
                .srem(b"s", &["2", "3", "x", "-9223372036854775808", "70000"])
                .map(|r| r.removed))
        },
    ),
    (&["EXISTS", "s"], Compare::Exact, |st, now| {
        int(Ok::<_, StoreError>(st.db(0, now).unwrap().exists(&[b"s"])))
    }),
    (&["SADD", "h", "x"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().sadd(b"h", &["x"]))
    }),
    (&["SCARD", "h"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().scard(b"h"))
    }),
    (&["HLEN", "moved"], Compare::Exact, |st, now| {
        int(st.db(0, now).unwrap().hlen(b"moved"))
    }),
];

/// The bulk strings of a flat RESP2 array, sorted (panics on anything else).
fn sorted_items(reply: &[u8]) -> Vec<Vec<u8>> {
    let text = reply;
    assert_eq!(text[0], b'*', "{}", String::from_utf8_lossy(reply));
    let mut items = Vec::new();
    let mut at = text.iter().position(|&c| c == b'\n').unwrap() + 1;
    while at < text.len() {
        let line_end = at + text[at..].iter().position(|&c| c == b'\n').unwrap();
        let len: usize = std::str::from_utf8(&text[at + 1..line_end - 1])
            .unwrap()
            .parse()
            .unwrap();
        let start = line_end + 1;
        items.push(text[start..start + len].to_vec());
        at = start + len + 2;
    }
    items.sort();
    items
}

/// The field-value pairs of a flat RESP2 array, sorted.
fn sorted_pairs(reply: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut items = Vec::new();
    let mut at = reply.iter().position(|&c| c == b'\n').unwrap() + 1;
    while at < reply.len() {
        let line_end = at + reply[at..].iter().position(|&c| c == b'\n').unwrap();
        let len: usize = std::str::from_utf8(&reply[at + 1..line_end - 1])
            .unwrap()
            .parse()
            .unwrap();
        items.push(reply[line_end + 1..line_end + 1 + len].to_vec());
        at = line_end + 1 + len + 2;
    }
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = items
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    pairs.sort();
    pairs
}

/// The length of a RESP2 array reply.
fn array_len(reply: &[u8]) -> String {
    let end = reply.iter().position(|&c| c == b'\n').unwrap();
    String::from_utf8_lossy(&reply[..end]).into_owned()
}

#[test]
fn collection_edge_cases_match_redis_server() {
    let Some(redis) = redigo_tests::oracle() else {
        return;
    };
    let mut conn = redis.connect();
    let mut store = Store::new(StoreConfig::default());
    for (args, compare, run) in CASES {
        let args_bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let expected = conn.command(&args_bytes);
        let got = run(&mut store, SystemClock.now_ms()).encode();
        let context = args.join(" ");
        match compare {
            Compare::Exact => assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&expected),
                "{context}"
            ),
            Compare::Sorted => assert_eq!(sorted_items(&got), sorted_items(&expected), "{context}"),
            Compare::Len => assert_eq!(array_len(&got), array_len(&expected), "{context}"),
        }
    }
    // The final contents agree (not `u`'s: SPOP took random members).
    for key in ["h", "moved", "str"] {
        let mut db = store.db(0, SystemClock.now_ms()).unwrap();
        let kind = db.type_of(key.as_bytes()).map_or("none", |k| k.as_str());
        let expected_type = conn.command(&[b"TYPE", key.as_bytes()]);
        assert_eq!(
            format!("+{kind}\r\n").into_bytes(),
            expected_type,
            "TYPE {key}"
        );
        let (ours, theirs) = match kind {
            "hash" => (
                pairs_r(db.hgetall(key.as_bytes())).encode(),
                conn.command(&[b"HGETALL", key.as_bytes()]),
            ),
            "set" => (
                arr_r(db.smembers(key.as_bytes())).encode(),
                conn.command(&[b"SMEMBERS", key.as_bytes()]),
            ),
            _ => continue,
        };
        if kind == "set" {
            assert_eq!(sorted_items(&ours), sorted_items(&theirs), "SMEMBERS {key}");
        } else {
            // A hashtable's order is its own: compare the pairs sorted.
            assert_eq!(sorted_pairs(&ours), sorted_pairs(&theirs), "HGETALL {key}");
        }
    }
}
