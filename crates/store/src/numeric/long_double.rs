//! A software model of the x87 80-bit `long double` that Redis's
//! `INCRBYFLOAT` and `HINCRBYFLOAT` compute in.
//!
//! Why not `f64`: Redis parses both operands with `strtold`, adds them in
//! 64-bit-mantissa precision and prints with `%.17Lf`. The extra 11 bits are
//! what make `10.5 + 0.1` print as `10.6`; the same sum in `f64` prints as
//! `10.59999999999999964`. Replies must match byte for byte, so the exact
//! format is emulated:
//!
//! * 64-bit significand with an explicit integer bit, exponents so that
//!   normal numbers span `2^-16382 ..= 2^16384 - ulp`, and gradual underflow
//!   (subnormals) down to `2^-16445`;
//! * every operation rounds the exact result to nearest, ties to even (the
//!   default x87 rounding mode); overflow rounds to infinity.
//!
//! Parsing (`strtold`) lives in `long_double_parse.rs`, printing (`%.17Lf`)
//! in `long_double_format.rs`.

/// Significand width of the x87 extended format (explicit integer bit).
pub const MANTISSA_BITS: u32 = 64;

/// Exponent of the lowest significand bit of the smallest values: the
/// smallest subnormal is `2^MIN_EXPONENT` and the smallest normal number is
/// `2^63 * 2^MIN_EXPONENT = 2^-16382`.
pub(crate) const MIN_EXPONENT: i64 = -16445;

/// Exponent of the lowest significand bit of the largest finite numbers:
/// the maximum is `(2^64 - 1) * 2^MAX_EXPONENT`, just under `2^16384`.
pub(crate) const MAX_EXPONENT: i64 = 16320;

/// The top (integer) bit of a normalized significand.
const INTEGER_BIT: u64 = 1 << (MANTISSA_BITS - 1);

/// An x87 extended-precision value (`long double` on x86-64 Linux).
///
/// Finite values are `significand * 2^exponent` with a normalized
/// significand (top bit set), or a subnormal/zero significand at
/// [`MIN_EXPONENT`]. NaN only arises from `inf + -inf`; parsing rejects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble {
    pub(crate) negative: bool,
    pub(crate) class: Class,
}

/// What kind of value a [`LongDouble`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Finite { significand: u64, exponent: i64 },
    Infinite,
    NotANumber,
}

impl LongDouble {
    /// Positive zero.
    pub const ZERO: LongDouble = LongDouble {
        negative: false,
        class: Class::Finite {
            significand: 0,
            exponent: MIN_EXPONENT,
        },
    };

    /// Positive infinity.
    pub const INFINITY: LongDouble = LongDouble {
        negative: false,
        class: Class::Infinite,
    };

    /// The exact value of an `i64` (every `i64` fits in 64 significand bits),
    /// as Redis obtains for integer-encoded strings.
    pub fn from_i64(value: i64) -> LongDouble {
        round_to_long_double(value < 0, u128::from(value.unsigned_abs()), 0, false)
    }

    /// Whether the value is neither infinite nor NaN (what `INCRBYFLOAT`
    /// checks before storing a result).
    pub fn is_finite(&self) -> bool {
        matches!(self.class, Class::Finite { .. })
    }

    /// Whether the value is NaN.
    pub fn is_nan(&self) -> bool {
        self.class == Class::NotANumber
    }

    /// Whether the sign bit is set (true for `-0` too).
    pub fn is_sign_negative(&self) -> bool {
        self.negative
    }

    /// The x87 sum: exact `self + other` rounded to nearest, ties to even.
    /// Overflow gives an infinity; `inf + -inf` gives NaN. Also available
    /// as the `+` operator.
    #[allow(
        clippy::should_implement_trait,
        reason = "callers use `a.add(b)` without importing std::ops::Add; the trait is implemented too"
    )]
    pub fn add(self, other: LongDouble) -> LongDouble {
        let (a, b) = match (self.class, other.class) {
            (Class::NotANumber, _) | (_, Class::NotANumber) => return NAN,
            (Class::Infinite, Class::Infinite) if self.negative != other.negative => {
                return NAN;
            }
            (Class::Infinite, _) => return self,
            (_, Class::Infinite) => return other,
            (
                Class::Finite {
                    significand: sa,
                    exponent: ea,
                },
                Class::Finite {
                    significand: sb,
                    exponent: eb,
                },
            ) => ((self.negative, sa, ea), (other.negative, sb, eb)),
        };
        add_finite(a, b)
    }

    /// [`add`](Self::add), or `None` when the sum is infinite or NaN
    /// (Redis: `ERR increment would produce NaN or Infinity`).
    pub fn checked_add(self, other: LongDouble) -> Option<LongDouble> {
        Some(self.add(other)).filter(LongDouble::is_finite)
    }
}

impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    fn add(self, other: LongDouble) -> LongDouble {
        LongDouble::add(self, other)
    }
}

const NAN: LongDouble = LongDouble {
    negative: false,
    class: Class::NotANumber,
};

/// Left shift of both significands before aligning them: leaves room for the
/// carry (bit 127 stays clear) and 62 guard bits below the significand.
const ADD_GUARD_BITS: u32 = 62;

type FiniteParts = (bool, u64, i64);

fn add_finite(a: FiniteParts, b: FiniteParts) -> LongDouble {
    let (a, b) = if a.2 >= b.2 { (a, b) } else { (b, a) };
    let (a_negative, a_sig, a_exp) = a;
    let (b_negative, b_sig, b_exp) = b;
    if a_sig == 0 && b_sig == 0 {
        // -0 + -0 is -0; any other mix of zeros is +0 when rounding to nearest.
        return LongDouble {
            negative: a_negative && b_negative,
            ..LongDouble::ZERO
        };
    }
    if b_sig == 0 {
        return finite(a_negative, a_sig, a_exp);
    }
    if a_sig == 0 {
        return finite(b_negative, b_sig, b_exp);
    }
    let wide_a = u128::from(a_sig) << ADD_GUARD_BITS;
    let wide_b = u128::from(b_sig) << ADD_GUARD_BITS;
    let exponent = a_exp - i64::from(ADD_GUARD_BITS);
    // `distance` > 0 only when `a` is normal, so then wide_a >= 2^125 while
    // the aligned `b` stays below 2^125.
    let distance = a_exp - b_exp;
    let (aligned_b, sticky) = if distance >= 128 {
        (0, true)
    } else {
        let lost_mask = (1u128 << distance) - 1;
        (wide_b >> distance, wide_b & lost_mask != 0)
    };
    if a_negative == b_negative {
        return round_to_long_double(a_negative, wide_a + aligned_b, exponent, sticky);
    }
    match wide_a.cmp(&aligned_b) {
        std::cmp::Ordering::Equal if !sticky => LongDouble::ZERO,
        std::cmp::Ordering::Less => {
            round_to_long_double(b_negative, aligned_b - wide_a, exponent, false)
        }
        _ => {
            // a - (b + f) with f in (0, 1) = (a - b - 1) + (1 - f): the
            // fraction stays strictly inside (0, 1), so it is still sticky.
            let difference = wide_a - aligned_b - u128::from(sticky);
            round_to_long_double(a_negative, difference, exponent, sticky)
        }
    }
}

fn finite(negative: bool, significand: u64, exponent: i64) -> LongDouble {
    LongDouble {
        negative,
        class: Class::Finite {
            significand,
            exponent,
        },
    }
}

/// Rounds `(digits + f) * 2^exponent` to a long double, where `f` is 0 when
/// `sticky` is false and strictly between 0 and 1 when it is true.
///
/// Callers that pass `sticky` must give at least 66 significant `digits`
/// (unless the value is far into the subnormal range), so the rounding bit
/// and the sticky fraction are never confused.
pub(crate) fn round_to_long_double(
    negative: bool,
    digits: u128,
    exponent: i64,
    sticky: bool,
) -> LongDouble {
    let bit_len = i64::from(128 - digits.leading_zeros());
    // How many low bits to drop to leave MANTISSA_BITS, or more when the
    // result is subnormal.
    let mut drop = bit_len - i64::from(MANTISSA_BITS);
    if exponent + drop < MIN_EXPONENT {
        drop = MIN_EXPONENT - exponent;
    }
    let (significand, exponent) = if drop <= 0 {
        debug_assert!(!sticky, "inexact value rounded without guard bits");
        // bit_len - drop <= 64, so the shifted value fits in a u64.
        ((digits << (-drop)) as u64, exponent + drop)
    } else {
        let (kept, round_bit, below_round) = if drop > 128 {
            (0, false, digits != 0)
        } else if drop == 128 {
            (0, digits >> 127 != 0, digits & (u128::MAX >> 1) != 0)
        } else {
            (
                digits >> drop,
                (digits >> (drop - 1)) & 1 != 0,
                digits & ((1u128 << (drop - 1)) - 1) != 0,
            )
        };
        let round_up = round_bit && (below_round || sticky || kept & 1 != 0);
        let mut kept = kept + u128::from(round_up);
        let mut exponent = exponent + drop;
        if kept >> MANTISSA_BITS != 0 {
            kept >>= 1;
            exponent += 1;
        }
        // kept < 2^64 after the carry fix-up.
        (kept as u64, exponent)
    };
    if significand == 0 {
        return LongDouble {
            negative,
            ..LongDouble::ZERO
        };
    }
    if exponent > MAX_EXPONENT {
        return LongDouble {
            negative,
            class: Class::Infinite,
        };
    }
    debug_assert!(significand >= INTEGER_BIT || exponent == MIN_EXPONENT);
    finite(negative, significand, exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(significand: u64, exponent: i64) -> LongDouble {
        finite(false, significand, exponent)
    }

    #[test]
    fn integers_are_exact() {
        assert_eq!(LongDouble::from_i64(1), value(INTEGER_BIT, -63));
        assert_eq!(LongDouble::from_i64(i64::MIN), finite(true, INTEGER_BIT, 0));
        let sum = LongDouble::from_i64(i64::MAX).add(LongDouble::from_i64(1));
        assert_eq!(sum, value(INTEGER_BIT, 0));
    }

    #[test]
    fn ties_round_to_even() {
        // 2^64 + 1 is halfway between 2^64 and 2^64 + 2: rounds to even 2^64.
        let big = value(INTEGER_BIT, 1);
        let one = LongDouble::from_i64(1);
        assert_eq!(big.add(one), big);
        // 2^64 + 3 is halfway between 2^64 + 2 and 2^64 + 4: rounds to 2^64 + 4.
        let odd = value(INTEGER_BIT + 1, 1);
        assert_eq!(odd.add(one), value(INTEGER_BIT + 2, 1));
        // Just above the halfway point rounds up (tiny = 2^-63 is exact next to 1).
        let tiny = value(INTEGER_BIT, -126);
        assert_eq!(big.add(one).add(tiny), big);
        assert_eq!(big.add(one.add(tiny)), value(INTEGER_BIT + 1, 1));
    }

    #[test]
    fn subtraction_with_far_operand_rounds_down_correctly() {
        // 2^64 - 2^-100 rounds back to 2^64 (within half an ulp below).
        let big = value(INTEGER_BIT, 1);
        let tiny = finite(true, INTEGER_BIT, -163);
        assert_eq!(big.add(tiny), big);
        // 1 - tiny rounds to the largest value below 1 only when tiny is big enough.
        let one = LongDouble::from_i64(1);
        let half_ulp_below_one = finite(true, INTEGER_BIT, -128);
        assert_eq!(one.add(half_ulp_below_one), one);
        let more = finite(true, INTEGER_BIT + 1, -128);
        assert_eq!(one.add(more), value(u64::MAX, -64));
    }

    #[test]
    fn overflow_and_special_values() {
        let max = value(u64::MAX, MAX_EXPONENT);
        assert!(max.is_finite());
        assert_eq!(max.checked_add(max), None);
        assert_eq!(max.add(max), LongDouble::INFINITY);
        let minus_inf = LongDouble {
            negative: true,
            class: Class::Infinite,
        };
        assert!(LongDouble::INFINITY.add(minus_inf).is_nan());
        assert_eq!(LongDouble::INFINITY.add(max), LongDouble::INFINITY);
        let one = LongDouble::from_i64(1);
        assert_eq!(one + LongDouble::from_i64(-1), LongDouble::ZERO);
        let minus_zero = finite(true, 0, MIN_EXPONENT);
        assert!(minus_zero.add(minus_zero).is_sign_negative());
        assert!(!minus_zero.add(LongDouble::ZERO).is_sign_negative());
    }

    #[test]
    fn subnormals_are_gradual() {
        let smallest = value(1, MIN_EXPONENT);
        assert_eq!(smallest.add(smallest), value(2, MIN_EXPONENT));
        let largest_subnormal = value(INTEGER_BIT - 1, MIN_EXPONENT);
        assert_eq!(
            largest_subnormal.add(smallest),
            value(INTEGER_BIT, MIN_EXPONENT)
        );
    }
}
