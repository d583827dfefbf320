//! Splitting an inline command line into arguments, as Redis's `sdssplitargs`.
//!
//! Redis uses this for inline commands (`processInlineBuffer`) and redis-cli
//! for its prompt, so both the server and `redigo-cli` go through this one
//! function. The rules, taken from src/sds.c:
//!
//! * Arguments are separated by whitespace (C `isspace`: space, `\t`, `\n`,
//!   `\v`, `\f`, `\r`). Inside an unquoted argument only space, `\t`, `\n`,
//!   `\r` end it, so `a\x0Bb` (vertical tab) is one argument.
//! * `"..."` understands `\n \r \t \b \a`, `\xHH` (two hex digits) and any
//!   other `\c` as `c`.
//! * `'...'` understands only `\'`.
//! * A quote may open in the middle of an argument (`a"b c"` is `ab c`), but a
//!   closing quote must be followed by whitespace or the end of the line.
//! * The line is a C string to Redis: it ends at the first NUL byte.

use bytes::Bytes;

use crate::error::UnbalancedQuotes;

/// C's `isspace` in the "C" locale.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Where the scanner is inside the current argument.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    None,
    Double,
    Single,
}

/// Splits `line` into arguments following Redis's `sdssplitargs`.
///
/// An empty or all-blank line gives an empty vector.
///
/// ```
/// use redigo_resp::split_args;
/// let args = split_args(br#"SET "a key" 'it\'s' "\x41\n""#).unwrap();
/// assert_eq!(args, [&b"SET"[..], b"a key", b"it's", b"A\n"]);
/// assert!(split_args(b"GET \"unterminated").is_err());
/// ```
pub fn split_args(line: &[u8]) -> Result<Vec<Bytes>, UnbalancedQuotes> {
    // Redis sees a C string: nothing after a NUL exists.
    let line = &line[..memchr::memchr(0, line).unwrap_or(line.len())];
    // Reading past the end yields NUL, exactly like the C code's `*(p+1)`.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_c_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Ok(args);
        }
        let mut current = Vec::new();
        let mut quoting = Quoting::None;
        loop {
            let byte = at(p);
            match quoting {
                Quoting::Double => {
                    if byte == b'\\' && at(p + 1) == b'x' {
                        if let (Some(high), Some(low)) =
                            (hex_value(at(p + 2)), hex_value(at(p + 3)))
                        {
                            current.push(high * 16 + low);
                            p += 4;
                            continue;
                        }
                    }
                    if byte == b'\\' && at(p + 1) != 0 {
                        current.push(match at(p + 1) {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                        p += 2;
                    } else if byte == b'"' {
                        if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                            return Err(UnbalancedQuotes);
                        }
                        p += 1;
                        break;
                    } else if byte == 0 {
                        return Err(UnbalancedQuotes);
                    } else {
                        current.push(byte);
                        p += 1;
                    }
                }
                Quoting::Single => {
                    if byte == b'\\' && at(p + 1) == b'\'' {
                        current.push(b'\'');
                        p += 2;
                    } else if byte == b'\'' {
                        if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                            return Err(UnbalancedQuotes);
                        }
                        p += 1;
                        break;
                    } else if byte == 0 {
                        return Err(UnbalancedQuotes);
                    } else {
                        current.push(byte);
                        p += 1;
                    }
                }
                Quoting::None => match byte {
                    // The separator itself is skipped with the argument.
                    b' ' | b'\n' | b'\r' | b'\t' => {
                        p += 1;
                        break;
                    }
                    0 => break,
                    b'"' => {
                        quoting = Quoting::Double;
                        p += 1;
                    }
                    b'\'' => {
                        quoting = Quoting::Single;
                        p += 1;
                    }
                    other => {
                        current.push(other);
                        p += 1;
                    }
                },
            }
        }
        args.push(Bytes::from(current));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &[u8]) -> Vec<Vec<u8>> {
        split_args(line)
            .expect("balanced")
            .into_iter()
            .map(|arg| arg.to_vec())
            .collect()
    }

    #[test]
    fn plain_words_and_blanks() {
        assert_eq!(split(b"  SET  k\tv \x0b"), [&b"SET"[..], b"k", b"v"]);
        assert!(split(b"").is_empty());
        assert!(split(b" \t\x0c ").is_empty());
        // Vertical tab separates only between arguments, not inside one.
        assert_eq!(split(b"a\x0bb"), [b"a\x0bb"]);
        assert_eq!(split(b"a\rb"), [b"a", b"b"]);
    }

    #[test]
    fn double_quote_escapes() {
        assert_eq!(
            split(br#""\n\r\t\b\a\\\"\q\x41\x4a\xZZ""#),
            [b"\n\r\t\x08\x07\\\"qAJxZZ".to_vec()]
        );
        assert_eq!(split(br#""""#), [b""]);
    }

    #[test]
    fn single_quotes_only_escape_quote() {
        assert_eq!(split(br"'it\'s \n'"), [br"it's \n".to_vec()]);
    }

    #[test]
    fn quotes_inside_words() {
        assert_eq!(split(br#"a"b c" d"#), [&b"ab c"[..], b"d"]);
    }

    #[test]
    fn unbalanced() {
        for bad in [
            &br#""abc"#[..],
            br#""abc"x"#,
            br"'abc",
            br"'abc'x",
            br#""abc\""#,
            b"\"abc\\",
        ] {
            assert_eq!(split_args(bad), Err(UnbalancedQuotes), "{bad:?}");
        }
    }

    #[test]
    fn closing_quote_followed_by_any_c_space() {
        assert_eq!(split(b"\"a\"\x0c"), [b"a"]);
        assert_eq!(split(b"'a'\x0bb"), [&b"a"[..], b"b"]);
    }

    #[test]
    fn nul_ends_the_line() {
        assert_eq!(split(b"a b\0c d"), [&b"a"[..], b"b"]);
        assert_eq!(split_args(b"\"a\0\""), Err(UnbalancedQuotes));
    }
}
