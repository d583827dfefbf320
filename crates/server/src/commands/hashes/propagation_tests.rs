//! What the hash commands propagate, checked in-process at a fixed instant
//! (the replies themselves are compared with Redis by the differential
//! tests in `tests/tests`).

use crate::commands::harness::Harness;

/// The instant every command runs at.
const NOW: u64 = 1_700_000_000_000;

fn run(h: &mut Harness, args: &[&str]) -> Vec<u8> {
    h.run_at(NOW, args)
}

#[test]
fn writes_propagate_as_sent_and_no_ops_not_at_all() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, &["HSET", "h", "a", "1", "b", "2"]), b":2\r\n");
    // HSET of the same value still propagates (Redis counts it dirty).
    assert_eq!(run(&mut h, &["HSET", "h", "a", "1"]), b":0\r\n");
    assert_eq!(run(&mut h, &["HMSET", "h", "c", "3"]), b"+OK\r\n");
    assert_eq!(run(&mut h, &["HSETNX", "h", "a", "9"]), b":0\r\n");
    assert_eq!(run(&mut h, &["HSETNX", "h", "d", "4"]), b":1\r\n");
    assert_eq!(run(&mut h, &["HDEL", "h", "nosuch"]), b":0\r\n");
    assert_eq!(run(&mut h, &["HDEL", "nokey", "a"]), b":0\r\n");
    assert_eq!(run(&mut h, &["HDEL", "h", "d", "nosuch"]), b":1\r\n");
    assert_eq!(run(&mut h, &["HINCRBY", "h", "n", "5"]), b":5\r\n");
    // Failed writes propagate nothing.
    run(&mut h, &["HINCRBY", "h", "a", "x"]);
    run(&mut h, &["HSET", "h", "a"]);
    run(&mut h, &["SET", "s", "v"]);
    run(&mut h, &["HSET", "s", "f", "v"]);
    // Reads propagate nothing.
    run(&mut h, &["HGETALL", "h"]);
    run(&mut h, &["HRANDFIELD", "h", "-3", "WITHVALUES"]);
    run(&mut h, &["HSCAN", "h", "0"]);
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "HSET", "h", "a", "1", "b", "2"],
            vec!["0", "HSET", "h", "a", "1"],
            vec!["0", "HMSET", "h", "c", "3"],
            vec!["0", "HSETNX", "h", "d", "4"],
            vec!["0", "HDEL", "h", "d", "nosuch"],
            vec!["0", "HINCRBY", "h", "n", "5"],
            vec!["0", "SET", "s", "v"],
        ]
    );
}

#[test]
fn hincrbyfloat_propagates_as_hset_of_the_result() {
    let mut h = Harness::new();
    assert_eq!(
        run(&mut h, &["HINCRBYFLOAT", "h", "f", "10.5"]),
        b"$4\r\n10.5\r\n"
    );
    assert_eq!(
        run(&mut h, &["HINCRBYFLOAT", "h", "f", "0.1"]),
        b"$4\r\n10.6\r\n"
    );
    assert_eq!(
        run(&mut h, &["HINCRBYFLOAT", "h", "g", "1e3"]),
        b"$4\r\n1000\r\n"
    );
    run(&mut h, &["HINCRBYFLOAT", "h", "f", "nan"]);
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "HSET", "h", "f", "10.5"],
            vec!["0", "HSET", "h", "f", "10.6"],
            vec!["0", "HSET", "h", "g", "1000"],
        ]
    );
}

#[test]
fn a_lazily_expired_hash_is_deleted_ahead_of_the_write() {
    let mut h = Harness::new();
    run(&mut h, &["HSET", "h", "a", "1"]);
    run(&mut h, &["PEXPIREAT", "h", &(NOW + 10).to_string()]);
    assert_eq!(h.run_at(NOW + 20, &["HSET", "h", "b", "2"]), b":1\r\n");
    assert_eq!(
        h.propagated()[2..],
        [
            vec!["0", "MULTI"],
            vec!["0", "DEL", "h"],
            vec!["0", "HSET", "h", "b", "2"],
            vec!["0", "EXEC"],
        ]
    );
}
