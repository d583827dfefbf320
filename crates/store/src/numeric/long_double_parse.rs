//! Redis's `string2ld`: glibc `strtold` on the whole argument, plus Redis's
//! extra rejections.
//!
//! Accepted, as by `strtold` in the C locale: an optional sign, then
//! `inf`/`infinity` (any case), a decimal number (`1`, `1.`, `.5`, `1e-3`),
//! or a hexadecimal float (`0x1.8p3`, the `p` exponent optional). The value is
//! rounded correctly (nearest, ties to even) to the x87 format, however many
//! digits the text has.
//!
//! Rejected, as by Redis 7.0's `string2ld`: empty text, text of
//! [`MAX_LONG_DOUBLE_CHARS`] bytes or more, a leading space, anything
//! `strtold` does not consume (trailing bytes, embedded NUL), NaN, and
//! out-of-range values: overflow to infinity and non-zero text that
//! underflows to zero (`ERANGE`). Subnormal results are accepted.

use super::big_uint::BigUint;
use super::long_double::{Class, LongDouble, MAX_EXPONENT, MIN_EXPONENT, round_to_long_double};

/// Redis's `MAX_LONG_DOUBLE_CHARS`: the size of the stack buffers
/// `string2ld` copies into and `ld2string` prints into. Inputs must be
/// shorter than this.
pub const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Exponents written in the text are clamped to this magnitude while
/// parsing: far beyond any value that is not already zero or infinite
/// (digit counts are bounded by [`MAX_LONG_DOUBLE_CHARS`]), and small enough
/// that exponent arithmetic cannot overflow.
const EXPONENT_CLAMP: i64 = 1_000_000_000;

/// Decimal exponent above which any non-zero value overflows: `10^4933`
/// exceeds the largest long double (about `1.19e4932`).
const MAX_DECIMAL_MAGNITUDE: i64 = 4933;

/// Decimal exponent below which any value rounds to zero: `10^-4952` is less
/// than half the smallest subnormal (about `3.65e-4951`).
const MIN_DECIMAL_MAGNITUDE: i64 = -4952;

/// Quotient bits produced when dividing by a power of ten: two guard bits
/// beyond the 64-bit significand, so rounding sees a true round bit.
const QUOTIENT_BITS: i64 = 67;

impl LongDouble {
    /// Parses `text` exactly as Redis's `string2ld` does (see the module
    /// docs); `None` is Redis's `ERR value is not a valid float`.
    ///
    /// `inf` and `-infinity` parse (Redis only rejects them after the
    /// addition, with "increment would produce NaN or Infinity").
    ///
    /// ```
    /// use redigo_store::numeric::LongDouble;
    /// let sum = LongDouble::parse(b"10.5").unwrap().add(LongDouble::parse(b"0.1").unwrap());
    /// assert_eq!(sum.format_human(), "10.6");
    /// assert!(LongDouble::parse(b" 1").is_none());
    /// assert!(!LongDouble::parse(b"inf").unwrap().is_finite());
    /// ```
    pub fn parse(text: &[u8]) -> Option<LongDouble> {
        if text.is_empty() || text.len() >= MAX_LONG_DOUBLE_CHARS {
            return None;
        }
        let (negative, body) = match text[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            // strtold would skip leading white space, but Redis rejects it.
            _ => (false, text),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(LongDouble {
                negative,
                class: Class::Infinite,
            });
        }
        let hex_digits = match body {
            [b'0', b'x' | b'X', rest @ ..] if starts_hex_mantissa(rest) => Some(rest),
            _ => None,
        };
        let value = match hex_digits {
            Some(rest) => parse_hex(negative, rest)?,
            None => parse_decimal(negative, body)?,
        };
        // ERANGE overflow: the text was finite, the value is not.
        value.is_finite().then_some(value)
    }
}

/// Whether `0x` is followed by a hex mantissa; otherwise strtold reads just
/// the `0` and stops at the `x`.
fn starts_hex_mantissa(rest: &[u8]) -> bool {
    match rest {
        [first, ..] if first.is_ascii_hexdigit() => true,
        [b'.', second, ..] => second.is_ascii_hexdigit(),
        _ => false,
    }
}

/// A mantissa split at the radix point, and the exponent after it.
struct Scanned<'a> {
    integer: &'a [u8],
    fraction: &'a [u8],
    exponent: i64,
}

/// Splits `[digits][.digits][marker[+-]digits]`, requiring at least one
/// mantissa digit and, when the marker is present, at least one exponent
/// digit; `None` if any byte would be left over.
fn scan(text: &[u8], is_digit: fn(&u8) -> bool, markers: [u8; 2]) -> Option<Scanned<'_>> {
    let integer_len = text.iter().take_while(|b| is_digit(b)).count();
    let (integer, mut rest) = text.split_at(integer_len);
    let mut fraction: &[u8] = &[];
    if let Some((b'.', after_point)) = rest.split_first() {
        let fraction_len = after_point.iter().take_while(|b| is_digit(b)).count();
        (fraction, rest) = after_point.split_at(fraction_len);
    }
    if integer.is_empty() && fraction.is_empty() {
        return None;
    }
    let exponent = match rest.split_first() {
        None => 0,
        Some((marker, exponent_text)) if markers.contains(marker) => parse_exponent(exponent_text)?,
        Some(_) => return None,
    };
    Some(Scanned {
        integer,
        fraction,
        exponent,
    })
}

/// `[+-]digits`, clamped to `±EXPONENT_CLAMP`; all bytes must be digits.
fn parse_exponent(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().fold(0i64, |acc, &d| {
        (acc * 10 + i64::from(d - b'0')).min(EXPONENT_CLAMP)
    });
    Some(if negative { -magnitude } else { magnitude })
}

/// The significant digits of `integer ++ fraction` without leading zeros,
/// and the power of the radix their last digit stands for.
fn significant_digits<'a>(scanned: &Scanned<'a>) -> (Vec<u8>, i64) {
    let mut digits: Vec<u8> = scanned
        .integer
        .iter()
        .chain(scanned.fraction)
        .copied()
        .skip_while(|&d| d == b'0')
        .collect();
    // Both lengths are below MAX_LONG_DOUBLE_CHARS, so they fit in i64.
    let mut scale = -(scanned.fraction.len() as i64);
    while digits.last() == Some(&b'0') {
        digits.pop();
        scale += 1;
    }
    (digits, scale)
}

fn zero(negative: bool) -> LongDouble {
    LongDouble {
        negative,
        ..LongDouble::ZERO
    }
}

fn parse_decimal(negative: bool, text: &[u8]) -> Option<LongDouble> {
    let scanned = scan(text, u8::is_ascii_digit, [b'e', b'E'])?;
    let (digits, scale) = significant_digits(&scanned);
    if digits.is_empty() {
        return Some(zero(negative));
    }
    let exponent10 = scanned.exponent + scale;
    let count = digits.len() as i64;
    if count - 1 + exponent10 > MAX_DECIMAL_MAGNITUDE {
        return None; // ERANGE: overflow
    }
    if count + exponent10 < MIN_DECIMAL_MAGNITUDE {
        return None; // ERANGE: underflow to zero
    }
    let value = scale_small(negative, &digits, exponent10)
        .unwrap_or_else(|| scale_exact(negative, &digits, exponent10));
    reject_underflow(value)
}

/// Most decimal digits a `u64` always holds.
const U64_DIGITS: usize = 19;

/// `10^U64_DIGITS - 1` is below 2^64, and a divisor of at most 10^18 has at
/// most 60 bits, so `digits << (QUOTIENT_BITS + 60 - ...)` fits a `u128`.
const MAX_SMALL_DIVISOR_POWER: i64 = 18;

/// The common case without big integers: few digits and a small exponent,
/// where every intermediate fits in a `u128`. Same result as
/// [`scale_exact`], which it must agree with bit for bit.
fn scale_small(negative: bool, digits: &[u8], exponent10: i64) -> Option<LongDouble> {
    if digits.len() > U64_DIGITS {
        return None;
    }
    let mantissa = digits
        .iter()
        .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
    if exponent10 >= 0 {
        let exact = 10u128
            .checked_pow(u32::try_from(exponent10).ok()?)?
            .checked_mul(u128::from(mantissa))?;
        return Some(round_to_long_double(negative, exact, 0, false));
    }
    if -exponent10 > MAX_SMALL_DIVISOR_POWER {
        return None;
    }
    let divisor = 10u128.pow(exponent10.unsigned_abs() as u32);
    let bits = |v: u128| i64::from(128 - v.leading_zeros());
    // Non-negative: the mantissa has at most 64 bits, fewer than QUOTIENT_BITS.
    let shift = QUOTIENT_BITS + bits(divisor) - bits(u128::from(mantissa));
    let numerator = u128::from(mantissa) << shift;
    let (quotient, remainder) = (numerator / divisor, numerator % divisor);
    Some(round_to_long_double(
        negative,
        quotient,
        -shift,
        remainder != 0,
    ))
}

/// `digits * 10^exponent10` rounded correctly, for any size, with big
/// integers. The magnitude checks in [`parse_decimal`] bound the work.
fn scale_exact(negative: bool, digits: &[u8], exponent10: i64) -> LongDouble {
    let mantissa = BigUint::from_digits(digits.iter().copied(), 10);
    if exponent10 >= 0 {
        // Bounded by the magnitude checks above: at most ~4933 + 5120 digits.
        let exact = mantissa.mul(&BigUint::pow10(exponent10.unsigned_abs() as u32));
        round_integer(negative, &exact, 0)
    } else {
        let divisor = BigUint::pow10(exponent10.unsigned_abs() as u32);
        // Scale so the quotient has QUOTIENT_BITS or QUOTIENT_BITS + 1 bits.
        let shift = QUOTIENT_BITS + divisor.bit_len() as i64 - mantissa.bit_len() as i64;
        let (numerator, denominator) = if shift >= 0 {
            (mantissa.shl(shift.unsigned_abs()), divisor)
        } else {
            (mantissa, divisor.shl(shift.unsigned_abs()))
        };
        let (quotient, remainder) = numerator.div_rem_narrow(&denominator);
        round_to_long_double(negative, quotient, -shift, !remainder.is_zero())
    }
}

fn parse_hex(negative: bool, text: &[u8]) -> Option<LongDouble> {
    let scanned = scan(text, u8::is_ascii_hexdigit, [b'p', b'P'])?;
    let (digits, scale) = significant_digits(&scanned);
    if digits.is_empty() {
        return Some(zero(negative));
    }
    let mantissa = BigUint::from_digits(digits.into_iter(), 16);
    let exponent2 = scanned.exponent + 4 * scale;
    let bits = mantissa.bit_len() as i64;
    // value is in [2^(bits - 1 + exponent2), 2^(bits + exponent2)).
    if bits - 1 + exponent2 > MAX_EXPONENT + 63 {
        return None; // ERANGE: overflow
    }
    if bits + exponent2 < MIN_EXPONENT - 1 {
        return None; // ERANGE: below half the smallest subnormal
    }
    reject_underflow(round_integer(negative, &mantissa, exponent2))
}

/// Rounds `integer * 2^exponent`, keeping its top 128 bits and folding the
/// rest into the sticky flag.
fn round_integer(negative: bool, integer: &BigUint, exponent: i64) -> LongDouble {
    let dropped = integer.bit_len().saturating_sub(128);
    round_to_long_double(
        negative,
        integer.bits_from(dropped),
        exponent + dropped as i64,
        integer.any_bit_below(dropped),
    )
}

/// Non-zero text that rounded to zero is an `ERANGE` underflow.
fn reject_underflow(value: LongDouble) -> Option<LongDouble> {
    match value.class {
        Class::Finite { significand: 0, .. } => None,
        _ => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::super::long_double::MANTISSA_BITS;
    use super::*;

    fn parts(text: &str) -> Option<(bool, u64, i64)> {
        LongDouble::parse(text.as_bytes()).map(|v| match v.class {
            Class::Finite {
                significand,
                exponent,
            } => (v.negative, significand, exponent),
            Class::Infinite => (v.negative, u64::MAX, i64::MAX),
            Class::NotANumber => (false, 0, 0),
        })
    }

    const ONE: u64 = 1 << (MANTISSA_BITS - 1);

    #[test]
    fn simple_values() {
        assert_eq!(parts("1"), Some((false, ONE, -63)));
        assert_eq!(parts("-2"), Some((true, ONE, -62)));
        assert_eq!(parts("+0.5"), Some((false, ONE, -64)));
        assert_eq!(parts(".5"), Some((false, ONE, -64)));
        assert_eq!(parts("5."), parts("5"));
        assert_eq!(parts("0x1p3"), parts("8"));
        assert_eq!(parts("0X.8P1"), parts("1"));
        assert_eq!(parts("0x10"), parts("16"));
        assert_eq!(parts("1e3"), parts("1000"));
        assert_eq!(parts("00012.50e-1"), parts("1.25"));
        assert_eq!(parts("0"), Some((false, 0, MIN_EXPONENT)));
        assert_eq!(parts("-0.0e999999999999999"), Some((true, 0, MIN_EXPONENT)));
    }

    #[test]
    fn one_tenth_is_correctly_rounded() {
        // 0.1 = 0xCCCCCCCCCCCCCCCD * 2^-67 in x87 extended precision.
        assert_eq!(parts("0.1"), Some((false, 0xCCCC_CCCC_CCCC_CCCD, -67)));
    }

    #[test]
    fn rejections() {
        for text in [
            "",
            " 1",
            "1 ",
            "\t1",
            "abc",
            "1e",
            "1e+",
            "1e-",
            ".",
            "-",
            "+",
            "0x",
            "0x.",
            "0xp1",
            "0x1p",
            "nan",
            "-nan",
            "NaN(1)",
            "infin",
            "infinityx",
            "1\0",
            "--1",
            "1.2.3",
            "1e4933",
            "1.2e4932",
            "-1e99999",
            "1e-4952",
            "1e-99999999999999999999",
            "0x1p16384",
            "0x1p-16446",
        ] {
            assert_eq!(parts(text), None, "{text:?} should be rejected");
        }
        let long = "1".repeat(MAX_LONG_DOUBLE_CHARS);
        assert_eq!(parts(&long), None);
        assert!(parts(&long[1..]).is_none(), "5119 ones overflow anyway");
        let long_fraction = format!("0.{}", "1".repeat(MAX_LONG_DOUBLE_CHARS - 3));
        assert!(parts(&long_fraction).is_some());
    }

    proptest::proptest! {
        #[test]
        fn small_path_agrees_with_exact_path(
            mantissa in 1u64..10_000_000_000_000_000_000,
            exponent10 in -25i64..25,
            negative: bool,
        ) {
            let digits = mantissa.to_string().into_bytes();
            if let Some(fast) = scale_small(negative, &digits, exponent10) {
                proptest::prop_assert_eq!(fast, scale_exact(negative, &digits, exponent10));
            }
        }
    }

    #[test]
    fn infinities_parse() {
        for text in ["inf", "INF", "Infinity", "+inf", "-iNfInItY"] {
            let value = LongDouble::parse(text.as_bytes()).unwrap();
            assert!(!value.is_finite(), "{text}");
            assert_eq!(value.is_sign_negative(), text.starts_with('-'));
        }
    }

    #[test]
    fn extremes() {
        // Largest finite: (2^64 - 1) * 2^16320.
        assert_eq!(
            parts("0x.ffffffffffffffffp16384"),
            Some((false, u64::MAX, MAX_EXPONENT))
        );
        // Half an ulp above it overflows; just below the halfway point does not.
        assert_eq!(parts("0x.ffffffffffffffff8p16384"), None);
        assert_eq!(
            parts("0x.ffffffffffffffff7fffp16384"),
            Some((false, u64::MAX, MAX_EXPONENT))
        );
        // Subnormals: the smallest, a tie that rounds to it, a tie to zero.
        assert_eq!(parts("0x1p-16445"), Some((false, 1, MIN_EXPONENT)));
        assert_eq!(parts("0x1.8p-16446"), Some((false, 1, MIN_EXPONENT)));
        assert_eq!(parts("0x1p-16446"), None);
        assert_eq!(parts("1e-4940").map(|p| p.2), Some(MIN_EXPONENT));
    }
}
