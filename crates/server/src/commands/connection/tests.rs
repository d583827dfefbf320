//! Unit tests of the connection commands.

use super::*;
use crate::commands::harness::Harness;

#[test]
fn passwords_compare_by_content_whatever_their_lengths() {
    assert!(passwords_match(b"secret", b"secret"));
    assert!(passwords_match(b"", b""));
    assert!(!passwords_match(b"secreT", b"secret"));
    assert!(!passwords_match(b"xecret", b"secret"));
    // Prefixes either way and different lengths.
    assert!(!passwords_match(b"secre", b"secret"));
    assert!(!passwords_match(b"secret!", b"secret"));
    assert!(!passwords_match(b"", b"secret"));
    assert!(!passwords_match(b"secret", b""));
    assert!(!passwords_match(b"secret\0", b"secret"));
    let long = vec![b'a'; 10_000];
    assert!(passwords_match(&long, &long.clone()));
    assert!(!passwords_match(&long[..9_999], &long));
}

#[test]
fn quit_replies_ok_and_requests_the_close() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["QUIT"]), b"+OK\r\n");
    assert!(h.effects.close_after_reply);
}
