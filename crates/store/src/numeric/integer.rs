//! Redis's integer conversions: `string2ll`, `ll2string` and the `strtoul`
//! based SCAN cursor parser.
//!
//! Redis is deliberately strict about integers that become values
//! (`string2ll`: no `+`, no spaces, no leading zeros, no `-0`) but parses SCAN
//! cursors with C's lenient `strtoul`, so the two get separate functions.

/// Longest decimal rendering of an `i64` (`-9223372036854775808`).
pub const MAX_I64_CHARS: usize = 20;

/// Redis's `LONG_STR_SIZE`: strings this long or longer are never integers.
const LONG_STR_SIZE: usize = 21;

/// Parses `text` exactly like Redis's `string2ll`: an optional `-`, then
/// either `0` alone or a digit `1-9` followed by digits, fitting in `i64`.
/// Anything else (empty, `+1`, ` 1`, `01`, `-0`, overflow) is `None`.
///
/// ```
/// use redigo_store::numeric::parse_i64;
/// assert_eq!(parse_i64(b"-42"), Some(-42));
/// assert_eq!(parse_i64(b"042"), None);
/// ```
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() >= LONG_STR_SIZE {
        return None;
    }
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut magnitude: u64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(byte - b'0'))?;
    }
    if negative {
        // `0 - magnitude` reaches i64::MIN, whose magnitude has no positive i64.
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// The decimal text of an `i64`, kept on the stack (Redis's `ll2string`).
#[derive(Clone, Copy, Debug)]
pub struct FormattedI64 {
    buf: [u8; MAX_I64_CHARS],
    start: usize,
}

impl FormattedI64 {
    /// The formatted bytes, e.g. `b"-12"`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

impl std::ops::Deref for FormattedI64 {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Formats `value` in decimal without allocating.
///
/// ```
/// use redigo_store::numeric::format_i64;
/// assert_eq!(format_i64(i64::MIN).as_bytes(), b"-9223372036854775808");
/// ```
pub fn format_i64(value: i64) -> FormattedI64 {
    let mut buf = [0u8; MAX_I64_CHARS];
    let mut start = MAX_I64_CHARS;
    let mut magnitude = value.unsigned_abs();
    loop {
        start -= 1;
        // `magnitude % 10` is below 10, so the cast cannot truncate.
        buf[start] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if value < 0 {
        start -= 1;
        buf[start] = b'-';
    }
    FormattedI64 { buf, start }
}

/// The C locale's `isspace`.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Parses a SCAN/HSCAN/SSCAN/ZSCAN cursor like Redis 7.0's
/// `parseScanCursorOrReply`, which calls `strtoul(s, &end, 10)` on the
/// NUL-terminated argument and accepts it unless the first byte is a space,
/// `end` is not at the terminator, or the value overflows. Hence:
///
/// * the text ends at its first NUL byte (`"5\0x"` is 5, `""` is 0);
/// * a leading `+` or `-` is allowed, and `-n` wraps to `2^64 - n`;
/// * leading zeros are fine; anything past 20 significant digits overflows.
///
/// `None` means Redis replies `ERR invalid cursor`.
///
/// ```
/// use redigo_store::numeric::parse_scan_cursor;
/// assert_eq!(parse_scan_cursor(b"-1"), Some(u64::MAX));
/// assert_eq!(parse_scan_cursor(b""), Some(0));
/// assert_eq!(parse_scan_cursor(b" 1"), None);
/// ```
pub fn parse_scan_cursor(text: &[u8]) -> Option<u64> {
    let text = match text.iter().position(|&b| b == 0) {
        Some(nul) => &text[..nul],
        None => text,
    };
    match text.first() {
        None => return Some(0),
        Some(&first) if is_c_space(first) => return None,
        Some(_) => {}
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    // No digits at all: strtoul converts nothing and leaves `end` at the
    // start, which is not the terminator here.
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(byte - b'0')))?;
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn string2ll_cases() {
        let cases: &[(&[u8], Option<i64>)] = &[
            (b"", None),
            (b"0", Some(0)),
            (b"-0", None),
            (b"00", None),
            (b"01", None),
            (b"+1", None),
            (b" 1", None),
            (b"1 ", None),
            (b"-", None),
            (b"1", Some(1)),
            (b"-1", Some(-1)),
            (b"99", Some(99)),
            (b"-99", Some(-99)),
            (b"1a", None),
            (b"1\x00", None),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"9223372036854775808", None),
            (b"-9223372036854775808", Some(i64::MIN)),
            (b"-9223372036854775809", None),
            (b"18446744073709551616", None),
            (b"100000000000000000000", None),
        ];
        for &(text, expected) in cases {
            assert_eq!(parse_i64(text), expected, "{:?}", text.escape_ascii());
        }
    }

    #[test]
    fn scan_cursor_cases() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"", Some(0)),
            (b"\x00", Some(0)),
            (b"5\x00x", Some(5)),
            (b"0", Some(0)),
            (b"007", Some(7)),
            (b"+5", Some(5)),
            (b"-1", Some(u64::MAX)),
            (b"-0", Some(0)),
            (b"-", None),
            (b"+", None),
            (b" 5", None),
            (b"\x0b5", None),
            (b"5 ", None),
            (b"0x10", None),
            (b"abc", None),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"-18446744073709551615", Some(1)),
            (b"-18446744073709551616", None),
        ];
        for &(text, expected) in cases {
            assert_eq!(
                parse_scan_cursor(text),
                expected,
                "{:?}",
                text.escape_ascii()
            );
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(value: i64) {
            let text = format_i64(value);
            let expected = value.to_string();
            prop_assert_eq!(text.as_bytes(), expected.as_bytes());
            prop_assert_eq!(parse_i64(&text), Some(value));
        }

        #[test]
        fn parse_agrees_with_std_on_canonical_text(text in "-?[0-9]{1,21}") {
            let canonical = text.parse::<i64>().ok().filter(|v| v.to_string() == text);
            prop_assert_eq!(parse_i64(text.as_bytes()), canonical);
        }
    }
}
