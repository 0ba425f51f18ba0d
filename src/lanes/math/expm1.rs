//! eˣ − 1, accurate near 0.
//!
//! Method (FreeBSD msun `s_expm1.c`, the fdlibm algorithm; coefficients Q1–Q5 from there). Reduce
//! x = k·ln2 + r exactly as for exp, but keep the rounding error of r = hi − lo as
//! c = (hi − r) − lo. On |r| ≤ ½ln2, fdlibm writes r(e^r + 1)/(e^r − 1) = 2 + (r²/6)·R1(r²) with
//! R1(r²) ≈ 1 + Q1·(r²/2) + … + Q5·(r²/2)⁵ (Remez, error < 2⁻⁶¹; the Q's are scaled for the
//! argument r²/2), from which, with t = 3 − R1·r/2 and E = (r²/2)·(R1 − t)/(6 − r·t),
//! e^r − 1 = r − (r·E − r²/2). The result is then assembled by one of six formulas, chosen per
//! lane by k (all are computed and the choice is made by masks, without branches):
//!
//! | k | result |
//! | --- | --- |
//! | 0 | r − (r·E − r²/2) (no reduction: c = 0, exact for tiny x) |
//! | −1 | ½(r − e') − ½ |
//! | 1 | −2(e' − (r + ½)) if r < −¼, else 1 + 2(r − e') |
//! | 2 … 19 | ((r − e') + (1 − 2⁻ᵏ))·2ᵏ |
//! | 20 … 56 | ((r − (e' + 2⁻ᵏ)) + 1)·2ᵏ |
//! | ≤ −2 or > 56 | (1 + (r − e'))·2ᵏ − 1 |
//!
//! where e' = (r·(E − c) − c) − r²/2 carries the reduction error; the orders are fdlibm's,
//! chosen so that the subtraction of 1 (or of 2⁻ᵏ) is exact or harmless in each range.
//!
//! Special cases: NaN → NaN; ±0 → ±0; |x| < 2⁻⁵⁴ → x (subnormals included); −∞ and x < −37.43
//! (e^x < 2⁻⁵⁴) → −1 (the argument is clamped to [−50, 710], which changes no result); +∞ and
//! x > 709.782712893384 → +∞.
//!
//! Accuracy: < 1 ulp everywhere (fdlibm's error analysis, and measured: see [`super`]).

use super::exp::{INV_LN2, LN2_HI, LN2_LO};
use super::ieee::{pow2, pow2_neg, round_int};
use super::lanes::Lanes;

const Q1: f64 = f64::from_bits(0xbfa11111_111110f4); // -0.03333333333333313
const Q2: f64 = f64::from_bits(0x3f5a01a0_19fe5585); // 0.0015873015872548146
const Q3: f64 = f64::from_bits(0xbf14ce19_9eaadbb7); // -7.93650757867488e-05
const Q4: f64 = f64::from_bits(0x3ed0cfca_86e65239); // 4.008217827329362e-06
const Q5: f64 = f64::from_bits(0xbe8afdb7_6e09c32d); // -2.0109921818362437e-07

/// eˣ − 1 on every lane: the kernel behind [`expm1`] and [`expm1_lanes`].
#[inline(always)]
pub(crate) fn expm1_kernel<const N: usize>(x: Lanes<N>) -> Lanes<N> {
    let x = x.clamp(-50.0, 710.0);
    let (k, bits) = round_int(x * INV_LN2);
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let c = (hi - r) - lo;
    let hfx = 0.5 * r;
    let hxs = r * hfx;
    let r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
    let t = 3.0 - r1 * hfx;
    let e = hxs * ((r1 - t) / (6.0 - r * t));
    let at_zero = r - (r * e - hxs);
    let e = (r * (e - c) - c) - hxs;
    let at_minus_one = 0.5 * (r - e) - 0.5;
    let at_one = r
        .lt(-0.25)
        .select(-2.0 * (e - (r + 0.5)), 1.0 + 2.0 * (r - e));
    // 2^k as (y·2)·2^(k−1): exact for every k up to 1024, where 2^k itself would overflow.
    let half_scale = pow2(bits, 1022);
    let two_m_k = pow2_neg(bits, 1023);
    let mid = ((r - e) + (1.0 - two_m_k)) * 2.0 * half_scale;
    let high = ((r - (e + two_m_k)) + 1.0) * 2.0 * half_scale;
    let far = (1.0 + (r - e)) * 2.0 * half_scale - 1.0;
    // Start from the "far" formula (which NaN lanes keep) and narrow down by k.
    let y = k.ge(2.0).and(k.le(56.0)).select(mid, far);
    let y = k.ge(20.0).and(k.le(56.0)).select(high, y);
    let y = k.eq(1.0).select(at_one, y);
    let y = k.eq(-1.0).select(at_minus_one, y);
    k.eq(0.0).select(at_zero, y)
}

/// eˣ − 1, with error < 1 ulp, exact to the last bit for tiny x (expm1(1e-300) = 1e-300).
#[inline]
pub fn expm1(x: f64) -> f64 {
    expm1_kernel(Lanes([x])).0[0]
}

/// [`expm1`] on every lane, bit-identical to it lane by lane, vectorised.
#[inline(always)]
pub fn expm1_lanes<const N: usize>(x: [f64; N]) -> [f64; N] {
    expm1_kernel(Lanes(x)).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IEEE special cases; tiny arguments returned exactly (e^x − 1 = x(1 + x/2 + …) rounds to x
    /// for |x| < 2⁻⁵³); −1 once e^x < 2⁻⁵⁴ (x < −37.43); overflow past 709.782712893384.
    #[test]
    fn special_cases() {
        assert_eq!(expm1(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(expm1(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(expm1(f64::INFINITY), f64::INFINITY);
        assert_eq!(expm1(f64::NEG_INFINITY), -1.0);
        assert!(expm1(f64::NAN).is_nan());
        assert_eq!(expm1(1e-300), 1e-300);
        assert_eq!(expm1(-1e-300), -1e-300);
        for bits in [1u64, 2, 12345, 0x000f_ffff_ffff_ffff] {
            let x = f64::from_bits(bits);
            assert_eq!(expm1(x), x);
            assert_eq!(expm1(-x), -x);
        }
        assert_eq!(expm1(-40.0), -1.0);
        assert_eq!(expm1(-1e308), -1.0);
        assert!(expm1(709.782_712_893_384).is_finite());
        assert_eq!(expm1(709.782_712_893_384_1), f64::INFINITY);
    }
}
