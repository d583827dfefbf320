//! Debian's `redis-cli` 7.0, interactive in a pseudo-terminal, against a
//! Redigo server: it starts (fetching `COMMAND DOCS`, as redis-cli 7 does),
//! runs commands, and its `help` and argument hints come from our command
//! table. Unix only; skipped with a message where redis-cli is missing,
//! mandatory under CI.

#![cfg(unix)]

use std::process::Command;
use std::time::Duration;

use expectrl::{Expect, Session};
use redigo_server::testing::TestServer;

/// Longest wait for any expected output.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn interactive_redis_cli_starts_and_uses_command_docs() {
    if !redigo_tests::tool_available("redis-cli") {
        return;
    }
    let server = TestServer::start(&[]);
    let port = server.port();
    let prompt = format!("127.0.0.1:{port}> ");

    let mut command = Command::new("redis-cli");
    command
        .args(["-p", &port.to_string()])
        .env("TERM", "xterm")
        .env_remove("REDISCLI_AUTH");
    let mut session = Session::spawn(command).expect("spawn redis-cli on a pty");
    session.set_expect_timeout(Some(EXPECT_TIMEOUT));
    session.expect(prompt.as_str()).expect("first prompt");

    session.send("set greeting hello\r").expect("type");
    session.expect("OK").expect("SET replied");
    session.expect(prompt.as_str()).expect("prompt after SET");
    session.send("get greeting\r").expect("type");
    session
        .expect("\"hello\"")
        .expect("GET replied, quoted as on a terminal");

    // `help` renders what COMMAND DOCS returned for GETEX.
    session.send("help getex\r").expect("type");
    session
        // On a terminal the name is bold and the arguments grey, so match
        // the arguments alone (and only a prefix: the pty is 80 columns).
        .expect("key [EX seconds|PX milliseconds|EXAT unix-time-seconds")
        .expect("help shows the syntax built from COMMAND DOCS arguments");
    session
        .expect("Get the value of a key and optionally set its expiration")
        .expect("help shows the COMMAND DOCS summary");

    // Typing a command name and a space draws the argument hint.
    session.send("incrby counter ").expect("type");
    session
        .expect("increment")
        .expect("argument hint for INCRBY");
    session.send("5\r").expect("type");
    session.expect("(integer) 5").expect("INCRBY replied");
    session.send("quit\r").expect("type");

    let mut conn = redigo_tests::RawConn::connect(port);
    let stats = conn.command(&[b"INFO", b"commandstats"]);
    let stats = String::from_utf8_lossy(&stats);
    assert!(
        stats.contains("cmdstat_command|docs:calls=1,"),
        "redis-cli asks for COMMAND DOCS once at start-up:\n{stats}"
    );
}
