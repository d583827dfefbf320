//! Command hints and completion for the prompt, from `COMMAND DOCS`.
//!
//! As the user types `set k `, redis-cli shows the arguments still to type
//! in grey (`value [NX|XX] ...`). The rule is redis-cli 7.0's
//! `hintsCallback`: find the longest command name (`CLIENT LIST` beats
//! `CLIENT`) matching the first words typed, then drop one word of the
//! synopsis per argument typed, stopping at the first optional `[`.
//! Tab completes command names.

use std::borrow::Cow;

use rustyline::Helper;
use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;

use crate::help::CommandHelp;

/// ANSI grey (redis-cli prints hints in colour 90).
const HINT_COLOR: &str = "\x1b[90m";
/// ANSI reset.
const COLOR_RESET: &str = "\x1b[0m";

/// Known commands: name words and argument synopsis.
#[derive(Debug, Clone)]
pub struct CommandHints {
    commands: Vec<(Vec<String>, String)>,
    /// `:set hints` / `:set nohints`.
    enabled: bool,
}

impl Default for CommandHints {
    fn default() -> Self {
        CommandHints::new(&[])
    }
}

impl CommandHints {
    /// Hints for the documented commands.
    pub fn new(docs: &[CommandHelp]) -> CommandHints {
        CommandHints {
            commands: docs
                .iter()
                .map(|doc| {
                    let words = doc.name.split(' ').map(str::to_owned).collect();
                    (words, doc.params.clone())
                })
                .collect(),
            enabled: true,
        }
    }

    /// Turns hints on or off (completion stays available).
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Whether there is nothing to hint from (not loaded yet).
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// The hint for `line`, with a leading space unless the line ends in one.
    ///
    /// ```
    /// use redigo_cli::help::CommandHelp;
    /// use redigo_cli::hints::CommandHints;
    /// let set = CommandHelp {
    ///     name: "SET".into(),
    ///     params: "key value [NX|XX]".into(),
    ///     summary: String::new(),
    ///     since: String::new(),
    ///     group: String::new(),
    /// };
    /// let hints = CommandHints::new(&[set]);
    /// assert_eq!(hints.hint_for("set").as_deref(), Some(" key value [NX|XX]"));
    /// assert_eq!(hints.hint_for("set k ").as_deref(), Some("value [NX|XX]"));
    /// assert_eq!(hints.hint_for("set k v").as_deref(), Some(" [NX|XX]"));
    /// ```
    pub fn hint_for(&self, line: &str) -> Option<String> {
        let typed = redigo_resp::split_args(line.as_bytes()).ok()?;
        if typed.is_empty() {
            return None;
        }
        let mut best: Option<(usize, &str)> = None;
        for (words, params) in &self.commands {
            let matches = words.len() <= typed.len()
                && words
                    .iter()
                    .zip(&typed)
                    .all(|(word, arg)| word.as_bytes().eq_ignore_ascii_case(arg));
            if matches && best.is_none_or(|(len, _)| words.len() > len) {
                best = Some((words.len(), params));
            }
        }
        let (matched, params) = best?;
        let mut to_remove = typed.len() - matched;
        let mut hint = params;
        while to_remove > 0 && !hint.starts_with('[') {
            let mut chars = hint.chars();
            match chars.next() {
                Some(' ') => to_remove -= 1,
                Some(_) => {}
                None => break,
            }
            hint = chars.as_str();
        }
        let ends_in_space = line.ends_with(|c: char| c.is_ascii_whitespace());
        Some(if ends_in_space {
            hint.to_owned()
        } else {
            format!(" {hint}")
        })
    }

    /// Command names starting with `prefix` (case-insensitive), in the
    /// case the user typed.
    pub fn complete(&self, prefix: &str) -> Vec<String> {
        let lowercase = prefix
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase());
        let mut names: Vec<String> = self
            .commands
            .iter()
            .filter(|(words, _)| words.len() == 1)
            .map(|(words, _)| &words[0])
            .filter(|name| {
                name.len() >= prefix.len()
                    && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
            })
            .map(|name| {
                if lowercase {
                    name.to_ascii_lowercase()
                } else {
                    name.clone()
                }
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

impl Hinter for CommandHints {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &rustyline::Context<'_>) -> Option<String> {
        let wanted = self.enabled && pos == line.len();
        wanted.then(|| self.hint_for(line)).flatten()
    }
}

impl Highlighter for CommandHints {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("{HINT_COLOR}{hint}{COLOR_RESET}"))
    }
}

impl Completer for CommandHints {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        // Only the command name (the first word) is completed.
        let before = &line[..pos];
        if before.trim_start().contains(char::is_whitespace) {
            return Ok((pos, Vec::new()));
        }
        let start = before.len() - before.trim_start().len();
        Ok((start, self.complete(&before[start..])))
    }
}

impl Validator for CommandHints {}

impl Helper for CommandHints {}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, params: &str) -> CommandHelp {
        CommandHelp {
            name: name.to_owned(),
            params: params.to_owned(),
            summary: String::new(),
            since: String::new(),
            group: String::new(),
        }
    }

    #[test]
    fn longest_name_wins_and_typed_words_are_dropped() {
        let hints = CommandHints::new(&[
            doc("CLIENT", "subcommand"),
            doc("CLIENT KILL", "ip:port"),
            doc("GET", "key"),
        ]);
        assert_eq!(hints.hint_for("client kill").as_deref(), Some(" ip:port"));
        assert_eq!(hints.hint_for("client").as_deref(), Some(" subcommand"));
        assert_eq!(hints.hint_for("get k").as_deref(), Some(" "));
        assert_eq!(hints.hint_for("nosuch"), None);
        assert_eq!(hints.hint_for("  "), None);
        assert_eq!(hints.hint_for("get \"open"), None);
        let unicode = CommandHints::new(&[doc("X", "élan vital")]);
        assert_eq!(unicode.hint_for("x a").as_deref(), Some(" vital"));
    }

    #[test]
    fn hints_can_be_turned_off() {
        let history = rustyline::history::DefaultHistory::new();
        let context = rustyline::Context::new(&history);
        let mut hints = CommandHints::new(&[doc("GET", "key")]);
        assert_eq!(hints.hint("get", 3, &context).as_deref(), Some(" key"));
        assert_eq!(
            hints.hint("get", 1, &context),
            None,
            "cursor not at the end"
        );
        hints.set_enabled(false);
        assert_eq!(hints.hint("get", 3, &context), None);
    }

    #[test]
    fn completes_command_names_in_the_typed_case() {
        let hints = CommandHints::new(&[doc("GET", "key"), doc("GETDEL", "key"), doc("SET", "")]);
        assert_eq!(hints.complete("ge"), ["get", "getdel"]);
        assert_eq!(hints.complete("S"), ["SET"]);
        assert!(hints.complete("x").is_empty());
    }
}
