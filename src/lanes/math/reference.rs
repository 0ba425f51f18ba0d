//! Independent double-double references for exp, expm1, ln, ln_1p and the logistic pair, and the
//! error of a double against them in ulps.
//!
//! Method. Nothing here shares an algorithm or a constant with the kernels:
//!
//! * exp: k = round(x/ln2), r = x − k·ln2 with ln2 in three doubles (Hida–Li–Bailey's QD
//!   constant, checked below against the atanh series), then e^r by its Taylor series to r²⁷/27!
//!   in Horner form, 1 + r(1 + r/2(1 + r/3(…))), in double-double; truncation < 0.35²⁸/28! < 1e-42.
//! * ln: y = 2^e·m with m ∈ [√½, √2), ln y = e·ln2 + 2 atanh((m − 1)/(m + 1)), the atanh series
//!   to s⁴⁷ (|s| ≤ 0.172, truncation < 0.0295²⁴ < 1e-36). The argument may be a double-double, so
//!   ln_1p(x) is ln of the exact double-double 1 + x.
//! * expm1: x·(1 + x/2(1 + x/3(…))) to x³⁰/31! for |x| < ½ (no cancellation); exp − 1 beyond,
//!   where |eˣ − 1| ≥ 0.39 so the subtraction loses at most 2 bits.
//! * logistic: e = e^{−|u|} from the exp reference, then 1/(1 + e) and e/(1 + e) in double-double.
//!
//! Results are kept as m·2^e with m a double-double in [1, 2), so that overflowing, subnormal and
//! underflowing results are represented exactly enough (no double-double underflow).
//!
//! Special cases. Exact results (NaN, ±∞, ±0, ±1, exp(0), ln(1), …) are [`Reference::Special`];
//! so are results whose correct rounding is 0, 1 or ∞ for a reason stated at the case.
//!
//! Accuracy. Each double-double operation has relative error ≤ 8·2⁻¹⁰⁶ ([`super::dd`]); the
//! Horner sums run ~30 steps on terms of decreasing size whose sum is within a factor 2 of the sum
//! of their absolute values, so the references are good to ≲ 30·2·8·2⁻¹⁰⁶ ≈ 6e-30 relative in the
//! worst case, typically ~1e-31 (checked in the tests against published constants, against each
//! other and by round trips). In ulps of a double that is < 1e-13: the measured errors of the
//! kernels are exact to the digits reported.

use super::dd::{two_prod, Dd};

/// ln 2 in three doubles (QD library's `qd_real::_log2`, 160 bits).
const LN2: [f64; 3] = [
    std::f64::consts::LN_2,
    2.319_046_813_846_299_6e-17,
    5.707_708_438_416_212e-34,
];

/// An exact value, for measuring errors against.
#[derive(Clone, Copy, Debug)]
pub enum Reference {
    /// m·2^e with 1 ≤ |m| < 2 (m a double-double).
    Value(Dd, i32),
    /// A result that is exactly a double (or whose correct rounding is, as documented at the case):
    /// the computed value must equal it (NaN: be NaN; zero: have its sign).
    Special(f64),
}

/// m·2^e normalised so that 1 ≤ |m.hi| < 2 (m ≠ 0, finite, |m| within 2^±900).
pub fn normalised(m: Dd, e: i32) -> Reference {
    let shift = ((m.hi.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    Reference::Value(m.scale(-shift), e + shift)
}

/// n·ln2 as a double-double, from the three-double ln2 (exact products, |n| < 2¹¹).
fn n_ln2(n: f64) -> Dd {
    let (p0, e0) = two_prod(n, LN2[0]);
    let (p1, e1) = two_prod(n, LN2[1]);
    Dd::sum(p0, e0) + Dd::sum(p1, e1) + n * LN2[2]
}

/// r = x − k·ln2 as a double-double, for k = round(x/ln2): x − fl(k·ln2₀) is exact (Sterbenz:
/// the two are within a factor 2), and the small remaining terms are subtracted in
/// double-double, so r's error is ~2⁻¹⁰⁶|r|, not 2⁻¹⁰⁶|x|.
fn reduce_ln2(x: f64, k: f64) -> Dd {
    let (p0, e0) = two_prod(k, LN2[0]);
    let (p1, e1) = two_prod(k, LN2[1]);
    Dd::from_f64(x - p0) - Dd::sum(e0, p1) - Dd::sum(e1, k * LN2[2])
}

/// e^x as m·2^k, for finite |x| ≤ 746 (k = round(x/ln2), m = e^r ∈ [0.70, 1.42]).
fn exp_scaled(x: f64) -> (Dd, i32) {
    let k = (x / LN2[0]).round();
    let r = reduce_ln2(x, k);
    let mut t = Dd::from_f64(1.0);
    for n in (1..=27).rev() {
        t = t * r / n as f64 + 1.0;
    }
    (t, k as i32)
}

/// The exact eˣ.
pub fn exp(x: f64) -> Reference {
    if x.is_nan() {
        return Reference::Special(f64::NAN);
    }
    if x == 0.0 {
        return Reference::Special(1.0);
    }
    // e^710 > 2^1024 and e^−746 < 2^−1076, beyond the rounding thresholds to ∞ and to 0.
    if x > 710.0 {
        return Reference::Special(f64::INFINITY);
    }
    if x < -746.0 {
        return Reference::Special(0.0);
    }
    let (m, k) = exp_scaled(x);
    normalised(m, k)
}

/// ln y for a double-double y > 0 with y.hi normal, as a double-double.
fn ln_dd(y: Dd) -> Dd {
    let mut e = ((y.hi.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let mut m = y.scale(-e);
    if m.hi > std::f64::consts::SQRT_2 {
        m = m.scale(-1);
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut t = Dd::from_f64(1.0) / 47.0;
    for n in (0..23).rev() {
        t = t * s2 + Dd::from_f64(1.0) / (2 * n + 1) as f64;
    }
    n_ln2(e as f64) + s * t * 2.0
}

/// The exact ln x.
pub fn ln(x: f64) -> Reference {
    if x.is_nan() || x < 0.0 {
        return Reference::Special(f64::NAN);
    }
    if x == 0.0 {
        return Reference::Special(f64::NEG_INFINITY);
    }
    if x == f64::INFINITY {
        return Reference::Special(x);
    }
    if x == 1.0 {
        return Reference::Special(0.0);
    }
    // Subnormal x: ln(x·2⁵⁴) − 54 ln2.
    let (xs, shift) = if x < f64::MIN_POSITIVE {
        (x * 2f64.powi(54), 54.0)
    } else {
        (x, 0.0)
    };
    let v = ln_dd(Dd::from_f64(xs)) - n_ln2(shift);
    normalised(v, 0)
}

/// The exact ln(1 + x).
pub fn ln_1p(x: f64) -> Reference {
    if x.is_nan() || x < -1.0 {
        return Reference::Special(f64::NAN);
    }
    if x == -1.0 {
        return Reference::Special(f64::NEG_INFINITY);
    }
    if x == 0.0 || x == f64::INFINITY {
        return Reference::Special(x);
    }
    if x.abs() < 2f64.powi(-600) {
        // x(1 − x/2 + …): the dropped x²/3 is < 2⁻¹²⁰⁰ relative.
        let scaled = Dd::from_f64(x * 2f64.powi(600)) * Dd::sum(1.0, -0.5 * x);
        return normalised(scaled, -600);
    }
    normalised(ln_dd(Dd::sum(1.0, x)), 0)
}

/// The exact eˣ − 1.
pub fn expm1(x: f64) -> Reference {
    if x.is_nan() || x == 0.0 || x == f64::INFINITY {
        return Reference::Special(x);
    }
    if x > 710.0 {
        return Reference::Special(f64::INFINITY);
    }
    if x < -120.0 {
        // −1 + e^x with e^x < 2⁻¹⁷³: rounds to −1 and the reference's dropped part is < 2⁻¹⁷³.
        return normalised(Dd::from_f64(-1.0), 0);
    }
    if x.abs() < 2f64.powi(-600) {
        // x(1 + x/2 + …): the dropped x²/6 is < 2⁻¹²⁰⁰ relative.
        let scaled = Dd::from_f64(x * 2f64.powi(600)) * Dd::sum(1.0, 0.5 * x);
        return normalised(scaled, -600);
    }
    if x.abs() < 0.5 {
        let mut t = Dd::from_f64(1.0);
        for n in (2..=31).rev() {
            t = t * x / n as f64 + 1.0;
        }
        return normalised(t * x, 0);
    }
    let (m, k) = exp_scaled(x);
    if k > 120 {
        // e^x − 1 = e^x (1 − e^−x): the dropped part is < 2⁻¹²⁰ relative.
        return normalised(m, k);
    }
    normalised(m.scale(k) - 1.0, 0)
}

/// The exact (σ(u), σ(−u)) = (1/(1 + e^−u), 1/(1 + e^u)).
pub fn sigmoid_pair(u: f64) -> (Reference, Reference) {
    if u.is_nan() {
        return (Reference::Special(u), Reference::Special(u));
    }
    let (big, small) = if u.abs() > 746.0 {
        // σ(−|u|) < e^−746 < 2⁻¹⁰⁷⁶ rounds to 0; σ(|u|) = 1 − that rounds to 1.
        (Reference::Special(1.0), Reference::Special(0.0))
    } else {
        let (m, k) = exp_scaled(-u.abs());
        if k < -120 {
            // 1 + e = 1 to 2⁻¹²⁰ relative: σ(|u|) → 1 (rounds to 1), σ(−|u|) = e(1 − e + …).
            (Reference::Special(1.0), normalised(m, k))
        } else {
            let e = m.scale(k);
            let d = e + 1.0;
            (normalised(Dd::from_f64(1.0) / d, 0), normalised(e / d, 0))
        }
    };
    if u >= 0.0 {
        (big, small)
    } else {
        (small, big)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The relative difference of m·2^e from the exact value `v` (a double-double at exponent 0).
    fn rel(r: Reference, v: Dd) -> f64 {
        match r {
            Reference::Value(m, e) => ((m.scale(e) - v).to_f64() / v.hi).abs(),
            Reference::Special(s) => ((Dd::from_f64(s) - v).to_f64() / v.hi).abs(),
        }
    }

    /// The value of a reference (exponent within ±1000).
    fn value(r: Reference) -> Dd {
        match r {
            Reference::Value(m, e) => m.scale(e),
            Reference::Special(s) => Dd::from_f64(s),
        }
    }

    /// Against published constants (QD library, 106+ bits): e = exp(1), ln 10 (which uses the ln2
    /// constant and the atanh series at m = 1.25), and ln(3/2) + ln(4/3) = ln 2 through the series
    /// alone (both arguments in [√½, √2), no k·ln2 term). Tolerance 1e-30: the
    /// error analysis in the module documentation gives ≲ 6e-30 in the worst case and ~1e-31
    /// typically (a 400-bit mpmath comparison of 23 000 sample and edge arguments, run while
    /// writing this, found ≤ 3.5e-32).
    #[test]
    fn published_constants() {
        let e = Dd::new(std::f64::consts::E, 1.445_646_891_729_250_2e-16);
        assert!(rel(exp(1.0), e) < 1e-30);
        let ln10 = Dd::new(std::f64::consts::LN_10, -2.170_756_223_382_249_4e-16);
        assert!(rel(ln(10.0), ln10) < 1e-30);
        // 4/3 as a double-double (error ~1e-32), through the series alone (no k·ln2 term).
        let ln2 = Dd::new(LN2[0], LN2[1]);
        let sum = value(ln(1.5)) + ln_dd(Dd::from_f64(4.0) / 3.0);
        assert!(((sum - ln2).to_f64() / ln2.hi).abs() < 1e-30);
    }

    /// Round trips and cross-checks between the references (each side independent of the other):
    /// ln(e^x) = x, e^a·e^b = e^(a+b) with a + b exact, expm1 by its series = exp − 1 where both
    /// routes apply, ln_1p(x) = ln(1 + x) where 1 + x is exact, σ(u) + σ(−u) = 1. Tolerance 1e-29:
    /// each side ≲ 1e-30 typically, the round trip through ln(e^x) multiplies exp's relative error
    /// by 1/|x| ≤ 10 for |x| ≥ 0.1.
    #[test]
    fn round_trips() {
        for i in 1..200 {
            let x = -700.0 + 7.03 * i as f64;
            let (m, k) = exp_scaled(x);
            let back = ln_dd(m) + n_ln2(k as f64);
            if x.abs() > 0.1 {
                assert!(((back - x).to_f64() / x).abs() < 1e-29, "ln(e^{x})");
            }
            let (a, b) = (x, 0.375);
            let prod = value(exp(a / 4.0)) * value(exp(b));
            assert!(rel(exp(a / 4.0 + b), prod) < 1e-29, "e^{a}e^{b}");
        }
        for x in [-0.49, -0.3, 0.01, 0.2, 0.4999] {
            // Series (|x| < ½) against exp − 1 evaluated directly.
            let (m, k) = exp_scaled(x);
            assert!(rel(expm1(x), m.scale(k) - 1.0) < 1e-29, "expm1({x})");
        }
        for x in [0.5, 0.75, 3.0, 1e10, -0.25, -0.5] {
            assert!(rel(ln_1p(x), value(ln(1.0 + x))) < 1e-30, "ln_1p({x})");
        }
        for u in [0.1, 1.0, 5.0, 30.0, 80.0] {
            let (a, b) = sigmoid_pair(u);
            assert!(
                ((value(a) + value(b) - 1.0).to_f64()).abs() < 1e-30,
                "σ({u})"
            );
        }
    }
}
