//! One typed line of the interactive or scripted mode, understood and run
//! as redis-cli's `repl()` does.
//!
//! * The line is split with Redis's `sdssplitargs` rules
//!   ([`redigo_resp::split_args`]); unbalanced quotes print
//!   `Invalid argument(s)`.
//! * A leading number repeats the command (`3 incr c`); a number that is
//!   not positive prints `Invalid redis-cli repeat command option value.`
//! * `quit` and `exit` end the session, `connect host port` switches server,
//!   `clear` clears the screen, `:set hints`/`:set nohints` toggle the
//!   prompt's hints; anything else goes to the server.
//! * Lines carrying credentials (`AUTH`, `ACL SETUSER`, ...) are kept out of
//!   the history file.

use std::time::Instant;

use crate::c_number;
use crate::client::{Client, ConnectErrors, Reconnect, SLOW_COMMAND_REPORT, write_stdout};
use crate::format::OutputMode;

/// The escape sequence linenoise writes to clear the screen.
const CLEAR_SCREEN: &[u8] = b"\x1b[H\x1b[2J";

/// What a line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineAction {
    /// Blank: nothing to do.
    Nothing,
    /// Unbalanced quotes.
    InvalidArguments,
    /// A repeat prefix that is zero, negative or out of range.
    InvalidRepeat,
    /// `quit` / `exit`.
    Quit,
    /// `connect host port`.
    Connect {
        /// New host.
        host: String,
        /// New port (`atoi`, as redis-cli).
        port: u16,
    },
    /// `clear`.
    ClearScreen,
    /// `:set hints` / `:set nohints`.
    SetHints(bool),
    /// Another line starting with `:` (redis-cli's preference commands).
    UnknownPreference {
        /// The first word (`:set` or the unknown `:word`).
        command: Vec<u8>,
        /// The preference named after `:set`, if any.
        preference: Option<Vec<u8>>,
    },
    /// A command for the server, `repeat` times.
    Command {
        /// How many times (at least 1).
        repeat: i64,
        /// The command and its arguments.
        args: Vec<Vec<u8>>,
    },
}

/// A parsed line and whether it may be saved in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    /// What to do.
    pub action: LineAction,
    /// False for blank lines and lines carrying credentials.
    pub keep_in_history: bool,
}

/// Whether the session goes on after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next line.
    Continue,
    /// The user typed `quit` or `exit`.
    Quit,
}

/// Understands `line` (without its line terminator).
///
/// ```
/// use redigo_cli::line::{parse, LineAction};
/// let parsed = parse(b"3 incrby k -5");
/// assert_eq!(parsed.action, LineAction::Command {
///     repeat: 3,
///     args: vec![b"incrby".to_vec(), b"k".to_vec(), b"-5".to_vec()],
/// });
/// assert_eq!(parse(b"get \"open").action, LineAction::InvalidArguments);
/// ```
pub fn parse(line: &[u8]) -> ParsedLine {
    let Ok(args) = redigo_resp::split_args(line) else {
        return ParsedLine {
            action: LineAction::InvalidArguments,
            keep_in_history: true,
        };
    };
    if args.is_empty() {
        return ParsedLine {
            action: LineAction::Nothing,
            keep_in_history: false,
        };
    }
    let args: Vec<Vec<u8>> = args.into_iter().map(|a| a.to_vec()).collect();
    let (repeat, skip) = match (args.len() > 1).then(|| parse_repeat(&args[0])).flatten() {
        Some(Some(repeat)) => (repeat, 1),
        Some(None) => {
            return ParsedLine {
                action: LineAction::InvalidRepeat,
                keep_in_history: false,
            };
        }
        None => (1, 0),
    };
    let keep_in_history = !carries_credentials(&args[skip..]);
    let is = |i: usize, word: &str| args[i].eq_ignore_ascii_case(word.as_bytes());
    // As in redis-cli, these look at the first word even after a repeat count.
    let action = if is(0, "quit") || is(0, "exit") {
        LineAction::Quit
    } else if args[0].starts_with(b":") {
        preference_action(&args)
    } else if args.len() == 3 && is(0, "connect") {
        LineAction::Connect {
            host: String::from_utf8_lossy(&args[1]).into_owned(),
            port: u16::try_from(c_number::atoi(&args[2])).unwrap_or(0),
        }
    } else if args.len() == 1 && is(0, "clear") {
        LineAction::ClearScreen
    } else {
        LineAction::Command {
            repeat,
            args: args[skip..].to_vec(),
        }
    };
    ParsedLine {
        action,
        keep_in_history,
    }
}

/// redis-cli's `cliSetPreferences`.
fn preference_action(args: &[Vec<u8>]) -> LineAction {
    let is = |arg: &[u8], word: &str| arg.eq_ignore_ascii_case(word.as_bytes());
    match args {
        [set, preference, ..] if is(set, ":set") && is(preference, "hints") => {
            LineAction::SetHints(true)
        }
        [set, preference, ..] if is(set, ":set") && is(preference, "nohints") => {
            LineAction::SetHints(false)
        }
        [set, preference, ..] if is(set, ":set") => LineAction::UnknownPreference {
            command: set.clone(),
            preference: Some(preference.clone()),
        },
        [command, ..] => LineAction::UnknownPreference {
            command: command.clone(),
            preference: None,
        },
        [] => LineAction::Nothing,
    }
}

/// Runs a parsed line against `client`.
pub fn execute(client: &mut Client, action: LineAction) -> Flow {
    match action {
        LineAction::Nothing => {}
        LineAction::InvalidArguments => write_stdout(b"Invalid argument(s)\n"),
        LineAction::InvalidRepeat => {
            write_stdout(b"Invalid redis-cli repeat command option value.\n")
        }
        LineAction::Quit => return Flow::Quit,
        LineAction::Connect { host, port } => {
            client.set_address(host, port);
            let _ = client.connect(Reconnect::Always, ConnectErrors::Print);
        }
        LineAction::ClearScreen => write_stdout(CLEAR_SCREEN),
        // Only the prompt has hints; the REPL handles this before us.
        LineAction::SetHints(_) => {}
        LineAction::UnknownPreference {
            preference: Some(preference),
            ..
        } => {
            let mut out = b"unknown redis-cli preference '".to_vec();
            out.extend_from_slice(&preference);
            out.extend_from_slice(b"'\n");
            write_stdout(&out);
        }
        LineAction::UnknownPreference {
            command,
            preference: None,
        } => {
            let mut out = b"unknown redis-cli internal command '".to_vec();
            out.extend_from_slice(&command);
            out.extend_from_slice(b"'\n");
            write_stdout(&out);
        }
        LineAction::Command { repeat, args } => {
            let started = Instant::now();
            let _ = client.issue(&args, repeat);
            let elapsed = started.elapsed();
            if elapsed >= SLOW_COMMAND_REPORT && client.output_mode() == OutputMode::Standard {
                write_stdout(format!("({:.2}s)\n", elapsed.as_secs_f64()).as_bytes());
            }
        }
    }
    Flow::Continue
}

/// The repeat count of a line whose first word is entirely a number
/// (`strtol` with nothing left over): `None` when the word is not a number,
/// `Some(None)` when it is but is not a valid count.
fn parse_repeat(word: &[u8]) -> Option<Option<i64>> {
    match c_number::strtol_whole(word) {
        None => None,
        Some((_, true)) => Some(None),
        Some((value, false)) if value <= 0 => Some(None),
        Some((value, false)) => Some(Some(value)),
    }
}

/// Commands whose arguments include a password: never saved to history.
fn carries_credentials(args: &[Vec<u8>]) -> bool {
    let is = |i: usize, word: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()))
    };
    let has_word_after =
        |from: usize, words: &[&str]| (from..args.len()).any(|i| words.iter().any(|w| is(i, w)));
    is(0, "auth")
        || (is(0, "acl") && is(1, "setuser"))
        || (is(0, "hello") && has_word_after(2, &["auth"]))
        || (is(0, "migrate") && has_word_after(6, &["auth", "auth2"]))
        || (is(0, "config") && is(1, "set") && has_word_after(2, &["masterauth", "requirepass"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(line: &str) -> (i64, Vec<String>) {
        match parse(line.as_bytes()).action {
            LineAction::Command { repeat, args } => (
                repeat,
                args.into_iter()
                    .map(|a| String::from_utf8(a).unwrap())
                    .collect(),
            ),
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn repeat_prefix() {
        assert_eq!(command("3 ping"), (3, vec!["ping".to_owned()]));
        assert_eq!(command("+2 ping"), (2, vec!["ping".to_owned()]));
        assert_eq!(command("3"), (1, vec!["3".to_owned()]));
        assert_eq!(command("3x ping").1, ["3x", "ping"]);
        assert_eq!(parse(b"0 ping").action, LineAction::InvalidRepeat);
        assert_eq!(parse(b"-1 ping").action, LineAction::InvalidRepeat);
        assert_eq!(parse(b"\"\" ping").action, LineAction::InvalidRepeat);
        assert_eq!(
            parse(b"99999999999999999999 ping").action,
            LineAction::InvalidRepeat
        );
    }

    #[test]
    fn local_commands() {
        assert_eq!(parse(b"QUIT").action, LineAction::Quit);
        // redis-cli compares the first word, so a repeat count hides `exit`.
        assert_eq!(command("2 exit"), (2, vec!["exit".to_owned()]));
        assert_eq!(parse(b"   ").action, LineAction::Nothing);
        assert_eq!(parse(b"clear").action, LineAction::ClearScreen);
        assert_eq!(
            parse(b"connect localhost 7000").action,
            LineAction::Connect {
                host: "localhost".to_owned(),
                port: 7000
            }
        );
        assert_eq!(command("connect localhost").1, ["connect", "localhost"]);
        assert_eq!(parse(b":set NOHINTS").action, LineAction::SetHints(false));
        assert_eq!(
            parse(b":set foo").action,
            LineAction::UnknownPreference {
                command: b":set".to_vec(),
                preference: Some(b"foo".to_vec())
            }
        );
        assert_eq!(
            parse(b":bar x").action,
            LineAction::UnknownPreference {
                command: b":bar".to_vec(),
                preference: None
            }
        );
    }

    #[test]
    fn credentials_stay_out_of_history() {
        assert!(!parse(b"auth secret").keep_in_history);
        assert!(!parse(b"2 AUTH user secret").keep_in_history);
        assert!(!parse(b"acl setuser bob on >pw").keep_in_history);
        assert!(!parse(b"hello 3 AUTH u p").keep_in_history);
        assert!(!parse(b"config set requirepass x").keep_in_history);
        assert!(parse(b"get auth").keep_in_history);
        assert!(parse(b"get \"x").keep_in_history);
    }
}
