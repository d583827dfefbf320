//! The hash commands, compared byte for byte with Redis 7.0: the same
//! requests go to the oracle and to Redigo and the raw replies must match,
//! errors and their order of precedence included. A small hash is a
//! `listpack` in both, kept in insertion order, so its replies compare
//! exactly; a `hashtable` one is compared as a set of pairs. `HRANDFIELD`
//! is random: its replies are compared by shape and membership.

mod differential_support;

use std::collections::HashSet;

use differential_support::{Pair, bulk_array, scan_reply, show};

#[test]
fn writes_reads_and_their_errors() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "HSET h a 1 b 2",
        "HSET h a 10 c 3",
        "HSET h a",
        "HSET h a 1 b",
        "HSET h",
        "HMSET h d 4 e 5",
        "HMSET h d",
        "HSETNX h a 99",
        "HSETNX h z 26",
        "HSETNX h",
        "HGET h a",
        "HGET h nosuch",
        "HGET nokey a",
        "HMGET h a nosuch b",
        "HMGET nokey a b",
        "HMGET h",
        "HEXISTS h a",
        "HEXISTS h nosuch",
        "HEXISTS nokey a",
        "HLEN h",
        "HLEN nokey",
        "HSTRLEN h a",
        "HSTRLEN h nosuch",
        "HSTRLEN nokey a",
        "HKEYS h",
        "HVALS h",
        "HGETALL h",
        "HKEYS nokey",
        "HVALS nokey",
        "HGETALL nokey",
        "HDEL h a nosuch a",
        "HDEL h",
        "HDEL nokey a",
        "HGETALL h",
        "HDEL h b c d e z",
        "EXISTS h",
        "HGETALL h",
        "HLEN h extra",
    ]);
}

#[test]
fn counters_follow_t_hash_c() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "HINCRBY h n 5",
        "HINCRBY h n -7",
        "HINCRBY h n x",
        "HINCRBY h n 1.5",
        "HINCRBY h n 9223372036854775807",
        "HSET h s hello big 9223372036854775807 f 1.5",
        "HINCRBY h s 1",
        "HINCRBY h big 1",
        "HINCRBY h f 1",
        "HINCRBYFLOAT h f 0.1",
        "HINCRBYFLOAT h n 10.5",
        "HINCRBYFLOAT h new 3",
        "HINCRBYFLOAT h new 1e3",
        "HINCRBYFLOAT h s 1",
        "HINCRBYFLOAT h f x",
        "HINCRBYFLOAT h f nan",
        "HINCRBYFLOAT h f inf",
        "HINCRBYFLOAT h f -inf",
        "HINCRBYFLOAT h f 1.7976931348623157e308",
        "HSET h huge 1e4932",
        "HINCRBYFLOAT h huge 1e4932",
        "HINCRBYFLOAT h f 5e-1",
        "HMGET h s n f new big huge",
        "HLEN h",
        "HINCRBY",
        "HINCRBYFLOAT h f",
    ]);
    // The increment is read before the key: a bad number wins over WRONGTYPE.
    p.script(&[
        "SET str v",
        "HINCRBY str f x",
        "HINCRBYFLOAT str f x",
        "HINCRBYFLOAT str f inf",
        "HINCRBY str f 1",
    ]);
}

#[test]
fn wrongtype_on_every_path() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&["SET str v", "HSET h f v", "SADD s m"]);
    for command in [
        "HSET str f v",
        "HMSET str f v",
        "HSETNX str f v",
        "HGET str f",
        "HMGET str f",
        "HDEL str f",
        "HEXISTS str f",
        "HLEN str",
        "HSTRLEN str f",
        "HKEYS str",
        "HVALS str",
        "HGETALL str",
        "HINCRBY str f 1",
        "HINCRBYFLOAT str f 1",
        "HRANDFIELD str",
        "HRANDFIELD str 2",
        "HRANDFIELD str -2 WITHVALUES",
        "HSCAN str 0",
        "HGET s f",
        // String commands on a hash.
        "GET h",
        "SET h v XX GET",
        "GETSET h v",
        "GETDEL h",
        "GETEX h",
        "APPEND h x",
        "SETRANGE h 0 x",
        "GETRANGE h 0 1",
        "STRLEN h",
        "INCR h",
        "INCRBY h 2",
        "DECR h",
        "DECRBY h 2",
        "INCRBYFLOAT h 1.5",
        "LCS h str",
        "MGET h str",
        "TYPE h",
        "TYPE s",
        "TYPE str",
    ] {
        p.same(command);
    }
    // Nothing changed on the failed paths.
    p.script(&[
        "HGETALL h",
        "GET str",
        "SETNX h v",
        "MSETNX h v x y",
        "EXISTS x",
    ]);
    // A plain SET overwrites a hash, whatever its kind.
    p.script(&["SET h v", "TYPE h", "GET h"]);
}

#[test]
fn encodings_at_the_thresholds() {
    let Some(mut p) = Pair::start() else { return };
    // 512 fields stay a listpack; the 513th converts; deleting never
    // converts back.
    let mut args: Vec<String> = vec!["HSET".into(), "big".into()];
    for i in 0..512 {
        args.push(format!("f{i}"));
        args.push(format!("{i}"));
    }
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    p.same_args(&refs);
    p.script(&[
        "OBJECT ENCODING big",
        "HLEN big",
        "HSETNX big f0 x",
        "OBJECT ENCODING big",
    ]);
    p.script(&[
        "HSET big f512 x",
        "OBJECT ENCODING big",
        "HDEL big f512 f511",
        "OBJECT ENCODING big",
    ]);
    // A value or a field longer than 64 bytes converts.
    let v64 = "v".repeat(64);
    let v65 = "v".repeat(65);
    p.same_args(&[b"HSET", b"long", b"f", v64.as_bytes()]);
    p.same("OBJECT ENCODING long");
    p.same_args(&[b"HSET", b"long", b"g", v65.as_bytes()]);
    p.same("OBJECT ENCODING long");
    p.same_args(&[b"HSET", b"longfield", v65.as_bytes(), b"1"]);
    p.same("OBJECT ENCODING longfield");
    p.same_args(&[b"HSETNX", b"nx", v65.as_bytes(), b"1"]);
    p.same("OBJECT ENCODING nx");
    // A hashtable's reads compare as sets.
    for command in ["HGETALL big", "HKEYS big", "HVALS big"] {
        let (redis, redigo) =
            p.both_args(&command.split(' ').map(str::as_bytes).collect::<Vec<_>>());
        let (r, g): (HashSet<_>, HashSet<_>) = (
            bulk_array(&redis).into_iter().collect(),
            bulk_array(&redigo).into_iter().collect(),
        );
        assert_eq!(r, g, "{command}");
    }
}

#[test]
fn hrandfield_arguments_and_shapes() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "HRANDFIELD nokey",
        "HRANDFIELD nokey 3",
        "HRANDFIELD nokey -3 WITHVALUES",
        "HRANDFIELD nokey x",
        "HRANDFIELD nokey 1 WITHVALUE",
        "HRANDFIELD nokey 1 WITHVALUES extra",
        "HRANDFIELD nokey -9223372036854775808",
        "HRANDFIELD nokey 9223372036854775807",
        "HRANDFIELD nokey 4611686018427387904 WITHVALUES",
        "HRANDFIELD nokey -4611686018427387904 WITHVALUES",
        "HSET h a 1 b 2 c 3",
        "HRANDFIELD h 0",
        "HRANDFIELD h 0 WITHVALUES",
        "HRANDFIELD h 3",
        "HRANDFIELD h 4611686018427387904 WITHVALUES",
    ]);
    let fields: HashSet<Vec<u8>> = [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()].into();
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let (redis, redigo) = p.both_args(&[b"HRANDFIELD", b"h"]);
        assert_eq!(redis[0], redigo[0], "{}", show(&redigo));
        let field = redigo[redigo.len() - 3..redigo.len() - 2].to_vec();
        assert!(fields.contains(&field));
        seen.insert(field);
    }
    assert_eq!(seen, fields, "every field comes up");
    for (count, with_values, len, distinct) in [
        ("2", false, 2, true),
        ("5", false, 3, true),
        ("-5", false, 5, false),
        ("-5", true, 10, false),
        ("2", true, 4, true),
    ] {
        let mut args: Vec<&[u8]> = vec![b"HRANDFIELD", b"h", count.as_bytes()];
        if with_values {
            args.push(b"WITHVALUES");
        }
        let (redis, redigo) = p.both_args(&args);
        let (r, g) = (bulk_array(&redis), bulk_array(&redigo));
        assert_eq!((r.len(), g.len()), (len, len), "{count} {with_values}");
        let step = if with_values { 2 } else { 1 };
        let picked: Vec<&Vec<u8>> = g.iter().step_by(step).collect();
        assert!(picked.iter().all(|f| fields.contains(*f)));
        if distinct {
            assert_eq!(picked.iter().collect::<HashSet<_>>().len(), picked.len());
        }
        if with_values {
            for pair in g.chunks(2) {
                let expected = match &pair[0][..] {
                    b"a" => b"1",
                    b"b" => b"2",
                    _ => b"3",
                };
                assert_eq!(&pair[1][..], expected);
            }
        }
    }
}

#[test]
fn hscan_returns_a_small_hash_whole_with_cursor_0() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "HSCAN nokey 0",
        "HSCAN nokey 0 COUNT 0",
        "HSCAN nokey x",
        "HSET h a 1 b 2 ab 3",
        "HSCAN h 0",
        "HSCAN h 0 MATCH a*",
        "HSCAN h 0 MATCH * COUNT 1",
        "HSCAN h 0 COUNT 0",
        "HSCAN h 0 COUNT -1",
        "HSCAN h 0 COUNT x",
        "HSCAN h 0 MATCH",
        "HSCAN h 0 TYPE hash",
        "HSCAN h 0 FOO bar",
        "HSCAN h -1",
        "HSCAN h 18446744073709551616",
        "HSCAN h 7",
        "HSCAN h",
    ]);
    // A hashtable is iterated by cursor: every field comes back.
    let mut args: Vec<String> = vec!["HSET".into(), "big".into()];
    for i in 0..600 {
        args.push(format!("f{i}"));
        args.push(format!("{i}"));
    }
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    p.same_args(&refs);
    let mut cursor = 0u64;
    let mut fields = HashSet::new();
    loop {
        let c = cursor.to_string();
        let reply = p
            .redigo
            .command(&[b"HSCAN", b"big", c.as_bytes(), b"COUNT", b"50"]);
        let (next, items) = scan_reply(&reply);
        for pair in items.chunks(2) {
            fields.insert(pair[0].clone());
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(fields.len(), 600);
}

#[test]
fn encodings_follow_config_set_of_the_thresholds() {
    let Some(mut p) = Pair::start() else { return };
    // An increment that makes the value longer than the limit converts.
    p.script(&[
        "CONFIG SET hash-max-listpack-value 3",
        "HSET inc n 99",
        "OBJECT ENCODING inc",
        "HINCRBY inc n 1000",
        "OBJECT ENCODING inc",
        "HSET incf n 1",
        "HINCRBYFLOAT incf n 0.125",
        "OBJECT ENCODING incf",
    ]);
    // CONFIG SET of the thresholds applies to later writes only.
    p.script(&[
        "CONFIG SET hash-max-listpack-value 64",
        "CONFIG SET hash-max-listpack-entries 2",
        "HSET few a 1 b 2",
        "OBJECT ENCODING few",
        "HSET few c 3",
        "OBJECT ENCODING few",
        "CONFIG SET hash-max-ziplist-entries 0",
        "HSET zero a 1",
        "OBJECT ENCODING zero",
        "CONFIG SET hash-max-listpack-entries 512",
    ]);
}

/// The name/value pairs of a `CONFIG GET` reply, in any order (Redis's
/// order is its dictionary's).
fn config_pairs(reply: &[u8]) -> HashSet<(Vec<u8>, Vec<u8>)> {
    bulk_array(reply)
        .chunks(2)
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .collect()
}

#[test]
fn config_get_and_set_of_the_thresholds_and_their_aliases() {
    let Some(mut p) = Pair::start() else { return };
    for command in [
        "CONFIG GET hash-max-listpack-entries",
        "CONFIG GET hash-max-ziplist-entries",
        "CONFIG GET hash-max-*",
        "CONFIG GET set-max-intset-entries",
        "CONFIG GET hash-max-listpack-value hash-max-ziplist-value",
    ] {
        let args: Vec<&[u8]> = command.split(' ').map(str::as_bytes).collect();
        let (redis, redigo) = p.both_args(&args);
        assert_eq!(config_pairs(&redigo), config_pairs(&redis), "{command}");
    }
    p.script(&[
        "CONFIG SET hash-max-listpack-entries 100",
        "CONFIG GET hash-max-ziplist-entries",
        "CONFIG SET hash-max-ziplist-entries 7",
        "CONFIG GET hash-max-listpack-entries",
        "CONFIG SET hash-max-listpack-value 1kb",
        "CONFIG GET hash-max-listpack-value",
        "CONFIG SET hash-max-ziplist-value 1k",
        "CONFIG GET hash-max-ziplist-value",
        "CONFIG SET set-max-intset-entries 0",
        "CONFIG GET set-max-intset-entries",
        "CONFIG SET hash-max-listpack-entries 9223372036854775807",
        "CONFIG GET hash-max-listpack-entries",
        // Redis's validation and error texts.
        "CONFIG SET hash-max-listpack-entries -1",
        "CONFIG SET hash-max-listpack-entries x",
        "CONFIG SET hash-max-listpack-entries 1kb",
        "CONFIG SET hash-max-listpack-entries 9223372036854775808",
        "CONFIG SET hash-max-listpack-entries +5",
        "CONFIG SET hash-max-ziplist-entries x",
        "CONFIG SET hash-max-listpack-value -1",
        "CONFIG SET hash-max-listpack-value x",
        "CONFIG SET hash-max-ziplist-value x",
        "CONFIG SET set-max-intset-entries 1k",
        "CONFIG SET set-max-intset-entries -1",
        // An alias and its parameter in one call are no duplicate; one
        // name twice is.
        "CONFIG SET hash-max-ziplist-entries 5 hash-max-listpack-entries 6",
        "CONFIG GET hash-max-listpack-entries",
        "CONFIG SET hash-max-ziplist-entries 3 hash-max-ziplist-entries 4",
        "CONFIG SET hash-max-listpack-entries 3 hash-max-listpack-entries 4",
        "CONFIG GET hash-max-listpack-entries",
        // All or nothing.
        "CONFIG SET set-max-intset-entries 9 hash-max-listpack-value x",
        "CONFIG GET set-max-intset-entries",
    ]);
}
