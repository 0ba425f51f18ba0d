//! IEEE-754 binary64 bit tricks that vectorise on the SSE2 baseline: round to an integer, read a
//! binary exponent, build a power of two.
//!
//! Method. SSE2 has packed 64-bit integer add, and, or and shifts, but no packed conversion
//! between f64 and i64, no packed 64-bit compare and no `roundpd` (SSE4.1). So integers are kept
//! in the mantissa of a double:
//!
//! * `round_int(t)`: t + 1.5·2⁵² rounds t to the nearest integer n (ties to even) and stores n in
//!   the low mantissa bits: the bits of t + 1.5·2⁵² are `0x4338_0000_0000_0000 + n`. The double n
//!   itself is (t + 1.5·2⁵²) − 1.5·2⁵², exact.
//! * `pow2(bits, bias)`: with `bits` from `round_int`, `(bits + bias) << 52` is the bit pattern of
//!   2^(n + bias − 1023): the shift discards everything above the low 12 bits, and those hold
//!   n + bias as long as 0 < n + bias < 2047.
//! * `pow2_neg(bits, bias)`: likewise 2^(bias − n − 1023), from `C − bits` with
//!   C = `0x4338_0000_0000_0000 + bias`.
//! * `exponent(x)`: the biased exponent field e of x, as a double, via the bits of 2⁵² + e.
//!
//! Special cases. `round_int` is exact only for |t| < 2⁵¹; callers clamp first. A NaN t gives a
//! NaN n and a meaningless power of two, which callers multiply into a NaN anyway.
//!
//! Accuracy. All three are exact in their stated ranges (no rounding but the intended one in
//! `round_int`).

use super::lanes::{Bits, Lanes};

/// 1.5·2⁵²: adding it rounds any |t| < 2⁵¹ to an integer kept in the low mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// Rounds t (|t| < 2⁵¹) to the nearest integer n, ties to even: returns (n as f64, the bit
/// pattern of t + 1.5·2⁵², whose low bits hold n for [`pow2`]).
#[inline(always)]
pub(crate) fn round_int<const N: usize>(t: Lanes<N>) -> (Lanes<N>, Bits<N>) {
    let shifted = t + ROUND_MAGIC;
    (shifted - ROUND_MAGIC, shifted.to_bits())
}

/// 2^(n + bias − 1023) for `bits` from [`round_int`] of n, valid for 0 < n + bias < 2047.
#[inline(always)]
pub(crate) fn pow2<const N: usize>(bits: Bits<N>, bias: u64) -> Lanes<N> {
    (bits.wrapping_add(bias) << 52).to_lanes()
}

/// 2^(bias − 1023 − n) for `bits` from [`round_int`] of n, valid for 0 < bias − n < 2047.
#[inline(always)]
pub(crate) fn pow2_neg<const N: usize>(bits: Bits<N>, bias: u64) -> Lanes<N> {
    (bits.subtracted_from(0x4338_0000_0000_0000 + bias) << 52).to_lanes()
}

/// The biased exponent field of x (sign ignored), as an exact double in [0, 2047].
#[inline(always)]
pub(crate) fn exponent<const N: usize>(x: Lanes<N>) -> Lanes<N> {
    const TWO52: u64 = 0x4330_0000_0000_0000;
    ((((x.to_bits() << 1) >> 53) | TWO52).to_lanes()) - 4_503_599_627_370_496.0
}

/// The double with x's sign and exponent replaced by those of 1.0: x's significand in [1, 2)
/// (for normal x).
#[inline(always)]
pub(crate) fn significand<const N: usize>(x: Lanes<N>) -> Lanes<N> {
    ((x.to_bits() & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000).to_lanes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(x: f64) -> Lanes<1> {
        Lanes([x])
    }

    /// Against integer arithmetic: rounding, powers of two and exponents of exact cases.
    #[test]
    fn exact_cases() {
        for n in -1100i64..=1100 {
            let (nf, bits) = round_int(one(n as f64 + 0.25));
            assert_eq!(nf.0[0], n as f64);
            if (-1022..=1023).contains(&n) {
                assert_eq!(pow2(bits, 1023).0[0], 2f64.powi(n as i32), "n = {n}");
                if n < 1023 {
                    assert_eq!(pow2_neg(bits, 1023).0[0], 2f64.powi(-n as i32), "n = {n}");
                }
            }
        }
        assert_eq!(round_int(one(2.5)).0 .0[0], 2.0);
        assert_eq!(round_int(one(-3.5)).0 .0[0], -4.0);
        assert_eq!(exponent(one(1.0)).0[0], 1023.0);
        assert_eq!(exponent(one(-0.75)).0[0], 1022.0);
        assert_eq!(exponent(one(f64::MAX)).0[0], 2046.0);
        assert_eq!(exponent(one(f64::MIN_POSITIVE / 2.0)).0[0], 0.0);
        assert_eq!(exponent(one(f64::INFINITY)).0[0], 2047.0);
        assert_eq!(significand(one(-12.0)).0[0], 1.5);
    }
}
