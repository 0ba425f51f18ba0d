//! Special functions the standard library lacks: ln Γ, ln B, the polygammas ψ, ψ', ψ''' and the
//! regularized incomplete Beta function (as a pair of logarithms).
//!
//! ln Γ(x) for x > 0 by the Lanczos approximation with g = 607/128 and 15 coefficients
//! (Godfrey's set, as used by Boost and many libms), whose relative error is below 1e-15 on
//! x ≥ 0.5; x < 0.5 goes through the reflection Γ(x)Γ(1 − x) = π / sin(πx).
//!
//! ψ(x) and ψ'(x) for x > 0 by the recurrences ψ(x) = ψ(x + 1) − 1/x, ψ'(x) = ψ'(x + 1) + 1/x²
//! up to x ≥ 12 (`ASYMPTOTIC_FROM`), then the asymptotic (Bernoulli) series
//! ψ(x) ~ ln x − 1/(2x) − Σ B_{2k}/(2k x^{2k}), ψ'(x) ~ 1/x + 1/(2x²) + Σ B_{2k}/x^{2k+1}, truncated
//! after k = 7: the first omitted terms are 3617/(8160 x¹⁶) < 2e-18 and 3617/(510 x¹⁷) < 4e-18 at
//! x = 12, far below an ulp of ψ(12) ≈ 2.44 and ψ'(12) ≈ 0.087. The recurrence adds at most 12
//! positive (ψ': all terms positive, a few ulps relative) or same-signed terms (ψ: the sum of −1/x
//! is exact to a few ulps, the final ln x + sum cancels only near the root x ≈ 1.4616), so ψ' is
//! accurate to a few ulps relative and ψ to a few ulps of max(1, |ψ|) absolute.

use std::f64::consts::PI;

const LANCZOS_G: f64 = 607.0 / 128.0;
const LANCZOS: [f64; 15] = [
    0.999_999_999_999_997_1,
    57.156_235_665_862_92,
    -59.597_960_355_475_49,
    14.136_097_974_741_746,
    -0.491_913_816_097_620_2,
    3.399_464_998_481_189e-5,
    4.652_362_892_704_858e-5,
    -9.837_447_530_487_956e-5,
    1.580_887_032_249_125e-4,
    -2.102_644_417_241_049e-4,
    2.174_396_181_152_126_4e-4,
    -1.643_181_065_367_639e-4,
    8.441_822_398_385_275e-5,
    -2.619_083_840_158_141e-5,
    3.689_918_265_953_162_4e-6,
];

/// ln Γ(x) for x > 0 (Lanczos, relative error < 1e-15 for x ≥ 0.5, absolute < 1e-14 near the
/// zeros of ln Γ at 1 and 2). Returns NaN for x ≤ 0 or NaN.
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x < 0.5 {
        // Reflection: ln Γ(x) = ln π − ln sin(πx) − ln Γ(1 − x).
        return PI.ln() - (PI * x).sin().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = LANCZOS[0];
    let t = x + LANCZOS_G + 0.5;
    for (i, &c) in LANCZOS.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Where the recurrences hand over to the asymptotic series (module docs).
const ASYMPTOTIC_FROM: f64 = 12.0;

/// Where ψ''' hands over to its asymptotic series: 16 (the first omitted term, 2170/x¹⁹, is then
/// below 3e-20, 6e-17 of ψ'''(16) ≈ 5.2e-4).
const ASYMPTOTIC_FROM_3: f64 = 16.0;

/// The pentagamma function ψ'''(x) = d⁴/dx⁴ ln Γ(x) for x > 0: the recurrence
/// ψ'''(x) = ψ'''(x + 1) + 6/x⁴ up to x ≥ 16, then ψ'''(x) ~ 2/x³ + 3/x⁴ + Σ_{k≥1} (2k + 1)(2k + 2) B_{2k}/x^{2k+3} (k ≤ 7). All terms of the
/// recurrence are positive: a few ulps relative. NaN for x ≤ 0 or NaN.
pub fn pentagamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let (mut x, mut acc) = (x, 0.0);
    while x < ASYMPTOTIC_FROM_3 {
        let x2 = x * x;
        acc += 6.0 / (x2 * x2);
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    // (1/x³)·(2 + 3/x + r·(2 − r + 4r²/3 − 3r³ + 10r⁴ − 691r⁵/15 + 280r⁶)).
    let series = 2.0
        + r * (-1.0 + r * (4.0 / 3.0 + r * (-3.0 + r * (10.0 + r * (-691.0 / 15.0 + r * 280.0)))));
    acc + (2.0 + 3.0 / x + r * series) / (x * x * x)
}

/// (ln I_x(a, b), ln(1 − I_x(a, b))) for the regularized incomplete Beta function
/// I_x(a, b) = ∫₀ˣ t^{a−1}(1 − t)^{b−1} dt / B(a, b), a, b > 0, given x ∈ [0, 1] and y = 1 − x
/// (the caller forms both without cancellation, e.g. x = σ(t), y = σ(−t)). The smaller of the two
/// tails is computed directly — x^a y^b/(a B(a, b)) times the continued fraction of DLMF 8.17.22,
/// evaluated by the modified Lentz algorithm (Numerical Recipes' `betacf`), on whichever side of
/// x = (a + 1)/(a + b + 2) it converges fast — and the other as log1p(−tail), so each logarithm has
/// a few ulps of relative error times the ~√max(a, b) terms of the fraction, in the far tails too.
/// `None` if the fraction does not converge within [`crate::tol::INCOMPLETE_BETA_MAX_ITER`] terms.
pub fn ln_incomplete_beta(a: f64, b: f64, x: f64, y: f64) -> Option<(f64, f64)> {
    if x <= 0.0 {
        return Some((f64::NEG_INFINITY, 0.0));
    }
    if y <= 0.0 {
        return Some((0.0, f64::NEG_INFINITY));
    }
    let ln_front = a * x.ln() + b * y.ln() - ln_beta(a, b);
    if x < (a + 1.0) / (a + b + 2.0) {
        let lo = ln_front - a.ln() + beta_cf(a, b, x)?.ln();
        Some((lo, (-lo.exp()).ln_1p()))
    } else {
        let hi = ln_front - b.ln() + beta_cf(b, a, y)?.ln();
        Some(((-hi.exp()).ln_1p(), hi))
    }
}

/// The continued fraction of I_x(a, b) (Numerical Recipes' `betacf`, modified Lentz), converged to
/// a relative change of eps in one step.
fn beta_cf(a: f64, b: f64, x: f64) -> Option<f64> {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=crate::tol::INCOMPLETE_BETA_MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() <= f64::EPSILON {
            return Some(h);
        }
    }
    None
}

/// The digamma function ψ(x) = Γ'(x)/Γ(x) for x > 0 (module docs; a few ulps of max(1, |ψ|)).
/// NaN for x ≤ 0, NaN or +∞ (ψ(+∞) = +∞).
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let (mut x, mut acc) = (x, 0.0);
    while x < ASYMPTOTIC_FROM {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    // −Σ_{k=1..7} B_{2k}/(2k x^{2k}) by Horner in r = 1/x².
    let series = r
        * (-1.0 / 12.0
            + r * (1.0 / 120.0
                + r * (-1.0 / 252.0
                    + r * (1.0 / 240.0
                        + r * (-1.0 / 132.0 + r * (691.0 / 32760.0 + r * (-1.0 / 12.0)))))));
    acc + (x.ln() - 0.5 / x + series)
}

/// The trigamma function ψ'(x) = d²/dx² ln Γ(x) for x > 0 (module docs; a few ulps relative).
/// NaN for x ≤ 0 or NaN; ψ'(+∞) = 0.
pub fn trigamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let (mut x, mut acc) = (x, 0.0);
    while x < ASYMPTOTIC_FROM {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    // Σ_{k=1..7} B_{2k}/x^{2k+1} = (1/x)·(r/6 − r²/30 + r³/42 − r⁴/30 + 5r⁵/66 − 691r⁶/2730 + 7r⁷/6).
    let series = r
        * (1.0 / 6.0
            + r * (-1.0 / 30.0
                + r * (1.0 / 42.0
                    + r * (-1.0 / 30.0
                        + r * (5.0 / 66.0 + r * (-691.0 / 2730.0 + r * (7.0 / 6.0)))))));
    acc + (1.0 + 0.5 / x + series) / x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// Γ(n) = (n − 1)! exactly representable for n ≤ 20; Γ(½) = √π; Γ(x + 1) = x Γ(x). To a few
    /// ulps of max(1, |ln Γ|): 2e-15 (≈ 9 eps) against the closed forms, 4e-15 for the recurrence
    /// (two evaluations and a logarithm).
    #[test]
    fn factorials_and_half_integers() {
        let mut fact = 1.0f64;
        for n in 1..=20 {
            let expected = fact.ln();
            let got = ln_gamma(n as f64);
            assert_within(
                &format!("ln Γ({n})"),
                &[got],
                &[expected],
                Tol::Mixed(2e-15),
            );
            fact *= n as f64;
        }
        assert_within(
            "ln Γ(½)",
            &[ln_gamma(0.5)],
            &[0.5 * PI.ln()],
            Tol::Scaled(2e-15, 1.0),
        );
        for i in 1..200 {
            let x = 0.05 * i as f64;
            let lhs = ln_gamma(x + 1.0);
            let rhs = x.ln() + ln_gamma(x);
            assert_within(
                &format!("ln x + ln Γ(x) at x={x}"),
                &[rhs],
                &[lhs],
                Tol::Mixed(4e-15),
            );
        }
    }

    #[test]
    fn beta_closed_forms() {
        // B(1, b) = 1/b; B(2, 2) = 1/6; B(½, ½) = π; to 4e-15 absolute (a few ulps of
        // |ln B| ≤ 1.8).
        let tol = Tol::Scaled(4e-15, 1.0);
        assert_within("ln B(1, 3.5)", &[ln_beta(1.0, 3.5)], &[-(3.5f64.ln())], tol);
        assert_within("ln B(2, 2)", &[ln_beta(2.0, 2.0)], &[-(6.0f64.ln())], tol);
        assert_within("ln B(½, ½)", &[ln_beta(0.5, 0.5)], &[PI.ln()], tol);
    }

    /// ψ and ψ' against their closed forms at 1, ½ and the integers (ψ(1) = −γ,
    /// ψ(½) = −γ − 2 ln 2, ψ(n + 1) = −γ + H_n; ψ'(1) = π²/6, ψ'(½) = π²/2,
    /// ψ'(n + 1) = π²/6 − Σ_{k≤n} 1/k²), to 4e-15 of max(1, |value|) (a few ulps, plus the
    /// round-off of the reference sums); the recurrences ψ(x + 1) − ψ(x) = 1/x and
    /// ψ'(x) − ψ'(x + 1) = 1/x² across the hand-over at 12 (x from 0.01 to 30, to 8e-15 of the
    /// terms' size: two evaluations and a difference); and ψ' against a central difference of ψ
    /// (step 1e-5: truncation h²|ψ'''|/6 < 1e-9 for x ≥ 0.5, round-off eps·|ψ|/h < 1e-10; 1e-8
    /// relative).
    #[test]
    fn digamma_and_trigamma() {
        const EULER: f64 = 0.577_215_664_901_532_9;
        let tol = Tol::Mixed(4e-15);
        assert_within("ψ(1)", &[digamma(1.0)], &[-EULER], tol);
        assert_within(
            "ψ(½)",
            &[digamma(0.5)],
            &[-EULER - 2.0 * std::f64::consts::LN_2],
            tol,
        );
        assert_within("ψ'(1)", &[trigamma(1.0)], &[PI * PI / 6.0], tol);
        assert_within("ψ'(½)", &[trigamma(0.5)], &[PI * PI / 2.0], tol);
        let (mut h, mut h2) = (0.0, 0.0);
        for n in 1..40 {
            h += 1.0 / n as f64;
            h2 += 1.0 / (n * n) as f64;
            let x = n as f64 + 1.0;
            assert_within(&format!("ψ({x})"), &[digamma(x)], &[h - EULER], tol);
            assert_within(
                &format!("ψ'({x})"),
                &[trigamma(x)],
                &[PI * PI / 6.0 - h2],
                tol,
            );
        }
        for i in 1..=3000 {
            let x = 0.01 * i as f64;
            let scale = digamma(x).abs().max(1.0 / x).max(1.0);
            assert_within(
                &format!("ψ(x + 1) − ψ(x) at {x}"),
                &[digamma(x + 1.0) - digamma(x)],
                &[1.0 / x],
                Tol::Scaled(8e-15, scale),
            );
            assert_within(
                &format!("ψ'(x) − ψ'(x + 1) at {x}"),
                &[trigamma(x) - trigamma(x + 1.0)],
                &[1.0 / (x * x)],
                Tol::Scaled(8e-15, trigamma(x)),
            );
            if x >= 0.5 {
                let step = 1e-5;
                let fd = (digamma(x + step) - digamma(x - step)) / (2.0 * step);
                assert_within(
                    &format!("ψ' = dψ/dx at {x}"),
                    &[trigamma(x)],
                    &[fd],
                    Tol::Rel(1e-8),
                );
            }
        }
        assert!(digamma(0.0).is_nan() && trigamma(-1.0).is_nan() && digamma(f64::NAN).is_nan());
    }

    /// ψ''' against ψ'''(1) = π⁴/15, ψ'''(½) = π⁴, the recurrence ψ'''(x) − ψ'''(x + 1) = 6/x⁴
    /// across the hand-over at 16 (8 eps of ψ'''(x): two evaluations and a difference of positive
    /// sums), and the second central difference of ψ' (step 1e-3 on [1, 10]: truncation
    /// h²|ψ⁽⁵⁾|/12 ≤ 1e-5 (ψ⁽⁵⁾ ≤ 5!·ζ(6) ≈ 122), at most 2e-6 of ψ'''; round-off
    /// 4 eps·ψ'/h² ≤ 1.5e-9, at most 1e-6 of ψ''' ≥ 2.2e-3; 1e-5 relative).
    #[test]
    fn pentagamma_closed_forms() {
        let tol = Tol::Rel(4e-15);
        assert_within("ψ'''(1)", &[pentagamma(1.0)], &[PI.powi(4) / 15.0], tol);
        assert_within("ψ'''(½)", &[pentagamma(0.5)], &[PI.powi(4)], tol);
        for i in 1..=400 {
            let x = 0.05 * i as f64;
            assert_within(
                &format!("ψ'''(x) − ψ'''(x + 1) at {x}"),
                &[pentagamma(x) - pentagamma(x + 1.0)],
                &[6.0 / x.powi(4)],
                Tol::Scaled(8.0 * f64::EPSILON, pentagamma(x)),
            );
            if (1.0..=10.0).contains(&x) {
                let h = 1e-3;
                let fd = (trigamma(x + h) - 2.0 * trigamma(x) + trigamma(x - h)) / (h * h);
                assert_within(
                    &format!("ψ''' = (ψ')'' at {x}"),
                    &[pentagamma(x)],
                    &[fd],
                    Tol::Rel(1e-5),
                );
            }
        }
    }

    /// ln I_x and ln(1 − I_x) against closed forms: I_x(a, 1) = x^a, I_x(1, b) = 1 − (1 − x)^b,
    /// I_x(2, 2) = 3x² − 2x³, I_x(½, ½) = (2/π) asin √x (1e-13 of max(1, |ln|): a few ulps per
    /// term of a fraction of ≲ 30 terms), far in the left tail (x = 1e-200: ln I equals
    /// a ln x − ln(a B) up to O(x)), and the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) (the two sides
    /// take different branches of the continued fraction).
    #[test]
    fn incomplete_beta_closed_forms() {
        let tol = Tol::Mixed(1e-13);
        for i in 1..100 {
            let x = 0.01 * i as f64;
            let y = 1.0 - x;
            let cases: [(f64, f64, f64); 4] = [
                (2.5, 1.0, x.powf(2.5)),
                (1.0, 0.7, 1.0 - y.powf(0.7)),
                (2.0, 2.0, 3.0 * x * x - 2.0 * x * x * x),
                (0.5, 0.5, 2.0 / PI * x.sqrt().asin()),
            ];
            for (a, b, want) in cases {
                let (lf, ls) = ln_incomplete_beta(a, b, x, y).unwrap();
                assert_within(&format!("ln I_{x}({a}, {b})"), &[lf], &[want.ln()], tol);
                assert_within(
                    &format!("ln(1 − I_{x}({a}, {b}))"),
                    &[ls],
                    &[(1.0 - want).ln()],
                    tol,
                );
                let (lf2, ls2) = ln_incomplete_beta(b, a, y, x).unwrap();
                assert_within("symmetry", &[lf2, ls2], &[ls, lf], tol);
            }
        }
        let (a, b, x) = (3.0, 2.5, 1e-200f64);
        let (lf, ls) = ln_incomplete_beta(a, b, x, 1.0).unwrap();
        assert_within(
            "ln I far left",
            &[lf],
            &[a * x.ln() - a.ln() - ln_beta(a, b)],
            Tol::Rel(1e-14),
        );
        assert_eq!(ls, 0.0);
        assert_eq!(
            ln_incomplete_beta(a, b, 0.0, 1.0),
            Some((f64::NEG_INFINITY, 0.0))
        );
    }
}
