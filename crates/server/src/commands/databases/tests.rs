//! Unit tests of the database commands: replies and what they propagate.

use crate::commands::harness::Harness;

#[test]
fn database_commands_reply_and_propagate_in_deterministic_form() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["SELECT", "3"]), b"+OK\r\n");
    assert_eq!(h.run(&["FLUSHDB"]), b"+OK\r\n");
    assert_eq!(h.run(&["SWAPDB", "0", "1"]), b"+OK\r\n");
    assert_eq!(h.run(&["MOVE", "missing", "0"]), b":0\r\n");
    assert_eq!(h.run(&["FLUSHALL", "ASYNC"]), b"+OK\r\n");
    assert_eq!(h.run(&["DBSIZE"]), b":0\r\n");
    assert_eq!(
        h.propagated(),
        [
            vec!["3", "FLUSHDB"],
            vec!["3", "SWAPDB", "0", "1"],
            vec!["3", "FLUSHALL"],
        ]
    );
}

#[test]
fn move_transfers_a_key_and_propagates() {
    let mut h = Harness::new();
    let now = crate::state::unix_time_ms();
    h.dataset
        .store
        .db(0, now)
        .unwrap()
        .set(b"k", b"v", redigo_store::SetOptions::default())
        .unwrap();
    assert_eq!(h.run(&["MOVE", "k", "5"]), b":1\r\n");
    assert_eq!(h.run(&["DBSIZE"]), b":0\r\n");
    assert_eq!(h.run(&["SELECT", "5"]), b"+OK\r\n");
    assert_eq!(h.run(&["DBSIZE"]), b":1\r\n");
    assert_eq!(h.propagated(), [vec!["0", "MOVE", "k", "5"]]);
}
