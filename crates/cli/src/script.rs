//! Scripted mode: no command on the command line and stdin is not a
//! terminal, so every line of stdin is a command (`redigo-cli < cmds.txt`).
//!
//! This is redis-cli's REPL without a prompt, history or line editing:
//! each line goes through [`crate::line`] (quoting, repeat counts, `quit`),
//! error replies and lost connections are reported and the next line runs,
//! and the process exits 0 at the end of input.

use std::io::{self, BufRead};

use crate::client::Client;
use crate::line::{self, Flow};

/// Runs every line of `input` against `client`, until the end of input or
/// `quit`.
pub fn run(client: &mut Client, mut input: impl BufRead) -> io::Result<()> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line::execute(client, line::parse(&line).action) == Flow::Quit {
            return Ok(());
        }
    }
}
