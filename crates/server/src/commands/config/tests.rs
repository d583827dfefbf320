//! Unit tests of `CONFIG`.

use crate::commands::harness::Harness;

#[test]
fn config_set_applies_all_or_nothing() {
    let mut h = Harness::new();
    assert_eq!(
        h.run(&["CONFIG", "SET", "timeout", "5", "hz", "1000"]),
        b"+OK\r\n"
    );
    assert_eq!(
        h.state.config().hz,
        500,
        "hz is clamped at run time, as Redis does"
    );
    assert_eq!(h.state.config().timeout, 5);
    assert_eq!(
        h.run(&["CONFIG", "SET", "proto-max-bulk-len", "2mb"]),
        b"+OK\r\n"
    );
    assert_eq!(h.dataset.store.config().max_string_len, 2 * 1024 * 1024);
    let reply = h.run(&["CONFIG", "SET", "timeout", "9", "loglevel", "loud"]);
    assert!(reply.starts_with(b"-ERR CONFIG SET failed (possibly related to argument 'loglevel')"));
    assert_eq!(h.state.config().timeout, 5);
}

#[test]
fn encoding_thresholds_reach_the_store_at_start_and_on_config_set() {
    let mut config = crate::config::Config::default();
    config
        .set("hash-max-ziplist-entries", "7")
        .expect("an alias is a key");
    config.set("set-max-intset-entries", "3").unwrap();
    let mut h = Harness::with_config(config);
    let limits = h.dataset.store.encoding_limits();
    assert_eq!(
        (
            limits.hash_max_listpack_entries,
            limits.set_max_intset_entries
        ),
        (7, 3)
    );
    assert_eq!(
        h.run(&[
            "CONFIG",
            "SET",
            "hash-max-listpack-value",
            "1k",
            "set-max-intset-entries",
            "0"
        ]),
        b"+OK\r\n"
    );
    let limits = h.dataset.store.encoding_limits();
    assert_eq!(
        (
            limits.hash_max_listpack_value,
            limits.set_max_intset_entries
        ),
        (1000, 0)
    );
    assert_eq!(h.run(&["SADD", "s", "1"]), b":1\r\n");
    assert_eq!(h.run(&["OBJECT", "ENCODING", "s"]), b"$9\r\nhashtable\r\n");
}
