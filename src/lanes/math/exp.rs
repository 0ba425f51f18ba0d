//! The exponential eˣ.
//!
//! Method (the reduction and rational approximation of FreeBSD msun `e_exp.c`, the fdlibm
//! algorithm, coefficients from there; the final assembly compensated). Reduce x = k·ln2 + r with
//! k = round(x/ln2) and r = hi − lo, hi = x − k·ln2_hi (exact: ln2_hi has 32 trailing zero bits
//! and |k| < 2¹¹), lo = k·ln2_lo, and keep r's rounding error r_err = (hi − r) − lo. Then
//! e^r = 1 + r + q with q = r·c/(2 − c), c = r − r²·P(r²), P of degree 4 (Remez; fdlibm bounds the
//! approximation by 2⁻⁵⁹). Where fdlibm rounds twice (tmp = (q − lo) + hi, then 1 + tmp), here
//! s = 1 + r is split exactly (Fast2Sum: s + s_err = 1 + r) and
//! y = s + (s_err + ((q + r·r_err) + r_err)) is the only rounding of a term near 1 — the small
//! terms carry errors of ~2⁻⁵⁷ — so the result is within ~0.2 ulp of correctly rounded
//! instead of fdlibm's ~0.4. y_lo = (s − y) + t keeps what that rounding dropped (used for
//! subnormal results, and by the logistic pair). Scaling by 2ᵏ is by exponent-bit construction,
//! in two regimes selected per lane without branches:
//!
//! * k > −1022: (y·2)·2^(k−1), exact up to overflow (2^(k−1) is normal for k up to 1024);
//! * k ≤ −1022 (results below ~2⁻¹⁰²¹): the subnormal result is rounded once, not twice, by the
//!   trick of ARM's optimized-routines / glibc `exp` (`specialcase`): with s = 2^(k+1022),
//!   Y = s·y; when Y < 1, adding 1 puts the rounding point at 2⁻⁵², i.e. 2⁻¹⁰⁷⁴ after the final
//!   exact scaling by 2⁻¹⁰²², and the low part s·y_lo is carried into that single rounding.
//!
//! Special cases (as IEEE / libm): NaN → NaN; +∞ → +∞; −∞ → +0; x > 709.782712893384 → +∞;
//! x < −745.1332191019411 → +0 (the threshold for rounding to 0 is 2⁻¹⁰⁷⁵); subnormal results in
//! between; exp(±0) = 1 exactly. The argument is first clamped to [−746, 710] (NaN passes
//! through), which changes no result.
//!
//! Accuracy: < 1 ulp everywhere: the rounding of y (½ ulp) plus the errors of the small terms
//! (q's own roundings and fdlibm's approximation error, a few 2⁻⁵⁷ absolute: ~0.2 ulp at most; the
//! measured maximum is 0.673 ulp, see [`super`]). Subnormal results are rounded once from the same
//! y + y_lo.

use super::ieee::{pow2, round_int};
use super::lanes::{Bits, Lanes};

/// ln2 = LN2_HI + LN2_LO to ~2⁻⁸⁵ (fdlibm's split): LN2_HI has 32 significant bits, so k·LN2_HI is
/// exact for |k| < 2²¹.
pub(crate) const LN2_HI: f64 = f64::from_bits(0x3fe62e42_fee00000); // 0.6931471803691238
/// ln2 − LN2_HI, rounded.
pub(crate) const LN2_LO: f64 = f64::from_bits(0x3dea39ef_35793c76); // 1.9082149292705877e-10
/// 1/ln2 rounded (only used to choose k; any error there only moves r by ≪ ulp).
pub(crate) const INV_LN2: f64 = f64::from_bits(0x3ff71547_652b82fe); // 1.4426950408889634
const P1: f64 = f64::from_bits(0x3fc55555_5555553e); // 0.16666666666666602
const P2: f64 = f64::from_bits(0xbf66c16c_16bebd93); // -0.0027777777777015593
const P3: f64 = f64::from_bits(0x3f11566a_af25de2c); // 6.613756321437934e-05
const P4: f64 = f64::from_bits(0xbebbbd41_c5d26bf1); // -1.6533902205465252e-06
const P5: f64 = f64::from_bits(0x3e663769_72bea4d0); // 4.1381367970572385e-08
/// 2⁻¹⁰²²: the final, exact scaling of a subnormal result.
const TWO_M1022: f64 = f64::MIN_POSITIVE;

/// eˣ reduced: x = k·ln2 + r and e^r = y + y_lo, y = fl(e^r) and y_lo the part rounding dropped.
#[derive(Clone, Copy)]
pub(crate) struct Reduced<const N: usize> {
    /// k as a double.
    pub k: Lanes<N>,
    /// The bits from which [`pow2`] builds powers of two 2^(k + …).
    pub bits: Bits<N>,
    /// e^r rounded once, in [0.70, 1.42].
    pub y: Lanes<N>,
    /// e^r − y, to ~2⁻⁵⁷.
    pub y_lo: Lanes<N>,
}

/// The reduction of x (clamped to [−746, 710]; NaN passes), the rational approximation and the
/// compensated assembly of e^r.
#[inline(always)]
pub(crate) fn reduce<const N: usize>(x: Lanes<N>) -> Reduced<N> {
    let x = x.clamp(-746.0, 710.0);
    let (k, bits) = round_int(x * INV_LN2);
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let r_err = (hi - r) - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let q = r * c / (2.0 - c);
    // e^(r + r_err) = 1 + r + q + r_err·(1 + r) + …, summed with 1 + r exact (Fast2Sum).
    let s = 1.0 + r;
    let s_err = (1.0 - s) + r;
    let t = s_err + ((q + r * r_err) + r_err);
    let y = s + t;
    Reduced {
        k,
        bits,
        y,
        y_lo: (s - y) + t,
    }
}

/// 2ᵏ·(y + y_lo), rounded once, for the outputs of [`reduce`]: the two scaling regimes.
#[inline(always)]
pub(crate) fn scale<const N: usize>(red: &Reduced<N>) -> Lanes<N> {
    // Normal results (k > −1022): (y·2)·2^(k−1), exact up to overflow.
    let normal = (red.y * 2.0) * pow2(red.bits, 1022);
    // Subnormal results (k ≤ −1022): with s = 2^(k+1022) ∈ [2⁻⁵⁴, 1], Y = s·y < 1 is rounded at
    // 2⁻⁵² (by adding 1) before the exact scaling by 2⁻¹⁰²², so the result is rounded once.
    // Lanes on the normal path get s = 0 here: their (discarded) subnormal-path arithmetic then
    // stays exactly zero, instead of producing subnormals that cost a microcode assist each.
    let subnormal = red.k.le(-1022.0);
    let s = subnormal.select(pow2(red.bits, 2045), Lanes::splat(0.0));
    let big_y = s * red.y;
    let hi = 1.0 + big_y;
    let lo = ((1.0 - hi) + big_y) + s * red.y_lo;
    let rounded = big_y.lt(1.0).select((hi + lo) - 1.0, big_y);
    subnormal.select(rounded * TWO_M1022, normal)
}

/// eˣ on every lane: the kernel behind [`exp`] and [`exp_lanes`].
#[inline(always)]
pub(crate) fn exp_kernel<const N: usize>(x: Lanes<N>) -> Lanes<N> {
    scale(&reduce(x))
}

/// eˣ, with error < 1 ulp; IEEE special cases (overflow to +∞, gradual underflow to +0).
#[inline]
pub fn exp(x: f64) -> f64 {
    exp_kernel(Lanes([x])).0[0]
}

/// [`exp`] on every lane, bit-identical to it lane by lane, vectorised.
#[inline(always)]
pub fn exp_lanes<const N: usize>(x: [f64; N]) -> [f64; N] {
    exp_kernel(Lanes(x)).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IEEE special cases and the thresholds: the largest x with a finite result is
    /// 709.782712893384 (< ln f64::MAX = 709.78271289338399673…), the next double overflows;
    /// e^x rounds to the smallest subnormal 2⁻¹⁰⁷⁴ down to x = −745.1332191019411
    /// (> ln 2⁻¹⁰⁷⁵ = −745.13321910194110842…) and to 0 below.
    #[test]
    fn special_cases() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY).to_bits(), 0.0f64.to_bits());
        assert!(exp(f64::NAN).is_nan());
        assert!(exp(709.782_712_893_384).is_finite());
        assert_eq!(exp(709.782_712_893_384_1), f64::INFINITY);
        assert_eq!(exp(1e308), f64::INFINITY);
        assert_eq!(exp(-745.133_219_101_941_1), f64::from_bits(1));
        assert_eq!(exp(-745.133_219_101_941_2), 0.0);
        assert_eq!(exp(-1e308), 0.0);
        // Subnormal results: e^x ∈ (2⁻¹⁰⁷⁴, 2⁻¹⁰²²) for x ∈ (−744.4, −708.4), monotone.
        let a = exp(-720.0);
        assert!(a > 0.0 && a < f64::MIN_POSITIVE);
        assert!(exp(-720.0 + 1e-9) >= a && exp(-720.0 - 1e-9) <= a);
        // Tiny arguments: e^x = 1 + x rounds to 1 for |x| < 2⁻⁵⁴.
        assert_eq!(exp(1e-300), 1.0);
        assert_eq!(exp(f64::from_bits(1)), 1.0);
    }
}
