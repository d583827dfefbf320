//! Redis's strict decimal integer syntax for length and integer lines.
//!
//! Redis parses `*<count>` and `$<len>` with `string2ll` (src/util.c), which is
//! stricter than Rust's `str::parse`: no `+` sign, no leading zeros, no `-0`,
//! no whitespace, at most 20 characters. Matching it byte for byte matters:
//! `*01\r\n` or `*+1\r\n` must be a protocol error exactly as in Redis.

/// `string2ll` refuses strings of this length or longer (`LONG_STR_SIZE`).
const MAX_DECIMAL_LEN: usize = 21;

/// Parses `digits` as `string2ll` does; `None` when Redis would refuse it.
pub(crate) fn parse_decimal(digits: &[u8]) -> Option<i64> {
    if digits.is_empty() || digits.len() >= MAX_DECIMAL_LEN {
        return None;
    }
    if digits == b"0" {
        return Some(0);
    }
    let (negative, magnitude) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    // The first digit must be 1-9: this rejects "", "-", "-0", "01" and "+1".
    match magnitude.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut value: u64 = 0;
    for &byte in magnitude {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
    }
    if negative {
        // -(i64::MIN) does not fit in i64, so go through the unsigned value.
        if value > i64::MIN.unsigned_abs() {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(value))
    } else {
        i64::try_from(value).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_decimal;

    #[test]
    fn accepts_what_string2ll_accepts() {
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b"7"), Some(7));
        assert_eq!(parse_decimal(b"-1"), Some(-1));
        assert_eq!(parse_decimal(b"2147483647"), Some(2_147_483_647));
        assert_eq!(parse_decimal(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_decimal(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn refuses_what_string2ll_refuses() {
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"1x",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"000000000000000000001",
            b"18446744073709551616",
        ] {
            assert_eq!(
                parse_decimal(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
