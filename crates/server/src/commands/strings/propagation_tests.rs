//! What the string commands propagate, checked in-process at a fixed
//! instant (the replies themselves are compared with Redis by the
//! differential tests in `tests/tests`).

use crate::commands::harness::Harness;

/// The instant every command runs at.
const NOW: u64 = 1_700_000_000_000;

#[test]
fn relative_expiry_is_propagated_as_an_absolute_pxat() {
    let mut h = Harness::new();
    assert_eq!(
        h.run_at(NOW, &["SET", "k", "v", "EX", "10", "GET"]),
        b"$-1\r\n"
    );
    assert_eq!(h.run_at(NOW, &["SETEX", "s", "5", "v"]), b"+OK\r\n");
    assert_eq!(h.run_at(NOW, &["PSETEX", "p", "1500", "v"]), b"+OK\r\n");
    assert_eq!(
        h.run_at(NOW, &["SET", "a", "v", "EXAT", "1700000001"]),
        b"+OK\r\n"
    );
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "SET", "k", "v", "PXAT", "1700000010000"],
            vec!["0", "SET", "s", "v", "PXAT", "1700000005000"],
            vec!["0", "SET", "p", "v", "PXAT", "1700000001500"],
            vec!["0", "SET", "a", "v", "PXAT", "1700000001000"],
        ]
    );
}

#[test]
fn writes_without_expiry_propagate_as_sent_and_no_ops_not_at_all() {
    let mut h = Harness::new();
    h.run_at(NOW, &["SET", "k", "v", "KEEPTTL", "GET"]);
    assert_eq!(h.run_at(NOW, &["SET", "k", "w", "NX"]), b"$-1\r\n");
    assert_eq!(h.run_at(NOW, &["SETNX", "k", "w"]), b":0\r\n");
    assert_eq!(h.run_at(NOW, &["MSETNX", "k", "1", "n", "2"]), b":0\r\n");
    assert_eq!(h.run_at(NOW, &["SETRANGE", "k", "3", ""]), b":1\r\n");
    assert_eq!(h.run_at(NOW, &["GETDEL", "missing"]), b"$-1\r\n");
    assert_eq!(
        h.run_at(NOW, &["INCR", "k"]),
        b"-ERR value is not an integer or out of range\r\n"
    );
    h.run_at(NOW, &["APPEND", "k", "x"]);
    h.run_at(NOW, &["INCRBY", "n", "5"]);
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "SET", "k", "v", "KEEPTTL"],
            vec!["0", "APPEND", "k", "x"],
            vec!["0", "INCRBY", "n", "5"],
        ]
    );
}

#[test]
fn rewritten_forms_of_getset_getdel_getex_and_incrbyfloat() {
    let mut h = Harness::new();
    h.run_at(NOW, &["GETSET", "k", "1.5"]);
    assert_eq!(
        h.run_at(NOW, &["INCRBYFLOAT", "k", "0.1"]),
        b"$3\r\n1.6\r\n"
    );
    assert_eq!(
        h.run_at(NOW, &["GETEX", "k", "EX", "100"]),
        b"$3\r\n1.6\r\n"
    );
    h.run_at(NOW, &["GETEX", "k", "PERSIST"]);
    h.run_at(NOW, &["GETEX", "k", "PERSIST"]);
    h.run_at(NOW, &["GETEX", "k", "PXAT", "1"]);
    h.run_at(NOW, &["SET", "g", "v"]);
    h.run_at(NOW, &["GETDEL", "g"]);
    let propagated = h.propagated();
    assert_eq!(
        propagated,
        [
            vec!["0", "SET", "k", "1.5"],
            vec!["0", "SET", "k", "1.6", "KEEPTTL"],
            vec!["0", "PEXPIREAT", "k", "1700000100000"],
            vec!["0", "PERSIST", "k"],
            vec!["0", "DEL", "k"],
            vec!["0", "SET", "g", "v"],
            vec!["0", "DEL", "g"],
        ]
    );
}
