//! The kernel shared by ln and ln_1p: log(1 + f) − f for f ∈ [√½ − 1, √2 − 1], and k·ln2 added
//! back in two parts.
//!
//! Method (FreeBSD msun `e_log.c` / `k_log.h`, the fdlibm algorithm; coefficients Lg1–Lg7 from
//! there). With s = f/(2 + f), log(1 + f) = log(1 + s) − log(1 − s) = 2s + s·R(s²), where
//! R(z) = Lg1·z + … + Lg7·z⁷ (Remez on |s| ≤ 0.1716, error < 2⁻⁵⁸·⁴⁵), split as
//! t2 + t1 into even and odd powers of z² for a shorter dependency chain. Since
//! 2s = f − s·f = f − hfsq + s·hfsq with hfsq = f²/2,
//! log(1 + f) = f − (hfsq − s·(hfsq + R)), and
//! log(2ᵏ(1 + f)) = k·ln2_hi − ((hfsq − (s·(hfsq + R) + (k·ln2_lo + c))) − f),
//! ln2 = ln2_hi + ln2_lo with ln2_hi of 32 significant bits (k·ln2_hi exact for |k| < 2²⁰), c a
//! correction of the caller's (ln_1p's rounding of 1 + x, 0 for ln).
//!
//! Special cases: none here (callers select the special values); f = 0 and k = 0 give +0.
//!
//! Accuracy: < 1 ulp for the callers (fdlibm's analysis; measured in [`super`]).

use super::exp::{LN2_HI, LN2_LO};
use super::lanes::Lanes;

const LG1: f64 = f64::from_bits(0x3fe55555_55555593); // 0.6666666666666735
const LG2: f64 = f64::from_bits(0x3fd99999_9997fa04); // 0.3999999999940942
const LG3: f64 = f64::from_bits(0x3fd24924_94229359); // 0.2857142874366239
const LG4: f64 = f64::from_bits(0x3fcc71c5_1d8e78af); // 0.22222198432149784
const LG5: f64 = f64::from_bits(0x3fc74664_96cb03de); // 0.1818357216161805
const LG6: f64 = f64::from_bits(0x3fc39a09_d078c69f); // 0.15313837699209373
const LG7: f64 = f64::from_bits(0x3fc2f112_df3e5244); // 0.14798198605116586

/// The threshold on the significand m ∈ [1, 2) above which m/2 is used instead (the high word
/// 0x3ff6a09e of fdlibm/musl, just above √2).
pub(crate) const SQRT2_SPLIT: f64 = f64::from_bits(0x3ff6a09e_00000000); // 1.4142131805419922

/// k·ln2 + log(1 + f) + c, for |f| ≤ √2 − 1 and k an integer (|k| < 2¹¹).
#[inline(always)]
pub(crate) fn log_scaled<const N: usize>(k: Lanes<N>, f: Lanes<N>, c: Lanes<N>) -> Lanes<N> {
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + (k * LN2_LO + c))) - f)
}
