//! The set commands, compared byte for byte with Redis 7.0: the same
//! requests go to the oracle and to Redigo and the raw replies must match,
//! errors and their order of precedence included. An `intset` replies in
//! ascending order in both servers, so its replies compare exactly; a
//! `hashtable` one is compared as a set. `SRANDMEMBER` and `SPOP` are
//! random: compared by shape and membership.

mod differential_support;

use std::collections::HashSet;

use differential_support::{Pair, bulk_array, integer_reply, scan_reply, show};

/// Sends `command` to both servers and asserts the same members in any
/// order (a `hashtable` set's order is the server's own).
fn same_members(p: &mut Pair, command: &str) -> HashSet<Vec<u8>> {
    let args: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
    let (redis, redigo) = p.both_args(&args);
    assert_eq!(
        redis[0],
        redigo[0],
        "{command}: {} vs {}",
        show(&redis),
        show(&redigo)
    );
    let (r, g): (Vec<_>, Vec<_>) = (bulk_array(&redis), bulk_array(&redigo));
    assert_eq!(r.len(), g.len(), "{command}");
    let (r, g): (HashSet<_>, HashSet<_>) = (r.into_iter().collect(), g.into_iter().collect());
    assert_eq!(r, g, "{command}");
    g
}

#[test]
fn writes_reads_and_their_errors() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SADD s 3 1 2 1",
        "SADD s 2",
        "SADD s",
        "SMEMBERS s",
        "SCARD s",
        "SCARD nokey",
        "SISMEMBER s 1",
        "SISMEMBER s 9",
        "SISMEMBER nokey 1",
        "SMISMEMBER s 1 9 3",
        "SMISMEMBER nokey 1 2",
        "SMISMEMBER s",
        "SMEMBERS nokey",
        "SREM s 1 9 1",
        "SREM nokey 1",
        "SREM s",
        "SMEMBERS s",
        "SREM s 2 3",
        "EXISTS s",
        "SCARD s",
        "SADD n -5 0 9223372036854775807 -9223372036854775808",
        "SMEMBERS n",
        "SADD n 01",
        "OBJECT ENCODING n",
        "SISMEMBER n 01",
        "SISMEMBER n 1",
    ]);
}

#[test]
fn smove_follows_t_set_c() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SADD a 1 2 3",
        "SET str v",
        "SMOVE a b 1",
        "SMEMBERS a",
        "SMEMBERS b",
        "SMOVE a b 9",
        "SMOVE a a 2",
        "SMOVE a a 9",
        "SMOVE nokey b 1",
        "SMOVE nokey str 1",
        "SMOVE str a 1",
        "SMOVE a str 2",
        "SMOVE a str 9",
        "SMOVE a b 2",
        "SMOVE a b 3",
        "EXISTS a",
        "SMEMBERS b",
        "SMOVE a",
    ]);
}

#[test]
fn set_algebra_and_the_store_forms() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SADD a 1 2 3 4",
        "SADD b 3 4 5",
        "SADD c 4 5 6",
        "SET str v",
        "SINTER a b",
        "SINTER a b c",
        "SINTER a nokey",
        "SINTER nokey str",
        "SINTER a str",
        "SUNION a b c",
        "SUNION nokey",
        "SUNION nokey str",
        "SDIFF a b",
        "SDIFF a b c",
        "SDIFF nokey a",
        "SDIFF a nokey",
        "SDIFF a str",
        "SINTERSTORE d a b",
        "SMEMBERS d",
        "SUNIONSTORE d a c",
        "SMEMBERS d",
        "SDIFFSTORE d a b",
        "SMEMBERS d",
        "SINTERSTORE d a nokey",
        "EXISTS d",
        "SINTERSTORE d a nokey",
        "SINTERSTORE str a b",
        "TYPE str",
        "SMEMBERS str",
        "SET str v EX 100",
        "SUNIONSTORE str a",
        "TTL str",
        "SDIFFSTORE a a b",
        "SMEMBERS a",
        "SINTERSTORE x a str2",
        "SET str2 v",
        "SINTERSTORE x a str2",
        "SUNIONSTORE x",
        "SINTER",
    ]);
}

#[test]
fn sintercard_arguments_and_limit() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SADD a 1 2 3 4",
        "SADD b 2 3 4 5",
        "SET str v",
        "SINTERCARD 2 a b",
        "SINTERCARD 1 a",
        "SINTERCARD 2 a b LIMIT 2",
        "SINTERCARD 2 a b LIMIT 0",
        "SINTERCARD 2 a b LIMIT 10",
        "SINTERCARD 2 a b limit 1 LIMIT 3",
        "SINTERCARD 2 a nokey",
        "SINTERCARD 2 a str",
        "SINTERCARD 2 nokey str",
        "SINTERCARD 0 a",
        "SINTERCARD -1 a",
        "SINTERCARD x a",
        "SINTERCARD 3 a b",
        "SINTERCARD 2 a b LIMIT",
        "SINTERCARD 2 a b LIMIT -1",
        "SINTERCARD 2 a b LIMIT x",
        "SINTERCARD 2 a b FOO 1",
        "SINTERCARD 1 a b",
        "SINTERCARD 1",
    ]);
}

#[test]
fn wrongtype_on_every_path() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&["SET str v", "SADD s m", "HSET h f v"]);
    for command in [
        "SADD str m",
        "SREM str m",
        "SCARD str",
        "SISMEMBER str m",
        "SMISMEMBER str m",
        "SMEMBERS str",
        "SRANDMEMBER str",
        "SRANDMEMBER str 2",
        "SPOP str",
        "SPOP str 2",
        "SSCAN str 0",
        "SADD h m",
        "SCARD h",
        // String commands on a set.
        "GET s",
        "APPEND s x",
        "SETRANGE s 0 x",
        "INCR s",
        "INCRBYFLOAT s 1",
        "STRLEN s",
        "GETRANGE s 0 1",
        "GETDEL s",
        "TYPE s",
    ] {
        p.same(command);
    }
    p.script(&["SMEMBERS s", "GET str"]);
}

#[test]
fn encodings_at_the_thresholds() {
    let Some(mut p) = Pair::start() else { return };
    let mut args: Vec<String> = vec!["SADD".into(), "ints".into()];
    args.extend((0..512).map(|i| i.to_string()));
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    p.same_args(&refs);
    p.script(&[
        "OBJECT ENCODING ints",
        "SADD ints 511",
        "OBJECT ENCODING ints",
        "SADD ints 512",
        "OBJECT ENCODING ints",
        "SREM ints 512 511",
        "OBJECT ENCODING ints",
        "SADD small 1 2 3",
        "OBJECT ENCODING small",
        "SADD small x",
        "OBJECT ENCODING small",
        "SREM small x",
        "OBJECT ENCODING small",
        "SADD strs a",
        "OBJECT ENCODING strs",
        "SINTERSTORE st small small",
        "OBJECT ENCODING st",
        "SUNIONSTORE st2 strs",
        "OBJECT ENCODING st2",
    ]);
    same_members(&mut p, "SMEMBERS ints");
    // CONFIG SET of the threshold applies to later writes only.
    p.script(&[
        "CONFIG SET set-max-intset-entries 2",
        "OBJECT ENCODING small",
        "SADD two 1 2",
        "OBJECT ENCODING two",
        "SADD two 3",
        "OBJECT ENCODING two",
        "CONFIG SET set-max-intset-entries 0",
        "SADD zero 1",
        "OBJECT ENCODING zero",
    ]);
}

#[test]
fn srandmember_and_spop_shapes_and_arguments() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SRANDMEMBER nokey",
        "SRANDMEMBER nokey 3",
        "SRANDMEMBER nokey -3",
        "SRANDMEMBER nokey x",
        "SRANDMEMBER nokey 1 2",
        "SRANDMEMBER nokey -9223372036854775808",
        "SPOP nokey",
        "SPOP nokey 2",
        "SPOP nokey -1",
        "SPOP nokey x",
        "SPOP nokey 1 2",
        "SADD s 1 2 3",
        "SRANDMEMBER s 0",
        "SPOP s 0",
        "SRANDMEMBER s 3",
        "SRANDMEMBER s 10",
        "SPOP s -1",
    ]);
    let members: HashSet<Vec<u8>> = [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()].into();
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let (_, redigo) = p.both_args(&[b"SRANDMEMBER", b"s"]);
        let member = redigo[redigo.len() - 3..redigo.len() - 2].to_vec();
        assert!(members.contains(&member), "{}", show(&redigo));
        seen.insert(member);
    }
    assert_eq!(seen, members, "every member comes up");
    for (count, len, distinct) in [("2", 2, true), ("-7", 7, false)] {
        let (redis, redigo) = p.both_args(&[b"SRANDMEMBER", b"s", count.as_bytes()]);
        let (r, g) = (bulk_array(&redis), bulk_array(&redigo));
        assert_eq!((r.len(), g.len()), (len, len));
        assert!(g.iter().all(|m| members.contains(m)));
        if distinct {
            assert_eq!(g.iter().collect::<HashSet<_>>().len(), len);
        }
    }
    // SPOP: one member, then a count, then the rest; the key goes with
    // its last member in both.
    let (redis, redigo) = p.both_args(&[b"SPOP", b"s"]);
    assert_eq!((redis.len(), redigo.len()), (7, 7), "{}", show(&redigo));
    let (redis, redigo) = p.both_args(&[b"SPOP", b"s", b"1"]);
    assert_eq!(
        (bulk_array(&redis).len(), bulk_array(&redigo).len()),
        (1, 1)
    );
    let (redis, redigo) = p.both_args(&[b"SPOP", b"s", b"5"]);
    assert_eq!(
        (bulk_array(&redis).len(), bulk_array(&redigo).len()),
        (1, 1)
    );
    p.script(&["EXISTS s", "SPOP s", "SPOP s 1"]);
    // Popping members of a big set: distinct, from the set, removed.
    let mut args: Vec<String> = vec!["SADD".into(), "big".into()];
    args.extend((0..100).map(|i| format!("m{i}")));
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    p.same_args(&refs);
    let (_, redigo) = p.both_args(&[b"SPOP", b"big", b"30"]);
    let popped: HashSet<Vec<u8>> = bulk_array(&redigo).into_iter().collect();
    assert_eq!(popped.len(), 30);
    let left = bulk_array(&p.redigo.command(&[b"SMEMBERS", b"big"]));
    assert_eq!(left.len(), 70);
    assert!(left.iter().all(|m| !popped.contains(m)));
    assert_eq!(integer_reply(&p.redigo.command(&[b"SCARD", b"big"])), 70);
}

#[test]
fn sscan_returns_a_small_set_whole_with_cursor_0() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SSCAN nokey 0",
        "SSCAN nokey 0 COUNT 0",
        "SSCAN nokey x",
        "SADD s 1 2 10 20",
        "SSCAN s 0",
        "SSCAN s 0 MATCH 1*",
        "SSCAN s 0 COUNT 1",
        "SSCAN s 0 COUNT 0",
        "SSCAN s 0 MATCH",
        "SSCAN s 0 TYPE set",
        "SSCAN s 5",
        "SSCAN s -1",
    ]);
    let mut args: Vec<String> = vec!["SADD".into(), "big".into()];
    args.extend((0..300).map(|i| format!("m{i}")));
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    p.same_args(&refs);
    let mut cursor = 0u64;
    let mut members = HashSet::new();
    loop {
        let c = cursor.to_string();
        let (next, items) = scan_reply(&p.redigo.command(&[b"SSCAN", b"big", c.as_bytes()]));
        members.extend(items);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(members.len(), 300);
}
