//! Scripted mode: commands read from stdin, one per line.

mod common;

use common::redigo_with;

#[test]
fn commands_from_stdin_in_raw_form() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let port = oracle.port();
    let script = b"set greeting \"hello world\"\nget greeting\nincr greeting\n2 incr n\nget 'unterminated\nselect 1\nget greeting\nquit\nget n\n";
    let run = redigo_with(port, &[], script, &[]);
    assert_eq!(
        run.stdout_text(),
        "OK\nhello world\nERR value is not an integer or out of range\n\n1\n2\nInvalid argument(s)\nOK\n\n"
    );
    assert_eq!((run.stderr_text().as_str(), run.code), ("", Some(0)));
}

#[test]
fn tty_form_on_request() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let run = redigo_with(
        oracle.port(),
        &["--no-raw"],
        b"rpush l a b\nlrange l 0 -1\nget nothing\n",
        &[],
    );
    assert_eq!(
        run.stdout_text(),
        "(integer) 2\n1) \"a\"\n2) \"b\"\n(nil)\n"
    );
}

#[test]
fn unreachable_server_is_reported_per_command() {
    let port = redigo_tests::free_port();
    let run = redigo_with(port, &[], b"ping\nping\n", &[]);
    let refused = format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n");
    assert_eq!(run.stderr_text(), refused.repeat(3));
    assert_eq!((run.stdout.len(), run.code), (0, Some(0)));
}
