//! What the TTL commands and the generic key commands propagate, checked
//! in-process at a fixed instant.

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
