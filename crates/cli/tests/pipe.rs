//! `--pipe` mass insertion against a real server.

mod common;

use common::redigo_with;

/// The mass-insertion size the issue asks for.
const COMMANDS: usize = 100_000;

fn set_commands(count: usize) -> Vec<u8> {
    let mut input = Vec::with_capacity(count * 48);
    for i in 0..count {
        let key = format!("key:{i}");
        let value = format!("value:{i}");
        input.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
                key.len(),
                value.len()
            )
            .as_bytes(),
        );
    }
    input
}

#[test]
fn hundred_thousand_commands() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let port = oracle.port();
    let run = redigo_with(port, &["--pipe"], &set_commands(COMMANDS), &[]);
    assert_eq!(
        run.stdout_text(),
        format!(
            "All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 0, replies: {COMMANDS}\n"
        )
    );
    assert_eq!((run.stderr_text().as_str(), run.code), ("", Some(0)));
    assert_eq!(
        redigo_with(port, &["dbsize"], b"", &[]).stdout,
        format!("{COMMANDS}\n").as_bytes()
    );
    assert_eq!(
        redigo_with(port, &["get", "key:99999"], b"", &[]).stdout,
        b"value:99999\n"
    );
}

#[test]
fn error_replies_are_counted_and_shown() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let port = oracle.port();
    let mut input = set_commands(3);
    input.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$5\r\nkey:0\r\n*1\r\n$7\r\nNOTACMD\r\n");
    let run = redigo_with(port, &["--pipe"], &input, &[]);
    assert!(
        run.stdout_text().ends_with("errors: 2, replies: 5\n"),
        "{}",
        run.stdout_text()
    );
    assert_eq!(
        run.stderr_text(),
        "ERR value is not an integer or out of range\nERR unknown command 'NOTACMD', with args beginning with: \n"
    );
    assert_eq!(run.code, Some(1));
}

#[test]
fn empty_input_and_database_selection() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let port = oracle.port();
    let run = redigo_with(port, &["--pipe"], b"", &[]);
    assert!(
        run.stdout_text().ends_with("errors: 0, replies: 0\n"),
        "{}",
        run.stdout_text()
    );
    let run = redigo_with(port, &["-n", "4", "--pipe"], &set_commands(10), &[]);
    assert_eq!(run.code, Some(0));
    assert_eq!(
        redigo_with(port, &["-n", "4", "dbsize"], b"", &[]).stdout,
        b"10\n"
    );
    assert_eq!(redigo_with(port, &["dbsize"], b"", &[]).stdout, b"0\n");
}
