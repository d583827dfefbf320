//! The list commands, compared byte for byte with Redis 7.0: the same
//! requests go to the oracle and to Redigo and the raw replies must match,
//! errors and their order of precedence included (`t_list.c` and
//! `tests/unit/type/list.tcl` are the source of the cases).

mod differential_support;

use differential_support::Pair;

#[test]
fn pushes_pops_and_lengths() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "RPUSH l a b c",
        "LPUSH l x y",
        "LRANGE l 0 -1",
        "LLEN l",
        "LLEN nokey",
        "LPUSHX nokey a",
        "RPUSHX nokey a",
        "EXISTS nokey",
        "LPUSHX l p q",
        "RPUSHX l r",
        "LRANGE l 0 -1",
        "LPOP l",
        "RPOP l",
        "LPOP l 2",
        "RPOP l 2",
        "LPOP l 0",
        "RPOP l 0",
        "LPOP nokey",
        "RPOP nokey",
        "LPOP nokey 0",
        "LPOP nokey 3",
        "LPOP l -1",
        "LPOP l abc",
        "LPOP l 1 2",
        "LPOP l 100",
        "EXISTS l",
        "RPUSH l",
        "LPUSH",
        "RPUSH big 1 2 3",
        "RPOP big 10",
        "EXISTS big",
        "OBJECT ENCODING nokey",
        "RPUSH enc a",
        "OBJECT ENCODING enc",
        "TYPE enc",
    ]);
}

#[test]
fn every_command_on_a_wrong_type_is_wrongtype() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "SET s v",
        "HSET h f v",
        "RPUSH l a",
        "LPUSH s a",
        "RPUSH s a",
        "LPUSHX s a",
        "RPUSHX s a",
        "LPOP s",
        "RPOP s 2",
        "LLEN s",
        "LRANGE s 0 -1",
        "LINDEX s 0",
        "LSET s 0 x",
        "LINSERT s BEFORE a b",
        "LREM s 0 a",
        "LTRIM s 0 1",
        "LPOS s a",
        "LPOS s a COUNT 0",
        "LMOVE s l LEFT LEFT",
        "LMOVE l s LEFT LEFT",
        "LMOVE l h RIGHT LEFT",
        "LRANGE l 0 -1",
        "RPOPLPUSH s l",
        "RPOPLPUSH l s",
        "RPOPLPUSH nokey s",
        "LMPOP 2 s l LEFT",
        "LMPOP 2 l s LEFT",
        "LMPOP 2 nokey h RIGHT",
        "GET l",
        "APPEND l x",
        "INCR l",
        "SETRANGE l 0 x",
        "HSET l f v",
        "SADD l m",
        "LRANGE l 0 -1",
        "GET s",
    ]);
}

#[test]
fn indexes_ranges_and_lset() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "RPUSH l a b c d e",
        "LINDEX l 0",
        "LINDEX l -1",
        "LINDEX l -5",
        "LINDEX l -6",
        "LINDEX l 5",
        "LINDEX l 100",
        "LINDEX l x",
        "LINDEX nokey 0",
        "LINDEX nokey x",
        "SET str v",
        "LINDEX str x",
        "LSET str x v",
        "LSET nokey x v",
        "LRANGE l 1 3",
        "LRANGE l -3 -1",
        "LRANGE l -100 100",
        "LRANGE l 3 1",
        "LRANGE l 5 10",
        "LRANGE l 0 -6",
        "LRANGE l -9223372036854775808 9223372036854775807",
        "LRANGE l 0 x",
        "LRANGE l a 1",
        "LRANGE nokey 0 -1",
        "LSET l 0 A",
        "LSET l -1 E",
        "LSET l 2 CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
        "LSET l 5 x",
        "LSET l -6 x",
        "LSET l x x",
        "LSET nokey 0 x",
        "LRANGE l 0 -1",
    ]);
}

#[test]
fn linsert_lrem_and_ltrim() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "RPUSH l a b c b a",
        "LINSERT l BEFORE b x",
        "LINSERT l after b y",
        "LINSERT l BEFORE zz q",
        "LINSERT l MIDDLE b q",
        "LINSERT nokey BEFORE a b",
        "EXISTS nokey",
        "LRANGE l 0 -1",
        "LREM l 1 b",
        "LREM l -1 a",
        "LREM l 0 zz",
        "LREM l x a",
        "LREM nokey 0 a",
        "LRANGE l 0 -1",
        "RPUSH r a b a c a",
        "LREM r 0 a",
        "LRANGE r 0 -1",
        "LREM r 0 b",
        "LREM r 0 c",
        "EXISTS r",
        "RPUSH t 1 2 3 4 5 6",
        "LTRIM t 1 -2",
        "LRANGE t 0 -1",
        "LTRIM t -100 100",
        "LTRIM t 0 -1",
        "LTRIM t x 1",
        "LTRIM nokey 0 1",
        "LTRIM t 2 1",
        "EXISTS t",
        "RPUSH u 1 2 3",
        "LTRIM u 5 10",
        "EXISTS u",
        "RPUSH v 1 2 3",
        "LTRIM v 0 -4",
        "EXISTS v",
    ]);
}

#[test]
fn lpos_with_every_option_combination() {
    let Some(mut p) = Pair::start() else { return };
    p.same("RPUSH l a b c 1 2 3 c c a b");
    let mut script = Vec::new();
    for element in ["c", "a", "zz"] {
        for rank in ["", "RANK 1", "RANK 2", "RANK -1", "RANK -3", "RANK 9"] {
            for count in ["", "COUNT 0", "COUNT 1", "COUNT 2"] {
                for maxlen in ["", "MAXLEN 0", "MAXLEN 1", "MAXLEN 4"] {
                    let command = format!("LPOS l {element} {rank} {count} {maxlen}");
                    script.push(command.split_whitespace().collect::<Vec<_>>().join(" "));
                }
            }
        }
    }
    let script: Vec<&str> = script.iter().map(String::as_str).collect();
    p.script(&script);
    p.script(&[
        "LPOS l c MAXLEN 2 RANK -1 COUNT 0",
        "LPOS l c COUNT 1 COUNT 0",
        "LPOS l c RANK 0",
        "LPOS l c RANK -9223372036854775808",
        "LPOS l c RANK -9223372036854775808 COUNT 0",
        "LPOS l c RANK abc",
        "LPOS l c COUNT -1",
        "LPOS l c COUNT abc",
        "LPOS l c MAXLEN -1",
        "LPOS l c MAXLEN abc",
        "LPOS l c RANK",
        "LPOS l c FOO 1",
        "LPOS l c COUNT",
        "LPOS nokey c",
        "LPOS nokey c COUNT 0",
        "LPOS nokey c RANK 0",
    ]);
}

#[test]
fn lmove_rpoplpush_and_lmpop() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "RPUSH a 1 2 3",
        "LMOVE a b LEFT RIGHT",
        "LMOVE a b RIGHT LEFT",
        "LMOVE a b left right",
        "LMOVE a b UP LEFT",
        "LMOVE a b LEFT DOWN",
        "LMOVE nokey b LEFT LEFT",
        "LRANGE a 0 -1",
        "LRANGE b 0 -1",
        "EXISTS a",
        "RPOPLPUSH b b",
        "LRANGE b 0 -1",
        "LMOVE b b LEFT RIGHT",
        "LRANGE b 0 -1",
        "RPUSH one x",
        "LMOVE one one LEFT RIGHT",
        "LRANGE one 0 -1",
        "RPOPLPUSH b c",
        "RPOPLPUSH nokey c",
        "LRANGE c 0 -1",
        "RPUSH m1 a b c",
        "RPUSH m2 d",
        "LMPOP 2 nokey m1 LEFT",
        "LMPOP 2 nokey m1 RIGHT COUNT 5",
        "EXISTS m1",
        "LMPOP 1 m2 left count 1",
        "LMPOP 2 nokey nokey2 LEFT",
        "LMPOP 0 m1 LEFT",
        "LMPOP -1 m1 LEFT",
        "LMPOP abc m1 LEFT",
        "LMPOP 3 m1 LEFT",
        "LMPOP 1 m1 UP",
        "LMPOP 1 m1 LEFT COUNT 0",
        "LMPOP 1 m1 LEFT COUNT -1",
        "LMPOP 1 m1 LEFT COUNT",
        "LMPOP 1 m1 LEFT COUNT 1 COUNT 1",
        "LMPOP 1 m1 LEFT FOO",
        "LMPOP 1 m1",
    ]);
}

#[test]
fn big_lists_across_many_chunks() {
    let Some(mut p) = Pair::start() else { return };
    // 3000 elements of growing size, so the list spans many chunks.
    for batch in 0..30 {
        let mut command = vec!["RPUSH".to_string(), "big".to_string()];
        for i in 0..100 {
            let n = batch * 100 + i;
            command.push(format!("{n}-{}", "x".repeat(n % 50)));
        }
        let args: Vec<&[u8]> = command.iter().map(String::as_bytes).collect();
        p.same_args(&args);
    }
    p.script(&[
        "LLEN big",
        "LINDEX big 1500",
        "LINDEX big -1234",
        "LSET big 1500 changed",
        "LINSERT big BEFORE changed before",
        "LINSERT big AFTER changed after",
        "LRANGE big 1495 1505",
        "LPOS big changed",
        "LPOS big 7-xxxxxxx RANK -1 COUNT 0",
        "LREM big 0 changed",
        "LREM big -1 before",
        "LRANGE big 1490 1510",
        "LPOP big 250",
        "RPOP big 250",
        "LTRIM big 100 -100",
        "LLEN big",
        "LRANGE big 0 5",
        "LRANGE big -5 -1",
        "OBJECT ENCODING big",
        "CONFIG SET list-max-listpack-size 4",
        "LPUSH big p1 p2 p3 p4 p5 p6",
        "LINSERT big AFTER p3 mid",
        "LRANGE big 0 10",
        "CONFIG SET list-max-listpack-size -2",
    ]);
    let whole = p.same("LRANGE big 0 -1");
    assert!(whole.len() > 10_000);
}

#[test]
fn list_config_keys_and_their_aliases() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "CONFIG GET list-max-listpack-size",
        "CONFIG GET list-max-ziplist-size",
        "CONFIG GET list-compress-depth",
        "CONFIG SET list-max-ziplist-size 7",
        "CONFIG GET list-max-listpack-size",
        "CONFIG SET list-max-listpack-size -2147483648",
        "CONFIG GET list-max-ziplist-size",
        "CONFIG SET list-max-listpack-size 99999999999",
        "CONFIG SET list-max-listpack-size abc",
        "CONFIG SET list-max-listpack-size 1k",
        "CONFIG SET list-compress-depth -1",
        "CONFIG SET list-compress-depth 3",
        "CONFIG GET list-compress-depth",
        "CONFIG SET list-compress-depth 0",
        "CONFIG SET list-max-listpack-size -2",
    ]);
}

#[test]
fn generic_commands_on_lists() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "RPUSH l a b c",
        "TYPE l",
        "SCAN 0 TYPE list",
        "SCAN 0 TYPE LIST",
        "COPY l l2",
        "LPUSH l2 z",
        "LRANGE l 0 -1",
        "LRANGE l2 0 -1",
        "RENAME l2 l3",
        "LRANGE l3 0 -1",
        "MOVE l3 1",
        "SELECT 1",
        "LRANGE l3 0 -1",
        "SELECT 0",
        "SWAPDB 0 1",
        "LRANGE l3 0 -1",
        "SWAPDB 0 1",
        "EXPIRE l 100",
        "TTL l",
        "OBJECT ENCODING l",
        "OBJECT REFCOUNT l",
        "DEL l",
        "EXISTS l",
    ]);
}

/// With `list-compress-depth` 1 and 2 and chunks of 8 elements, a
/// pseudo-random sequence of writes and reads (each reply compared) keeps
/// interior chunks compressed in Redigo and in Redis alike; the replies,
/// and the whole list at the end, must match.
#[test]
fn compressed_lists_under_random_writes() {
    let Some(mut p) = Pair::start() else { return };
    p.script(&[
        "CONFIG SET list-max-listpack-size 8",
        "CONFIG SET list-compress-depth 1",
    ]);
    let mut state = 0x853c_49e6_748f_ea9b_u64;
    let mut next = |bound: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % bound
    };
    for round in 0..2 {
        let key = format!("c{round}");
        if round == 1 {
            p.script(&["CONFIG SET list-compress-depth 2"]);
        }
        for i in 0..1200 {
            let n = next(100_000);
            let element = format!("user:event:{n}");
            let command = match next(12) {
                0..=2 => format!("RPUSH {key} {element} {element}x user:event:{i}"),
                3..=4 => format!("LPUSH {key} {element}"),
                5 => format!("LPOP {key} {}", next(4) + 1),
                6 => format!("RPOP {key}"),
                7 => format!("LSET {key} {} {element}", next(200) as i64 - 100),
                8 => format!("LINSERT {key} BEFORE user:event:{} {element}", next(i + 1)),
                9 => format!("LINDEX {key} {}", next(400) as i64 - 200),
                10 => format!("LRANGE {key} {} {}", next(100), next(300)),
                _ => format!(
                    "LREM {key} {} user:event:{}",
                    next(5) as i64 - 2,
                    next(i + 1)
                ),
            };
            p.same(&command);
            if i % 300 == 299 {
                p.same(&format!("LTRIM {key} {} -{}", next(20), next(20) + 1));
            }
        }
        let whole = p.same(&format!("LRANGE {key} 0 -1"));
        assert!(whole.len() > 1000, "{} bytes of reply", whole.len());
    }
    p.script(&[
        "CONFIG SET list-compress-depth 0",
        "CONFIG SET list-max-listpack-size -2",
    ]);
}
