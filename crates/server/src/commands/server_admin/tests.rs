//! Unit tests of the administration commands.

use crate::commands::harness::Harness;

#[test]
fn shutdown_requests_the_effect_instead_of_replying() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["SHUTDOWN", "NOSAVE", "NOW"]), b"");
    let mode = h.effects.shutdown.expect("shutdown requested");
    assert!(mode.nosave && mode.now && !mode.save);
}
