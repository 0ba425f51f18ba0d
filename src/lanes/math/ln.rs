//! The natural logarithm ln x.
//!
//! Method (FreeBSD msun `e_log.c`, the fdlibm algorithm). Subnormal x is first scaled by 2⁵⁴
//! (k starts at −54). x = 2ᵏ·m with m ∈ [1, 2) read from the bits, and m halved (k + 1) when above
//! √2, so that f = m − 1 ∈ [√½ − 1, √2 − 1] exactly; then `log_core`:
//! k·ln2_hi − ((hfsq − (s·(hfsq + R) + k·ln2_lo)) − f). Exponent and significand come from bit
//! operations that vectorise on SSE2 (`ieee`).
//!
//! Special cases (as IEEE / libm): NaN → NaN; x < 0 (−∞ included) → NaN; ±0 → −∞; +∞ → +∞;
//! ln 1 = +0; subnormal x exact to the same accuracy as normal x.
//!
//! Accuracy: < 1 ulp everywhere (fdlibm's error analysis, and measured: see [`super`]).

use super::ieee::{exponent, significand};
use super::lanes::Lanes;
use super::log_core::{log_scaled, SQRT2_SPLIT};

/// 2⁵⁴, the scaling of subnormal arguments.
const TWO54: f64 = 18_014_398_509_481_984.0;

/// ln x on every lane: the kernel behind [`ln`] and [`ln_lanes`].
#[inline(always)]
pub(crate) fn ln_kernel<const N: usize>(x: Lanes<N>) -> Lanes<N> {
    let subnormal = x.lt(f64::MIN_POSITIVE);
    let xs = subnormal.select(x * TWO54, x);
    let bias = subnormal.select(Lanes::splat(1023.0 + 54.0), Lanes::splat(1023.0));
    let m = significand(xs);
    let high = m.ge(SQRT2_SPLIT);
    let f = high.select(0.5 * m, m) - 1.0;
    let k = exponent(xs) - bias + high.select(Lanes::splat(1.0), Lanes::splat(0.0));
    let y = log_scaled(k, f, Lanes::splat(0.0));
    let y = x.eq(f64::INFINITY).select(x, y);
    let y = x.eq(0.0).select(Lanes::splat(f64::NEG_INFINITY), y);
    x.ge(0.0).select(y, Lanes::splat(f64::NAN))
}

/// ln x, with error < 1 ulp; IEEE special cases (ln ±0 = −∞, ln of a negative number = NaN).
#[inline]
pub fn ln(x: f64) -> f64 {
    ln_kernel(Lanes([x])).0[0]
}

/// [`ln`] on every lane, bit-identical to it lane by lane, vectorised.
#[inline(always)]
pub fn ln_lanes<const N: usize>(x: [f64; N]) -> [f64; N] {
    ln_kernel(Lanes(x)).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IEEE special cases; exact results at powers of two are k·ln2 correctly rounded only to
    /// < 1 ulp, so those are left to the accuracy tests; ln 1 = +0 exactly.
    #[test]
    fn special_cases() {
        assert_eq!(ln(1.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(-0.0), f64::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(f64::NEG_INFINITY).is_nan());
        assert!(ln(-1.0).is_nan());
        assert!(ln(-f64::from_bits(1)).is_nan());
        assert!(ln(f64::NAN).is_nan());
        // Subnormal arguments: ln(2⁻¹⁰⁷⁴) = −744.4400719213812 (−1074 ln2, correctly rounded).
        assert_eq!(ln(f64::from_bits(1)), -744.440_071_921_381_2);
        assert!((ln(f64::MAX) - 709.782_712_893_384).abs() <= 1.2e-13);
    }
}
