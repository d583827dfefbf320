//! Turning a reply [`Frame`] into the bytes redis-cli 7.0 prints for it.
//!
//! redis-cli has three output forms, chosen once at startup:
//!
//! * **standard** (`cliFormatReplyTTY`), the default when stdout is a
//!   terminal or with `--no-raw`: `OK`, `(integer) 1`, `(nil)`, bulk strings
//!   quoted with `sdscatrepr`, `(error) ERR ...`, numbered arrays whose nested
//!   elements are indented under their parent's number.
//! * **raw** (`cliFormatReplyRaw`), the default when stdout is not a terminal
//!   or with `--raw`: payloads as-is, array elements separated by the
//!   multi-bulk delimiter (`-d`, default `\n`), nil as nothing, and the
//!   command delimiter (`-D`, default `\n`) after the whole reply.
//! * **CSV** (`cliFormatReplyCSV`, with `--csv`): one line per reply,
//!   strings quoted with `sdscatrepr`, array elements separated by commas
//!   (nested arrays flattened), nil as `NULL`, errors as `ERROR,"..."`.
//!
//! A few commands whose replies are meant to be read as text (`INFO`,
//! `CLIENT LIST`, ...) are always printed raw and without the trailing
//! delimiter, whatever the mode: see [`is_verbatim_command`].

use redigo_resp::Frame;

/// How replies are printed; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    /// redis-cli's TTY form (`cliFormatReplyTTY`).
    Standard,
    /// redis-cli's `--raw` form (`cliFormatReplyRaw`).
    Raw,
    /// redis-cli's `--csv` form (`cliFormatReplyCSV`).
    Csv,
}

/// Delimiters of the raw form (`-d` and `-D`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawDelimiters {
    /// Between the elements of an array (`-d`, default `\n`).
    pub between_elements: Vec<u8>,
    /// After each reply (`-D`, default `\n`).
    pub after_reply: Vec<u8>,
}

impl Default for RawDelimiters {
    fn default() -> Self {
        RawDelimiters {
            between_elements: b"\n".to_vec(),
            after_reply: b"\n".to_vec(),
        }
    }
}

/// Formats a whole reply as redis-cli prints it (`cliFormatReply`).
///
/// `verbatim` is set for the commands of [`is_verbatim_command`]: their
/// reply is printed raw with no delimiter appended, in every mode.
pub fn format_reply(
    reply: &Frame,
    mode: OutputMode,
    delimiters: &RawDelimiters,
    verbatim: bool,
) -> Vec<u8> {
    let mut out = Vec::new();
    if verbatim {
        write_raw(&mut out, reply, &delimiters.between_elements);
    } else {
        match mode {
            OutputMode::Standard => write_tty(&mut out, reply, b""),
            OutputMode::Raw => {
                write_raw(&mut out, reply, &delimiters.between_elements);
                out.extend_from_slice(&delimiters.after_reply);
            }
            OutputMode::Csv => {
                write_csv(&mut out, reply);
                out.push(b'\n');
            }
        }
    }
    out
}

/// The TTY form of `reply` (`cliFormatReplyTTY(reply, "")`).
///
/// ```
/// use bytes::Bytes;
/// use redigo_resp::Frame;
/// let reply = Frame::Array(vec![Frame::Integer(1), Frame::Bulk(Bytes::from_static(b"a\n"))]);
/// assert_eq!(redigo_cli::format::tty(&reply), b"1) (integer) 1\n2) \"a\\n\"\n");
/// ```
pub fn tty(reply: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    write_tty(&mut out, reply, b"");
    out
}

/// The raw form of `reply` with `\n` between array elements and no
/// trailing delimiter (`cliFormatReplyRaw`).
pub fn raw(reply: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    write_raw(&mut out, reply, b"\n");
    out
}

/// Appends `reply` in the TTY form. `prefix` is the indentation of the
/// enclosing arrays, written before every element but the first (whose line
/// already carries the parent's number).
fn write_tty(out: &mut Vec<u8>, reply: &Frame, prefix: &[u8]) {
    match reply {
        Frame::Error(message) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(up_to_nul(message));
            out.push(b'\n');
        }
        Frame::Simple(text) => {
            out.extend_from_slice(up_to_nul(text));
            out.push(b'\n');
        }
        Frame::Integer(value) => {
            out.extend_from_slice(format!("(integer) {value}\n").as_bytes());
        }
        Frame::Bulk(payload) => {
            push_repr(out, payload);
            out.push(b'\n');
        }
        Frame::Null | Frame::NullArray => out.extend_from_slice(b"(nil)\n"),
        Frame::Array(items) if items.is_empty() => out.extend_from_slice(b"(empty array)\n"),
        Frame::Array(items) => {
            // Numbers are right-aligned to the width of the largest index, and
            // nested arrays are indented by that width plus ") ".
            let width = items.len().to_string().len();
            let mut nested_prefix = prefix.to_vec();
            nested_prefix.resize(prefix.len() + width + 2, b' ');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.extend_from_slice(prefix);
                }
                out.extend_from_slice(format!("{:>width$}) ", index + 1).as_bytes());
                write_tty(out, item, &nested_prefix);
            }
        }
    }
}

/// Appends `reply` in the raw form, `between_elements` separating the
/// elements of arrays (at every nesting level).
fn write_raw(out: &mut Vec<u8>, reply: &Frame, between_elements: &[u8]) {
    match reply {
        Frame::Null | Frame::NullArray => {}
        Frame::Error(message) => {
            out.extend_from_slice(message);
            out.push(b'\n');
        }
        Frame::Simple(text) | Frame::Bulk(text) => out.extend_from_slice(text),
        Frame::Integer(value) => out.extend_from_slice(value.to_string().as_bytes()),
        Frame::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.extend_from_slice(between_elements);
                }
                write_raw(out, item, between_elements);
            }
        }
    }
}

/// Appends `reply` in the CSV form (without the final newline).
fn write_csv(out: &mut Vec<u8>, reply: &Frame) {
    match reply {
        Frame::Error(message) => {
            out.extend_from_slice(b"ERROR,");
            push_repr(out, up_to_nul(message));
        }
        Frame::Simple(text) | Frame::Bulk(text) => push_repr(out, text),
        Frame::Integer(value) => out.extend_from_slice(value.to_string().as_bytes()),
        Frame::Null | Frame::NullArray => out.extend_from_slice(b"NULL"),
        Frame::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_csv(out, item);
            }
        }
    }
}

/// redis-cli prints status and error lines with `%s`, so they stop at a NUL.
fn up_to_nul(text: &[u8]) -> &[u8] {
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    &text[..end]
}

/// Appends `bytes` quoted as Redis's `sdscatrepr` does: `\\`, `\"`, `\n`,
/// `\r`, `\t`, `\a`, `\b`, printable ASCII as-is, anything else as `\xhh`.
///
/// ```
/// let mut out = Vec::new();
/// redigo_cli::format::push_repr(&mut out, b"a\x00\"\xff");
/// assert_eq!(out, br#""a\x00\"\xff""#);
/// ```
pub fn push_repr(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &byte in bytes {
        match byte {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', byte]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            // C's isprint in the "C" locale.
            0x20..=0x7e => out.push(byte),
            _ => out.extend_from_slice(format!("\\x{byte:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// Whether redis-cli prints the reply to `args` verbatim (raw, no trailing
/// delimiter) in every output mode: replies that are human-readable text
/// with their own line breaks. The list is redis-cli 7.0's.
pub fn is_verbatim_command(args: &[impl AsRef<[u8]>]) -> bool {
    let arg = |i: usize| args.get(i).map(|a| a.as_ref());
    let is = |i: usize, word: &str| arg(i).is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()));
    let argc = args.len();
    is(0, "info")
        || is(0, "lolwut")
        || (argc >= 2
            && is(0, "debug")
            && (is(1, "htstats") || is(1, "htstats-key") || is(1, "client-eviction")))
        || (argc >= 2 && is(0, "memory") && (is(1, "malloc-stats") || is(1, "doctor")))
        || (argc == 2 && is(0, "cluster") && (is(1, "nodes") || is(1, "info")))
        || (argc >= 2 && is(0, "client") && (is(1, "list") || is(1, "info")))
        || (argc == 3 && is(0, "latency") && is(1, "graph"))
        || (argc == 2 && is(0, "latency") && is(1, "doctor"))
        || (argc >= 2 && is(0, "proxy") && is(1, "info"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn bulk(text: &[u8]) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(text))
    }

    #[test]
    fn scalars_in_tty_form() {
        assert_eq!(tty(&Frame::Simple(Bytes::from_static(b"OK"))), b"OK\n");
        assert_eq!(tty(&Frame::Integer(-7)), b"(integer) -7\n");
        assert_eq!(tty(&Frame::Null), b"(nil)\n");
        assert_eq!(tty(&Frame::NullArray), b"(nil)\n");
        assert_eq!(
            tty(&Frame::Error(Bytes::from_static(b"ERR no"))),
            b"(error) ERR no\n"
        );
        assert_eq!(
            tty(&bulk(b"a\x00b\n\r\t\x07\x08\\\"\xff\x7f c")),
            b"\"a\\x00b\\n\\r\\t\\a\\b\\\\\\\"\\xff\\x7f c\"\n"
        );
        assert_eq!(tty(&Frame::Array(vec![])), b"(empty array)\n");
    }

    #[test]
    fn nested_arrays_are_indented_under_their_number() {
        let reply = Frame::Array(vec![
            bulk(b"get"),
            Frame::Array(vec![bulk(b"a"), Frame::Array(vec![Frame::Integer(1)])]),
            Frame::Array(vec![]),
        ]);
        assert_eq!(
            String::from_utf8(tty(&reply)).unwrap(),
            "1) \"get\"\n2) 1) \"a\"\n   2) 1) (integer) 1\n3) (empty array)\n"
        );
    }

    #[test]
    fn ten_or_more_elements_align_numbers() {
        let reply = Frame::Array((0..10).map(Frame::Integer).collect());
        let text = String::from_utf8(tty(&reply)).unwrap();
        assert!(text.starts_with(" 1) (integer) 0\n 2)"), "{text}");
        assert!(text.ends_with("10) (integer) 9\n"), "{text}");
        let nested = Frame::Array(vec![reply.clone(); 10]);
        let text = String::from_utf8(tty(&nested)).unwrap();
        assert!(
            text.starts_with(" 1)  1) (integer) 0\n     2) (integer) 1\n"),
            "{text}"
        );
    }

    #[test]
    fn raw_form_joins_elements_and_drops_nil() {
        let reply = Frame::Array(vec![
            bulk(b"a"),
            Frame::Null,
            Frame::Array(vec![Frame::Integer(3), bulk(b"")]),
            Frame::Error(Bytes::from_static(b"ERR x")),
        ]);
        assert_eq!(raw(&reply), b"a\n\n3\n\nERR x\n");
        let delimiters = RawDelimiters {
            between_elements: b",".to_vec(),
            after_reply: b";".to_vec(),
        };
        assert_eq!(
            format_reply(&reply, OutputMode::Raw, &delimiters, false),
            b"a,,3,,ERR x\n;"
        );
        assert_eq!(
            format_reply(
                &bulk(b"# Server\r\n"),
                OutputMode::Standard,
                &delimiters,
                true
            ),
            b"# Server\r\n"
        );
    }

    #[test]
    fn csv_form() {
        let reply = Frame::Array(vec![
            bulk(b"a,\"b"),
            Frame::Null,
            Frame::Array(vec![Frame::Integer(3), Frame::Array(vec![])]),
            Frame::Error(Bytes::from_static(b"ERR x")),
        ]);
        let delimiters = RawDelimiters::default();
        assert_eq!(
            format_reply(&reply, OutputMode::Csv, &delimiters, false),
            b"\"a,\\\"b\",NULL,3,,ERROR,\"ERR x\"\n"
        );
    }

    #[test]
    fn verbatim_commands_match_redis_cli() {
        assert!(is_verbatim_command(&["INFO"]));
        assert!(is_verbatim_command(&["client", "LIST"]));
        assert!(is_verbatim_command(&["cluster", "nodes"]));
        assert!(!is_verbatim_command(&["cluster", "nodes", "x"]));
        assert!(!is_verbatim_command(&["get", "info"]));
        assert!(!is_verbatim_command(&[] as &[&str]));
    }
}
