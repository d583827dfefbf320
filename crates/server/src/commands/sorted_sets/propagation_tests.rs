//! What the sorted set commands propagate, checked in-process at a fixed
//! instant (the replies themselves are compared with Redis by the
//! differential tests in `tests/tests`).

use crate::commands::harness::Harness;

/// The instant every command runs at.
const NOW: u64 = 1_700_000_000_000;

fn run(h: &mut Harness, args: &[&str]) -> Vec<u8> {
    h.run_at(NOW, args)
}

#[test]
fn writes_propagate_as_sent_and_no_ops_not_at_all() {
    let mut h = Harness::new();
    assert_eq!(
        run(&mut h, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]),
        b":3\r\n"
    );
    // Same scores: nothing changed, nothing propagated.
    assert_eq!(run(&mut h, &["ZADD", "z", "1", "a"]), b":0\r\n");
    assert_eq!(run(&mut h, &["ZADD", "z", "NX", "5", "a"]), b":0\r\n");
    assert_eq!(run(&mut h, &["ZADD", "z", "XX", "CH", "5", "a"]), b":1\r\n");
    assert_eq!(
        run(&mut h, &["ZADD", "z", "GT", "INCR", "-1", "a"]),
        b"$-1\r\n"
    );
    assert_eq!(run(&mut h, &["ZINCRBY", "z", "0.5", "b"]), b"$3\r\n2.5\r\n");
    assert_eq!(run(&mut h, &["ZREM", "z", "nope"]), b":0\r\n");
    assert_eq!(run(&mut h, &["ZREM", "z", "c", "nope"]), b":1\r\n");
    assert_eq!(
        run(&mut h, &["ZREMRANGEBYSCORE", "z", "100", "200"]),
        b":0\r\n"
    );
    assert_eq!(run(&mut h, &["ZPOPMIN", "missing"]), b"*0\r\n");
    assert_eq!(run(&mut h, &["ZPOPMAX", "z", "0"]), b"*0\r\n");
    assert_eq!(
        run(&mut h, &["ZPOPMAX", "z"]),
        b"*2\r\n$1\r\na\r\n$1\r\n5\r\n"
    );
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "ZADD", "z", "1", "a", "2", "b", "3", "c"],
            vec!["0", "ZADD", "z", "XX", "CH", "5", "a"],
            vec!["0", "ZINCRBY", "z", "0.5", "b"],
            vec!["0", "ZREM", "z", "c", "nope"],
            vec!["0", "ZPOPMAX", "z"],
        ]
    );
}

#[test]
fn zmpop_propagates_as_the_pop_it_performed() {
    let mut h = Harness::new();
    run(&mut h, &["ZADD", "b", "1", "x", "2", "y"]);
    assert_eq!(
        run(&mut h, &["ZMPOP", "2", "a", "b", "MAX", "COUNT", "10"]),
        b"*2\r\n$1\r\nb\r\n*2\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n"
    );
    assert_eq!(run(&mut h, &["ZMPOP", "1", "b", "MIN"]), b"*-1\r\n");
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "ZADD", "b", "1", "x", "2", "y"],
            vec!["0", "ZPOPMAX", "b", "2"],
        ]
    );
}

#[test]
fn store_commands_propagate_when_the_destination_changed() {
    let mut h = Harness::new();
    run(&mut h, &["ZADD", "a", "1", "x", "2", "y"]);
    run(&mut h, &["SADD", "s", "y", "z"]);
    assert_eq!(
        run(
            &mut h,
            &["ZUNIONSTORE", "d", "2", "a", "s", "WEIGHTS", "2", "3"]
        ),
        b":3\r\n"
    );
    assert_eq!(
        run(&mut h, &["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        b"*6\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n$1\r\ny\r\n$1\r\n7\r\n"
    );
    assert_eq!(
        run(&mut h, &["ZINTERSTORE", "d", "2", "a", "missing"]),
        b":0\r\n"
    );
    // The destination is gone now: another empty result changes nothing.
    assert_eq!(run(&mut h, &["ZDIFFSTORE", "d", "1", "missing"]), b":0\r\n");
    assert_eq!(run(&mut h, &["ZRANGESTORE", "d", "a", "0", "0"]), b":1\r\n");
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "ZADD", "a", "1", "x", "2", "y"],
            vec!["0", "SADD", "s", "y", "z"],
            vec!["0", "ZUNIONSTORE", "d", "2", "a", "s", "WEIGHTS", "2", "3"],
            vec!["0", "ZINTERSTORE", "d", "2", "a", "missing"],
            vec!["0", "ZRANGESTORE", "d", "a", "0", "0"],
        ]
    );
}
