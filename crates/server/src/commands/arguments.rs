//! Argument reading shared by the command families (strings, keyspace,
//! expiry, databases), reproducing how Redis 7.0 reads them.
//!
//! Redis compares option keywords with `strcasecmp` on the C string, so an
//! argument is only seen up to its first NUL byte (`"NX\0junk"` is `NX`), and
//! reads integers with `string2ll` (no sign `+`, no spaces, no leading
//! zeros). Both quirks are visible to clients, hence these helpers rather
//! than `str::parse`.

use redigo_store::numeric;

use super::errors;

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
}
