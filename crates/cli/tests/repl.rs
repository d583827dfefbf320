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
use expectrl::{ControlCode, Eof, Expect, Regex, Session};

/// Longest wait for any expected output.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The prompt while the server cannot be reached.
const DISCONNECTED: &str = "not connected> ";
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

/// Matches `prompt` at the start of a line, i.e. the prompt drawn after a
/// command's output rather than a redraw while typing (terminal escapes,
/// e.g. bracketed-paste mode, may come first).
fn fresh_prompt(prompt: &str) -> Regex<String> {
    let mut pattern = String::from("\\n(\\x1b\\[[0-9;?]*[a-zA-Z]|\\r)*");
    for c in prompt.chars() {
        if "[]().*+?{}|^$\\".contains(c) {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    Regex(pattern)
}

/// Types `line`, presses Enter and waits for the prompt that follows the
/// command's output, so the next keystrokes reach the line editor.
fn run_line(session: &mut OsSession, line: &str, next_prompt: &str) -> Vec<u8> {
    type_line(session, line);
    session
        .expect(fresh_prompt(next_prompt))
        .unwrap_or_else(|e| panic!("no prompt {next_prompt:?} after {line:?}: {e}"))
        .as_bytes()
        .to_vec()
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

    let in_db2 = format!("127.0.0.1:{port}[2]> ");
    let mut session = spawn_repl(port, &history);
    session.expect(prompt.as_str()).expect("initial prompt");
    let out = run_line(&mut session, "set greeting \"hello there\"", &prompt);
    assert!(shows(&out, "OK"));
    run_line(&mut session, "select 2", &in_db2);
    let out = run_line(&mut session, "get greeting", &in_db2);
    assert!(shows(&out, "(nil)"), "db 2 is empty");
    run_line(&mut session, "multi", &format!("127.0.0.1:{port}[2](TX)> "));
    run_line(&mut session, "discard", &in_db2);
    let out = run_line(&mut session, "get \"open", &in_db2);
    assert!(shows(&out, "Invalid argument(s)"));
    let out = run_line(&mut session, "auth not-in-history", &in_db2);
    assert!(shows(&out, "(error) ERR AUTH"));
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
    let out = run_line(&mut session, "get greeting", &prompt);
    assert!(shows(&out, "\"hello there\""), "db 0 again");
    for _ in 0..7 {
        session.send(UP_ARROW).expect("up");
    }
    session.send("\r").expect("enter");
    session
        .expect(fresh_prompt(&in_db2))
        .expect("recalled `select 2` ran");
    session
        .send(ControlCode::EndOfTransmission)
        .expect("ctrl-d");
    expect_exit_code(&mut session, 0);
}

/// Whether `output` contains `text`.
fn shows(output: &[u8], text: &str) -> bool {
    output
        .windows(text.len())
        .any(|window| window == text.as_bytes())
}

/// A `redis-server` started by hand on a chosen port, killed on drop.
struct ServerOnPort(Child);

impl ServerOnPort {
    fn start(port: u16, dir: &Path) -> ServerOnPort {
        let child = redigo_tests::redis_server_command(port, dir)
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
    let out = run_line(&mut session, "ping", &prompt);
    assert!(shows(&out, "PONG"));
    drop(oracle);

    let out = run_line(&mut session, "ping", DISCONNECTED);
    assert!(shows(&out, "Error: Server closed the connection"));
    let out = run_line(&mut session, "ping", DISCONNECTED);
    let refused = format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused");
    assert!(shows(&out, &refused));

    let _server = ServerOnPort::start(port, &dir);
    let out = run_line(&mut session, "ping", &prompt);
    assert!(shows(&out, "PONG"), "reconnected");
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
    let out = run_line(&mut session, "help get", &prompt);
    assert!(shows(&out, "summary:\x1b[0m Get the value of a key"));
    let out = run_line(&mut session, "3 incr counter", &prompt);
    assert!(shows(&out, "(integer) 1") && shows(&out, "(integer) 3"));
    let out = run_line(&mut session, "0 incr counter", &prompt);
    assert!(shows(
        &out,
        "Invalid redis-cli repeat command option value."
    ));
    let out = run_line(&mut session, "get counter", &prompt);
    assert!(shows(&out, "\"3\""), "the refused line changed nothing");
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

/// Removes ANSI escape sequences (`ESC [ ... final`), which differ between
/// redis-cli's linenoise and rustyline.
fn strip_escapes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'[') {
            i += 2;
            while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                i += 1;
            }
            i += 1;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The lines a REPL printed as replies: everything but the prompt lines
/// (whose redrawing is the line editor's business), escapes removed.
fn reply_lines(transcript: &[u8], prompt_start: &str) -> Vec<String> {
    String::from_utf8_lossy(&strip_escapes(transcript))
        .split('\n')
        .filter(|line| !line.contains(prompt_start))
        .map(|line| {
            line.rsplit('\r')
                .find(|part| !part.is_empty())
                .unwrap_or("")
        })
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Types each line after the expected prompt and records everything the
/// client printed until it exits.
fn transcript(mut session: OsSession, steps: &[(&str, String)], first_prompt: &str) -> Vec<u8> {
    let mut all = session
        .expect(first_prompt)
        .expect("first prompt")
        .as_bytes()
        .to_vec();
    for (line, next_prompt) in steps {
        if next_prompt.is_empty() {
            type_line(&mut session, line);
            all.extend_from_slice(session.expect(Eof).expect("exit").as_bytes());
        } else {
            all.extend_from_slice(&run_line(&mut session, line, next_prompt));
        }
    }
    all
}

#[test]
fn repl_replies_match_redis_cli() {
    let Some(oracle) = redigo_tests::oracle() else {
        return;
    };
    if !redigo_tests::tool_available("redis-cli") {
        return;
    }
    let port = oracle.port();
    let prompt = format!("127.0.0.1:{port}> ");
    let in_db3 = format!("127.0.0.1:{port}[3]> ");
    let in_tx = format!("127.0.0.1:{port}[3](TX)> ");
    let steps: Vec<(&str, String)> = vec![
        ("set a 1", prompt.clone()),
        ("get a", prompt.clone()),
        ("incr a", prompt.clone()),
        ("append a \"\\x00\\n\"", prompt.clone()),
        ("get a", prompt.clone()),
        ("incr a", prompt.clone()),
        ("lrange none 0 -1", prompt.clone()),
        ("rpush l a b c d e f g h i j k", prompt.clone()),
        ("lrange l 0 -1", prompt.clone()),
        ("command info get", prompt.clone()),
        ("select 3", in_db3.clone()),
        ("get a", in_db3.clone()),
        ("3 ping", in_db3.clone()),
        ("get \"x", in_db3.clone()),
        ("0 ping", in_db3.clone()),
        ("multi", in_tx.clone()),
        ("incr a", in_tx.clone()),
        ("exec", in_db3.clone()),
        ("quit", String::new()),
    ];

    let mut theirs = Command::new("redis-cli");
    theirs
        .args(["-p", &port.to_string()])
        .env("REDISCLI_HISTFILE", "/dev/null")
        .env("TERM", "xterm")
        .env_remove("REDISCLI_AUTH");
    let mut theirs = Session::spawn(theirs).expect("spawn redis-cli on a pty");
    theirs.set_expect_timeout(Some(EXPECT_TIMEOUT));
    let theirs = transcript(theirs, &steps, &prompt);

    oracle.connect().command(&[b"FLUSHALL"]);
    let ours = spawn_repl(port, &oracle.dir().join("history"));
    let ours = transcript(ours, &steps, &prompt);

    let start = format!("127.0.0.1:{port}");
    let (theirs, ours) = (reply_lines(&theirs, &start), reply_lines(&ours, &start));
    assert!(theirs.len() > 30, "{theirs:#?}");
    assert_eq!(theirs, ours);
}
