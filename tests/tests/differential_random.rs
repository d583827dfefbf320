//! Random command sequences over the string and keyspace commands, sent to
//! Redis 7.0 and to Redigo: every reply must be byte-identical.
//!
//! The alphabet is small (three keys, a handful of values chosen to hit
//! numeric edge cases) so that commands keep meeting each other's keys.
//! Commands whose replies depend on time (TTL, PTTL) or on hash order
//! (SCAN, RANDOMKEY) are left out; KEYS is compared as a set. TTLs are set
//! far in the future, so no key expires during a sequence.

mod differential_support;

use std::cell::RefCell;

use differential_support::{Pair, bulk_array, judged};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Sequences per run.
const CASES: u32 = 64;
/// Shortest and longest sequence.
const MIN_COMMANDS: usize = 20;
const MAX_COMMANDS: usize = 60;

const KEYS: &[&str] = &["a", "b", "c"];
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "10",
    "x",
    "hello",
    "9223372036854775807",
    "-9223372036854775808",
    "1.5",
    "1e3",
    " 1",
    "a\0b",
    "\r\n",
];
const INTEGERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "5",
    "-3",
    "100",
    "abc",
    "9223372036854775807",
];

fn key() -> impl Strategy<Value = String> {
    proptest::sample::select(KEYS).prop_map(String::from)
}

fn value() -> impl Strategy<Value = String> {
    proptest::sample::select(VALUES).prop_map(String::from)
}

fn integer() -> impl Strategy<Value = String> {
    proptest::sample::select(INTEGERS).prop_map(String::from)
}

/// One option from `options`, or none.
fn maybe(options: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    proptest::option::of(proptest::sample::select(options)).prop_map(|o| {
        o.map(|w| w.split(' ').map(String::from).collect())
            .unwrap_or_default()
    })
}

fn words(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_string()).collect()
}

/// A command of the alphabet.
fn command() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        (
            key(),
            value(),
            maybe(&[
                "NX",
                "XX",
                "GET",
                "KEEPTTL",
                "EX 1000",
                "PX 100000",
                "NX GET",
                "XX GET",
                "EX 0"
            ])
        )
            .prop_map(|(k, v, o)| [words(&["SET", &k, &v]), o].concat()),
        key().prop_map(|k| words(&["GET", &k])),
        (key(), value()).prop_map(|(k, v)| words(&["GETSET", &k, &v])),
        key().prop_map(|k| words(&["GETDEL", &k])),
        (key(), maybe(&["PERSIST", "EX 1000", "PXAT 1", "EX -1"])).prop_map(|(k, o)| [
            words(&["GETEX", &k]),
            o
        ]
        .concat()),
        (key(), value()).prop_map(|(k, v)| words(&["SETNX", &k, &v])),
        (key(), key()).prop_map(|(a, b)| words(&["MGET", &a, &b, "missing"])),
        (key(), value(), key(), value()).prop_map(|(a, x, b, y)| words(&["MSET", &a, &x, &b, &y])),
        (key(), value(), key(), value())
            .prop_map(|(a, x, b, y)| words(&["MSETNX", &a, &x, &b, &y])),
        key().prop_map(|k| words(&["INCR", &k])),
        key().prop_map(|k| words(&["DECR", &k])),
        (key(), integer()).prop_map(|(k, n)| words(&["INCRBY", &k, &n])),
        (key(), integer()).prop_map(|(k, n)| words(&["DECRBY", &k, &n])),
        (
            key(),
            proptest::sample::select(&["0.1", "-2.5", "1e2", "x", "3"][..])
        )
            .prop_map(|(k, n)| words(&["INCRBYFLOAT", &k, n])),
        (key(), value()).prop_map(|(k, v)| words(&["APPEND", &k, &v])),
        key().prop_map(|k| words(&["STRLEN", &k])),
        (
            key(),
            key(),
            maybe(&["LEN", "IDX", "IDX WITHMATCHLEN MINMATCHLEN 2"])
        )
            .prop_map(|(a, b, o)| [words(&["LCS", &a, &b]), o].concat()),
        (key(), integer(), integer()).prop_map(|(k, s, e)| words(&["GETRANGE", &k, &s, &e])),
        (
            key(),
            proptest::sample::select(&["0", "2", "-1", "x", "7"][..]),
            value()
        )
            .prop_map(|(k, o, v)| words(&["SETRANGE", &k, o, &v])),
        (key(), key()).prop_map(|(a, b)| words(&["DEL", &a, &b])),
        key().prop_map(|k| words(&["UNLINK", &k])),
        (key(), key()).prop_map(|(a, b)| words(&["EXISTS", &a, &b, &a])),
        key().prop_map(|k| words(&["TOUCH", &k])),
        key().prop_map(|k| words(&["TYPE", &k])),
        (key(), key()).prop_map(|(a, b)| words(&["RENAME", &a, &b])),
        (key(), key()).prop_map(|(a, b)| words(&["RENAMENX", &a, &b])),
        (
            key(),
            key(),
            maybe(&["REPLACE", "DB 1", "DB 1 REPLACE", "DB 0"])
        )
            .prop_map(|(a, b, o)| [words(&["COPY", &a, &b]), o].concat()),
        (
            key(),
            proptest::sample::select(&["1000", "-1", "0", "x"][..]),
            maybe(&["NX", "XX", "GT", "LT", "NX XX", "XX LT"])
        )
            .prop_map(|(k, t, o)| [words(&["EXPIRE", &k, t]), o].concat()),
        key().prop_map(|k| words(&["PERSIST", &k])),
        Just(words(&["DBSIZE"])),
        Just(words(&["KEYS", "*"])),
    ]
}

/// Sends one command to both servers; `Err` describes a difference.
fn compare(pair: &mut Pair, command: &[String]) -> Result<(), String> {
    let args: Vec<&[u8]> = command.iter().map(String::as_bytes).collect();
    let (redis, redigo) = pair.both_args(&args);
    let same = if command[0] == "KEYS" {
        let (mut r, mut g) = (bulk_array(&redis), bulk_array(&redigo));
        r.sort();
        g.sort();
        r == g
    } else {
        redis == redigo
    };
    judged(same, command, &redis, &redigo)
}

#[test]
fn random_sequences_reply_as_redis_does() {
    let Some(pair) = Pair::start() else { return };
    let pair = RefCell::new(pair);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let sequences = proptest::collection::vec(command(), MIN_COMMANDS..=MAX_COMMANDS);
    let result = runner.run(&sequences, |sequence| {
        let mut pair = pair.borrow_mut();
        for reset in [&words(&["FLUSHALL"]), &words(&["SELECT", "0"])] {
            compare(&mut pair, reset).map_err(TestCaseError::fail)?;
        }
        for command in &sequence {
            compare(&mut pair, command).map_err(TestCaseError::fail)?;
        }
        // The final contents of both databases must agree too.
        for check in [
            words(&["MGET", "a", "b", "c"]),
            words(&["SELECT", "1"]),
            words(&["MGET", "a", "b", "c"]),
            words(&["SELECT", "0"]),
        ] {
            compare(&mut pair, &check).map_err(TestCaseError::fail)?;
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
