//! Random command sequences mixing the hash, set, list, sorted set, string
//! and key commands over three keys, sent to Redis 7.0 and to Redigo: every reply must be
//! the same. Keys keep changing kind (`SET` over a hash, `SADD` on a
//! string, `SUNIONSTORE` over anything, `RENAME`, `DEL`), so `WRONGTYPE`
//! and the deletion of emptied collections are exercised on every path.
//!
//! Collections stay small: hashes are `listpack`s in both servers (same
//! order), integer sets `intset`s (ascending in both); a set of strings is
//! a `hashtable` whose order is each server's own, so set replies are
//! compared as sorted lists. Random commands (`SPOP`, `SRANDMEMBER`,
//! `HRANDFIELD`) are left out: their shapes are checked in
//! `differential_sets`/`differential_hashes`. Sorted sets stay small too
//! (`listpack` in both), with scores drawn to tie, to be infinite, `-0` or
//! very close doubles; lexical ranges, read forwards, backwards and
//! removed, walk over mixed scores as Redis's `listpack` path does. The final state is compared key by key with `TYPE`,
//! `HGETALL`, `SMEMBERS`, `LRANGE 0 -1`, `ZRANGE key 0 -1 WITHSCORES` and
//! `GET`.

mod differential_support;

use std::cell::RefCell;

use differential_support::{Pair, bulk_array, judged};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Sequences per run.
const CASES: u32 = 48;
/// Shortest and longest sequence.
const MIN_COMMANDS: usize = 20;
const MAX_COMMANDS: usize = 60;

const KEYS: &[&str] = &["a", "b", "c"];
const FIELDS: &[&str] = &["f", "g", "h"];
const VALUES: &[&str] = &["", "0", "1", "-7", "10", "x", "1.5", "9223372036854775807"];
const MEMBERS: &[&str] = &["1", "2", "-3", "10", "x", "y", "01"];
/// Sorted-set scores: ties, infinities, `-0`, doubles one ulp apart, and a
/// non-number.
const SCORES: &[&str] = &[
    "0",
    "-0",
    "1",
    "1",
    "2.5",
    "inf",
    "-inf",
    "0.1",
    "0.30000000000000004",
    "0.30000000000000001",
    "1e300",
    "x",
];
/// Score range bounds.
const BOUNDS: &[&str] = &["-inf", "(0", "0", "1", "(2.5", "+inf", "(inf", "x"];
/// Lexical range bounds.
const LEX_BOUNDS: &[&str] = &["-", "+", "[1", "(x", "[y", "x"];

/// List elements: few, so that pivots, `LREM` and `LPOS` find matches.
const ELEMENTS: &[&str] = &["x", "y", "1", "zz"];
/// Indexes, counts and ranks of the list commands.
const INDEXES: &[&str] = &["0", "1", "2", "-1", "-2", "-5", "5", "x"];

/// A list command.
fn list_command() -> impl Strategy<Value = Vec<String>> {
    let key = || pick(KEYS);
    let element = || pick(ELEMENTS);
    let index = || pick(INDEXES);
    let end = || pick(&["LEFT", "RIGHT"]);
    prop_oneof![
        (
            pick(&["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]),
            key(),
            element(),
            element()
        )
            .prop_map(|(c, k, e, f)| words(&[&c, &k, &e, &f])),
        (pick(&["LPOP", "RPOP"]), key()).prop_map(|(c, k)| words(&[&c, &k])),
        (pick(&["LPOP", "RPOP"]), key(), pick(&["0", "1", "3", "-1"]))
            .prop_map(|(c, k, n)| words(&[&c, &k, &n])),
        key().prop_map(|k| words(&["LLEN", &k])),
        (key(), index(), index()).prop_map(|(k, s, e)| words(&["LRANGE", &k, &s, &e])),
        (key(), index()).prop_map(|(k, i)| words(&["LINDEX", &k, &i])),
        (key(), index(), element()).prop_map(|(k, i, e)| words(&["LSET", &k, &i, &e])),
        (key(), pick(&["BEFORE", "AFTER"]), element(), element())
            .prop_map(|(k, w, p, e)| words(&["LINSERT", &k, &w, &p, &e])),
        (key(), index(), element()).prop_map(|(k, n, e)| words(&["LREM", &k, &n, &e])),
        (key(), index(), index()).prop_map(|(k, s, e)| words(&["LTRIM", &k, &s, &e])),
        (
            key(),
            element(),
            index(),
            pick(&["0", "1", "2"]),
            pick(&["0", "2"])
        )
            .prop_map(|(k, e, r, c, m)| words(&[
                "LPOS", &k, &e, "RANK", &r, "COUNT", &c, "MAXLEN", &m
            ])),
        (key(), element()).prop_map(|(k, e)| words(&["LPOS", &k, &e])),
        (key(), key(), end(), end()).prop_map(|(a, b, f, t)| words(&["LMOVE", &a, &b, &f, &t])),
        (key(), key()).prop_map(|(a, b)| words(&["RPOPLPUSH", &a, &b])),
        (key(), key(), end(), pick(&["1", "2", "5"]))
            .prop_map(|(a, b, e, n)| words(&["LMPOP", "2", &a, &b, &e, "COUNT", &n])),
    ]
}

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(options).prop_map(String::from)
}

fn words(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_string()).collect()
}

/// A command of the alphabet.
fn command() -> impl Strategy<Value = Vec<String>> {
    let key = || pick(KEYS);
    let field = || pick(FIELDS);
    let value = || pick(VALUES);
    let member = || pick(MEMBERS);
    let score = || pick(SCORES);
    let bound = || pick(BOUNDS);
    let lex = || pick(LEX_BOUNDS);
    prop_oneof![
        (key(), field(), value(), field(), value())
            .prop_map(|(k, f, v, g, w)| words(&["HSET", &k, &f, &v, &g, &w])),
        (key(), field(), value()).prop_map(|(k, f, v)| words(&["HSETNX", &k, &f, &v])),
        (key(), field()).prop_map(|(k, f)| words(&["HGET", &k, &f])),
        (key(), field(), field()).prop_map(|(k, f, g)| words(&["HMGET", &k, &f, &g])),
        (key(), field(), field()).prop_map(|(k, f, g)| words(&["HDEL", &k, &f, &g])),
        (key(), field()).prop_map(|(k, f)| words(&["HEXISTS", &k, &f])),
        key().prop_map(|k| words(&["HLEN", &k])),
        (key(), field()).prop_map(|(k, f)| words(&["HSTRLEN", &k, &f])),
        key().prop_map(|k| words(&["HGETALL", &k])),
        key().prop_map(|k| words(&["HKEYS", &k])),
        (
            key(),
            field(),
            pick(&["1", "-2", "x", "9223372036854775807"])
        )
            .prop_map(|(k, f, n)| words(&["HINCRBY", &k, &f, &n])),
        (key(), field(), pick(&["0.5", "-1", "x", "1e2"])).prop_map(|(k, f, n)| words(&[
            "HINCRBYFLOAT",
            &k,
            &f,
            &n
        ])),
        key().prop_map(|k| words(&["HSCAN", &k, "0"])),
        (key(), member(), member()).prop_map(|(k, m, n)| words(&["SADD", &k, &m, &n])),
        (key(), member(), member()).prop_map(|(k, m, n)| words(&["SREM", &k, &m, &n])),
        key().prop_map(|k| words(&["SCARD", &k])),
        (key(), member()).prop_map(|(k, m)| words(&["SISMEMBER", &k, &m])),
        (key(), member(), member()).prop_map(|(k, m, n)| words(&["SMISMEMBER", &k, &m, &n])),
        key().prop_map(|k| words(&["SMEMBERS", &k])),
        (key(), key(), member()).prop_map(|(a, b, m)| words(&["SMOVE", &a, &b, &m])),
        (key(), key()).prop_map(|(a, b)| words(&["SINTER", &a, &b])),
        (key(), key()).prop_map(|(a, b)| words(&["SUNION", &a, &b])),
        (key(), key()).prop_map(|(a, b)| words(&["SDIFF", &a, &b])),
        (key(), key()).prop_map(|(a, b)| words(&["SINTERCARD", "2", &a, &b, "LIMIT", "1"])),
        (key(), key(), key()).prop_map(|(d, a, b)| words(&["SINTERSTORE", &d, &a, &b])),
        (key(), key(), key()).prop_map(|(d, a, b)| words(&["SUNIONSTORE", &d, &a, &b])),
        (key(), key(), key()).prop_map(|(d, a, b)| words(&["SDIFFSTORE", &d, &a, &b])),
        key().prop_map(|k| words(&["SSCAN", &k, "0"])),
        (key(), score(), member(), score(), member())
            .prop_map(|(k, s, m, t, n)| words(&["ZADD", &k, &s, &m, &t, &n])),
        (
            key(),
            pick(&["NX", "XX", "GT", "LT", "CH", "INCR"]),
            score(),
            member()
        )
            .prop_map(|(k, o, s, m)| words(&["ZADD", &k, &o, &s, &m])),
        (key(), score(), member()).prop_map(|(k, s, m)| words(&["ZINCRBY", &k, &s, &m])),
        (key(), member(), member()).prop_map(|(k, m, n)| words(&["ZREM", &k, &m, &n])),
        (key(), member()).prop_map(|(k, m)| words(&["ZSCORE", &k, &m])),
        (key(), member(), member()).prop_map(|(k, m, n)| words(&["ZMSCORE", &k, &m, &n])),
        (key(), member()).prop_map(|(k, m)| words(&["ZRANK", &k, &m])),
        (key(), member()).prop_map(|(k, m)| words(&["ZREVRANK", &k, &m])),
        key().prop_map(|k| words(&["ZCARD", &k])),
        (key(), bound(), bound()).prop_map(|(k, a, b)| words(&["ZCOUNT", &k, &a, &b])),
        (key(), lex(), lex()).prop_map(|(k, a, b)| words(&["ZLEXCOUNT", &k, &a, &b])),
        (
            key(),
            pick(&["0", "1", "-1", "-2"]),
            pick(&["0", "1", "-1", "5"])
        )
            .prop_map(|(k, a, b)| words(&["ZRANGE", &k, &a, &b, "WITHSCORES"])),
        (key(), pick(&["0", "-1"]), pick(&["0", "2", "-1"]))
            .prop_map(|(k, a, b)| words(&["ZRANGE", &k, &a, &b, "REV"])),
        (key(), bound(), bound()).prop_map(|(k, a, b)| words(&[
            "ZRANGEBYSCORE",
            &k,
            &a,
            &b,
            "WITHSCORES",
            "LIMIT",
            "1",
            "2"
        ])),
        (key(), bound(), bound()).prop_map(|(k, a, b)| words(&[
            "ZREVRANGEBYSCORE",
            &k,
            &a,
            &b,
            "WITHSCORES"
        ])),
        (key(), lex(), lex()).prop_map(|(k, a, b)| words(&["ZRANGEBYLEX", &k, &a, &b])),
        (key(), lex(), lex()).prop_map(|(k, a, b)| words(&["ZREVRANGEBYLEX", &k, &a, &b])),
        (key(), lex(), lex()).prop_map(|(k, a, b)| words(&["ZREMRANGEBYLEX", &k, &a, &b])),
        (key(), bound(), bound()).prop_map(|(k, a, b)| words(&["ZREMRANGEBYSCORE", &k, &a, &b])),
        key().prop_map(|k| words(&["ZREMRANGEBYRANK", &k, "0", "0"])),
        key().prop_map(|k| words(&["ZPOPMIN", &k])),
        key().prop_map(|k| words(&["ZPOPMAX", &k, "2"])),
        (key(), key()).prop_map(|(a, b)| words(&["ZMPOP", "2", &a, &b, "MIN", "COUNT", "2"])),
        (key(), key()).prop_map(|(a, b)| words(&["ZUNION", "2", &a, &b, "WITHSCORES"])),
        (key(), key(), key()).prop_map(|(d, a, b)| words(&["ZUNIONSTORE", &d, "2", &a, &b])),
        (key(), key(), key()).prop_map(|(d, a, b)| words(&[
            "ZINTERSTORE",
            &d,
            "2",
            &a,
            &b,
            "WEIGHTS",
            "2",
            "-0.5",
            "AGGREGATE",
            "MAX"
        ])),
        (key(), key(), key()).prop_map(|(d, a, b)| words(&["ZDIFFSTORE", &d, "2", &a, &b])),
        (key(), key()).prop_map(|(d, a)| words(&["ZRANGESTORE", &d, &a, "0", "1"])),
        (key(), key()).prop_map(|(a, b)| words(&["ZINTERCARD", "2", &a, &b])),
        (key(), value()).prop_map(|(k, v)| words(&["SET", &k, &v])),
        key().prop_map(|k| words(&["GET", &k])),
        (key(), value()).prop_map(|(k, v)| words(&["APPEND", &k, &v])),
        key().prop_map(|k| words(&["INCR", &k])),
        (key(), value()).prop_map(|(k, v)| words(&["SETRANGE", &k, "1", &v])),
        key().prop_map(|k| words(&["STRLEN", &k])),
        key().prop_map(|k| words(&["TYPE", &k])),
        key().prop_map(|k| words(&["OBJECT", "ENCODING", &k])),
        (key(), key()).prop_map(|(a, b)| words(&["DEL", &a, &b])),
        (key(), key()).prop_map(|(a, b)| words(&["RENAME", &a, &b])),
        (key(), key()).prop_map(|(a, b)| words(&["COPY", &a, &b, "REPLACE"])),
        key().prop_map(|k| words(&["EXISTS", &k])),
        Just(words(&["DBSIZE"])),
    ]
}

/// Whether the reply of `command` is a set whose order is the server's own.
fn unordered(command: &[String]) -> bool {
    matches!(
        command[0].as_str(),
        "SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" | "SSCAN"
    )
}

/// Sends one command to both servers; `Err` describes a difference.
fn compare(pair: &mut Pair, command: &[String]) -> Result<(), String> {
    let args: Vec<&[u8]> = command.iter().map(String::as_bytes).collect();
    let (redis, redigo) = pair.both_args(&args);
    let same = if unordered(command) && redis.starts_with(b"*") {
        let flat = |reply: &[u8]| {
            // SSCAN's reply nests the members after the cursor.
            let reply = if command[0] == "SSCAN" {
                let (_, members) = differential_support::scan_reply(reply);
                members
            } else {
                bulk_array(reply)
            };
            let mut sorted = reply;
            sorted.sort();
            sorted
        };
        flat(&redis) == flat(&redigo)
    } else {
        redis == redigo
    };
    judged(same, command, &redis, &redigo)
}

#[test]
fn random_collection_sequences_reply_as_redis_does() {
    let Some(pair) = Pair::start() else { return };
    let pair = RefCell::new(pair);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let any_command = prop_oneof![3 => command(), 2 => list_command()];
    let sequences = proptest::collection::vec(any_command, MIN_COMMANDS..=MAX_COMMANDS);
    let result = runner.run(&sequences, |sequence| {
        let mut pair = pair.borrow_mut();
        compare(&mut pair, &words(&["FLUSHALL"])).map_err(TestCaseError::fail)?;
        for command in &sequence {
            compare(&mut pair, command).map_err(TestCaseError::fail)?;
        }
        // The final state, key by key.
        for key in KEYS {
            for check in [
                words(&["TYPE", key]),
                words(&["HGETALL", key]),
                words(&["ZRANGE", key, "0", "-1", "WITHSCORES"]),
                words(&["SMEMBERS", key]),
                words(&["LRANGE", key, "0", "-1"]),
                words(&["GET", key]),
            ] {
                compare(&mut pair, &check).map_err(TestCaseError::fail)?;
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
