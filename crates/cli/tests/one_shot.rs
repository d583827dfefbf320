//! One-shot mode against a real server: every reply type in the terminal
//! form (`--no-raw`) and the raw form (the default when stdout is a pipe),
//! and the options around it (`-r`, `-i`, `-n`, `-x`, `-u`, `-a`, `-e`).

mod common;

use common::{redigo, redigo_with};

/// Sets up a server with one key of each kind the tests read.
fn seeded_oracle() -> Option<redigo_tests::Oracle> {
    let oracle = redigo_tests::oracle()?;
    let mut conn = oracle.connect();
    conn.command(&[b"SET", b"bin", b"a\x00b\n\r\t\x07\x08\\\"\xff\x7f c"]);
    let mut rpush: Vec<&[u8]> = vec![b"RPUSH", b"list"];
    let items: Vec<Vec<u8>> = (0..12).map(|i| format!("item{i}").into_bytes()).collect();
    rpush.extend(items.iter().map(|i| i.as_slice()));
    conn.command(&rpush);
    Some(oracle)
}

#[test]
fn status_integer_nil_and_error_replies() {
    let Some(oracle) = seeded_oracle() else {
        return;
    };
    let port = oracle.port();

    let set = redigo(port, &["--no-raw", "set", "k", "10"]);
    assert_eq!((set.stdout_text().as_str(), set.code), ("OK\n", Some(0)));
    assert_eq!(redigo(port, &["set", "k", "10"]).stdout, b"OK\n");

    assert_eq!(
        redigo(port, &["--no-raw", "incrby", "k", "-5"]).stdout,
        b"(integer) 5\n"
    );
    assert_eq!(redigo(port, &["incrby", "k", "-5"]).stdout, b"0\n");

    assert_eq!(
        redigo(port, &["--no-raw", "get", "missing"]).stdout,
        b"(nil)\n"
    );
    assert_eq!(redigo(port, &["get", "missing"]).stdout, b"\n");

    // redis-cli 7.0 exits 0 on an error reply unless -e is given.
    let error = redigo(port, &["--no-raw", "incr", "bin"]);
    assert_eq!(
        error.stdout,
        b"(error) ERR value is not an integer or out of range\n"
    );
    assert_eq!(error.code, Some(0));
    let error = redigo(port, &["incr", "bin"]);
    assert_eq!(
        error.stdout,
        b"ERR value is not an integer or out of range\n\n"
    );
    let error = redigo(port, &["-e", "incr", "bin"]);
    assert_eq!(error.stdout, b"");
    assert_eq!(
        error.stderr,
        b"ERR value is not an integer or out of range\n"
    );
    assert_eq!(error.code, Some(1));
}

#[test]
fn bulk_strings_with_binary_bytes() {
    let Some(oracle) = seeded_oracle() else {
        return;
    };
    let port = oracle.port();
    assert_eq!(
        redigo(port, &["--no-raw", "get", "bin"]).stdout,
        b"\"a\\x00b\\n\\r\\t\\a\\b\\\\\\\"\\xff\\x7f c\"\n"
    );
    assert_eq!(
        redigo(port, &["get", "bin"]).stdout,
        b"a\x00b\n\r\t\x07\x08\\\"\xff\x7f c\n"
    );
}

#[test]
fn arrays_empty_long_and_nested() {
    let Some(oracle) = seeded_oracle() else {
        return;
    };
    let port = oracle.port();

    assert_eq!(
        redigo(port, &["--no-raw", "lrange", "none", "0", "-1"]).stdout,
        b"(empty array)\n"
    );
    assert_eq!(redigo(port, &["lrange", "none", "0", "-1"]).stdout, b"\n");

    let long = redigo(port, &["--no-raw", "lrange", "list", "0", "-1"]).stdout_text();
    let lines: Vec<&str> = long.lines().collect();
    assert_eq!(lines.len(), 12);
    assert_eq!(lines[0], " 1) \"item0\"");
    assert_eq!(lines[8], " 9) \"item8\"");
    assert_eq!(lines[11], "12) \"item11\"");
    let raw = redigo(port, &["lrange", "list", "0", "2"]);
    assert_eq!(raw.stdout, b"item0\nitem1\nitem2\n");

    // SCAN: a cursor and a nested array of keys.
    let scan = redigo(port, &["--no-raw", "scan", "0", "match", "list"]).stdout_text();
    assert_eq!(scan, "1) \"0\"\n2) 1) \"list\"\n");

    // COMMAND INFO nests four levels deep, with >= 10 elements at the top.
    let info = redigo(port, &["--no-raw", "command", "info", "get"]).stdout_text();
    assert!(
        info.starts_with("1)  1) \"get\"\n    2) (integer) 2\n    3) 1) readonly\n"),
        "{info}"
    );
    assert!(
        info.contains("\n    9) 1) 1) \"flags\"\n          2) 1) RO\n"),
        "{info}"
    );
    assert!(info.ends_with("\n   10) (empty array)\n"), "{info}");
    let raw = redigo(port, &["command", "info", "get"]).stdout_text();
    assert!(
        raw.starts_with("get\n2\nreadonly\nfast\n1\n1\n1\n@read\n"),
        "{raw}"
    );
}

#[test]
fn verbatim_commands_are_printed_as_text() {
    let Some(oracle) = seeded_oracle() else {
        return;
    };
    let info = redigo(oracle.port(), &["--no-raw", "info", "server"]).stdout_text();
    assert!(info.starts_with("# Server\r\nredis_version:"), "{info}");
    assert!(
        info.ends_with("\r\n") && !info.ends_with("\r\n\n"),
        "{info}"
    );
}

#[test]
fn repeat_with_interval() {
    let Some(oracle) = seeded_oracle() else {
        return;
    };
    let port = oracle.port();
    let run = redigo(port, &["-r", "3", "-i", "0.01", "incr", "c"]);
    assert_eq!(run.stdout, b"1\n2\n3\n");
    assert_eq!(redigo(port, &["get", "c"]).stdout, b"3\n");
    assert_eq!(redigo(port, &["-r", "0", "incr", "c"]).stdout, b"");
    assert_eq!(redigo(port, &["get", "c"]).stdout, b"3\n");
}

#[test]
fn database_selection_and_url() {
    let Some(oracle) = seeded_oracle() else {
        return;
    };
    let port = oracle.port();
    assert_eq!(
        redigo(port, &["-n", "2", "set", "in2", "yes"]).stdout,
        b"OK\n"
    );
    assert_eq!(redigo(port, &["get", "in2"]).stdout, b"\n");
    assert_eq!(redigo(port, &["-n", "2", "get", "in2"]).stdout, b"yes\n");
    let url = format!("redis://127.0.0.1:{port}/2");
    let run = common::run_program(
        env!("CARGO_BIN_EXE_redigo-cli"),
        &["-u", &url, "get", "in2"],
        b"",
        &[],
    );
    assert_eq!(run.stdout, b"yes\n");
    let bad = common::run_program(
        env!("CARGO_BIN_EXE_redigo-cli"),
        &["-u", "http://x", "ping"],
        b"",
        &[],
    );
    assert_eq!(
        (bad.stderr_text().as_str(), bad.code),
        ("Invalid URI scheme\n", Some(1))
    );
}

#[test]
fn last_argument_from_stdin() {
    let Some(oracle) = seeded_oracle() else {
        return;
    };
    let port = oracle.port();
    let payload = b"line one\nline two\x00\xfe\n";
    let run = redigo_with(port, &["-x", "set", "fromstdin"], payload, &[]);
    assert_eq!(run.stdout, b"OK\n");
    assert_eq!(
        redigo(port, &["strlen", "fromstdin"]).stdout,
        format!("{}\n", payload.len()).as_bytes()
    );
    assert_eq!(
        redigo(port, &["--no-raw", "get", "fromstdin"]).stdout,
        b"\"line one\\nline two\\x00\\xfe\\n\"\n"
    );
}

#[test]
fn connection_refused() {
    let port = redigo_tests::free_port();
    let run = redigo(port, &["ping"]);
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, b"");
    assert_eq!(
        run.stderr_text(),
        format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n")
    );
}

#[test]
fn authentication() {
    let Some(oracle) = redigo_tests::oracle_with_args(&["--requirepass", "secret"]) else {
        return;
    };
    let port = oracle.port();
    let warning = "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n";

    let with_flag = redigo(port, &["-a", "secret", "ping"]);
    assert_eq!(
        (with_flag.stdout_text().as_str(), with_flag.stderr_text()),
        ("PONG\n", warning.to_owned())
    );
    let quiet = redigo(port, &["-a", "secret", "--no-auth-warning", "ping"]);
    assert_eq!(
        (quiet.stdout, quiet.stderr),
        (b"PONG\n".to_vec(), Vec::new())
    );

    let from_env = redigo_with(port, &["ping"], b"", &[("REDIGOCLI_AUTH", "secret")]);
    assert_eq!(
        (from_env.stdout, from_env.stderr),
        (b"PONG\n".to_vec(), Vec::new())
    );

    let url = format!("redis://default:secret@127.0.0.1:{port}");
    let via_url = common::run_program(
        env!("CARGO_BIN_EXE_redigo-cli"),
        &["-u", &url, "ping"],
        b"",
        &[],
    );
    assert_eq!(
        (via_url.stdout_text().as_str(), via_url.stderr_text()),
        ("PONG\n", warning.to_owned())
    );

    // As redis-cli: the failed AUTH is reported, the command still runs.
    let wrong = redigo(port, &["--no-auth-warning", "-a", "wrong", "ping"]);
    assert_eq!(
        wrong.stderr_text(),
        "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n"
    );
    assert_eq!(wrong.stdout_text(), "NOAUTH Authentication required.\n\n");
    let missing = redigo(port, &["--no-raw", "ping"]);
    assert_eq!(
        missing.stdout_text(),
        "(error) NOAUTH Authentication required.\n"
    );

    let acl = redigo(
        port,
        &[
            "--no-auth-warning",
            "--user",
            "default",
            "-a",
            "secret",
            "ping",
        ],
    );
    assert_eq!(acl.stdout, b"PONG\n");
}

#[test]
fn version_and_help() {
    let version = common::run_program(env!("CARGO_BIN_EXE_redigo-cli"), &["--version"], b"", &[]);
    assert_eq!(
        version.stdout_text(),
        format!("redigo-cli {}\n", env!("CARGO_PKG_VERSION"))
    );
    let help = common::run_program(env!("CARGO_BIN_EXE_redigo-cli"), &["--help"], b"", &[]);
    assert_eq!(help.code, Some(0));
    assert!(
        help.stdout_text().contains("--pipe"),
        "{}",
        help.stdout_text()
    );
}

#[cfg(unix)]
#[test]
fn unix_socket() {
    let socket = std::env::temp_dir().join(format!(
        "redigo-cli-{}-{}.sock",
        std::process::id(),
        redigo_tests::free_port()
    ));
    let socket_arg = socket.to_str().expect("utf-8 temp dir");
    let Some(oracle) = redigo_tests::oracle_with_args(&["--unixsocket", socket_arg]) else {
        return;
    };
    let run = |args: &[&str]| {
        let mut all = vec!["-s", socket_arg];
        all.extend_from_slice(args);
        common::run_program(env!("CARGO_BIN_EXE_redigo-cli"), &all, b"", &[])
    };
    assert_eq!(run(&["set", "via", "socket"]).stdout, b"OK\n");
    assert_eq!(run(&["--no-raw", "get", "via"]).stdout, b"\"socket\"\n");
    let missing = common::run_program(
        env!("CARGO_BIN_EXE_redigo-cli"),
        &["-s", "/nonexistent/redigo.sock", "ping"],
        b"",
        &[],
    );
    assert_eq!(missing.code, Some(1));
    assert_eq!(
        missing.stderr_text(),
        "Could not connect to Redis at /nonexistent/redigo.sock: No such file or directory\n"
    );
    // A killed server leaves its socket file behind.
    drop(oracle);
    let _ = std::fs::remove_file(&socket);
}
