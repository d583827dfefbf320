//! The generic key commands (DEL, UNLINK, EXISTS, TOUCH, TYPE, RENAME,
//! RENAMENX, COPY, KEYS, SCAN, RANDOMKEY) and the command metadata of every
//! keyspace command, compared with Redis 7.0.

mod differential_support;

use std::collections::BTreeSet;

use differential_support::{Pair, scan_reply};

/// Every command this family of tests covers, for the metadata comparison.
const KEYSPACE_COMMANDS: &[&str] = &[
    "set",
    "get",
    "getset",
    "getdel",
    "getex",
    "setnx",
    "setex",
    "psetex",
    "mget",
    "mset",
    "msetnx",
    "incr",
    "decr",
    "incrby",
    "decrby",
    "incrbyfloat",
    "append",
    "strlen",
    "getrange",
    "substr",
    "setrange",
    "del",
    "unlink",
    "exists",
    "touch",
    "type",
    "rename",
    "renamenx",
    "copy",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "ttl",
    "pttl",
    "expiretime",
    "pexpiretime",
    "persist",
    "keys",
    "scan",
    "randomkey",
    "lcs",
];

#[test]
fn command_info_and_docs_are_redis_s() {
    let Some(mut p) = Pair::start() else { return };
    for name in KEYSPACE_COMMANDS {
        p.same(&format!("COMMAND INFO {name}"));
        p.same(&format!("COMMAND DOCS {name}"));
    }
    p.same("COMMAND GETKEYS SET k v");
    p.same("COMMAND GETKEYS MSET a 1 b 2");
    p.same("COMMAND GETKEYS COPY a b DB 1");
}

#[test]
fn del_unlink_exists_touch_type() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "MSET a 1 b 2 c 3",
        "EXISTS a b missing a",
        "TOUCH a missing b",
        "TYPE a",
        "TYPE missing",
        "DEL a a missing",
        "UNLINK b c",
        "UNLINK b",
        "EXISTS a b c",
        "DEL",
        "EXISTS",
        "TOUCH",
        "TYPE",
        "TYPE a b",
        "UNLINK",
    ]);
}

#[test]
fn rename_renamenx_and_their_errors() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "RENAME missing x",
        "RENAMENX missing x",
        "RENAME missing missing",
        "SET a 1",
        "RENAME a a",
        "RENAMENX a a",
        "RENAME a b",
        "GET a",
        "GET b",
        "SET c 3",
        "RENAMENX b c",
        "RENAMENX b d",
        "GET d",
        "RENAME d c",
        "GET c",
        "SET t v EX 100",
        "RENAME t u",
        "EXISTS t",
        "RENAME a",
        "RENAMENX a b c",
    ]);
    let (redis, redigo) = p.both_int("TTL u");
    assert!(
        (99..=100).contains(&redis) && (99..=100).contains(&redigo),
        "RENAME keeps the TTL"
    );
}

#[test]
fn copy_options_databases_and_errors() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "COPY missing x",
        "SET a 1",
        "COPY a a",
        "COPY a a DB 0",
        "COPY a a DB 1",
        "COPY a b",
        "GET b",
        "SET b old",
        "COPY a b",
        "GET b",
        "COPY a b REPLACE",
        "GET b",
        "COPY a b replace REPLACE",
        "COPY a x DB 1",
        "COPY a x DB 16",
        "COPY a x DB -1",
        "COPY a x DB abc",
        "COPY a x DB 4294967297",
        "COPY a x DB",
        "COPY a x FOO",
        "COPY a x DB 2 REPLACE extra",
        "COPY missing x DB 99",
        "SELECT 1",
        "GET x",
        "COPY x x DB 0",
        "SELECT 0",
        "COPY",
        "COPY a",
    ]);
}

#[test]
fn keys_patterns() {
    let Some(mut p) = Pair::start() else { return };
    p.same("MSET hello 1 hallo 2 hxllo 3 hllo 4 heeeello 5 a*b 6 a?c 7 [x] 8 bar 9");
    for pattern in [
        "*",
        "h?llo",
        "h*llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[a-b]llo",
        "a\\*b",
        "a\\?c",
        "\\[x\\]",
        "*o",
        "nomatch",
        "[",
        "h[",
        "*[",
        "[a-",
        "b*r",
    ] {
        p.same_set(&format!("KEYS {pattern}"));
    }
    p.script(&["KEYS", "KEYS a b"]);
    p.same("FLUSHDB");
    p.same("KEYS *");
}

#[test]
fn randomkey_on_empty_and_single_key_databases() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&["RANDOMKEY", "SET only 1", "RANDOMKEY", "RANDOMKEY x"]);
}

#[test]
fn scan_argument_errors() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SCAN",
        "SCAN abc",
        "SCAN 1.5",
        "SCAN 0 COUNT 0",
        "SCAN 0 COUNT -1",
        "SCAN 0 COUNT abc",
        "SCAN 0 COUNT",
        "SCAN 0 MATCH",
        "SCAN 0 TYPE",
        "SCAN 0 FOO bar",
        "SCAN abc COUNT 0",
        "SCAN 0 COUNT 0 MATCH",
        "SCAN 0",
        "SCAN 0 COUNT 10 MATCH * TYPE string",
        "SCAN 0 TYPE nosuchtype",
    ]);
}

/// Runs a full SCAN iteration on one connection and returns every key seen.
fn scan_all(conn: &mut redigo_tests::RawConn, options: &str) -> BTreeSet<Vec<u8>> {
    let mut seen = BTreeSet::new();
    let mut cursor = 0;
    loop {
        let mut args: Vec<String> = vec!["SCAN".into(), cursor.to_string()];
        args.extend(
            options
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(String::from),
        );
        let words: Vec<&[u8]> = args.iter().map(String::as_bytes).collect();
        let (next, keys) = scan_reply(&conn.command(&words));
        seen.extend(keys);
        if next == 0 {
            return seen;
        }
        cursor = next;
    }
}

#[test]
fn scan_iterations_return_the_same_key_sets() {
    let Some(mut p) = Pair::start() else { return };
    for i in 0..300 {
        p.same(&format!("SET key:{i} {i}"));
    }
    for options in [
        "",
        "COUNT 7",
        "MATCH key:1*",
        "MATCH key:?5 COUNT 3",
        "TYPE string",
        "TYPE list",
        "COUNT 1000",
    ] {
        let redis = scan_all(&mut p.redis, options);
        let redigo = scan_all(&mut p.redigo, options);
        assert_eq!(redigo, redis, "SCAN {options}");
    }
}

#[test]
fn scan_returns_every_key_present_for_the_whole_iteration() {
    let Some(mut p) = Pair::start() else { return };
    for i in 0..200 {
        p.same(&format!("SET stable:{i} v"));
    }
    let stable: BTreeSet<Vec<u8>> = (0..200)
        .map(|i| format!("stable:{i}").into_bytes())
        .collect();
    for conn in [&mut p.redis, &mut p.redigo] {
        let mut seen = BTreeSet::new();
        let mut cursor = 0u64;
        let mut added = 0;
        loop {
            let cursor_text = cursor.to_string();
            let (next, keys) =
                scan_reply(&conn.command(&[b"SCAN", cursor_text.as_bytes(), b"COUNT", b"5"]));
            seen.extend(keys);
            // Keys added between calls may or may not be returned, but must
            // not make the iteration lose the stable ones.
            for _ in 0..10 {
                let key = format!("added:{added}");
                conn.command(&[b"SET", key.as_bytes(), b"v"]);
                added += 1;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert!(stable.is_subset(&seen), "SCAN lost keys present throughout");
    }
}

/// The value of `field:` in an `INFO` reply.
fn info_field(reply: &[u8], field: &str) -> String {
    let text = differential_support::show(reply);
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO has no {field}"))
        .to_string()
}

#[test]
fn reads_count_keyspace_hits_and_misses_as_redis_does() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET a 1",
        "SET b 2 GET",
        "SET c 3 NX GET",
        "GET a",
        "GET missing",
        "MGET a b missing",
        "GETSET a 5",
        "GETSET new 5",
        "GETDEL new",
        "GETDEL new",
        "GETEX a",
        "GETEX missing",
        "STRLEN a",
        "STRLEN missing",
        "GETRANGE a 0 1",
        "GETRANGE missing 0 1",
        "EXISTS a missing a",
        "TOUCH a missing",
        "TYPE a",
        "TYPE missing",
        "TTL a",
        "PTTL missing",
        "EXPIRETIME a",
        "PEXPIRETIME missing",
        "COPY a z",
        "COPY missing z",
        "COPY a a",
        "INCR counter",
        "APPEND a x",
        "RENAME a q",
        "DEL q",
    ]);
    p.same_set("KEYS *");
    let (redis, redigo) = p.both_args(&[b"INFO", b"stats"]);
    for field in ["keyspace_hits", "keyspace_misses"] {
        assert_eq!(
            info_field(&redigo, field),
            info_field(&redis, field),
            "{field}"
        );
    }
}

#[test]
fn type_and_scan_type_know_hashes_and_sets() {
    let Some(mut p) = Pair::start() else { return };
    for i in 0..30 {
        p.same(&format!("SET str:{i} v"));
        p.same(&format!("HSET hash:{i} f v"));
        p.same(&format!("SADD set:{i} m"));
    }
    p.script(&["TYPE hash:1", "TYPE set:1", "TYPE str:1", "TYPE none"]);
    for options in [
        "TYPE hash",
        "TYPE set",
        "TYPE SET",
        "TYPE string",
        "TYPE zset",
    ] {
        let redis = scan_all(&mut p.redis, options);
        let redigo = scan_all(&mut p.redigo, options);
        assert_eq!(redigo, redis, "SCAN {options}");
    }
}

#[test]
fn object_subcommands_answer_as_redis() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET int 100",
        "SET bigint 10000",
        "SET neg -1",
        "SET emb hello",
        "SET raw aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "HSET h f v",
        "SADD ints 1 2",
        "SADD strs a",
        "OBJECT ENCODING int",
        "OBJECT ENCODING emb",
        "OBJECT ENCODING raw",
        "OBJECT ENCODING h",
        "OBJECT ENCODING ints",
        "OBJECT ENCODING strs",
        "OBJECT ENCODING nokey",
        "OBJECT REFCOUNT int",
        "OBJECT REFCOUNT bigint",
        "OBJECT REFCOUNT neg",
        "OBJECT REFCOUNT emb",
        "OBJECT REFCOUNT h",
        "OBJECT REFCOUNT ints",
        "OBJECT REFCOUNT nokey",
        "OBJECT IDLETIME h",
        "OBJECT IDLETIME nokey",
        "OBJECT FREQ h",
        "OBJECT FREQ nokey",
        "OBJECT HELP",
        "OBJECT help",
        "OBJECT",
        "OBJECT ENCODING",
        "OBJECT ENCODING h extra",
        "OBJECT HELP extra",
        "OBJECT NOSUCH h",
    ]);
}

#[test]
fn memory_usage_arguments_and_shape() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET s v",
        "HSET h f v",
        "SADD set 1",
        "MEMORY USAGE nokey",
        "MEMORY USAGE s SAMPLES x",
        "MEMORY USAGE s SAMPLES -1",
        "MEMORY USAGE s SAMPLES",
        "MEMORY USAGE s FOO",
        "MEMORY USAGE nokey SAMPLES x",
        "MEMORY USAGE",
        "MEMORY",
        "MEMORY NOSUCH",
    ]);
    // The estimate differs from Redis's; both are positive integers and
    // grow with the value.
    for key in ["s", "h", "set"] {
        for samples in [
            &[][..],
            &[&b"SAMPLES"[..], b"0"][..],
            &[&b"SAMPLES"[..], b"3"][..],
        ] {
            let mut args: Vec<&[u8]> = vec![b"MEMORY", b"USAGE", key.as_bytes()];
            args.extend_from_slice(samples);
            let (redis, redigo) = p.both_args(&args);
            assert!(redis.starts_with(b":") && redigo.starts_with(b":"));
            assert!(differential_support::integer_reply(&redigo) > 0);
        }
    }
    let small =
        differential_support::integer_reply(&p.redigo.command(&[b"MEMORY", b"USAGE", b"h"]));
    let mut args: Vec<String> = vec!["HSET".into(), "h".into()];
    for i in 0..1000 {
        args.push(format!("field:{i}"));
        args.push(format!("value:{i}"));
    }
    let refs: Vec<&[u8]> = args.iter().map(String::as_bytes).collect();
    p.same_args(&refs);
    let big = differential_support::integer_reply(&p.redigo.command(&[b"MEMORY", b"USAGE", b"h"]));
    assert!(big > small + 1000 * 14, "{small} -> {big}");
    // HELP lists every subcommand, in Redis's words.
    p.same("MEMORY HELP");
}
