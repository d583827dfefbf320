//! `help`, `help <command>` and `help @<group>`, answered from the server's
//! `COMMAND DOCS`.
//!
//! redis-cli 7.0 carries a compiled-in command table; asking the server
//! instead keeps the help in step with whatever it implements (Redigo or
//! Redis). The layout and colours are redis-cli's `cliOutputCommandHelp`:
//!
//! ```text
//!
//!   GET key
//!   summary: Get the value of a key
//!   since: 1.0.0
//!   group: string
//!
//! ```
//!
//! (with `\r\n` line ends, the name in bold and the arguments in grey).

use redigo_resp::Frame;

use crate::client::{Client, ConnectErrors, Reconnect, write_stdout};

/// The overview printed by a bare `help`.
const OVERVIEW: &str = "To get help about Redis commands type:
      \"help @<group>\" to get a list of commands in <group>
      \"help <command>\" for help on <command>
      \"quit\" to exit
";

/// One command's documentation, as far as help shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandHelp {
    /// `GET`, or `CLIENT LIST` for a subcommand.
    pub name: String,
    /// The argument synopsis, e.g. `key [key ...]`.
    pub params: String,
    /// `summary` of COMMAND DOCS.
    pub summary: String,
    /// `since` of COMMAND DOCS.
    pub since: String,
    /// `group` of COMMAND DOCS.
    pub group: String,
}

/// Prints help for `topic` (the words after `help`).
pub fn print(client: &mut Client, topic: &[Vec<u8>]) {
    if topic.is_empty() {
        let text = format!("redigo-cli {}\n{OVERVIEW}", env!("CARGO_PKG_VERSION"));
        write_stdout(text.as_bytes());
        return;
    }
    if client
        .connect(Reconnect::IfDisconnected, ConnectErrors::Print)
        .is_err()
    {
        return;
    }
    let first = String::from_utf8_lossy(&topic[0]).into_owned();
    let mut out = String::new();
    if let Some(group) = first.strip_prefix('@') {
        let docs = client
            .query(&["COMMAND", "DOCS"])
            .map(|d| parse_docs(&d))
            .unwrap_or_default();
        let mut matching: Vec<_> = docs
            .into_iter()
            .filter(|doc| doc.group.eq_ignore_ascii_case(group))
            .collect();
        matching.sort_by(|a, b| a.name.cmp(&b.name));
        for doc in &matching {
            out.push_str(&render(doc, false));
        }
    } else {
        let docs = client
            .query(&["COMMAND", "DOCS", first.as_str()])
            .map(|d| parse_docs(&d))
            .unwrap_or_default();
        let wanted: Vec<String> = topic
            .iter()
            .map(|word| String::from_utf8_lossy(word).to_ascii_uppercase())
            .collect();
        let wanted = wanted.join(" ");
        for doc in docs.iter().filter(|doc| doc.name == wanted) {
            out.push_str(&render(doc, true));
        }
    }
    out.push_str("\r\n");
    write_stdout(out.as_bytes());
}

/// One entry in redis-cli's layout.
fn render(doc: &CommandHelp, with_group: bool) -> String {
    let mut text = format!(
        "\r\n  \x1b[1m{}\x1b[0m \x1b[90m{}\x1b[0m\r\n  \x1b[33msummary:\x1b[0m {}\r\n  \x1b[33msince:\x1b[0m {}\r\n",
        doc.name, doc.params, doc.summary, doc.since
    );
    if with_group {
        text.push_str(&format!("  \x1b[33mgroup:\x1b[0m {}\r\n", doc.group));
    }
    text
}

/// Reads a `COMMAND DOCS` reply (name, doc-map pairs), subcommands included.
pub fn parse_docs(reply: &Frame) -> Vec<CommandHelp> {
    let mut docs = Vec::new();
    if let Frame::Array(items) = reply {
        for pair in items.chunks(2) {
            if let [name, Frame::Array(fields)] = pair {
                collect_doc(&text_of(name), fields, &mut docs);
            }
        }
    }
    docs
}

fn collect_doc(name: &str, fields: &[Frame], docs: &mut Vec<CommandHelp>) {
    let field = |key: &str| {
        fields
            .chunks(2)
            .find(|pair| text_of(&pair[0]) == key)
            .and_then(|pair| pair.get(1))
    };
    let params = match field("arguments") {
        Some(Frame::Array(arguments)) => arguments
            .iter()
            .filter_map(|a| match a {
                Frame::Array(fields) => Some(render_argument(fields)),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    docs.push(CommandHelp {
        name: name.replace('|', " ").to_ascii_uppercase(),
        params,
        summary: field("summary").map(text_of).unwrap_or_default(),
        since: field("since").map(text_of).unwrap_or_default(),
        group: field("group").map(text_of).unwrap_or_default(),
    });
    if let Some(Frame::Array(subcommands)) = field("subcommands") {
        for pair in subcommands.chunks(2) {
            if let [sub_name, Frame::Array(sub_fields)] = pair {
                collect_doc(&text_of(sub_name), sub_fields, docs);
            }
        }
    }
}

/// One argument of the synopsis: `key`, `[NX|XX]`, `key [key ...]`,
/// `[LIMIT offset count]`.
fn render_argument(fields: &[Frame]) -> String {
    let field = |key: &str| {
        fields
            .chunks(2)
            .find(|pair| text_of(&pair[0]) == key)
            .and_then(|pair| pair.get(1))
    };
    let kind = field("type").map(text_of).unwrap_or_default();
    let token = field("token").map(text_of);
    let children = || match field("arguments") {
        Some(Frame::Array(children)) => children
            .iter()
            .filter_map(|c| match c {
                Frame::Array(fields) => Some(render_argument(fields)),
                _ => None,
            })
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let flags: Vec<String> = match field("flags") {
        Some(Frame::Array(flags)) => flags.iter().map(text_of).collect(),
        _ => Vec::new(),
    };
    let has_flag = |flag: &str| flags.iter().any(|f| f == flag);
    let body = match kind.as_str() {
        "pure-token" => token.clone().unwrap_or_default(),
        "oneof" => children().join("|"),
        "block" => children().join(" "),
        _ => field("name").map(text_of).unwrap_or_default(),
    };
    let body = match (&token, kind.as_str()) {
        (Some(token), kind) if kind != "pure-token" => format!("{token} {body}"),
        _ => body,
    };
    let body = if has_flag("multiple") {
        format!("{body} [{body} ...]")
    } else {
        body
    };
    if has_flag("optional") {
        format!("[{body}]")
    } else {
        body
    }
}

fn text_of(frame: &Frame) -> String {
    match frame {
        Frame::Simple(text) | Frame::Bulk(text) => String::from_utf8_lossy(text).into_owned(),
        Frame::Integer(value) => value.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn bulk(text: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(text.as_bytes()))
    }

    fn map(pairs: Vec<(&str, Frame)>) -> Frame {
        Frame::Array(pairs.into_iter().flat_map(|(k, v)| [bulk(k), v]).collect())
    }

    #[test]
    fn synopsis_from_arguments() {
        let arguments = Frame::Array(vec![
            map(vec![
                ("name", bulk("key")),
                ("type", bulk("key")),
                (
                    "flags",
                    Frame::Array(vec![Frame::Simple("multiple".into())]),
                ),
            ]),
            map(vec![
                ("name", bulk("condition")),
                ("type", bulk("oneof")),
                (
                    "flags",
                    Frame::Array(vec![Frame::Simple("optional".into())]),
                ),
                (
                    "arguments",
                    Frame::Array(vec![
                        map(vec![
                            ("name", bulk("nx")),
                            ("type", bulk("pure-token")),
                            ("token", bulk("NX")),
                        ]),
                        map(vec![
                            ("name", bulk("xx")),
                            ("type", bulk("pure-token")),
                            ("token", bulk("XX")),
                        ]),
                    ]),
                ),
            ]),
            map(vec![
                ("name", bulk("seconds")),
                ("type", bulk("integer")),
                ("token", bulk("EX")),
            ]),
        ]);
        let reply = Frame::Array(vec![
            bulk("demo"),
            map(vec![
                ("summary", bulk("Does things")),
                ("since", bulk("1.0.0")),
                ("group", bulk("generic")),
                ("arguments", arguments),
            ]),
        ]);
        let docs = parse_docs(&reply);
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].name, "DEMO");
        assert_eq!(docs[0].params, "key [key ...] [NX|XX] EX seconds");
        assert_eq!(
            render(&docs[0], true),
            "\r\n  \x1b[1mDEMO\x1b[0m \x1b[90mkey [key ...] [NX|XX] EX seconds\x1b[0m\r\n  \x1b[33msummary:\x1b[0m Does things\r\n  \x1b[33msince:\x1b[0m 1.0.0\r\n  \x1b[33mgroup:\x1b[0m generic\r\n"
        );
    }
}
