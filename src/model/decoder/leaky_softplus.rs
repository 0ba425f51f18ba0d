//! The elementwise leaky softplus a(t) = α t + (1 − α) log(1 + eᵗ), 0 < α ≤ 1 — the authors'
//! "smooth leaky ReLU" (paper §4.1).
//!
//! | quantity | formula |
//! | --- | --- |
//! | a(t) | α t + (1 − α)(max(t, 0) + log1p(e^{−|t|})) — no overflow for any finite t |
//! | a'(t) | α + (1 − α) σ(t) ∈ (α, 1] |
//! | a''(t) | (1 − α) σ(t)(1 − σ(t)) |
//! | Σ_i r_i ∇²f_i | diag(r_i a''(t_i)) |
//! | log|det J| | Σ_i log a'(t_i) |
//! | inverse | safeguarded Newton, see [`LeakySoftplus::inverse_scalar`] |
//! | a(t + Δ) − a(t) | α Δ + (1 − α) log1p(σ(t) expm1(Δ)), see [`LeakySoftplus::value_diff`] |
//!
//! In a chain, σ(u) and σ(−u) are computed once per activation and cached (the workspace's `aux`),
//! so that a', a'' and the difference form cost no further exponential.
//!
//! Every formula is evaluated to a few ulps for every finite t (|t| ≥ 700 included).

use super::error::DecoderError;
use super::StepOps;
use crate::model::{sigmoid, sigmoid_pair, softplus};
use crate::tol::{DIFF_FORM_MAX_STEP, SOFTPLUS_INVERSE_MAX_ITER};
use nalgebra::DMatrix;
use std::f64::consts::LN_2;

/// The elementwise map t ↦ α t + (1 − α) log(1 + eᵗ) on R^n.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakySoftplus {
    dim: usize,
    alpha: f64,
}

impl LeakySoftplus {
    /// The map on R^dim with slope α. Errors unless 0 < α ≤ 1 and dim ≥ 1.
    pub fn new(dim: usize, alpha: f64) -> Result<Self, DecoderError> {
        if !(alpha > 0.0 && alpha <= 1.0) {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: format!("leaky softplus: alpha = {alpha} is outside (0, 1]"),
            });
        }
        if dim == 0 {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: "leaky softplus: dimension 0".into(),
            });
        }
        Ok(LeakySoftplus { dim, alpha })
    }

    /// The slope α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// a(t) = α t + (1 − α) softplus(t).
    #[inline]
    pub fn value(&self, t: f64) -> f64 {
        self.alpha * t + (1.0 - self.alpha) * softplus(t)
    }

    /// a'(t) = α + (1 − α) σ(t).
    #[inline]
    pub fn d1(&self, t: f64) -> f64 {
        self.slope(sigmoid(t))
    }

    /// a''(t) = (1 − α) σ(t)(1 − σ(t)).
    #[inline]
    pub fn d2(&self, t: f64) -> f64 {
        let (s, c) = sigmoid_pair(t);
        self.weighted_curvature(1.0, s, c)
    }

    /// Solves a(t) = y.
    ///
    /// a is increasing and convex with a' ∈ (α, 1], and softplus(t) ∈ [max(t, 0), max(t, 0) + ln 2],
    /// so the root lies in [L⁻¹(y − (1 − α) ln 2), L⁻¹(y)] with L(t) = α t + (1 − α) max(t, 0).
    /// Newton started at the right end of that bracket decreases monotonically to the root (a convex
    /// increasing function is never undershot from the right) and converges quadratically; it stops
    /// when a step no longer decreases t, i.e. at round-off. The result is the root to within a few
    /// ulps of t plus eps·|y|/a'(t).
    pub fn inverse_scalar(&self, y: f64) -> Option<f64> {
        let linv = |v: f64| if v >= 0.0 { v } else { v / self.alpha };
        let lo = linv(y - (1.0 - self.alpha) * LN_2);
        let mut t = linv(y);
        if !t.is_finite() || !lo.is_finite() {
            return None;
        }
        for _ in 0..SOFTPLUS_INVERSE_MAX_ITER {
            let res = self.value(t) - y;
            if res <= 0.0 {
                return Some(t);
            }
            let next = (t - res / self.d1(t)).max(lo);
            if next >= t {
                return Some(t);
            }
            t = next;
        }
        None
    }

    /// a(t + Δ) − a(t) without cancellation: for |Δ| ≤ [`DIFF_FORM_MAX_STEP`] = 1,
    /// α Δ + (1 − α) log1p(σ(t)·expm1(Δ)) (the argument of log1p is ≥ −0.64, so every operation is
    /// well conditioned and the result has a few ulps of relative error); for |Δ| > 1 the direct
    /// difference, whose absolute error eps·|a| is then small next to |a(t + Δ) − a(t)| ≥ α.
    #[inline]
    pub fn value_diff(&self, t: f64, dt: f64) -> f64 {
        if dt.abs() <= DIFF_FORM_MAX_STEP {
            self.diff_from(dt, sigmoid(t) * dt.exp_m1())
        } else {
            self.value(t + dt) - self.value(t)
        }
    }

    /// a' = α + (1 − α) s, given s = σ(t) (from the cache or computed).
    #[inline]
    fn slope(&self, s: f64) -> f64 {
        self.alpha + (1.0 - self.alpha) * s
    }

    /// r·a'' = r (1 − α) s c, given s = σ(t) and c = σ(−t) (from the cache or computed); r = 1
    /// for a'' itself, the residual weight in the second-derivative sandwich.
    #[inline]
    fn weighted_curvature(&self, r: f64, s: f64, c: f64) -> f64 {
        r * (1.0 - self.alpha) * s * c
    }

    /// a(t + Δ) − a(t) = α Δ + (1 − α) log1p(se), given se = σ(t)·expm1(Δ) (the small-Δ form).
    #[inline]
    fn diff_from(&self, dt: f64, se: f64) -> f64 {
        self.alpha * dt + (1.0 - self.alpha) * se.ln_1p()
    }

    /// a'(u_i) from the cache.
    #[inline]
    fn d1_cached(&self, aux: &[f64], i: usize) -> f64 {
        self.slope(aux[i])
    }
}

impl StepOps for LeakySoftplus {
    fn dim_in(&self) -> usize {
        self.dim
    }

    fn dim_out(&self) -> usize {
        self.dim
    }

    fn name(&self) -> &'static str {
        "leaky_softplus"
    }

    fn aux_len(&self) -> usize {
        2 * self.dim
    }

    #[inline]
    fn forward(&self, z: &[f64], out: &mut [f64]) {
        for (o, &t) in out.iter_mut().zip(z) {
            *o = self.value(t);
        }
    }

    /// The cached sigmoids of an activation u: aux = [σ(u_0) … σ(u_{n−1}), σ(−u_0) … σ(−u_{n−1})],
    /// both computed from e^{−|u|} without cancellation. a' = α + (1 − α) σ(u) and
    /// a'' = (1 − α) σ(u) σ(−u) then cost no transcendental function.
    #[inline]
    fn fill_aux(&self, u: &[f64], aux: &mut [f64]) {
        let n = u.len();
        let (s, c) = aux.split_at_mut(n);
        for ((si, ci), &t) in s.iter_mut().zip(c.iter_mut()).zip(u) {
            (*si, *ci) = sigmoid_pair(t);
        }
    }

    /// out = a(u0 + du) − a(u0) by [`LeakySoftplus::value_diff`]'s formula, with σ(u0) from the
    /// base's cache, and the cache of u0 + du filled on the way: with q = 1 + σ(u0)·expm1(Δ),
    /// σ(u0 + Δ) = σ(u0)(1 + expm1 Δ)/q and σ(−u0 − Δ) = σ(−u0)/q — exact identities, q ≥ 0.36 for
    /// |Δ| ≤ [`DIFF_FORM_MAX_STEP`], so a few ulps each. Beyond, the direct forms.
    #[inline]
    fn forward_diff(
        &self,
        u0: &[f64],
        base_aux: &[f64],
        du: &[f64],
        out: &mut [f64],
        aux: &mut [f64],
    ) {
        let n = u0.len();
        let (s, c) = aux.split_at_mut(n);
        let (s0, c0) = base_aux.split_at(n);
        for i in 0..n {
            let dt = du[i];
            if dt.abs() <= DIFF_FORM_MAX_STEP {
                let em = dt.exp_m1();
                let se = s0[i] * em;
                let q = 1.0 + se;
                out[i] = self.diff_from(dt, se);
                s[i] = s0[i] * (1.0 + em) / q;
                c[i] = c0[i] / q;
            } else {
                let t = u0[i] + dt;
                out[i] = self.value(t) - self.value(u0[i]);
                (s[i], c[i]) = sigmoid_pair(t);
            }
        }
    }

    #[inline]
    fn jacobian_mul(&self, _z: &[f64], aux: &[f64], m: &DMatrix<f64>, out: &mut DMatrix<f64>) {
        let n = self.dim;
        for (oc, mc) in out
            .as_mut_slice()
            .chunks_exact_mut(n)
            .zip(m.as_slice().chunks_exact(n))
        {
            for (i, (o, &mi)) in oc.iter_mut().zip(mc).enumerate() {
                *o = self.d1_cached(aux, i) * mi;
            }
        }
    }

    #[inline]
    fn vjp(&self, _z: &[f64], aux: &[f64], r: &[f64], out: &mut [f64]) {
        for (i, (o, &ri)) in out.iter_mut().zip(r).enumerate() {
            *o = self.d1_cached(aux, i) * ri;
        }
    }

    /// h += Pᵀ diag(r_i a''(u_i)) P, a''(u_i) = (1 − α) σ(u_i) σ(−u_i) from the cache.
    #[inline]
    fn add_hessian_sandwich(
        &self,
        _z: &[f64],
        aux: &[f64],
        r: &[f64],
        p: &DMatrix<f64>,
        h: &mut DMatrix<f64>,
        _scratch: &mut [f64],
    ) {
        let d = p.ncols();
        let n = self.dim;
        let ps = p.as_slice();
        let hs = h.as_mut_slice();
        for (i, &ri) in r.iter().enumerate() {
            let c = self.weighted_curvature(ri, aux[i], aux[n + i]);
            if c == 0.0 {
                continue;
            }
            for (k, h_k) in hs.chunks_exact_mut(d).enumerate() {
                let pk = c * ps[k * n + i];
                for (l, h_kl) in h_k.iter_mut().enumerate() {
                    *h_kl += pk * ps[l * n + i];
                }
            }
        }
    }

    #[inline]
    fn log_abs_det(&self, z: &[f64]) -> f64 {
        z.iter().map(|&t| self.d1(t).ln()).sum()
    }

    fn inverse(&self, x: &[f64], out: &mut [f64]) -> Result<(), DecoderError> {
        for (i, (o, &y)) in out.iter_mut().zip(x).enumerate() {
            *o = self.inverse_scalar(y).ok_or(DecoderError::NoConvergence {
                step: None,
                index: i,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// a(a⁻¹(y)) = y to within 2 ulps of max(|y|, |α t|) for y over 30 orders of magnitude and
    /// both signs, and several α (the residual of a correctly rounded inverse is ≤ a'·ulp(t) + ulp(y)).
    #[test]
    fn inverse_is_exact_to_round_off() {
        for alpha in [1e-3, 0.2, 0.5, 0.999, 1.0] {
            let a = LeakySoftplus::new(1, alpha).unwrap();
            for e in -15..=15 {
                for s in [-1.0, 1.0] {
                    for m in [1.0, 3.7] {
                        let y = s * m * 10f64.powi(e);
                        let t = a.inverse_scalar(y).unwrap();
                        let scale = y.abs().max((alpha * t).abs()).max(a.d1(t) * t.abs());
                        assert!(
                            (a.value(t) - y).abs() <= 4.0 * f64::EPSILON * scale,
                            "alpha {alpha} y {y} t {t}"
                        );
                    }
                }
            }
        }
    }

    /// At |t| = 700 and beyond nothing overflows and a matches its asymptotes
    /// (t for t → ∞, α t for t → −∞, to round-off).
    #[test]
    fn large_arguments() {
        let a = LeakySoftplus::new(1, 0.2).unwrap();
        assert_eq!(a.value(800.0), 800.0);
        assert!((a.value(-800.0) - 0.2 * -800.0).abs() <= 1e-13);
        assert!((a.d1(-800.0) - 0.2).abs() <= 1e-16 && a.d1(800.0) == 1.0);
        assert_eq!(a.inverse_scalar(800.0), Some(800.0));
        assert!((a.inverse_scalar(-160.0).unwrap() + 800.0).abs() < 1e-12);
    }

    /// a(t + Δ) − a(t) against the direct difference where the latter is exact enough: for Δ = ±0.5
    /// and |a| ≤ 10 the direct difference has error ≤ eps·20, i.e. relative ≤ 1e-14 of |Δa| ≥ 0.1;
    /// and for tiny Δ against the Taylor series a'(t)Δ + a''(t)Δ²/2 (error a'''·Δ³ ≈ 1e-36).
    #[test]
    fn difference_form() {
        let a = LeakySoftplus::new(1, 0.2).unwrap();
        for i in -40..=40 {
            let t = 0.25 * i as f64;
            for dt in [-0.5, 0.5, -1.0, 1.0, 3.0] {
                let direct = a.value(t + dt) - a.value(t);
                assert!((a.value_diff(t, dt) - direct).abs() <= 1e-14 * direct.abs());
            }
            let dt = 1e-12;
            let taylor = a.d1(t) * dt + 0.5 * a.d2(t) * dt * dt;
            assert!((a.value_diff(t, dt) - taylor).abs() <= 4.0 * f64::EPSILON * taylor.abs());
        }
    }

    #[test]
    fn bad_alpha() {
        for alpha in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(LeakySoftplus::new(2, alpha).is_err());
        }
    }
}
