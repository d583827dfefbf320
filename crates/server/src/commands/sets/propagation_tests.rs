//! What the set commands propagate, checked in-process at a fixed instant
//! (the replies themselves are compared with Redis by the differential
//! tests in `tests/tests`).

use std::collections::HashSet;

use crate::commands::harness::Harness;

/// The instant every command runs at.
const NOW: u64 = 1_700_000_000_000;

fn run(h: &mut Harness, args: &[&str]) -> Vec<u8> {
    h.run_at(NOW, args)
}

#[test]
fn writes_propagate_as_sent_and_no_ops_not_at_all() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, &["SADD", "s", "1", "2", "3"]), b":3\r\n");
    assert_eq!(run(&mut h, &["SADD", "s", "1"]), b":0\r\n");
    assert_eq!(run(&mut h, &["SREM", "s", "9"]), b":0\r\n");
    assert_eq!(run(&mut h, &["SREM", "s", "3", "9"]), b":1\r\n");
    assert_eq!(run(&mut h, &["SMOVE", "s", "t", "1"]), b":1\r\n");
    assert_eq!(run(&mut h, &["SMOVE", "s", "t", "9"]), b":0\r\n");
    // A move within one set answers 1 but changes nothing.
    assert_eq!(run(&mut h, &["SMOVE", "s", "s", "2"]), b":1\r\n");
    run(&mut h, &["SRANDMEMBER", "s", "-5"]);
    run(&mut h, &["SRANDMEMBER", "s"]);
    run(&mut h, &["SPOP", "nokey"]);
    run(&mut h, &["SPOP", "s", "0"]);
    run(&mut h, &["SPOP", "s", "-1"]);
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "SADD", "s", "1", "2", "3"],
            vec!["0", "SREM", "s", "3", "9"],
            vec!["0", "SMOVE", "s", "t", "1"],
        ]
    );
}

#[test]
fn store_commands_propagate_when_the_destination_changed() {
    let mut h = Harness::new();
    run(&mut h, &["SADD", "a", "1", "2"]);
    run(&mut h, &["SADD", "b", "2", "3"]);
    assert_eq!(run(&mut h, &["SINTERSTORE", "d", "a", "b"]), b":1\r\n");
    assert_eq!(run(&mut h, &["SUNIONSTORE", "d", "a", "b"]), b":3\r\n");
    assert_eq!(run(&mut h, &["SDIFFSTORE", "d", "a", "b"]), b":1\r\n");
    // An empty result deletes an existing destination: propagated; with
    // no destination it changed nothing: not propagated.
    assert_eq!(run(&mut h, &["SINTERSTORE", "d", "a", "nokey"]), b":0\r\n");
    assert_eq!(run(&mut h, &["SINTERSTORE", "d", "a", "nokey"]), b":0\r\n");
    assert_eq!(run(&mut h, &["SDIFFSTORE", "e", "a", "a"]), b":0\r\n");
    assert_eq!(
        h.propagated()[2..],
        [
            vec!["0", "SINTERSTORE", "d", "a", "b"],
            vec!["0", "SUNIONSTORE", "d", "a", "b"],
            vec!["0", "SDIFFSTORE", "d", "a", "b"],
            vec!["0", "SINTERSTORE", "d", "a", "nokey"],
        ]
    );
}

/// The members of `SPOP`'s reply (a bulk or an array of bulks).
fn members(reply: &[u8]) -> HashSet<String> {
    let text = String::from_utf8(reply.to_vec()).unwrap();
    text.split("\r\n")
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[0].starts_with('$'))
        .map(|w| w[1].to_string())
        .collect()
}

/// The members of the `SREM key member` records of one `SPOP` unit:
/// `MULTI`, one `SREM` per member, `EXEC` (or a lone `SREM`).
fn unit_members(records: &[Vec<String>], key: &str) -> HashSet<String> {
    let inner = match records {
        [first, inner @ .., last] if first[1] == "MULTI" => {
            assert_eq!(last[1..], ["EXEC"]);
            inner
        }
        lone => lone,
    };
    inner
        .iter()
        .map(|record| {
            assert_eq!(record[1..3], ["SREM", key], "{record:?}");
            assert_eq!(record.len(), 4, "one member per SREM: {record:?}");
            record[3].clone()
        })
        .collect()
}

#[test]
fn spop_propagates_one_srem_per_member_in_multi_or_del_of_the_whole_set() {
    let mut h = Harness::new();
    run(&mut h, &["SADD", "s", "1", "2", "3", "4", "5", "6"]);
    let one = members(&run(&mut h, &["SPOP", "s"]));
    let two = members(&run(&mut h, &["SPOP", "s", "2"]));
    let single = members(&run(&mut h, &["SPOP", "s", "1"]));
    assert_eq!((one.len(), two.len(), single.len()), (1, 2, 1));
    let rest = members(&run(&mut h, &["SPOP", "s", "5"]));
    assert_eq!(rest.len(), 2);
    assert_eq!(run(&mut h, &["EXISTS", "s"]), b":0\r\n");
    let propagated = h.propagated();
    // SADD; SREM; MULTI SREM SREM EXEC; SREM (a count of 1: no MULTI); DEL.
    assert_eq!(propagated.len(), 1 + 1 + 4 + 1 + 1, "{propagated:?}");
    assert_eq!(unit_members(&propagated[1..2], "s"), one);
    assert_eq!(unit_members(&propagated[2..6], "s"), two);
    assert_eq!(unit_members(&propagated[6..7], "s"), single);
    // The count took the whole set: Redis propagates DEL.
    assert_eq!(propagated[7], ["0", "DEL", "s"]);
    // A single SPOP of the last member: SREM, which deletes it on replay.
    run(&mut h, &["SADD", "t", "x"]);
    assert_eq!(run(&mut h, &["SPOP", "t"]), b"$1\r\nx\r\n");
    assert_eq!(h.propagated()[9], ["0", "SREM", "t", "x"]);
    // Few members left compared to those popped (Redis's third case, the
    // set rebuilt from what stays): still one SREM per popped member.
    let twelve: Vec<String> = (1..=12).map(|i| i.to_string()).collect();
    let mut sadd = vec!["SADD", "u"];
    sadd.extend(twelve.iter().map(String::as_str));
    run(&mut h, &sadd);
    let popped = members(&run(&mut h, &["SPOP", "u", "11"]));
    let left = members(&run(&mut h, &["SMEMBERS", "u"]));
    assert_eq!((popped.len(), left.len()), (11, 1));
    assert_eq!(unit_members(&h.propagated()[11..], "u"), popped);
    assert_eq!(h.propagated().len(), 11 + 13);
    // Nothing popped: nothing propagated.
    run(&mut h, &["SPOP", "nokey", "3"]);
    run(&mut h, &["SPOP", "u", "0"]);
    assert_eq!(h.propagated().len(), 11 + 13);
}

#[test]
fn spop_with_a_count_inside_exec_is_wrapped_once_by_the_transaction() {
    let mut h = Harness::new();
    run(&mut h, &["SADD", "s", "a", "b", "c", "d"]);
    assert_eq!(run(&mut h, &["MULTI"]), b"+OK\r\n");
    assert_eq!(run(&mut h, &["SPOP", "s", "2"]), b"+QUEUED\r\n");
    assert_eq!(run(&mut h, &["SADD", "t", "x"]), b"+QUEUED\r\n");
    run(&mut h, &["EXEC"]);
    let records = h.propagated();
    let multis = records.iter().filter(|r| r[1] == "MULTI").count();
    let execs = records.iter().filter(|r| r[1] == "EXEC").count();
    // Redis 7.0 writes MULTI, SREM, SREM, SADD, EXEC: one transaction.
    assert_eq!((multis, execs), (1, 1), "{records:?}");
    assert_eq!(records.len(), 6, "{records:?}");
    assert_eq!(records[1][1], "MULTI");
    assert_eq!(records[5][1], "EXEC");
}
