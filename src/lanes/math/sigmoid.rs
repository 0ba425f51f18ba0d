//! The logistic pair (σ(u), σ(−u)) = (1/(1 + e^−u), e^−u/(1 + e^−u)), without cancellation and
//! rounded once.
//!
//! Method. As the crate's `model::sigmoid` does with std, both values come from e = e^{−|u|} ≤ 1:
//! big = 1/(1 + e) ∈ [½, 1) and small = e/(1 + e) ∈ [0, ½], assigned to σ(u) and σ(−u) by the
//! sign of u; no exponential overflows and nothing is subtracted from 1. To reach < 1 ulp, e is
//! carried in two parts and the divisions are corrected, so that each output is rounded once:
//!
//! 1. e = 2ᵏ·(y + y_lo) from the reduction shared with [`exp`](mod@super::exp) (y = e^r rounded
//!    once, y_lo the part rounding dropped, good to ~2⁻⁵⁷). e_hi = [`exp`](fn@super::exp)`(−|u|)`
//!    (= 2ᵏ·y for normal results); e_lo = 2ᵏ·y_lo, or 0 where e_hi is subnormal (k ≤ −1022).
//! 2. d = 1 + e as d_hi + d_lo (Fast2Sum, 1 ≥ e).
//! 3. q = fl(1/d_hi), and its residual ρ = 1 − q·d = ((1 − p) − p_err) − q·d_lo with
//!    p + p_err = q·d_hi exactly (Dekker's product: Veltkamp splits, no fused multiply-add).
//!    Then 1/d = q(1 + ρ + O(ρ²)), ρ² < 2⁻¹⁰⁴.
//! 4. big = q + q·ρ; small = 2ᵏ·(s + (s_err + (s·ρ + y_lo·q))) with s + s_err = y·q exactly,
//!    rounded at the scale of y ~ 1 and then scaled exactly by 2ᵏ (as 2·2^(k−1)), so no partial
//!    product underflows; where e is subnormal, small = e_hi (e/(1 + e) = e to 2⁻¹⁰²¹ relative).
//!
//! Special cases: NaN → (NaN, NaN); ±0 → (½, ½) exactly; |u| ≥ 745.2 (±∞ included) → (1, +0)
//! or (+0, 1) as the rounded values are; subnormal σ(−|u|) for |u| > 708.4 equals the
//! (gradual-underflow) e_hi.
//!
//! Accuracy: < 1 ulp for both outputs (measured: see [`super`]). Error budget: y + y_lo is good
//! to ~2⁻⁵⁶ relative, the corrected divisions to ~2⁻¹⁰⁰, so each output is the correctly rounded
//! value of a number within ~0.15 ulp of the exact one; the subnormal σ(−|u|) has exp's error.

use super::exp::{reduce, scale};
use super::ieee::pow2;
use super::lanes::Lanes;

/// (p, e) with p = fl(a·b) and p + e = a·b exactly (Dekker), lane by lane; a, b ∈ [¼, 2].
#[inline(always)]
fn two_prod<const N: usize>(a: Lanes<N>, b: Lanes<N>) -> (Lanes<N>, Lanes<N>) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

/// Veltkamp's split into two halves of ≤ 26 significant bits.
#[inline(always)]
fn split<const N: usize>(a: Lanes<N>) -> (Lanes<N>, Lanes<N>) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

/// (σ(u), σ(−u)) on every lane: the kernel behind [`sigmoid_pair`] and [`sigmoid_pair_lanes`].
#[inline(always)]
pub(crate) fn sigmoid_kernel<const N: usize>(u: Lanes<N>) -> (Lanes<N>, Lanes<N>) {
    let red = reduce(-u.abs());
    // e = e^{−|u|} = 2ᵏ·(y + y_lo).
    let (y, y_lo) = (red.y, red.y_lo);
    let half_scale = pow2(red.bits, 1022); // 2^(k−1)
    let subnormal = red.k.le(-1022.0);
    let e_hi = scale(&red);
    let e_lo = subnormal.select(Lanes::splat(0.0), (y_lo * 2.0) * half_scale);
    // 1/(1 + e) = q(1 + ρ) to 2⁻¹⁰⁴.
    let d_hi = 1.0 + e_hi;
    let d_lo = ((1.0 - d_hi) + e_hi) + e_lo;
    let q = 1.0 / d_hi;
    let (p, p_err) = two_prod(q, d_hi);
    let rho = ((1.0 - p) - p_err) - q * d_lo;
    let big = q + q * rho;
    // e/(1 + e) = 2ᵏ·(y + y_lo)·q(1 + ρ), rounded once at the scale of y, then scaled exactly;
    // where e is subnormal, e/(1 + e) = e to 2⁻¹⁰²¹ relative, and e_hi is rounded once.
    let (s, s_err) = two_prod(y, q);
    let small_scaled = s + (s_err + (s * rho + y_lo * q));
    let small = subnormal.select(e_hi, (small_scaled * 2.0) * half_scale);
    // Assigned by the sign bit (at −0 both outputs are ½), as an exact arithmetic blend with a
    // weight w ∈ {0, 1}: big·w + small·(1 − w) is big + 0 or 0 + small exactly (both are finite
    // or NaN). A select would do the same, but at N = 1 LLVM makes it a branch on the sign, which
    // random signs mispredict.
    let w = (u.sign_mask().not_bits() & 1f64.to_bits()).to_lanes();
    let v = 1.0 - w;
    (big * w + small * v, small * w + big * v)
}

/// (σ(u), σ(−u)), each with error < 1 ulp, never overflowing, without cancellation.
#[inline]
pub fn sigmoid_pair(u: f64) -> (f64, f64) {
    let (a, b) = sigmoid_kernel(Lanes([u]));
    (a.0[0], b.0[0])
}

/// [`sigmoid_pair`] on every lane, bit-identical to it lane by lane, vectorised: (σ(u), σ(−u)).
#[inline(always)]
pub fn sigmoid_pair_lanes<const N: usize>(u: [f64; N]) -> ([f64; N], [f64; N]) {
    let (a, b) = sigmoid_kernel(Lanes(u));
    (a.0, b.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Special cases, symmetry σ(−u) = second output, and the far tails: e^{−746} < 2⁻¹⁰⁷⁶ rounds
    /// to 0, so (1, 0); at u = 720 the small output is e^{−720}(1 − e^{−720}) = e^{−720} to 2⁻¹⁰³⁸
    /// relative, i.e. the subnormal exp(−720) itself.
    #[test]
    fn special_cases() {
        assert_eq!(sigmoid_pair(0.0), (0.5, 0.5));
        assert_eq!(sigmoid_pair(-0.0), (0.5, 0.5));
        assert_eq!(sigmoid_pair(f64::INFINITY), (1.0, 0.0));
        assert_eq!(sigmoid_pair(f64::NEG_INFINITY), (0.0, 1.0));
        assert_eq!(sigmoid_pair(800.0), (1.0, 0.0));
        assert_eq!(sigmoid_pair(-800.0), (0.0, 1.0));
        let (a, b) = sigmoid_pair(f64::NAN);
        assert!(a.is_nan() && b.is_nan());
        assert_eq!(sigmoid_pair(720.0), (1.0, super::super::exp(-720.0)));
        for u in [1e-300, 0.3, 2.0, 37.0, 300.0] {
            let (a, b) = sigmoid_pair(u);
            assert_eq!(sigmoid_pair(-u), (b, a));
        }
    }
}
