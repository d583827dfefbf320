//! What the list commands propagate, checked in-process (the replies
//! themselves are compared with Redis by the differential tests in
//! `tests/tests`). The expected records are what redis-server 7.0.15's AOF
//! holds for the same commands.

use crate::commands::harness::Harness;

/// The instant every command runs at.
const NOW: u64 = 1_700_000_000_000;

fn run(h: &mut Harness, args: &[&str]) -> Vec<u8> {
    h.run_at(NOW, args)
}

#[test]
fn effective_writes_propagate_as_sent_and_no_ops_not_at_all() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, &["RPUSH", "l", "a", "b", "c", "d"]), b":4\r\n");
    assert_eq!(run(&mut h, &["LPUSHX", "nokey", "a"]), b":0\r\n");
    assert_eq!(run(&mut h, &["LPOP", "l", "0"]), b"*0\r\n");
    assert_eq!(run(&mut h, &["LPOP", "nokey"]), b"$-1\r\n");
    assert_eq!(run(&mut h, &["LPOP", "nokey", "2"]), b"*-1\r\n");
    assert_eq!(
        run(&mut h, &["LINSERT", "l", "BEFORE", "zz", "x"]),
        b":-1\r\n"
    );
    assert_eq!(run(&mut h, &["LREM", "l", "0", "zz"]), b":0\r\n");
    assert_eq!(run(&mut h, &["LTRIM", "l", "0", "-1"]), b"+OK\r\n");
    assert_eq!(
        run(&mut h, &["LMOVE", "nokey", "l", "LEFT", "LEFT"]),
        b"$-1\r\n"
    );
    assert_eq!(run(&mut h, &["LMPOP", "1", "nokey", "LEFT"]), b"*-1\r\n");
    assert_eq!(run(&mut h, &["LSET", "l", "0", "a"]), b"+OK\r\n");
    assert_eq!(run(&mut h, &["RPOPLPUSH", "l", "l2"]), b"$1\r\nd\r\n");
    assert_eq!(run(&mut h, &["LPOP", "l", "1"]), b"*1\r\n$1\r\na\r\n");
    assert_eq!(run(&mut h, &["LTRIM", "l2", "5", "10"]), b"+OK\r\n");
    assert_eq!(run(&mut h, &["LINSERT", "l", "AFTER", "b", "x"]), b":3\r\n");
    assert_eq!(run(&mut h, &["LREM", "l", "-1", "x"]), b":1\r\n");
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "RPUSH", "l", "a", "b", "c", "d"],
            vec!["0", "LSET", "l", "0", "a"],
            vec!["0", "RPOPLPUSH", "l", "l2"],
            vec!["0", "LPOP", "l", "1"],
            vec!["0", "LTRIM", "l2", "5", "10"],
            vec!["0", "LINSERT", "l", "AFTER", "b", "x"],
            vec!["0", "LREM", "l", "-1", "x"],
        ]
    );
}

#[test]
fn lmpop_propagates_as_a_pop_of_the_number_popped() {
    let mut h = Harness::new();
    run(&mut h, &["RPUSH", "l", "a", "b", "c"]);
    run(&mut h, &["RPUSH", "m", "z"]);
    assert_eq!(
        run(&mut h, &["LMPOP", "2", "nokey", "l", "LEFT", "COUNT", "2"]),
        b"*2\r\n$1\r\nl\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    );
    assert_eq!(
        run(&mut h, &["LMPOP", "1", "m", "RIGHT", "COUNT", "5"]),
        b"*2\r\n$1\r\nm\r\n*1\r\n$1\r\nz\r\n"
    );
    assert_eq!(
        h.propagated()[2..],
        [vec!["0", "LPOP", "l", "2"], vec!["0", "RPOP", "m", "1"]]
    );
}
