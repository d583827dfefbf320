//! Redis's `ld2string(..., LD_STR_HUMAN)`: glibc `printf("%.17Lf")` of the
//! exact binary value, then trailing zeros and a trailing `.` removed and
//! `-0` turned into `0`.
//!
//! `%.17Lf` prints the exact value rounded to 17 decimals, ties to even
//! (glibc converts exactly and honours the default rounding mode). Below
//! 1 the significand times `10^17` fits in a `u128`; at or above 2^64 the
//! value is an integer and needs [`BigUint`] to print its up to 4933 digits.
//!
//! Redis formats into a [`MAX_LONG_DOUBLE_CHARS`] buffer and stores an empty
//! string if the text does not fit, but the longest finite long double
//! (`-1.18973...e4932`, 4934 characters) always fits, so that branch cannot
//! be reached.

use super::big_uint::BigUint;
use super::long_double::{Class, LongDouble};
#[cfg(doc)]
use super::long_double_parse::MAX_LONG_DOUBLE_CHARS;

/// Digits after the decimal point in `%.17Lf`.
pub const HUMAN_DECIMALS: u32 = 17;

/// `10^HUMAN_DECIMALS`.
const DECIMAL_SCALE: u128 = 10u128.pow(HUMAN_DECIMALS);

impl LongDouble {
    /// The reply text `INCRBYFLOAT` gives for this value: `%.17Lf` with
    /// trailing zeros trimmed, e.g. `10.6`, `5200`, `0.30000000000000000`
    /// becoming `0.3`. Infinities print as `inf`/`-inf` and NaN as `nan`,
    /// as in Redis (which never stores them).
    ///
    /// ```
    /// use redigo_store::numeric::LongDouble;
    /// let parse = |t: &str| LongDouble::parse(t.as_bytes()).unwrap();
    /// assert_eq!(parse("5.0e3").add(parse("2.0e2")).format_human(), "5200");
    /// assert_eq!(parse("-1e-20").format_human(), "0");
    /// ```
    pub fn format_human(&self) -> String {
        let (significand, exponent) = match self.class {
            Class::NotANumber => return "nan".to_owned(),
            Class::Infinite if self.negative => return "-inf".to_owned(),
            Class::Infinite => return "inf".to_owned(),
            Class::Finite {
                significand,
                exponent,
            } => (significand, exponent),
        };
        let sign = if self.negative { "-" } else { "" };
        if exponent >= 0 {
            // An integer: the 17 decimals are all zeros and get trimmed.
            let integer = BigUint::from_u128(u128::from(significand)).shl(exponent.unsigned_abs());
            return format!("{sign}{}", integer.to_decimal());
        }
        let scaled = round_shift_right(
            u128::from(significand) * DECIMAL_SCALE,
            exponent.unsigned_abs(),
        );
        let integer_part = scaled / DECIMAL_SCALE;
        let fraction = scaled % DECIMAL_SCALE;
        let text = format!(
            "{integer_part}.{fraction:0width$}",
            width = HUMAN_DECIMALS as usize
        );
        // Redis strips trailing zeros, then the '.' if nothing follows it.
        let text = text.trim_end_matches('0');
        let text = text.strip_suffix('.').unwrap_or(text);
        if text == "0" {
            // Redis turns "-0" into "0"; a positive zero is "0" already.
            return text.to_owned();
        }
        format!("{sign}{text}")
    }
}

/// `value / 2^shift` rounded to nearest, ties to even.
fn round_shift_right(value: u128, shift: u64) -> u128 {
    if shift >= 128 {
        // value < 2^121 (a u64 times 10^17), below half of 2^shift.
        return 0;
    }
    let quotient = value >> shift;
    let remainder = value & ((1u128 << shift) - 1);
    let half = (1u128 << shift) >> 1;
    let round_up = shift > 0 && (remainder > half || (remainder == half && quotient & 1 == 1));
    quotient + u128::from(round_up)
}

#[cfg(test)]
mod tests {
    use super::super::long_double_parse::MAX_LONG_DOUBLE_CHARS;
    use super::*;

    fn human(text: &str) -> String {
        LongDouble::parse(text.as_bytes()).unwrap().format_human()
    }

    #[test]
    fn formats_like_redis() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("1", "1"),
            ("-1", "-1"),
            ("10.5", "10.5"),
            ("0.1", "0.1"),
            ("-0.1", "-0.1"),
            ("1e-17", "0.00000000000000001"),
            ("4e-18", "0"),
            ("-6e-18", "-0.00000000000000001"),
            ("0.000003814697265625", "0.00000381469726562"),
            ("0.000003814697265635", "0.00000381469726563"),
            (
                "123456789012345678901234567890",
                "123456789012345678899921813504",
            ),
            ("18446744073709551615", "18446744073709551615"),
            ("0.5", "0.5"),
            ("100", "100"),
            ("1e20", "100000000000000000000"),
        ];
        for (input, expected) in cases {
            assert_eq!(human(input), expected, "{input}");
        }
    }

    #[test]
    fn largest_value_fits_redis_buffer() {
        let max = human("-0x.ffffffffffffffffp16384");
        assert_eq!(max.len(), 4934);
        assert!(max.starts_with("-118973149535723176"));
        assert!(max.len() + HUMAN_DECIMALS as usize + 2 < MAX_LONG_DOUBLE_CHARS);
    }

    #[test]
    fn special_values() {
        assert_eq!(LongDouble::INFINITY.format_human(), "inf");
        let minus_inf = LongDouble::parse(b"-inf").unwrap();
        assert_eq!(minus_inf.format_human(), "-inf");
        assert_eq!(LongDouble::INFINITY.add(minus_inf).format_human(), "nan");
    }
}
