//! Redis 7.0's error texts, shared by every command family.
//!
//! Texts are the full error line without the leading `-`: the code (`ERR`,
//! `WRONGTYPE`, ...) followed by the message, exactly as Redis sends them.
//! Hand them to [`ExecContext::reply_error`](super::ExecContext::reply_error).

/// `shared.syntaxerr`.
pub const SYNTAX: &str = "ERR syntax error";
/// `shared.wrongtypeerr`.
pub const WRONG_TYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// The reply of `getLongLongFromObjectOrReply` and friends.
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
/// The reply of `getIntFromObjectOrReply` to an integer outside `int`.
pub const NOT_AN_INT: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
/// The reply of `getDoubleFromObjectOrReply`.
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
/// `SELECT`, `MOVE`, `SWAPDB` with a bad index.
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
/// `shared.noautherr`.
pub const NOAUTH: &str = "NOAUTH Authentication required.";
/// `shared.outofrangeerr`.
pub const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
/// `shared.nokeyerr`.
pub const NO_SUCH_KEY: &str = "ERR no such key";

/// How many bytes of a client-supplied string Redis quotes in an error
/// (`%.128s` in `processCommand`).
pub const QUOTED_ARG_MAX: usize = 128;

/// What C's `%s` prints of a Redis string: everything before the first NUL.
fn c_str(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

/// `%.Ns`: at most `max` bytes of the C string.
fn c_str_prefix(bytes: &[u8], max: usize) -> &[u8] {
    let s = c_str(bytes);
    &s[..s.len().min(max)]
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `ERR unknown command 'foo', with args beginning with: 'a' 'b' `, built as
/// `processCommand` does: arguments are quoted while the list is shorter than
/// 128 bytes, each truncated to what still fits.
pub fn unknown_command(args: &[impl AsRef<[u8]>]) -> String {
    let name = args.first().map(|a| a.as_ref()).unwrap_or_default();
    let mut quoted: Vec<u8> = Vec::new();
    for arg in args.iter().skip(1) {
        if quoted.len() >= QUOTED_ARG_MAX {
            break;
        }
        let room = QUOTED_ARG_MAX - quoted.len();
        quoted.push(b'\'');
        quoted.extend_from_slice(c_str_prefix(arg.as_ref(), room));
        quoted.extend_from_slice(b"' ");
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        lossy(c_str_prefix(name, QUOTED_ARG_MAX)),
        lossy(&quoted)
    )
}

/// `ERR unknown subcommand 'x'. Try CONFIG HELP.`
pub fn unknown_subcommand(sub: &[u8], container: &[u8]) -> String {
    format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        lossy(c_str_prefix(sub, QUOTED_ARG_MAX)),
        lossy(c_str(container)).to_uppercase()
    )
}

/// `ERR wrong number of arguments for 'config|get' command` (the full name).
pub fn wrong_arity(full_name: &str) -> String {
    format!("ERR wrong number of arguments for '{full_name}' command")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_quotes_args_with_trailing_space() {
        assert_eq!(
            unknown_command(&["foo", "a", "b"]),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
        assert_eq!(
            unknown_command(&["foo"]),
            "ERR unknown command 'foo', with args beginning with: "
        );
    }

    #[test]
    fn unknown_command_stops_at_nul_and_truncates_like_redis() {
        assert_eq!(
            unknown_command(&[&b"foo"[..], b"a\0b"]),
            "ERR unknown command 'foo', with args beginning with: 'a' "
        );
        let long = "x".repeat(200);
        let msg = unknown_command(&["foo", long.as_str(), "y"]);
        assert_eq!(
            msg,
            format!(
                "ERR unknown command 'foo', with args beginning with: '{}' ",
                "x".repeat(128)
            )
        );
        // 19 quoted args of "aaaa" fill 133 bytes in Redis; the 26th is cut to fit.
        let many: Vec<&str> = std::iter::once("foo")
            .chain(std::iter::repeat_n("aaaa", 60))
            .collect();
        let expected = format!(
            "ERR unknown command 'foo', with args beginning with: {}'aa' ",
            "'aaaa' ".repeat(18)
        );
        assert_eq!(unknown_command(&many), expected);
    }

    #[test]
    fn unknown_subcommand_upper_cases_the_container() {
        assert_eq!(
            unknown_subcommand(b"x", b"config"),
            "ERR unknown subcommand 'x'. Try CONFIG HELP."
        );
    }
}
