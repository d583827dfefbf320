//! `--scan`: listing keys.

mod common;

use common::redigo_with;

#[test]
fn lists_every_matching_key_once() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let port = oracle.port();
    let mut script = Vec::new();
    for i in 0..250 {
        script.extend_from_slice(format!("set user:{i} x\nset other:{i} y\n").as_bytes());
    }
    redigo_with(port, &[], &script, &[]);

    let run = redigo_with(port, &["--scan", "--pattern", "user:*"], b"", &[]);
    assert_eq!(run.code, Some(0));
    let mut keys: Vec<String> = run.stdout_text().lines().map(str::to_owned).collect();
    keys.sort();
    let mut expected: Vec<String> = (0..250).map(|i| format!("user:{i}")).collect();
    expected.sort();
    assert_eq!(keys, expected);

    let all = redigo_with(port, &["--scan"], b"", &[]);
    assert_eq!(all.stdout_text().lines().count(), 500);
    let quoted = redigo_with(
        port,
        &["--no-raw", "--scan", "--pattern", "user:7"],
        b"",
        &[],
    );
    assert_eq!(quoted.stdout, b"\"user:7\"\n");
}
