//! The client against a Redigo server (the other suites use redis-server):
//! Debian's `redis-cli` and `redigo-cli` must print the same bytes, and
//! `redis-cli` must print the same bytes against Redigo as against Redis.
//! Skipped (with a message) where redis-cli is missing, mandatory under CI.

mod common;

use common::{Run, redigo_with, redis_cli_with};
use redigo_server::testing::TestServer;

/// Invocations over commands Redigo implements, seeded identically on both servers.
const CASES: &[&[&str]] = &[
    &["set", "k", "v"],
    &["get", "k"],
    &["get", "missing"],
    &["get", "bin"],
    &["append", "k", "more"],
    &["incr", "counter"],
    &["incrby", "counter", "-5"],
    &["incrbyfloat", "f", "10.5"],
    &["incrbyfloat", "f", "0.1"],
    &["incr", "k"],
    &["-e", "incr", "k"],
    &["mget", "k", "missing", "bin"],
    &["exists", "k", "k", "missing"],
    &["keys", "nomatch*"],
    &["type", "k"],
    &["expire", "k", "100", "gt"],
    &["ttl", "missing"],
    &["getrange", "k", "0", "-3"],
    &["setrange", "k", "1", "X"],
    &["strlen", "k"],
    &["rename", "missing", "x"],
    &["copy", "k", "k2"],
    &["dbsize"],
    &["-n", "3", "get", "k"],
    &["select", "99"],
    &["ping"],
    &["echo", "with\ttab and \"quotes\""],
    &["nosuchcommand", "x"],
    &["set", "k"],
    &["command", "info", "get", "set"],
    &["help", "set"],
    &["help", "getex"],
];

fn seed(port: u16) {
    let mut conn = redigo_tests::RawConn::connect(port);
    assert_eq!(conn.command(&[b"FLUSHALL"]), b"+OK\r\n");
    assert_eq!(
        conn.command(&[b"SET", b"bin", b"a\x00b\n\r\t\x07\x08\\\"\xff\x7f c"]),
        b"+OK\r\n"
    );
}

fn assert_same(what: &str, expected: &Run, actual: &Run) {
    assert_eq!(
        expected,
        actual,
        "{what}: expected\n{}{}\ngot\n{}{}",
        expected.stdout_text(),
        expected.stderr_text(),
        actual.stdout_text(),
        actual.stderr_text()
    );
}

#[test]
fn both_clients_print_the_same_against_redigo_and_redis() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    if !redigo_tests::tool_available("redis-cli") {
        return;
    }
    let redigo = TestServer::start(&[]);
    for form in [&[][..], &["--no-raw"][..], &["--csv"][..]] {
        seed(oracle.port());
        seed(redigo.port());
        for case in CASES {
            let args: Vec<&str> = form.iter().chain(case.iter()).copied().collect();
            let what = args.join(" ");
            let reference = redis_cli_with(oracle.port(), &args, b"");
            let redis_cli_on_redigo = redis_cli_with(redigo.port(), &args, b"");
            assert_same(
                &format!("redis-cli {what} (redis vs redigo)"),
                &reference,
                &redis_cli_on_redigo,
            );
            // Both servers have now run the command once; run it once more on
            // each so the stateful cases stay in step, through redigo-cli.
            let ours_on_redis = redigo_with(oracle.port(), &args, b"", &[]);
            let ours_on_redigo = redigo_with(redigo.port(), &args, b"", &[]);
            assert_same(
                &format!("redigo-cli {what} (redis vs redigo)"),
                &ours_on_redis,
                &ours_on_redigo,
            );
        }
    }
}

#[test]
fn scripted_stdin_and_pipe_against_redigo() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    if !redigo_tests::tool_available("redis-cli") {
        return;
    }
    let redigo = TestServer::start(&[]);
    let script = b"set a 1\nincr a\nget a\nselect 2\nset b \"x y\"\nget b\nexpire b 100\nttl b\nbogus\nquit\n";
    seed(oracle.port());
    seed(redigo.port());
    let reference = redis_cli_with(oracle.port(), &[], script);
    let ours = redigo_with(redigo.port(), &[], script, &[]);
    assert_same("scripted stdin", &reference, &ours);

    // Mass insertion: 20,000 commands in raw RESP, as redis-cli --pipe sends them.
    const COMMANDS: usize = 20_000;
    let mut resp = Vec::new();
    for i in 0..COMMANDS {
        let key = format!("key:{i}");
        let value = format!("value:{i}");
        resp.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
                key.len(),
                value.len()
            )
            .as_bytes(),
        );
    }
    seed(redigo.port());
    let piped = redigo_with(redigo.port(), &["--pipe"], &resp, &[]);
    assert_eq!(piped.code, Some(0), "{}", piped.stderr_text());
    let report = piped.stdout_text() + &piped.stderr_text();
    assert!(
        report.contains(&format!("errors: 0, replies: {COMMANDS}")),
        "--pipe report: {report}"
    );
    let dbsize = redigo_with(redigo.port(), &["dbsize"], b"", &[]);
    // DBSIZE counts the seeded key too.
    assert_eq!(dbsize.stdout_text(), format!("{}\n", COMMANDS + 1));
}
