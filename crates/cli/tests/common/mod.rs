//! Running `redigo-cli` (and Debian's `redis-cli`, for comparisons) as
//! child processes against a throw-away `redis-server`.

#![allow(dead_code)] // Each test file uses its own subset.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Environment variables that would change what either client does.
const CLIENT_ENV: [&str; 5] = [
    "REDIGOCLI_AUTH",
    "REDISCLI_AUTH",
    "FAKETTY",
    "REDIGOCLI_HISTFILE",
    "REDISCLI_HISTFILE",
];

/// What a finished client printed and returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: Option<i32>,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            stdout: output.stdout,
            stderr: output.stderr,
            code: output.status.code(),
        }
    }
}

/// Runs `program` with `args`, feeding `stdin`, with `env` set and the
/// client variables of [`CLIENT_ENV`] otherwise cleared.
pub fn run_program(program: &str, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in CLIENT_ENV {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    let mut child_stdin = child.stdin.take().expect("piped stdin");
    let input = stdin.to_vec();
    // Feed stdin from a thread so a child that writes a lot before reading
    // everything cannot deadlock the test.
    let feeder = std::thread::spawn(move || {
        let _ = child_stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for client");
    feeder.join().expect("stdin feeder");
    output.into()
}

/// Runs `redigo-cli -p <port> args...`.
pub fn redigo(port: u16, args: &[&str]) -> Run {
    redigo_with(port, args, b"", &[])
}

/// Runs `redigo-cli -p <port> args...` with stdin and environment.
pub fn redigo_with(port: u16, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    let port = port.to_string();
    let mut all = vec!["-p", port.as_str()];
    all.extend_from_slice(args);
    run_program(env!("CARGO_BIN_EXE_redigo-cli"), &all, stdin, env)
}

/// Runs `redis-cli -p <port> args...` with stdin.
pub fn redis_cli_with(port: u16, args: &[&str], stdin: &[u8]) -> Run {
    let port = port.to_string();
    let mut all = vec!["-p", port.as_str()];
    all.extend_from_slice(args);
    run_program("redis-cli", &all, stdin, &[])
}
