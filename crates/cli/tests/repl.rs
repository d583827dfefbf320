//! The interactive mode, driven through a pseudo-terminal (Unix only):
//! prompt, `[n]` after `SELECT`, `(TX)` in a transaction, history recall
//! persisted across runs, reconnecting after the server restarts, and
//! leaving with `quit` or Ctrl-D.

#![cfg(unix)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession;
use expectrl::{ControlCode, Eof, Expect, Session};

/// Longest wait for any expected output.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The terminal's "cursor up" key.
const UP_ARROW: &str = "\x1b[A";

fn spawn_repl(port: u16, history: &Path) -> OsSession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_redigo-cli"));
    command
        .args(["-p", &port.to_string()])
        .env("REDIGOCLI_HISTFILE", history)
        .env("TERM", "xterm")
        .env_remove("REDIGOCLI_AUTH");
    let mut session = Session::spawn(command).expect("spawn redigo-cli on a pty");
    session.set_expect_timeout(Some(EXPECT_TIMEOUT));
    session
}

/// Types `line` and presses Enter.
fn type_line(session: &mut OsSession, line: &str) {
    session
        .send(format!("{line}\r"))
        .expect("type into the pty");
}

fn expect_exit_code(session: &mut OsSession, code: i32) {
    session.expect(Eof).expect("redigo-cli exits");
    match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, status) => assert_eq!(status, code),
        other => panic!("unexpected end: {other:?}"),
    }
}

#[test]
fn prompt_database_transaction_and_history() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let port = oracle.port();
    let history = oracle.dir().join("history");
    let prompt = format!("127.0.0.1:{port}> ");

    let mut session = spawn_repl(port, &history);
    session.expect(prompt.as_str()).expect("initial prompt");
    type_line(&mut session, "set greeting \"hello there\"");
    session.expect("OK").expect("SET reply");
    session.expect(prompt.as_str()).expect("prompt again");
    type_line(&mut session, "select 2");
    session
        .expect(format!("127.0.0.1:{port}[2]> ").as_str())
        .expect("prompt shows the database");
    type_line(&mut session, "get greeting");
    session.expect("(nil)").expect("db 2 is empty");
    type_line(&mut session, "multi");
    session
        .expect(format!("127.0.0.1:{port}[2](TX)> ").as_str())
        .expect("prompt shows the transaction");
    type_line(&mut session, "discard");
    session
        .expect(format!("127.0.0.1:{port}[2]> ").as_str())
        .expect("transaction over");
    type_line(&mut session, "get \"open");
    session
        .expect("Invalid argument(s)")
        .expect("unbalanced quotes");
    type_line(&mut session, "auth not-in-history");
    session.expect("(error) ERR AUTH").expect("AUTH reply");
    type_line(&mut session, "quit");
    expect_exit_code(&mut session, 0);

    let saved = std::fs::read_to_string(&history).expect("history file written");
    assert!(saved.contains("set greeting \"hello there\""), "{saved}");
    assert!(saved.contains("select 2"), "{saved}");
    assert!(!saved.contains("not-in-history"), "{saved}");

    // A new session recalls the previous one's lines. Newest first, the
    // history is: get greeting, quit, get "open, discard, multi,
    // get greeting, select 2 (the AUTH line was never saved).
    let mut session = spawn_repl(port, &history);
    session.expect(prompt.as_str()).expect("prompt");
    type_line(&mut session, "get greeting");
    session.expect("\"hello there\"").expect("db 0 again");
    session.expect(prompt.as_str()).expect("prompt");
    for _ in 0..7 {
        session.send(UP_ARROW).expect("up");
    }
    session.send("\r").expect("enter");
    session
        .expect(format!("127.0.0.1:{port}[2]> ").as_str())
        .expect("recalled `select 2` ran");
    session
        .send(ControlCode::EndOfTransmission)
        .expect("ctrl-d");
    expect_exit_code(&mut session, 0);
}

/// A `redis-server` started by hand on a chosen port, killed on drop.
struct ServerOnPort(Child);

impl ServerOnPort {
    fn start(port: u16, dir: &Path) -> ServerOnPort {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let server = ServerOnPort(child);
        assert!(
            redigo_tests::wait_for_port(port, EXPECT_TIMEOUT),
            "redis-server did not listen on {port}"
        );
        server
    }
}

impl Drop for ServerOnPort {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn reconnects_after_the_server_restarts() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let port = oracle.port();
    let dir = std::env::temp_dir().join(format!("redigo-cli-repl-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let prompt = format!("127.0.0.1:{port}> ");

    let mut session = spawn_repl(port, &dir.join("history"));
    session.expect(prompt.as_str()).expect("prompt");
    type_line(&mut session, "ping");
    session.expect("PONG").expect("first PONG");
    drop(oracle);

    type_line(&mut session, "ping");
    session
        .expect("Error: Server closed the connection")
        .expect("lost connection reported");
    session
        .expect("not connected> ")
        .expect("disconnected prompt");
    type_line(&mut session, "ping");
    session
        .expect(
            format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused").as_str(),
        )
        .expect("refused while down");
    session
        .expect("not connected> ")
        .expect("still disconnected");

    let _server = ServerOnPort::start(port, &dir);
    type_line(&mut session, "ping");
    session.expect("PONG").expect("reconnected");
    session.expect(prompt.as_str()).expect("connected prompt");
    type_line(&mut session, "exit");
    expect_exit_code(&mut session, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hints_help_and_repeat() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let port = oracle.port();
    let prompt = format!("127.0.0.1:{port}> ");
    let mut session = spawn_repl(port, &oracle.dir().join("history"));
    session.expect(prompt.as_str()).expect("prompt");
    // Typing a command name shows its arguments in grey.
    session.send("getrange ").expect("type");
    session
        .expect("\x1b[90mkey start end")
        .expect("hint for GETRANGE");
    session.send("\x15").expect("ctrl-u clears the line");
    type_line(&mut session, "help get");
    session
        .expect("summary:\x1b[0m Get the value of a key")
        .expect("help text");
    session.expect(prompt.as_str()).expect("prompt");
    type_line(&mut session, "3 incr counter");
    session.expect("(integer) 3").expect("three increments");
    type_line(&mut session, "0 incr counter");
    session
        .expect("Invalid redis-cli repeat command option value.")
        .expect("zero repeat refused");
    type_line(&mut session, "get counter");
    session
        .expect("\"3\"")
        .expect("counter unchanged by the refused line");
    type_line(&mut session, "quit");
    expect_exit_code(&mut session, 0);
}

#[test]
fn one_shot_on_a_terminal_uses_the_tty_form() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_redigo-cli"));
    command.args([
        "-p",
        &oracle.port().to_string(),
        "lrange",
        "nothing",
        "0",
        "-1",
    ]);
    let mut session = Session::spawn(command).expect("spawn on a pty");
    session.set_expect_timeout(Some(EXPECT_TIMEOUT));
    session.expect("(empty array)").expect("terminal form");
    expect_exit_code(&mut session, 0);
}
