//! Sorted-set scores as Redis 7.0 reads and prints them: C's `strtod`
//! (glibc's, which is what the oracle links), Redis's `string2d` rules on
//! top of it for scores that are stored, `zslParseRange`'s looser rules for
//! range bounds, and `printf("%.17g")` for replies.
//!
//! * [`parse_score`] is `string2d`: the whole argument must be one number,
//!   no leading space, no overflow to an infinity or underflow to zero
//!   (`1e400`, `1e-400` are errors; `inf`, `-infinity` and `1e-310` are
//!   fine), NaN refused. Hexadecimal floats (`0x1p3`) are read as glibc
//!   reads them; more than 15 significant hex digits are truncated rather
//!   than rounded (glibc rounds), a difference no client meets in practice.
//! * [`parse_range_bound`] is `zslParseRange`'s half: an optional `(` for
//!   an exclusive bound, then `strtod` with leading white space allowed,
//!   overflow to an infinity allowed, and an empty number read as 0 (C's
//!   `strtod` consumes nothing and the rest is the terminating NUL), NaN
//!   refused. C stops at a NUL byte, so bytes after one are ignored.
//! * [`format_score`] is `addReplyDouble` over RESP2: `inf`/`-inf`, else
//!   `%.17g`, which round-trips every double exactly, so it is also what
//!   the AOF rewrite prints (Redis 7.0's rewrite prints through `%.17g`
//!   too).

/// What `strtod` read: the value, how many bytes it consumed, and whether it
/// set `ERANGE` with a result of zero or an infinity.
struct Strtod {
    value: f64,
    consumed: usize,
    out_of_range: bool,
}

fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// C's `strtod` over `text` (which stops at the first NUL, as a C string).
fn strtod(text: &[u8]) -> Strtod {
    let text = match text.iter().position(|&b| b == 0) {
        Some(nul) => &text[..nul],
        None => text,
    };
    let none = Strtod {
        value: 0.0,
        consumed: 0,
        out_of_range: false,
    };
    let mut at = 0;
    while at < text.len() && is_c_space(text[at]) {
        at += 1;
    }
    let mut negative = false;
    if at < text.len() && (text[at] == b'+' || text[at] == b'-') {
        negative = text[at] == b'-';
        at += 1;
    }
    let rest = &text[at..];
    let sign = |v: f64| if negative { -v } else { v };
    let starts_with =
        |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
    if starts_with(b"infinity") {
        return Strtod {
            value: sign(f64::INFINITY),
            consumed: at + 8,
            out_of_range: false,
        };
    }
    if starts_with(b"inf") {
        return Strtod {
            value: sign(f64::INFINITY),
            consumed: at + 3,
            out_of_range: false,
        };
    }
    if starts_with(b"nan") {
        let mut end = at + 3;
        // `nan(chars)` is consumed whole when the parenthesis closes.
        if text.get(end) == Some(&b'(') {
            let mut probe = end + 1;
            while probe < text.len() && (text[probe].is_ascii_alphanumeric() || text[probe] == b'_')
            {
                probe += 1;
            }
            if text.get(probe) == Some(&b')') {
                end = probe + 1;
            }
        }
        return Strtod {
            value: f64::NAN,
            consumed: end,
            out_of_range: false,
        };
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((value, used)) = hex_float(&rest[2..]) {
            let value = sign(value);
            let out_of_range = value.is_infinite() || (value == 0.0 && used.1);
            return Strtod {
                value,
                consumed: at + 2 + used.0,
                out_of_range,
            };
        }
        // "0x" without hex digits: strtod reads the "0".
        return Strtod {
            value: sign(0.0),
            consumed: at + 1,
            out_of_range: false,
        };
    }
    // Decimal: digits [. digits] [e [+-] digits].
    let mut end = 0;
    let mut mantissa_digits = 0;
    let mut nonzero = false;
    while end < rest.len() && rest[end].is_ascii_digit() {
        nonzero |= rest[end] != b'0';
        end += 1;
        mantissa_digits += 1;
    }
    if end < rest.len() && rest[end] == b'.' {
        end += 1;
        while end < rest.len() && rest[end].is_ascii_digit() {
            nonzero |= rest[end] != b'0';
            end += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return none;
    }
    if end < rest.len() && (rest[end] | 0x20) == b'e' {
        let mut exp_end = end + 1;
        if exp_end < rest.len() && (rest[exp_end] == b'+' || rest[exp_end] == b'-') {
            exp_end += 1;
        }
        let digits_start = exp_end;
        while exp_end < rest.len() && rest[exp_end].is_ascii_digit() {
            exp_end += 1;
        }
        if exp_end > digits_start {
            end = exp_end;
        }
    }
    let literal = std::str::from_utf8(&rest[..end]).expect("ASCII digits");
    // Rust's parser rounds correctly, as glibc's does; it only differs in
    // not reporting range errors, which are recovered here.
    let magnitude: f64 = literal.parse().unwrap_or(0.0);
    let out_of_range = magnitude.is_infinite() || (magnitude == 0.0 && nonzero);
    Strtod {
        value: sign(magnitude),
        consumed: at + end,
        out_of_range,
    }
}

/// A hexadecimal float after its `0x`: the value, and (bytes consumed,
/// whether nonzero digits were there); `None` without any hex digit.
fn hex_float(text: &[u8]) -> Option<(f64, (usize, bool))> {
    /// Hex digits kept exactly (60 bits; a double has 53).
    const KEPT_DIGITS: u32 = 15;
    let mut mantissa: u64 = 0;
    let mut kept = 0u32;
    let mut exponent: i64 = 0;
    let mut digits = 0;
    let mut nonzero = false;
    let mut at = 0;
    let mut seen_point = false;
    while at < text.len() {
        let byte = text[at];
        if byte == b'.' && !seen_point {
            seen_point = true;
            at += 1;
            continue;
        }
        let Some(digit) = (byte as char).to_digit(16) else {
            break;
        };
        digits += 1;
        nonzero |= digit != 0;
        if mantissa == 0 && digit == 0 {
            if seen_point {
                exponent -= 4;
            }
        } else if kept < KEPT_DIGITS {
            mantissa = mantissa * 16 + u64::from(digit);
            kept += 1;
            if seen_point {
                exponent -= 4;
            }
        } else if !seen_point {
            exponent += 4;
        }
        at += 1;
    }
    if digits == 0 {
        return None;
    }
    if at < text.len() && (text[at] | 0x20) == b'p' {
        let mut probe = at + 1;
        let mut negative = false;
        if probe < text.len() && (text[probe] == b'+' || text[probe] == b'-') {
            negative = text[probe] == b'-';
            probe += 1;
        }
        let start = probe;
        let mut value: i64 = 0;
        while probe < text.len() && text[probe].is_ascii_digit() {
            value = (value * 10 + i64::from(text[probe] - b'0')).min(1 << 20);
            probe += 1;
        }
        if probe > start {
            exponent += if negative { -value } else { value };
            at = probe;
        }
    }
    let value = scale_by_power_of_two(mantissa as f64, exponent);
    Some((value, (at, nonzero)))
}

fn scale_by_power_of_two(mut value: f64, mut exponent: i64) -> f64 {
    while exponent > 0 && value.is_finite() && value != 0.0 {
        let step = exponent.min(1000);
        value *= 2f64.powi(step as i32);
        exponent -= step;
    }
    while exponent < 0 && value != 0.0 {
        let step = (-exponent).min(1000);
        value /= 2f64.powi(step as i32);
        exponent += step;
    }
    value
}

/// Redis's `string2d`: a score as `ZADD`, `ZINCRBY` and `WEIGHTS` read it.
/// `None` is `ERR value is not a valid float` (or the command's own text).
pub fn parse_score(text: &[u8]) -> Option<f64> {
    if text.is_empty() || is_c_space(text[0]) {
        return None;
    }
    let read = strtod(text);
    if read.consumed != text.len() || read.out_of_range || read.value.is_nan() {
        return None;
    }
    Some(read.value)
}

/// One bound of a score range as `zslParseRange` reads it: the value and
/// whether it is exclusive (`(1.5`). `None` is `ERR min or max is not a
/// float`.
pub fn parse_range_bound(text: &[u8]) -> Option<(f64, bool)> {
    let (exclusive, number) = match text.first() {
        Some(b'(') => (true, &text[1..]),
        _ => (false, text),
    };
    let read = strtod(number);
    let c_len = number.iter().position(|&b| b == 0).unwrap_or(number.len());
    if read.consumed != c_len || read.value.is_nan() {
        return None;
    }
    Some((read.value, exclusive))
}

/// Significant digits of `%.17g`: enough to read every double back exactly.
const SIGNIFICANT_DIGITS: usize = 17;

/// A score as Redis 7.0 replies with it over RESP2 (`addReplyDouble`):
/// `inf`, `-inf`, or C's `%.17g` (`0.10000000000000001`, `-0`, `1e+300`
/// as `1.0000000000000001e+300`).
pub fn format_score(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if value.is_nan() {
        return "nan".into();
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:.16e}` is exactly rounded, as glibc's printf is.
    let scientific = format!("{:.*e}", SIGNIFICANT_DIGITS - 1, value);
    let (mantissa, exponent) = scientific.split_once('e').expect("exponent");
    let exponent: i32 = exponent.parse().expect("exponent digits");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(26);
    if negative {
        out.push('-');
    }
    if exponent < -4 || exponent >= SIGNIFICANT_DIGITS as i32 {
        out.push_str(&digits[..1]);
        let fraction = digits[1..].trim_end_matches('0');
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(fraction);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    } else if exponent >= 0 {
        let point = exponent as usize + 1;
        out.push_str(&digits[..point]);
        let fraction = digits[point..].trim_end_matches('0');
        if !fraction.is_empty() {
            out.push('.');
            out.push_str(fraction);
        }
    } else {
        out.push_str("0.");
        for _ in 0..(-exponent - 1) {
            out.push('0');
        }
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

/// Longest [`format_score`] text: a sign, 17 digits, a point and `e-308`.
const MAX_SCORE_CHARS: usize = 32;

/// Integers up to this magnitude are exact doubles and print with at most
/// 16 digits, which `%.17g` writes as the plain integer.
const PLAIN_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// A score printed as [`format_score`] prints it, held on the stack: what
/// a reply streaming many scores (`ZRANGE ... WITHSCORES`, the pops)
/// writes without allocating per score.
#[derive(Clone, Copy, Debug)]
pub struct ScoreText {
    buf: [u8; MAX_SCORE_CHARS],
    len: usize,
}

impl ScoreText {
    /// The printed bytes, e.g. `b"1.5"`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// [`format_score`] without allocating for the usual score, an integer
/// of at most 2^53 in magnitude (`-0` keeps its sign); any other score is
/// printed by [`format_score`] and copied.
pub fn score_text(value: f64) -> ScoreText {
    let mut text = ScoreText {
        buf: [0; MAX_SCORE_CHARS],
        len: 0,
    };
    let plain = value == value.trunc()
        && value.abs() <= PLAIN_INTEGER_LIMIT
        && !(value == 0.0 && value.is_sign_negative());
    if plain {
        // Exact: |value| <= 2^53 fits an i64 with room to spare.
        let digits = crate::numeric::format_i64(value as i64);
        text.buf[..digits.len()].copy_from_slice(&digits);
        text.len = digits.len();
    } else {
        let printed = format_score(value);
        text.buf[..printed.len()].copy_from_slice(printed.as_bytes());
        text.len = printed.len();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_text_prints_as_format_score() {
        for value in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            42.0,
            -123_456_789.0,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_992.0,
            9_007_199_254_740_994.0,
            1e17,
            0.5,
            0.1,
            -2.5e-300,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(
                score_text(value).as_bytes(),
                format_score(value).as_bytes(),
                "{value:e}"
            );
        }
    }

    #[test]
    fn scores_print_as_redis_does() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (0.1, "0.10000000000000001"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e300, "1.0000000000000001e+300"),
            (2.5, "2.5"),
            (3.0000000000000004, "3.0000000000000004"),
            (1e-310, "9.9999999999999694e-311"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (123456789.0, "123456789"),
            (1e17, "1e+17"),
            (1e16, "10000000000000000"),
            (0.0001, "0.0001"),
            (0.00001, "1.0000000000000001e-05"),
            (-1.5, "-1.5"),
        ];
        for &(value, text) in cases {
            assert_eq!(format_score(value), text, "{value:e}");
        }
    }

    #[test]
    fn scores_parse_as_string2d() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"+1"), Some(1.0));
        assert_eq!(parse_score(b".5"), Some(0.5));
        assert_eq!(parse_score(b"5."), Some(5.0));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"0x1p-2"), Some(0.25));
        assert_eq!(parse_score(b"1e-310"), Some(1e-310));
        assert!(parse_score(b"-0").unwrap().is_sign_negative());
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"1e400",
            b"1e-400",
            b"nan",
            b"abc",
            b"1e",
            b"0x",
            b"inf1",
            b"1\x002",
        ] {
            assert_eq!(parse_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn range_bounds_parse_as_zsl_parse_range() {
        assert_eq!(parse_range_bound(b"(1.5"), Some((1.5, true)));
        assert_eq!(parse_range_bound(b"1.5"), Some((1.5, false)));
        assert_eq!(parse_range_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_range_bound(b""), Some((0.0, false)));
        assert_eq!(parse_range_bound(b" 1"), Some((1.0, false)));
        assert_eq!(parse_range_bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(parse_range_bound(b"-inf"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(parse_range_bound(b"0x0"), Some((0.0, false)));
        assert_eq!(parse_range_bound(b"1 "), None);
        assert_eq!(parse_range_bound(b"nan"), None);
        assert_eq!(parse_range_bound(b"[1"), None);
        assert_eq!(parse_range_bound(b"1\x00junk"), Some((1.0, false)));
    }
}
