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
