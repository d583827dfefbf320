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

#[test]
fn spop_propagates_srem_of_the_popped_members_or_del_of_the_whole_set() {
    let mut h = Harness::new();
    run(&mut h, &["SADD", "s", "1", "2", "3", "4", "5", "6"]);
    let one = members(&run(&mut h, &["SPOP", "s"]));
    let two = members(&run(&mut h, &["SPOP", "s", "2"]));
    assert_eq!((one.len(), two.len()), (1, 2));
    let three = members(&run(&mut h, &["SPOP", "s", "2"]));
    assert_eq!(three.len(), 2);
    let rest = members(&run(&mut h, &["SPOP", "s", "5"]));
    assert_eq!(rest.len(), 1);
    assert_eq!(run(&mut h, &["EXISTS", "s"]), b":0\r\n");
    let propagated = h.propagated();
    assert_eq!(propagated.len(), 5);
    for (record, popped) in propagated[1..4].iter().zip([&one, &two, &three]) {
        assert_eq!(record[..3], ["0", "SREM", "s"]);
        let sent: HashSet<String> = record[3..].iter().cloned().collect();
        assert_eq!(&sent, popped);
        assert_eq!(record.len() - 3, popped.len());
    }
    // The count took the whole set: Redis propagates DEL.
    assert_eq!(propagated[4], ["0", "DEL", "s"]);
    // A single SPOP of the last member: SREM, which deletes it on replay.
    run(&mut h, &["SADD", "t", "x"]);
    assert_eq!(run(&mut h, &["SPOP", "t"]), b"$1\r\nx\r\n");
    assert_eq!(h.propagated()[6], ["0", "SREM", "t", "x"]);
    // Few members left compared to those popped (Redis's third case, the
    // set rebuilt from what stays): still an SREM of what was popped.
    let twelve: Vec<String> = (1..=12).map(|i| i.to_string()).collect();
    let mut sadd = vec!["SADD", "u"];
    sadd.extend(twelve.iter().map(String::as_str));
    run(&mut h, &sadd);
    let popped = members(&run(&mut h, &["SPOP", "u", "11"]));
    let left = members(&run(&mut h, &["SMEMBERS", "u"]));
    assert_eq!((popped.len(), left.len()), (11, 1));
    let record = &h.propagated()[8];
    assert_eq!(record[..3], ["0", "SREM", "u"]);
    assert_eq!(record[3..].iter().cloned().collect::<HashSet<_>>(), popped);
}
