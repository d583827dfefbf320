//! Argument edge cases of the keyspace commands that are easiest to write
//! as raw bytes (NULs, non-UTF-8, signs, spaces, extreme integers),
//! compared byte for byte with Redis 7.0.

mod differential_support;

use differential_support::Pair;

#[test]
fn raw_argument_edge_cases_reply_as_redis_does() {
    let Some(mut p) = Pair::start() else { return };
    let cmds: &[&[&[u8]]] = &[
        &[b"SCAN", b"-1"],
        &[b"SCAN", b" 1"],
        &[b"SCAN", b"18446744073709551615"],
        &[b"SCAN", b"18446744073709551616"],
        &[b"SCAN", b"+0"],
        &[b"SCAN", b""],
        &[b"SET", b"k", b"v"],
        &[b"EXPIRE", b"k", b"10", b"F\x00OO"],
        &[b"EXPIRE", b"k", b"10", b"\xff\xfe"],
        &[b"SCAN", b"0", b"count\x00x", b"5"],
        &[b"SCAN", b"0", b"MATCH", b"k", b"MATCH", b"x"],
        &[b"SCAN", b"0", b"TYPE", b"STRING"],
        &[b"SCAN", b"0", b"COUNT", b"9223372036854775807"],
        &[b"INCRBYFLOAT", b"k2", b"0x10"],
        &[b"INCRBYFLOAT", b"k2", b" 1"],
        &[b"INCRBYFLOAT", b"k2", b"1 "],
        &[b"INCRBYFLOAT", b"k2", b""],
        &[b"INCRBYFLOAT", b"k2", b"-0"],
        &[b"INCRBYFLOAT", b"k2", b"1.0000000000000000000001"],
        &[b"INCRBYFLOAT", b"k2", b"123456789012345678901234567890"],
        &[b"INCRBYFLOAT", b"k2", b"1e-300"],
        &[b"SET", b"k", b"v", b"EX", b"10", b"GET", b"KEEPTTL"],
        &[b"SET", b"k", b"v", b"PXAT", b"9223372036854775807"],
        &[b"GETEX", b"k", b"PXAT", b"9223372036854775807"],
        &[b"EXPIRE", b"k", b"9223372036854775"],
        &[b"PEXPIRE", b"k", b"9223372036854775807"],
        &[b"PEXPIRE", b"k", b"9223372036854775000"],
        &[b"GETRANGE", b"k", b"-1", b"-1"],
        &[b"GETRANGE", b"k", b"0", b"0"],
        &[b"SET", b"e", b""],
        &[b"GETRANGE", b"e", b"0", b"-1"],
        &[b"GETRANGE", b"e", b"-1", b"0"],
        &[b"STRLEN", b"e"],
        &[b"SETRANGE", b"e", b"0", b""],
        &[b"TYPE", b"e"],
        &[b"KEYS", b"*\x00"],
        &[b"KEYS", b"e\x00"],
        &[b"COPY", b"e", b"f", b"db", b"1", b"DB", b"0"],
        &[b"RENAMENX", b"e", b"f"],
        &[b"MSETNX", b"x", b"1", b"x", b"2"],
        &[b"GET", b"x"],
        &[b"DECRBY", b"x", b"-9223372036854775808"],
        &[b"DECRBY", b"missing", b"-9223372036854775808"],
        &[b"INCRBY", b"x", b"-9223372036854775808"],
        &[b"SET", b"big", b"-9223372036854775808"],
        &[b"DECR", b"big"],
        &[b"INCRBY", b"big", b"-1"],
        &[b"INCR", b"big"],
    ];
    p.same_all(cmds);
}

/// Database indexes, numeric configs, HELLO and client ids are read with
/// Redis's strict `string2ll` (`+1`, `01`, `-0` are not integers), and the
/// out-of-range texts are Redis's.
#[test]
fn integer_arguments_are_strict_like_string2ll() {
    let Some(mut p) = Pair::start() else { return };
    let cmds: &[&[&[u8]]] = &[
        &[b"SET", b"k", b"v"],
        &[b"SELECT", b"+1"],
        &[b"SELECT", b"01"],
        &[b"SELECT", b"-0"],
        &[b"SELECT", b" 1"],
        &[b"SELECT", b"99"],
        &[b"SELECT", b"-1"],
        &[b"SELECT", b"2147483648"],
        &[b"SELECT", b"-2147483649"],
        &[b"MOVE", b"k", b"+1"],
        &[b"MOVE", b"k", b"01"],
        &[b"MOVE", b"k", b"-0"],
        &[b"MOVE", b"k", b"99"],
        &[b"MOVE", b"k", b"2147483648"],
        &[b"SWAPDB", b"+1", b"0"],
        &[b"SWAPDB", b"0", b"01"],
        &[b"SWAPDB", b"-0", b"0"],
        &[b"SWAPDB", b"2147483648", b"0"],
        &[b"SWAPDB", b"0", b"2147483648"],
        &[b"SWAPDB", b"99", b"0"],
        &[b"SWAPDB", b"-1", b"0"],
        &[b"COPY", b"k", b"k2", b"DB", b"+1"],
        &[b"COPY", b"k", b"k2", b"DB", b"01"],
        &[b"COPY", b"k", b"k2", b"DB", b"2147483648"],
        &[b"COPY", b"k", b"k2", b"DB", b"99"],
        &[b"CONFIG", b"SET", b"hz", b"+5"],
        &[b"CONFIG", b"SET", b"hz", b"05"],
        &[b"CONFIG", b"SET", b"hz", b"-0"],
        &[b"CONFIG", b"SET", b"hz", b"-5"],
        &[b"CONFIG", b"SET", b"hz", b"2147483648"],
        &[b"CONFIG", b"SET", b"hz", b"600"],
        &[b"CONFIG", b"GET", b"hz"],
        &[b"CONFIG", b"SET", b"hz", b"10"],
        &[b"CONFIG", b"SET", b"timeout", b"+3"],
        &[b"CONFIG", b"SET", b"timeout", b"-1"],
        &[b"CONFIG", b"SET", b"maxclients", b"0"],
        &[b"CONFIG", b"SET", b"maxclients", b"010"],
        &[b"CONFIG", b"SET", b"auto-aof-rewrite-percentage", b"+1"],
        &[b"CONFIG", b"SET", b"proto-max-bulk-len", b"+2mb"],
        &[b"HELLO", b"+2"],
        &[b"HELLO", b"02"],
        &[b"CLIENT", b"KILL", b"ID", b"+1"],
        &[b"CLIENT", b"KILL", b"ID", b"01"],
        &[b"CLIENT", b"LIST", b"ID", b"+1"],
        &[b"CLIENT", b"LIST", b"ID", b"01"],
    ];
    p.same_all(cmds);
}

/// `tcp-keepalive`, `tcp-backlog` and `protected-mode` exist with Redis's
/// defaults, mutability and validation.
#[test]
fn network_configs_match_redis() {
    let Some(mut p) = Pair::start() else { return };
    let cmds: &[&[&[u8]]] = &[
        &[b"CONFIG", b"GET", b"tcp-keepalive"],
        &[b"CONFIG", b"GET", b"tcp-backlog"],
        &[b"CONFIG", b"GET", b"protected-mode"],
        &[b"CONFIG", b"SET", b"tcp-backlog", b"100"],
        &[b"CONFIG", b"SET", b"tcp-keepalive", b"-1"],
        &[b"CONFIG", b"SET", b"tcp-keepalive", b"+60"],
        &[b"CONFIG", b"SET", b"tcp-keepalive", b"60"],
        &[b"CONFIG", b"GET", b"tcp-keepalive"],
        &[b"CONFIG", b"SET", b"tcp-keepalive", b"300"],
        &[b"CONFIG", b"SET", b"protected-mode", b"maybe"],
        &[b"CONFIG", b"SET", b"protected-mode", b"no"],
        &[b"CONFIG", b"GET", b"protected-mode"],
        &[b"CONFIG", b"SET", b"protected-mode", b"yes"],
        // Loopback clients are served in protected mode.
        &[b"PING"],
    ];
    p.same_all(cmds);
}
