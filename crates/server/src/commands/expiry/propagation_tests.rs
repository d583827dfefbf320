//! What the TTL commands and the generic key commands propagate, checked
//! in-process at a fixed instant.

use std::sync::atomic::Ordering;

use crate::commands::harness::Harness;

/// The instant every command runs at.
const NOW: u64 = 1_700_000_000_000;

fn run(h: &mut Harness, args: &[&str]) -> Vec<u8> {
    h.run_at(NOW, args)
}

#[test]
fn expire_family_propagates_pexpireat_or_del() {
    let mut h = Harness::new();
    run(&mut h, &["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(run(&mut h, &["EXPIRE", "a", "10"]), b":1\r\n");
    assert_eq!(run(&mut h, &["PEXPIRE", "a", "20000", "GT"]), b":1\r\n");
    assert_eq!(run(&mut h, &["EXPIRE", "a", "5", "GT"]), b":0\r\n");
    assert_eq!(run(&mut h, &["EXPIREAT", "b", "1800000000"]), b":1\r\n");
    assert_eq!(run(&mut h, &["PEXPIREAT", "c", "1"]), b":1\r\n");
    assert_eq!(run(&mut h, &["EXPIRE", "missing", "10"]), b":0\r\n");
    assert_eq!(run(&mut h, &["PERSIST", "b"]), b":1\r\n");
    assert_eq!(run(&mut h, &["PERSIST", "b"]), b":0\r\n");
    assert_eq!(run(&mut h, &["PTTL", "a"]), b":20000\r\n");
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "MSET", "a", "1", "b", "2", "c", "3"],
            vec!["0", "PEXPIREAT", "a", "1700000010000"],
            vec!["0", "PEXPIREAT", "a", "1700000020000"],
            vec!["0", "PEXPIREAT", "b", "1800000000000"],
            vec!["0", "DEL", "c"],
            vec!["0", "PERSIST", "b"],
        ]
    );
}

#[test]
fn key_commands_propagate_only_effective_writes() {
    let mut h = Harness::new();
    run(&mut h, &["SET", "a", "1"]);
    assert_eq!(run(&mut h, &["DEL", "missing"]), b":0\r\n");
    assert_eq!(run(&mut h, &["RENAME", "a", "a"]), b"+OK\r\n");
    assert_eq!(run(&mut h, &["RENAMENX", "a", "a"]), b":0\r\n");
    assert_eq!(run(&mut h, &["COPY", "a", "b", "DB", "2"]), b":1\r\n");
    assert_eq!(run(&mut h, &["COPY", "a", "b", "DB", "2"]), b":0\r\n");
    assert_eq!(run(&mut h, &["RENAME", "a", "z"]), b"+OK\r\n");
    assert_eq!(run(&mut h, &["UNLINK", "z", "missing"]), b":1\r\n");
    assert_eq!(
        h.propagated(),
        [
            vec!["0", "SET", "a", "1"],
            vec!["0", "COPY", "a", "b", "DB", "2"],
            vec!["0", "RENAME", "a", "z"],
            vec!["0", "UNLINK", "z", "missing"],
        ]
    );
}

/// A write that finds its key expired is logged after the `DEL` of that key,
/// both inside `MULTI`/`EXEC` (Redis's order): replayed, the new value
/// stays. A read that expires a key logs the bare `DEL`.
#[test]
fn a_lazily_expired_key_is_deleted_in_the_log_before_the_write_that_found_it() {
    // Each write and the name it is logged under (its deterministic form).
    let writes: [(&[&str], &str); 11] = [
        (&["SET", "k", "new"], "SET"),
        (&["SET", "k", "new", "NX"], "SET"),
        (&["SETNX", "k", "new"], "SETNX"),
        (&["GETSET", "k", "new"], "SET"),
        (&["INCR", "k"], "INCR"),
        (&["INCRBYFLOAT", "k", "1.5"], "SET"),
        (&["APPEND", "k", "new"], "APPEND"),
        (&["SETRANGE", "k", "0", "new"], "SETRANGE"),
        (&["SETEX", "k", "10", "new"], "SET"),
        (&["MSET", "k", "new", "other", "1"], "MSET"),
        (&["MSETNX", "k", "new", "other2", "1"], "MSETNX"),
    ];
    for (write, logged_as) in writes {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, &["SET", "k", "5", "PX", "100"]), b"+OK\r\n");
        let reply = h.run_at(NOW + 200, write);
        assert!(!reply.starts_with(b"-"), "{write:?}");
        let log = h.propagated();
        assert_eq!(log.len(), 5, "{write:?}: {log:?}");
        assert_eq!(log[1], ["0", "MULTI"], "{write:?}");
        assert_eq!(log[2], ["0", "DEL", "k"], "{write:?}");
        assert_eq!(log[3][1], logged_as, "{write:?}: {log:?}");
        assert_eq!(log[4], ["0", "EXEC"], "{write:?}");
        assert_eq!(h.state.stats.expired_keys.load(Ordering::Relaxed), 1);
    }

    let mut h = Harness::new();
    run(&mut h, &["SET", "k", "5", "PX", "100"]);
    assert_eq!(h.run_at(NOW + 200, &["GET", "k"]), b"$-1\r\n");
    assert_eq!(h.propagated()[1], ["0", "DEL", "k"]);
    assert_eq!(h.propagated().len(), 2);
}

/// A read that expires several keys logs their `DEL`s as one transaction,
/// as Redis 7.0 wraps a command's several propagated records.
#[test]
fn a_read_that_expires_several_keys_logs_one_transaction() {
    let mut h = Harness::new();
    run(&mut h, &["SET", "a", "1", "PX", "100"]);
    run(&mut h, &["SET", "b", "1", "PX", "100"]);
    assert_eq!(
        h.run_at(NOW + 200, &["MGET", "a", "b", "c"]),
        b"*3\r\n$-1\r\n$-1\r\n$-1\r\n"
    );
    assert_eq!(
        h.propagated()[2..],
        [
            vec!["0", "MULTI"],
            vec!["0", "DEL", "a"],
            vec!["0", "DEL", "b"],
            vec!["0", "EXEC"],
        ]
    );
}
