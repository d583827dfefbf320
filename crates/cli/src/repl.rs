//! The interactive mode: a prompt with line editing and persistent history
//! (via `rustyline`), each line run through [`crate::line`].
//!
//! As with redis-cli: the prompt is `host:port[db]> ` (or `not connected> `
//! while the server is unreachable; the next command tries to reconnect),
//! history lives in `~/.redigocli_history` unless `REDIGOCLI_HISTFILE`
//! names another file (`/dev/null` turns it off) and is saved after every
//! line, lines carrying passwords are not saved, and `quit`, `exit`, Ctrl-D
//! or Ctrl-C end the session. Argument hints and command-name completion
//! ([`crate::hints`]) come from the server's `COMMAND DOCS`, fetched once
//! the first connection is up.

use std::path::PathBuf;

use rustyline::Editor;
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;

use crate::client::Client;
use crate::help;
use crate::hints::CommandHints;
use crate::line::{self, Flow, LineAction};

/// Environment variable naming the history file (redis-cli: `REDISCLI_HISTFILE`).
pub const HISTORY_FILE_ENV: &str = "REDIGOCLI_HISTFILE";
/// History file name in the home directory (redis-cli: `.rediscli_history`).
pub const HISTORY_FILE_NAME: &str = ".redigocli_history";
/// Prompt shown while there is no connection.
pub const DISCONNECTED_PROMPT: &str = "not connected> ";

/// Where history is kept, if anywhere (redis-cli's `getDotfilePath`).
pub fn history_path() -> Option<PathBuf> {
    match std::env::var_os(HISTORY_FILE_ENV).filter(|v| !v.is_empty()) {
        Some(path) if path == "/dev/null" => None,
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(HISTORY_FILE_NAME)),
    }
}

/// Runs the prompt until the user leaves. Fails only when the terminal
/// cannot be set up.
pub fn run(client: &mut Client) -> Result<(), ReadlineError> {
    let mut editor: Editor<CommandHints, DefaultHistory> = Editor::new()?;
    editor.set_helper(Some(CommandHints::default()));
    let history = history_path();
    if let Some(path) = &history {
        // A missing file is the normal first run.
        let _ = editor.load_history(path);
    }
    let mut hints_requested = false;
    let mut hints_enabled = true;
    loop {
        if !hints_requested && client.is_connected() {
            hints_requested = true;
            load_hints(&mut editor, client, hints_enabled);
        }
        let prompt = if client.is_connected() {
            client.prompt()
        } else {
            DISCONNECTED_PROMPT.to_owned()
        };
        let text = match editor.readline(&prompt) {
            Ok(text) => text,
            Err(ReadlineError::Eof | ReadlineError::Interrupted) => return Ok(()),
            Err(error) => return Err(error),
        };
        let parsed = line::parse(text.as_bytes());
        if parsed.keep_in_history {
            let _ = editor.add_history_entry(text.as_str());
            if let Some(path) = &history {
                let _ = editor.append_history(path);
            }
        }
        match parsed.action {
            LineAction::ClearScreen => {
                let _ = editor.clear_screen();
                continue;
            }
            LineAction::SetHints(enabled) => {
                hints_enabled = enabled;
                if let Some(hints) = editor.helper_mut() {
                    hints.set_enabled(enabled);
                }
                continue;
            }
            _ => {}
        }
        if line::execute(client, parsed.action) == Flow::Quit {
            return Ok(());
        }
    }
}

/// Fetches `COMMAND DOCS` for the hints (asked once per session: a server
/// without the command simply gives no hints).
fn load_hints(
    editor: &mut Editor<CommandHints, DefaultHistory>,
    client: &mut Client,
    enabled: bool,
) {
    if let Some(reply) = client.query(&["COMMAND", "DOCS"]) {
        let mut hints = CommandHints::new(&help::parse_docs(&reply));
        hints.set_enabled(enabled);
        editor.set_helper(Some(hints));
    }
}
