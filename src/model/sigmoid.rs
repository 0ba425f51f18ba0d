//! The logistic sigmoid σ(u) = 1/(1 + e^{−u}) and the softplus log(1 + eᵘ), shared by the logistic
//! prior and the leaky-softplus step.
//!
//! | function | formula | evaluated as |
//! | --- | --- | --- |
//! | `sigmoid_pair` | (σ(u), σ(−u)) | both from e = e^{−\|u\|}: 1/(1 + e) and e/(1 + e), no 1 − σ cancellation |
//! | [`sigmoid`] | 1/(1 + e^{−u}) | the first of the pair |
//! | `sigmoid_prime` | σ(u)(1 − σ(u)) | e^{−\|u\|}/(1 + e^{−\|u\|})² |
//! | [`softplus`] | log(1 + eᵘ) | max(u, 0) + log1p(e^{−\|u\|}) |
//!
//! No exponential overflows for any finite u (only e^{−|u|} is formed), and no result suffers
//! cancellation, so each is accurate to a few ulps everywhere. The exponential and log1p are the
//! crate's own ([`crate::lanes::math`], < 1 ulp), so that the steps' block forms, which evaluate
//! them over lanes, give the same bits as these scalar forms.

use crate::lanes::math;

/// The logistic sigmoid σ(u) = 1/(1 + e^{−u}), evaluated without overflow for every finite u.
#[inline]
pub fn sigmoid(u: f64) -> f64 {
    sigmoid_pair(u).0
}

/// (σ(u), σ(−u)) = (σ(u), 1 − σ(u)), both from e^{−|u|} without cancellation.
#[inline]
pub(crate) fn sigmoid_pair(u: f64) -> (f64, f64) {
    sigmoid_pair_from(u, math::exp(-u.abs()))
}

/// (σ(u), σ(−u)) from e = e^{−|u|} (shared with [`softplus_from`] by callers that need both).
#[inline(always)]
pub(crate) fn sigmoid_pair_from(u: f64, e: f64) -> (f64, f64) {
    let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
    if u >= 0.0 {
        (big, small)
    } else {
        (small, big)
    }
}

/// σ(u)(1 − σ(u)) = e^{−|u|} / (1 + e^{−|u|})², without cancellation.
#[inline]
pub(crate) fn sigmoid_prime(u: f64) -> f64 {
    let e = math::exp(-u.abs());
    e / ((1.0 + e) * (1.0 + e))
}

/// log(1 + eᵗ) without overflow or cancellation.
#[inline]
pub fn softplus(t: f64) -> f64 {
    softplus_from(t, math::exp(-t.abs()))
}

/// log(1 + eᵗ) from e = e^{−|t|}.
#[inline]
pub(crate) fn softplus_from(t: f64, e: f64) -> f64 {
    t.max(0.0) + math::ln_1p(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// Against the textbook identities σ(u) + σ(−u) = 1, σ' = σ(1 − σ) (central difference, step
    /// 1e-6: truncation 1e-12·|σ'''|, round-off eps/1e-6 ≈ 2e-10, so 1e-9 absolute), and
    /// softplus(u) − softplus(−u) = u (exact in real arithmetic; a few ulps of max(|u|, 1) here).
    #[test]
    fn identities() {
        for i in -300..=300 {
            let u = 0.137 * i as f64;
            let (s, c) = sigmoid_pair(u);
            assert_within(
                "σ(u) + σ(−u)",
                &[s + c],
                &[1.0],
                Tol::Scaled(4.0 * f64::EPSILON, 1.0),
            );
            assert_within(
                "σ(u)",
                &[sigmoid(u)],
                &[s],
                Tol::Scaled(2.0 * f64::EPSILON, s),
            );
            let h = 1e-6;
            let fd = (sigmoid(u + h) - sigmoid(u - h)) / (2.0 * h);
            assert_within("σ'", &[sigmoid_prime(u)], &[fd], Tol::Scaled(1e-9, 1.0));
            let scale = u.abs().max(1.0);
            assert_within(
                "softplus(u) − softplus(−u)",
                &[softplus(u) - softplus(-u)],
                &[u],
                Tol::Scaled(4.0 * f64::EPSILON, scale),
            );
        }
        // Far tails: e^{−800} ≈ 1e-348 is below the smallest subnormal, so the exact values round
        // to 0 (σ(−800), σ'(±800), softplus(−800)) and to 800 (softplus(800)); no NaN, no overflow.
        assert_eq!(sigmoid(-800.0), 0.0);
        assert_eq!(sigmoid(800.0), 1.0);
        assert_eq!(sigmoid_prime(800.0), 0.0);
        assert_eq!(softplus(800.0), 800.0);
        assert_eq!(softplus(-800.0), 0.0);
    }
}
