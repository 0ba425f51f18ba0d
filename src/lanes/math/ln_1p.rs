//! ln(1 + x), accurate near 0.
//!
//! Method (FreeBSD msun `s_log1p.c`, the fdlibm algorithm). For √½ − 1 < x < √2 − 1, f = x exactly,
//! k = 0, and log(1 + f) goes straight to `log_core` — no rounding of 1 + x at all, so
//! tiny and subnormal x come out exact. Otherwise u = fl(1 + x) is reduced like ln's argument,
//! u = 2ᵏ(1 + f), and the rounding of 1 + x is corrected to first order by c/u with
//! c = (1 + x) − u computed exactly as 1 − (u − x) when k ≥ 2 and x − (u − 1) when k < 2
//! (Sterbenz). Both paths are computed on every lane and selected by masks.
//!
//! Special cases (as IEEE / libm): NaN → NaN; x < −1 (−∞ included) → NaN; −1 → −∞; +∞ → +∞;
//! ±0 → ±0; |x| < 2⁻⁵⁴ → x (subnormals included).
//!
//! Accuracy: < 1 ulp everywhere (fdlibm's error analysis, and measured: see [`super`]).

use super::ieee::{exponent, significand};
use super::lanes::Lanes;
use super::log_core::{log_scaled, SQRT2_SPLIT};
use std::f64::consts::{FRAC_1_SQRT_2, SQRT_2};

/// ln(1 + x) on every lane: the kernel behind [`ln_1p`] and [`ln_1p_lanes`].
#[inline(always)]
pub(crate) fn ln_1p_kernel<const N: usize>(x: Lanes<N>) -> Lanes<N> {
    let u = 1.0 + x;
    let m = significand(u);
    let high = m.ge(SQRT2_SPLIT);
    let k = exponent(u) - 1023.0 + high.select(Lanes::splat(1.0), Lanes::splat(0.0));
    let c = k.ge(2.0).select(1.0 - (u - x), x - (u - 1.0)) / u;
    let f = high.select(0.5 * m, m) - 1.0;
    // √½ − 1 < x < √2 − 1: no reduction, f = x exactly.
    let near = x.gt(FRAC_1_SQRT_2 - 1.0).and(x.lt(SQRT_2 - 1.0));
    let zero = Lanes::splat(0.0);
    let y = log_scaled(
        near.select(zero, k),
        near.select(x, f),
        near.select(zero, c),
    );
    let y = x.eq(f64::INFINITY).select(x, y);
    let y = x.eq(-1.0).select(Lanes::splat(f64::NEG_INFINITY), y);
    let y = x.eq(0.0).select(x, y);
    x.ge(-1.0).select(y, Lanes::splat(f64::NAN))
}

/// ln(1 + x), with error < 1 ulp, exact to the last bit for tiny x (ln_1p(1e-300) = 1e-300);
/// IEEE special cases (ln_1p(−1) = −∞, NaN below −1).
#[inline]
pub fn ln_1p(x: f64) -> f64 {
    ln_1p_kernel(Lanes([x])).0[0]
}

/// [`ln_1p`] on every lane, bit-identical to it lane by lane, vectorised.
#[inline(always)]
pub fn ln_1p_lanes<const N: usize>(x: [f64; N]) -> [f64; N] {
    ln_1p_kernel(Lanes(x)).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IEEE special cases; tiny and subnormal arguments returned exactly (ln(1 + x) = x − x²/2 + …
    /// rounds to x for |x| < 2⁻⁵³).
    #[test]
    fn special_cases() {
        assert_eq!(ln_1p(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(ln_1p(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(ln_1p(-1.0), f64::NEG_INFINITY);
        assert!(ln_1p(-1.0 - f64::EPSILON).is_nan());
        assert!(ln_1p(f64::NEG_INFINITY).is_nan());
        assert!(ln_1p(f64::NAN).is_nan());
        assert_eq!(ln_1p(f64::INFINITY), f64::INFINITY);
        assert_eq!(ln_1p(1e-300), 1e-300);
        assert_eq!(ln_1p(-1e-300), -1e-300);
        for bits in [1u64, 2, 12345, 0x000f_ffff_ffff_ffff] {
            let x = f64::from_bits(bits);
            assert_eq!(ln_1p(x), x);
            assert_eq!(ln_1p(-x), -x);
        }
        // ln(1 + (−1 + 2⁻⁵³)) = −53 ln2 = −36.7368005696771 (1 + x is exact there).
        assert_eq!(ln_1p(-1.0 + f64::EPSILON / 2.0), -36.736_800_569_677_1);
        assert!(ln_1p(f64::MAX).is_finite());
    }
}
