//! The string commands, compared byte for byte with Redis 7.0: the same
//! requests go to the oracle and to Redigo and the raw replies must match,
//! errors and their order of precedence included.

mod differential_support;

use differential_support::Pair;

#[test]
fn set_options_and_their_conflicts() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET k v",
        "GET k",
        "SET k v2 NX",
        "SET k v2 XX",
        "GET k",
        "SET missing v XX",
        "GET missing",
        "SET k v3 nx get",
        "SET k v4 XX GET",
        "SET fresh v NX GET",
        "SET k v NX XX",
        "SET k v XX NX",
        "SET k v EX 10 PX 100",
        "SET k v EX 10 KEEPTTL",
        "SET k v KEEPTTL PX 10",
        "SET k v EXAT 10 PXAT 10",
        "SET k v EX",
        "SET k v PERSIST",
        "SET k v GETX",
        "SET k v EX 0",
        "SET k v EX -5",
        "SET k v PX 0",
        "SET k v EXAT 0",
        "SET k v PXAT -1",
        "SET k v EX 9223372036854775807",
        "SET k v EX 9223372036854776",
        "SET k v PX 9223372036854775807",
        "SET k v EX abc",
        "SET k v EX 1.5",
        "SET k v EX +5",
        "SET k v EX 10 EX 20",
        "SET k v KEEPTTL KEEPTTL",
        "SET k v NX NX",
        "SET k v GET GET",
        "SET",
        "SET k",
        "GET",
        "GET k extra",
    ]);
    // Bad expire times are found before the GET lookup; syntax before both.
    p.script(&[
        "SET k v GET EX 0",
        "SET k v GET EX notanumber",
        "SET k v GET NX XX",
    ]);
}

#[test]
fn set_keepttl_keeps_and_plain_set_clears_the_ttl() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&["SET k v EX 100", "SET k v2 KEEPTTL", "GET k"]);
    let (redis, redigo) = p.both_int("TTL k");
    assert!((99..=100).contains(&redis) && (99..=100).contains(&redigo));
    p.script(&["SET k v3", "TTL k", "SET k v PXAT 1", "GET k", "EXISTS k"]);
    p.script(&["SET k v EXAT 1", "GET k", "SET k v KEEPTTL", "TTL k"]);
}

#[test]
fn get_family_and_setnx_setex() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "GET nothing",
        "GETSET k v1",
        "GETSET k v2",
        "GET k",
        "GETDEL k",
        "GETDEL k",
        "GET k",
        "SETNX k a",
        "SETNX k b",
        "GET k",
        "SETNX k",
        "SETEX k 100 v",
        "GET k",
        "SETEX k 0 v",
        "SETEX k -1 v",
        "SETEX k abc v",
        "SETEX k 9223372036854775807 v",
        "PSETEX k 100000 v",
        "PSETEX k 0 v",
        "PSETEX k x v",
        "PSETEX k 9223372036854775807 v",
        "SETEX k 10",
        "GETSET k",
        "GETDEL",
    ]);
}

#[test]
fn getex_options_and_their_order_of_checks() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "GETEX missing",
        "GETEX missing EX notanumber",
        "GETEX missing EX 0",
        "GETEX missing NX",
        "SET k v",
        "GETEX k",
        "TTL k",
        "GETEX k EX 100",
        "GETEX k PERSIST",
        "TTL k",
        "GETEX k PERSIST",
        "GETEX k PX 100000",
        "GETEX k EX 0",
        "GETEX k EX -1",
        "GETEX k EX abc",
        "GETEX k EX 9223372036854775807",
        "GETEX k PERSIST EX 10",
        "GETEX k EX 10 PERSIST",
        "GETEX k EX 10 PX 10",
        "GETEX k KEEPTTL",
        "GETEX k EX",
        "GETEX k EXAT 1",
        "GET k",
        "SET k v",
        "GETEX k PXAT 1",
        "EXISTS k",
        "GETEX",
    ]);
    p.script(&["SET k v", "GETEX k EXAT 99999999999"]);
    let (redis, redigo) = p.both_int("EXPIRETIME k");
    assert_eq!((redis, redigo), (99_999_999_999, 99_999_999_999));
}

#[test]
fn mget_mset_msetnx() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "MSET a 1 b 2 c 3",
        "MGET a b c missing a",
        "MSET a 1 b",
        "MSET a",
        "MSET a 10 a 11",
        "GET a",
        "MSETNX a 1 z 2",
        "EXISTS z",
        "MSETNX y 1 z 2",
        "MGET y z",
        "MSETNX y",
        "MSETNX q 1 r",
        "MSETNX n 1 n 2",
        "GET n",
        "MGET",
    ]);
}

#[test]
fn counters_and_their_overflows() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "INCR n",
        "INCR n",
        "DECR n",
        "INCRBY n 10",
        "DECRBY n 3",
        "INCRBY n -20",
        "DECRBY n -20",
        "INCRBY n abc",
        "INCRBY n 1.5",
        "INCRBY n +1",
        "INCRBY n 9223372036854775808",
        "DECRBY n -9223372036854775808",
        "SET max 9223372036854775807",
        "INCR max",
        "INCRBY max 0",
        "SET min -9223372036854775808",
        "DECR min",
        "DECRBY min 1",
        "SET s hello",
        "INCR s",
        "SET s 012",
        "INCR s",
        "SET s ' 1'",
        "INCR s",
        "SET s 10",
        "INCRBY s 5",
        "GET s",
        "INCR",
        "INCRBY n",
        "DECRBY n",
    ]);
}

#[test]
fn incrbyfloat_formats_as_redis_does() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "INCRBYFLOAT f 10.5",
        "INCRBYFLOAT f 0.1",
        "INCRBYFLOAT f -5",
        "INCRBYFLOAT f 5.0e3",
        "INCRBYFLOAT f 2.0e-3",
        "INCRBYFLOAT f abc",
        "INCRBYFLOAT f inf",
        "INCRBYFLOAT f nan",
        "INCRBYFLOAT f 1e400",
        "SET f 1.7976931348623157e308",
        "INCRBYFLOAT f 1.7976931348623157e308",
        "SET f notanumber",
        "INCRBYFLOAT f 1",
        "SET f 3",
        "INCRBYFLOAT f 0",
        "INCRBYFLOAT f 1.1",
        "INCRBYFLOAT f -4.1",
        "INCRBYFLOAT",
    ]);
    p.script(&["SET t 1 EX 100", "INCRBYFLOAT t 1"]);
    let (redis, redigo) = p.both_int("TTL t");
    assert!(redis > 0 && redigo > 0, "INCRBYFLOAT keeps the TTL");
}

#[test]
fn append_strlen_getrange_setrange() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "APPEND s Hello",
        "APPEND s World",
        "STRLEN s",
        "STRLEN missing",
        "GETRANGE s 0 4",
        "GETRANGE s -5 -1",
        "GETRANGE s -1 -5",
        "GETRANGE s 5 2",
        "GETRANGE s 0 -1",
        "GETRANGE s -100 100",
        "GETRANGE s 100 200",
        "GETRANGE s 9 9",
        "GETRANGE s 0 9223372036854775807",
        "GETRANGE s -9223372036854775808 -1",
        "GETRANGE missing 0 -1",
        "GETRANGE s a 1",
        "GETRANGE s 1 b",
        "GETRANGE missing a 1",
        "SUBSTR s 1 3",
        "SUBSTR s 1",
        "SETRANGE s 5 ___",
        "GET s",
        "SETRANGE s 20 tail",
        "GET s",
        "SETRANGE s 0 ''",
        "SETRANGE fresh 3 abc",
        "GET fresh",
        "SETRANGE empty 3 ''",
        "EXISTS empty",
        "SETRANGE s -1 x",
        "SETRANGE s abc x",
        "SETRANGE s 536870912 x",
        "SETRANGE new 536870911 xy",
        "SETRANGE new 9223372036854775807 x",
        "EXISTS new",
        "SETRANGE s 536870912 ''",
        "APPEND e ''",
        "EXISTS e",
        "STRLEN e",
        "APPEND",
        "SETRANGE s 1",
    ]);
}

#[test]
fn binary_values_and_keys_are_kept_exactly() {
    let Some(mut p) = Pair::start() else { return };
    let key: &[u8] = b"bin\x00key\r\n";
    let value: &[u8] = b"\x00\x01\xff\r\n$3\r\n\x00";
    p.same_args(&[b"SET", key, value]);
    p.same_args(&[b"GET", key]);
    p.same_args(&[b"APPEND", key, b"\x00"]);
    p.same_args(&[b"STRLEN", key]);
    p.same_args(&[b"GETRANGE", key, b"1", b"4"]);
    p.same_args(&[b"SETRANGE", key, b"2", b"\r\n"]);
    p.same_args(&[b"MGET", key, b"bin"]);
    // Options are read as C strings: what follows a NUL is ignored.
    p.same_args(&[b"SET", b"k", b"v", b"NX\x00junk"]);
    p.same_args(&[b"SET", b"k", b"v", b"XX\x00", b"GET"]);
    p.same_args(&[b"GETEX", key, b"PERSIST\x00x"]);
}

#[test]
fn string_size_limit_follows_config_set_proto_max_bulk_len() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "CONFIG SET proto-max-bulk-len 1048576",
        "SETRANGE k 1048576 x",
        "SETRANGE k 1048575 x",
        "STRLEN k",
        "APPEND k x",
        "APPEND k ''",
        "SETRANGE k 1048576 ''",
        "SETRANGE k -1 x",
        "STRLEN k",
        "APPEND fresh x",
    ]);
}

#[test]
fn lcs_subsequence_length_and_ranges() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "MSET key1 ohmytext key2 mynewtext",
        "LCS key1 key2",
        "LCS key1 key2 LEN",
        "LCS key1 key2 IDX",
        "LCS key1 key2 IDX MINMATCHLEN 4",
        "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN",
        "LCS key1 key2 idx withmatchlen minmatchlen -5",
        "LCS key1 key2 IDX LEN",
        "LCS key1 key2 MINMATCHLEN",
        "LCS key1 key2 MINMATCHLEN x",
        "LCS key1 key2 FOO",
        "LCS key1 missing",
        "LCS missing missing IDX",
        "LCS key1 key1 IDX WITHMATCHLEN",
        "MSET x aaaabbbbaaaa y abababab",
        "LCS x y",
        "LCS y x IDX WITHMATCHLEN",
        "MSET p GTTACGATCGATGCCG q CTAAGTCCGTAGCAAG",
        "LCS p q IDX WITHMATCHLEN",
        "LCS q p",
        "CONFIG SET proto-max-bulk-len 1mb",
        "SET la 1",
        "LCS key1",
    ]);
    let long_a = "ab".repeat(500);
    let long_b = "ba".repeat(500);
    p.same_args(&[b"MSET", b"la", long_a.as_bytes(), b"lb", long_b.as_bytes()]);
    p.script(&[
        "LCS la lb LEN",
        "CONFIG SET proto-max-bulk-len 512mb",
        "LCS la lb LEN",
    ]);
}
