//! Differential test of `glob::matches` against Redis 7.0's `KEYS`.
//!
//! The oracle is loaded with keys full of glob metacharacters, then every
//! pattern's `KEYS` reply is compared with the keys `matches` accepts.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use redigo_store::glob::{is_match_all, matches};
use redigo_tests::RawConn;

/// Keys loaded into the oracle: every glob metacharacter, escapes, bytes
/// that are negative as a C `char`, a NUL and the empty key.
fn keys() -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = [
        &b""[..],
        b"a",
        b"b",
        b"A",
        b"ab",
        b"ba",
        b"aa",
        b"abc",
        b"aab",
        b"[",
        b"]",
        b"[]",
        b"[a]",
        b"\\",
        b"\\a",
        b"a\\",
        b"*",
        b"a*",
        b"?",
        b"^",
        b"-",
        b"a-b",
        b"\x00",
        b"a\x00b",
        b"\xff",
        b"\x80",
        b"a\xffb",
        b"hello",
        b"hallo",
        b"hillo",
    ]
    .iter()
    .map(|k| k.to_vec())
    .collect();
    // Every two-byte key over a small alphabet.
    for x in b"ab[]\\*-^" {
        for y in b"ab[]\\*-^" {
            keys.push(vec![*x, *y]);
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Splits a RESP2 array of bulk strings (the raw `KEYS` reply) into items.
fn parse_bulk_array(reply: &[u8]) -> BTreeSet<Vec<u8>> {
    bulk_array_items(reply).into_iter().collect()
}

/// The items of a RESP2 array of bulk strings, in order.
fn bulk_array_items(reply: &[u8]) -> Vec<Vec<u8>> {
    fn line(bytes: &[u8], at: &mut usize) -> Vec<u8> {
        let start = *at;
        let end = start
            + bytes[start..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("CRLF");
        *at = end + 2;
        bytes[start..end].to_vec()
    }
    let mut at = 0;
    let header = line(reply, &mut at);
    assert_eq!(header[0], b'*', "not an array: {:?}", reply.escape_ascii());
    let count: usize = std::str::from_utf8(&header[1..]).unwrap().parse().unwrap();
    let mut items = Vec::new();
    for _ in 0..count {
        let head = line(reply, &mut at);
        assert_eq!(head[0], b'$');
        let len: usize = std::str::from_utf8(&head[1..]).unwrap().parse().unwrap();
        items.push(reply[at..at + len].to_vec());
        at += len + 2;
    }
    items
}

fn expected(keys: &[Vec<u8>], pattern: &[u8]) -> BTreeSet<Vec<u8>> {
    keys.iter()
        .filter(|key| is_match_all(pattern) || matches(pattern, key, false))
        .cloned()
        .collect()
}

fn oracle_keys(conn: &mut RawConn, pattern: &[u8]) -> BTreeSet<Vec<u8>> {
    parse_bulk_array(&conn.command(&[b"KEYS", pattern]))
}

fn load(conn: &mut RawConn, keys: &[Vec<u8>]) {
    assert_eq!(conn.command(&[b"FLUSHALL"]), b"+OK\r\n");
    for key in keys {
        assert_eq!(conn.command(&[b"SET", key, b"1"]), b"+OK\r\n");
    }
}

/// Hand-picked patterns covering each branch of `stringmatchlen`.
const PATTERNS: &[&[u8]] = &[
    b"",
    b"*",
    b"**",
    b"***",
    b"a*",
    b"*a",
    b"*a*",
    b"a**",
    b"?",
    b"??",
    b"?*",
    b"*?",
    b"h?llo",
    b"h[ae]llo",
    b"h[^e]llo",
    b"h[a-e]llo",
    b"h[e-a]llo",
    b"[",
    b"[a",
    b"[^",
    b"[^a",
    b"[]",
    b"[]]",
    b"[\\]]",
    b"[\\",
    b"[\\\\]",
    b"[a-]",
    b"[-a]",
    b"[a-b",
    b"[a-\xff]",
    b"[\x80-\xff]",
    b"[^\x80-\xff]",
    b"[*]",
    b"[?]",
    b"[[]",
    b"[\\-]",
    b"\\",
    b"\\\\",
    b"\\*",
    b"\\?",
    b"\\[",
    b"a\\",
    b"*\\",
    b"\\a",
    b"a\x00b",
    b"\x00",
    b"[\x00]",
    b"a*b",
    b"a*b*",
    b"*-*",
    b"^",
    b"[^^]",
];

/// One oracle for all checks: every extra server is another chance of a
/// port race with concurrently running test binaries.
#[test]
fn glob_matches_agree_with_redis_keys() {
    let Some(redis) = redigo_tests::oracle() else {
        return;
    };
    let mut conn = redis.connect();
    hand_picked_patterns(&mut conn);
    nesting_limit(&mut conn);
    case_insensitive_config_names(&mut conn);
    generated_patterns(conn);
}

fn hand_picked_patterns(conn: &mut RawConn) {
    let keys = keys();
    load(conn, &keys);
    for pattern in PATTERNS {
        assert_eq!(
            oracle_keys(conn, pattern),
            expected(&keys, pattern),
            "pattern {:?}",
            pattern.escape_ascii().to_string()
        );
    }
}

/// Parameter names a `CONFIG GET` pattern selects (every other array item).
fn config_names(conn: &mut RawConn, pattern: &[u8]) -> BTreeSet<Vec<u8>> {
    bulk_array_items(&conn.command(&[b"CONFIG", b"GET", pattern]))
        .into_iter()
        .step_by(2)
        .collect()
}

/// `CONFIG GET` is where Redis matches with `nocase` set: compare its
/// selection with `matches(.., true)` over all parameter names. (Patterns
/// without `*`, `?` or `[` are exact look-ups there, so all of these have one.)
fn case_insensitive_config_names(conn: &mut RawConn) {
    let all = config_names(conn, b"*");
    assert!(
        all.len() > 100,
        "CONFIG GET * listed only {} names",
        all.len()
    );
    let patterns: &[&[u8]] = &[
        b"MAX*",
        b"*Memory*",
        b"?AXMEMORY",
        b"[A-C]*",
        b"[a-c]*",
        b"[C-A]*",
        b"[^A-Y]*",
        b"*[-]*",
        b"*-[M-P]*",
        b"[M]axclients",
        b"\\MAXCLIENTS*",
        b"maxclient?",
        b"[\\M]axclients",
        b"*\\S",
        b"*S",
        b"Z*",
    ];
    for pattern in patterns {
        let expected: BTreeSet<Vec<u8>> = all
            .iter()
            .filter(|name| matches(pattern, name, true))
            .cloned()
            .collect();
        assert_eq!(
            config_names(conn, pattern),
            expected,
            "CONFIG GET {:?}",
            pattern.escape_ascii().to_string()
        );
    }
}

fn nesting_limit(conn: &mut RawConn) {
    let keys = vec![vec![b'a'; 1005], vec![b'a'; 999]];
    load(conn, &keys);
    for stars in [999, 1000, 1001, 1002] {
        for tail in [&b""[..], b"a"] {
            let mut pattern = b"a*".repeat(stars);
            pattern.extend_from_slice(tail);
            assert_eq!(
                oracle_keys(conn, &pattern),
                expected(&keys, &pattern),
                "{stars} stars, tail {tail:?}"
            );
        }
    }
}

fn generated_patterns(conn: RawConn) {
    let conn = std::cell::RefCell::new(conn);
    let keys = keys();
    load(&mut conn.borrow_mut(), &keys);
    let alphabet: Vec<u8> = b"ab*?[]^-\\\xff\x00".to_vec();
    let pattern = proptest::collection::vec(proptest::sample::select(alphabet), 0..8);
    let mut runner = TestRunner::new(Config {
        cases: 200,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&pattern, |pattern| {
            prop_assert_eq!(
                oracle_keys(&mut conn.borrow_mut(), &pattern),
                expected(&keys, &pattern),
                "pattern {:?}",
                pattern.escape_ascii().to_string()
            );
            Ok(())
        })
        .unwrap();
}
