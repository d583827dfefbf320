//! A minimal arbitrary-precision unsigned integer for exact decimal/binary
//! conversion of long doubles.
//!
//! Correct rounding of `"0.1"` or of a 5000-digit decimal to a 64-bit
//! mantissa, and exact printing of a 16384-bit integer, need integers wider
//! than `u128`. Only the handful of operations those conversions use are
//! here; none of them is performance critical (inputs are bounded by
//! `MAX_LONG_DOUBLE_CHARS`, so the largest numbers have a few thousand limbs).

use std::cmp::Ordering;

/// Bits per limb.
const LIMB_BITS: u32 = 32;

/// The largest power of ten that fits in a limb, used to convert nine
/// decimal digits at a time.
const TEN_POW_CHUNK: u32 = 1_000_000_000;
/// Number of decimal digits in [`TEN_POW_CHUNK`].
const DIGITS_PER_CHUNK: usize = 9;

/// A non-negative integer, little-endian 32-bit limbs, no high zero limbs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    pub(crate) fn zero() -> BigUint {
        BigUint { limbs: Vec::new() }
    }

    pub(crate) fn from_u128(mut value: u128) -> BigUint {
        let mut limbs = Vec::new();
        while value != 0 {
            limbs.push(value as u32); // keeps the low 32 bits by design
            value >>= LIMB_BITS;
        }
        BigUint { limbs }
    }

    /// `10^exponent`.
    pub(crate) fn pow10(exponent: u32) -> BigUint {
        let mut result = BigUint::from_u128(1);
        let mut left = exponent;
        while left >= DIGITS_PER_CHUNK as u32 {
            result.mul_small(TEN_POW_CHUNK);
            left -= DIGITS_PER_CHUNK as u32;
        }
        result.mul_small(10u32.pow(left));
        result
    }

    /// Parses ASCII digits in `radix` (10 or 16); the caller has validated them.
    pub(crate) fn from_digits(digits: impl Iterator<Item = u8>, radix: u32) -> BigUint {
        let mut result = BigUint::zero();
        // Accumulate several digits in a u32 before touching the big number.
        let per_group = if radix == 16 { 7 } else { DIGITS_PER_CHUNK };
        let (mut group, mut group_len) = (0u32, 0usize);
        for digit in digits {
            let value = char::from(digit).to_digit(radix).unwrap_or(0);
            group = group * radix + value;
            group_len += 1;
            if group_len == per_group {
                result.mul_small(radix.pow(per_group as u32));
                result.add_small(group);
                (group, group_len) = (0, 0);
            }
        }
        if group_len > 0 {
            result.mul_small(radix.pow(group_len as u32));
            result.add_small(group);
        }
        result
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// Number of significant bits (0 for zero).
    pub(crate) fn bit_len(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => {
                (self.limbs.len() as u64 - 1) * u64::from(LIMB_BITS)
                    + u64::from(LIMB_BITS - top.leading_zeros())
            }
        }
    }

    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    pub(crate) fn mul_small(&mut self, factor: u32) {
        let mut carry = 0u64;
        for limb in &mut self.limbs {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = product as u32; // low half; the high half carries
            carry = product >> LIMB_BITS;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.trim();
    }

    pub(crate) fn add_small(&mut self, addend: u32) {
        let mut carry = u64::from(addend);
        for limb in &mut self.limbs {
            if carry == 0 {
                return;
            }
            let sum = u64::from(*limb) + carry;
            *limb = sum as u32; // low half; the high half carries
            carry = sum >> LIMB_BITS;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
    }

    /// Divides in place by `divisor` (non-zero), returning the remainder.
    pub(crate) fn div_rem_small(&mut self, divisor: u32) -> u32 {
        let mut remainder = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let current = (remainder << LIMB_BITS) | u64::from(*limb);
            *limb = (current / u64::from(divisor)) as u32; // < 2^32 as remainder < divisor
            remainder = current % u64::from(divisor);
        }
        self.trim();
        remainder as u32
    }

    pub(crate) fn mul(&self, other: &BigUint) -> BigUint {
        if self.is_zero() || other.is_zero() {
            return BigUint::zero();
        }
        let mut limbs = vec![0u32; self.limbs.len() + other.limbs.len()];
        for (i, &a) in self.limbs.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in other.limbs.iter().enumerate() {
                let t = u64::from(a) * u64::from(b) + u64::from(limbs[i + j]) + carry;
                limbs[i + j] = t as u32; // low half; the high half carries
                carry = t >> LIMB_BITS;
            }
            limbs[i + other.limbs.len()] = carry as u32;
        }
        let mut result = BigUint { limbs };
        result.trim();
        result
    }

    /// `self << bits`.
    pub(crate) fn shl(&self, bits: u64) -> BigUint {
        if self.is_zero() {
            return BigUint::zero();
        }
        let limb_shift = (bits / u64::from(LIMB_BITS)) as usize;
        let bit_shift = (bits % u64::from(LIMB_BITS)) as u32;
        let mut limbs = vec![0u32; limb_shift];
        limbs.reserve(self.limbs.len() + 1);
        if bit_shift == 0 {
            limbs.extend_from_slice(&self.limbs);
        } else {
            let mut carry = 0u32;
            for &limb in &self.limbs {
                limbs.push((limb << bit_shift) | carry);
                carry = limb >> (LIMB_BITS - bit_shift);
            }
            limbs.push(carry);
        }
        let mut result = BigUint { limbs };
        result.trim();
        result
    }

    /// `self -= other`; requires `self >= other`.
    pub(crate) fn sub_assign(&mut self, other: &BigUint) {
        let mut borrow = 0i64;
        for (i, limb) in self.limbs.iter_mut().enumerate() {
            let subtrahend = i64::from(other.limbs.get(i).copied().unwrap_or(0)) + borrow;
            let mut difference = i64::from(*limb) - subtrahend;
            borrow = 0;
            if difference < 0 {
                difference += 1i64 << LIMB_BITS;
                borrow = 1;
            }
            *limb = difference as u32; // in 0..2^32 after the borrow fix-up
        }
        debug_assert_eq!(borrow, 0, "BigUint subtraction underflowed");
        self.trim();
    }

    /// The 128 bits starting at bit `shift` (bits above the number are zero).
    pub(crate) fn bits_from(&self, shift: u64) -> u128 {
        let mut result = 0u128;
        for k in 0..=4u64 {
            let limb_index = shift / u64::from(LIMB_BITS) + k;
            let Some(&limb) = usize::try_from(limb_index)
                .ok()
                .and_then(|i| self.limbs.get(i))
            else {
                break;
            };
            // Position of this limb's bit 0 relative to `shift`.
            let position = i64::try_from(k * u64::from(LIMB_BITS)).unwrap_or(i64::MAX)
                - i64::try_from(shift % u64::from(LIMB_BITS)).unwrap_or(0);
            if position >= 0 {
                if position < 128 {
                    result |= u128::from(limb) << position;
                }
            } else {
                result |= u128::from(limb >> (-position));
            }
        }
        result
    }

    /// Whether any of the lowest `bits` bits is set.
    pub(crate) fn any_bit_below(&self, bits: u64) -> bool {
        let full_limbs = (bits / u64::from(LIMB_BITS)) as usize;
        let partial = (bits % u64::from(LIMB_BITS)) as u32;
        if self.limbs.iter().take(full_limbs).any(|&l| l != 0) {
            return true;
        }
        partial != 0
            && self
                .limbs
                .get(full_limbs)
                .is_some_and(|&l| l & ((1u32 << partial) - 1) != 0)
    }

    /// Quotient and remainder of `self / divisor`, for a quotient known to
    /// fit in a `u128` (binary long division, one quotient bit at a time).
    pub(crate) fn div_rem_narrow(mut self, divisor: &BigUint) -> (u128, BigUint) {
        let mut quotient = 0u128;
        let top = self.bit_len().saturating_sub(divisor.bit_len()).min(127);
        for bit in (0..=top).rev() {
            let shifted = divisor.shl(bit);
            if self >= shifted {
                self.sub_assign(&shifted);
                quotient |= 1u128 << bit;
            }
        }
        (quotient, self)
    }

    /// Decimal digits, most significant first (`"0"` for zero).
    pub(crate) fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".to_owned();
        }
        let mut rest = self.clone();
        let mut chunks = Vec::new();
        while !rest.is_zero() {
            chunks.push(rest.div_rem_small(TEN_POW_CHUNK));
        }
        let mut text = String::with_capacity(chunks.len() * DIGITS_PER_CHUNK);
        let mut iter = chunks.iter().rev();
        if let Some(first) = iter.next() {
            text.push_str(&first.to_string());
        }
        for chunk in iter {
            text.push_str(&format!("{chunk:0width$}", width = DIGITS_PER_CHUNK));
        }
        text
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &BigUint) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &BigUint) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn big(value: u128) -> BigUint {
        BigUint::from_u128(value)
    }

    #[test]
    fn powers_of_ten_print_back() {
        for exponent in [0, 1, 9, 10, 38, 100, 1000] {
            let expected = format!("1{}", "0".repeat(exponent as usize));
            assert_eq!(BigUint::pow10(exponent).to_decimal(), expected);
        }
    }

    #[test]
    fn from_digits_reads_hex_and_decimal() {
        let hex = BigUint::from_digits(b"0123456789abcdefABCDEF0123".iter().copied(), 16);
        assert_eq!(hex, big(0x0001_2345_6789_abcd_efab_cdef_0123));
        let dec = BigUint::from_digits(
            b"340282366920938463463374607431768211455".iter().copied(),
            10,
        );
        assert_eq!(dec, big(u128::MAX));
    }

    proptest! {
        #[test]
        fn matches_u128_arithmetic(a: u64, b: u64, shift in 0u64..60, small in 1u32..) {
            let (a, b) = (u128::from(a), u128::from(b));
            prop_assert_eq!(big(a).mul(&big(b)), big(a * b));
            prop_assert_eq!(big(a).shl(shift), big(a << shift));
            prop_assert_eq!(big(a).to_decimal(), a.to_string());
            let mut q = big(a * b);
            let r = q.div_rem_small(small);
            prop_assert_eq!((q, u128::from(r)), (big(a * b / u128::from(small)), a * b % u128::from(small)));
            let (hi, lo) = (a.max(b), a.min(b));
            let mut d = big(hi);
            d.sub_assign(&big(lo));
            prop_assert_eq!(d, big(hi - lo));
            prop_assert_eq!(big(a).cmp(&big(b)), a.cmp(&b));
            prop_assert_eq!(big(a * b).bits_from(shift), (a * b) >> shift);
            prop_assert_eq!(big(a * b).any_bit_below(shift), (a * b) & ((1u128 << shift) - 1) != 0);
            if b != 0 {
                let (q, r) = big(a << 40).div_rem_narrow(&big(b));
                prop_assert_eq!((q, r), ((a << 40) / b, big((a << 40) % b)));
            }
        }
    }
}
