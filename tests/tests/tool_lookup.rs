//! `tool_available` finds every Redis tool the suites rely on, including
//! redis-check-aof, which has no `--version` flag.

#[test]
fn finds_installed_tools_and_rejects_missing_ones() {
    for tool in [
        "redis-server",
        "redis-cli",
        "redis-benchmark",
        "redis-check-aof",
    ] {
        if !redigo_tests::tool_available(tool) {
            return; // Skipped (a reason was printed); under CI this panicked instead.
        }
    }
    // A name that cannot exist is reported missing (outside CI) or panics (under CI).
    let missing =
        std::panic::catch_unwind(|| redigo_tests::tool_available("redigo-no-such-tool-x"));
    match missing {
        Ok(found) => assert!(!found, "a nonexistent tool must not be found"),
        Err(_) => assert!(
            redigo_tests::oracle_required(),
            "only CI may panic for a missing tool"
        ),
    }
}
