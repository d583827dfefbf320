//! Argument reading shared by the command families (strings, keyspace,
//! expiry, databases, hashes, sets), reproducing how Redis 7.0 reads them:
//! keywords, integers, and the options of `SCAN`/`HSCAN`/`SSCAN`.
//!
//! Redis compares option keywords with `strcasecmp` on the C string, so an
//! argument is only seen up to its first NUL byte (`"NX\0junk"` is `NX`), and
//! reads integers with `string2ll` (no sign `+`, no spaces, no leading
//! zeros). Both quirks are visible to clients, hence these helpers rather
//! than `str::parse`.

use redigo_store::{ScanOptions, numeric};

use super::errors;

/// The reply of `SCAN`/`HSCAN`/`SSCAN` when the cursor is not an unsigned
/// number (`parseScanCursorOrReply`).
pub(crate) const INVALID_CURSOR: &str = "ERR invalid cursor";

/// The argument as C's string functions see it: everything before the first
/// NUL byte.
pub(crate) fn c_str(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&b| b == 0) {
        Some(end) => &arg[..end],
        None => arg,
    }
}

/// `!strcasecmp(arg, keyword)`.
pub(crate) fn is_keyword(arg: &[u8], keyword: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(keyword.as_bytes())
}

/// `getLongLongFromObjectOrReply` (and `getLongFromObjectOrReply`, `long`
/// being 64 bits): `None` means `ERR value is not an integer or out of
/// range`.
pub(crate) fn integer(arg: &[u8]) -> Option<i64> {
    numeric::parse_i64(arg)
}

/// A Redis `int` argument (`getIntFromObject`): read strictly, as
/// `string2ll` does (no `+`, no leading zeros, no `-0`), then narrowed.
pub(crate) fn parse_int(arg: &[u8]) -> Option<i32> {
    i32::try_from(integer(arg)?).ok()
}

/// `getIntFromObjectOrReply`: the error says whether the argument is not an
/// integer at all or only outside `int`.
pub(crate) fn int_or_reply(arg: &[u8]) -> Result<i32, &'static str> {
    let value = integer(arg).ok_or(errors::NOT_INTEGER)?;
    i32::try_from(value).map_err(|_| errors::NOT_AN_INT)
}

/// `getRangeLongFromObjectOrReply(o, min, max, msg)`: an integer in
/// `min..=max`. With a message, Redis answers `ERR <msg>` both for a
/// non-integer and for one out of range; without, the generic texts.
pub(crate) fn range_or_reply(
    arg: &[u8],
    min: i64,
    max: i64,
    msg: Option<&str>,
) -> Result<i64, String> {
    let fail = |generic: String| match msg {
        Some(msg) => format!("ERR {msg}"),
        None => generic,
    };
    let value = integer(arg).ok_or_else(|| fail(errors::NOT_INTEGER.to_string()))?;
    if value < min || value > max {
        return Err(fail(format!(
            "ERR value is out of range, value must between {min} and {max}"
        )));
    }
    Ok(value)
}

/// `getPositiveLongFromObjectOrReply(o, msg)`: a non-negative integer.
/// Redis passes its own message (`value is out of range, must be
/// positive`) when none is given, so it answers a non-integer with it too.
pub(crate) fn positive_or_reply(arg: &[u8], msg: Option<&str>) -> Result<i64, String> {
    let msg = msg.unwrap_or("value is out of range, must be positive");
    range_or_reply(arg, 0, i64::MAX, Some(msg))
}

/// Reads the options of `SCAN` (`with_type`) or `HSCAN`/`SSCAN` from
/// `args[first..]` as Redis 7.0's `scanGenericCommand` does: any order,
/// repetitions allowed (the last wins), `COUNT` below 1 a syntax error,
/// `MATCH *` no filter at all, `TYPE` only for `SCAN`.
pub(crate) fn scan_options(
    args: &[impl AsRef<[u8]>],
    first: usize,
    with_type: bool,
) -> Result<ScanOptions<'_>, &'static str> {
    let mut options = ScanOptions::default();
    let mut i = first;
    while i < args.len() {
        let Some(value) = args.get(i + 1).map(AsRef::as_ref) else {
            return Err(errors::SYNTAX);
        };
        let option = args[i].as_ref();
        if is_keyword(option, "COUNT") {
            let count = integer(value).ok_or(errors::NOT_INTEGER)?;
            if count < 1 {
                return Err(errors::SYNTAX);
            }
            options.count = usize::try_from(count).unwrap_or(usize::MAX);
        } else if is_keyword(option, "MATCH") {
            options.pattern = (value != b"*").then_some(value);
        } else if with_type && is_keyword(option, "TYPE") {
            options.type_name = Some(value);
        } else {
            return Err(errors::SYNTAX);
        }
        i += 2;
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_case_insensitive_c_strings() {
        assert!(is_keyword(b"nX", "NX"));
        assert!(is_keyword(b"NX\0tail", "NX"));
        assert!(!is_keyword(b"NXX", "NX"));
        assert!(!is_keyword(b"", "NX"));
    }

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(integer(b"-12"), Some(-12));
        assert_eq!(integer(b"+12"), None);
        assert_eq!(integer(b"012"), None);
        assert_eq!(integer(b"9223372036854775808"), None);
    }

    #[test]
    fn scan_options_follow_scan_generic_command() {
        let args = ["HSCAN", "k", "0", "count", "5", "MATCH", "a*"];
        let options = scan_options(&args, 3, false).unwrap();
        assert_eq!((options.count, options.pattern), (5, Some(&b"a*"[..])));
        assert_eq!(
            scan_options(&["HSCAN", "k", "0", "TYPE", "hash"], 3, false),
            Err(errors::SYNTAX)
        );
        assert_eq!(
            scan_options(&["SCAN", "0", "COUNT", "0"], 2, true),
            Err(errors::SYNTAX)
        );
        assert_eq!(
            scan_options(&["SCAN", "0", "COUNT", "x"], 2, true),
            Err(errors::NOT_INTEGER)
        );
        assert_eq!(
            scan_options(&["SCAN", "0", "MATCH"], 2, true),
            Err(errors::SYNTAX)
        );
        assert_eq!(
            scan_options(&["SCAN", "0", "MATCH", "*"], 2, true)
                .unwrap()
                .pattern,
            None
        );
    }

    #[test]
    fn ranged_integers_word_their_errors_as_redis() {
        assert_eq!(range_or_reply(b"5", 1, 9, None), Ok(5));
        assert_eq!(
            range_or_reply(b"x", 1, 9, Some("numkeys should be greater than 0")).unwrap_err(),
            "ERR numkeys should be greater than 0"
        );
        assert_eq!(
            range_or_reply(b"0", 1, i64::MAX, None).unwrap_err(),
            "ERR value is out of range, value must between 1 and 9223372036854775807"
        );
        assert_eq!(
            positive_or_reply(b"-1", None).unwrap_err(),
            "ERR value is out of range, must be positive"
        );
        assert_eq!(
            positive_or_reply(b"-1", Some("LIMIT can't be negative")).unwrap_err(),
            "ERR LIMIT can't be negative"
        );
        assert_eq!(
            positive_or_reply(b"x", None).unwrap_err(),
            "ERR value is out of range, must be positive"
        );
    }
}
