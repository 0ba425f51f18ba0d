//! The elementwise leaky softplus a(t) = α t + (1 − α) log(1 + eᵗ), 0 < α ≤ 1 — the authors'
//! "smooth leaky ReLU" (paper §4.1).
//!
//! | quantity | formula |
//! | --- | --- |
//! | a(t) | α t + (1 − α)(max(t, 0) + log1p(e^{−|t|})) — no overflow for any finite t |
//! | a'(t) | α + (1 − α) σ(t) ∈ (α, 1] |
//! | a''(t) | (1 − α) σ(t)(1 − σ(t)) |
//! | Σ_i r_i ∇²f_i | diag(r_i a''(t_i)) |
//! | a'''(t) | (1 − α) σ(t)(1 − σ(t))(1 − 2σ(t)) |
//! | Σ_i r_i ∇³f_i[w] | diag(r_i a'''(t_i) w_i) |
//! | log|det J| | Σ_i log a'(t_i) |
//! | inverse | safeguarded Newton, see [`LeakySoftplus::inverse_scalar`] |
//! | a(t + Δ) − a(t) | α Δ + (1 − α) log1p(σ(t) expm1(Δ)), see [`LeakySoftplus::value_diff`] |
//!
//! In a chain, σ(u) and σ(−u) are computed once per activation and cached (the workspace's `aux`),
//! so that a', a'' and the difference form cost no further exponential.
//!
//! Every formula is evaluated to a few ulps for every finite t (|t| ≥ 700 included).

use super::error::DecoderError;
use super::step::add_diagonal_sandwich;
use super::step_block::{inverse_lane_by_lane, LaneScratch, StepBlockOps};
use super::StepOps;
use crate::lanes::avx2_kernel;
use crate::lanes::{math, Block, Lanes, MatBlock, LANES};
use crate::model::sigmoid::sigmoid_pair_from;
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

    /// out = a(u) and σ(u) in one pass, from one exponential e = e^{−|u_i|} per entry, for the
    /// amortised VAE's networks: σ(u) = n/(1 + e) with n = 1 for u ≥ 0 and n = e otherwise (the
    /// bits of [`crate::model::sigmoid_pair`]'s first output; the numerator selected, then one
    /// division, so that the block form has no branch). The cache's second half, σ(−u), is not
    /// filled: the networks' reverse mode reads σ(u) alone (a' = α + (1 − α) σ(u)). Its exp and
    /// ln_1p are the crate's own ([`crate::lanes::math`], < 1 ulp, as std's), so that the block
    /// form [`LeakySoftplus::forward_with_aux_block`], which vectorises them, gives the same bits.
    #[inline]
    pub(crate) fn forward_with_aux(&self, u: &[f64], out: &mut [f64], aux: &mut [f64]) {
        for ((o, si), &t) in out.iter_mut().zip(aux.iter_mut()).zip(u) {
            let e = math::exp(-t.abs());
            *o = self.value_from(t, math::ln_1p(e));
            *si = sigmoid_pair_from(t, e).0;
        }
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
    /// increasing function is never undershot from the right) and converges quadratically. It stops
    /// when a step no longer decreases t (round-off), or as soon as a step δ leaves an error below
    /// a quarter ulp of t: the error e before a step from the right is at most δ/α
    /// (δ = (a(t) − y)/a'(t) with a(t) − y ≥ α e and a' ≤ 1), the error after it at most C·e² with
    /// C = max a''/(2 min a') ≤ (1 − α)/(8α), so C δ²/α² ≤ eps·|t|/4 suffices — one evaluation
    /// fewer than confirming convergence. Each step costs one exponential and one log1p (the value
    /// and the slope from e = e^{−|t|}); 3–4 steps for |y| ≲ 3. The result is the root to within a
    /// few ulps of t plus eps·|y|/a'(t).
    pub fn inverse_scalar(&self, y: f64) -> Option<f64> {
        let linv = |v: f64| if v >= 0.0 { v } else { v / self.alpha };
        let lo = linv(y - (1.0 - self.alpha) * LN_2);
        let mut t = linv(y);
        if !t.is_finite() || !lo.is_finite() {
            return None;
        }
        let bound = (1.0 - self.alpha) / (8.0 * self.alpha.powi(3));
        for _ in 0..SOFTPLUS_INVERSE_MAX_ITER {
            let e = math::exp(-t.abs());
            let res = self.value_from(t, math::ln_1p(e)) - y;
            if res <= 0.0 {
                return Some(t);
            }
            let step = res / self.slope(sigmoid_pair_from(t, e).0);
            let next = (t - step).max(lo);
            if next >= t {
                return Some(t);
            }
            if bound * step * step <= 0.25 * f64::EPSILON * next.abs() {
                return Some(next);
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
            self.diff_from(dt, sigmoid(t) * math::expm1(dt))
        } else {
            self.value(t + dt) - self.value(t)
        }
    }

    /// a(t) = α t + (1 − α)(max(t, 0) + lp), given lp = log1p(e^{−|t|}): the one formula of the
    /// value that the scalar and lane forms share (so they agree bit for bit).
    #[inline(always)]
    fn value_from(&self, t: f64, lp: f64) -> f64 {
        self.alpha * t + (1.0 - self.alpha) * (t.max(0.0) + lp)
    }

    /// α Δ + (1 − α) lp, given lp = log1p(σ(t)·expm1(Δ)): the small-step difference form that the
    /// scalar and lane forms share.
    #[inline(always)]
    fn diff_from_log1p(&self, dt: f64, lp: f64) -> f64 {
        self.alpha * dt + (1.0 - self.alpha) * lp
    }

    /// a' = α + (1 − α) s, given s = σ(t) (from the cache or computed).
    #[inline(always)]
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
        self.diff_from_log1p(dt, math::ln_1p(se))
    }

    /// One element of the difference form (see `forward_diff`): (a(u0 + Δ) − a(u0), σ(u0 + Δ),
    /// σ(−u0 − Δ)) from u0, its cached σ(u0), σ(−u0), and Δ.
    #[inline]
    fn diff_element(&self, u0: f64, s0: f64, c0: f64, dt: f64) -> (f64, f64, f64) {
        if dt.abs() <= DIFF_FORM_MAX_STEP {
            let em = math::expm1(dt);
            let se = s0 * em;
            let q = 1.0 + se;
            (self.diff_from(dt, se), s0 * (1.0 + em) / q, c0 / q)
        } else {
            let t = u0 + dt;
            let (s, c) = sigmoid_pair(t);
            (self.value(t) - self.value(u0), s, c)
        }
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
            (out[i], s[i], c[i]) = self.diff_element(u0[i], s0[i], c0[i], du[i]);
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
        let n = self.dim;
        add_diagonal_sandwich(p, h, |i| self.weighted_curvature(r[i], aux[i], aux[n + i]));
    }

    /// h += Pᵀ diag(r_i a'''(u_i) w_i) P with a'''(t) = (1 − α) σ(t) σ(−t) (σ(−t) − σ(t)) (that is
    /// (1 − α) σ(1 − σ)(1 − 2σ)), from the cached sigmoids: a few ulps relative for every finite t
    /// (1 − 2σ(t) = σ(−t) − σ(t) has no cancellation beyond that of the difference itself, whose
    /// absolute error is eps).
    fn add_third_sandwich(
        &self,
        _z: &[f64],
        aux: &[f64],
        r: &[f64],
        w: &[f64],
        p: &DMatrix<f64>,
        h: &mut DMatrix<f64>,
    ) -> Result<(), DecoderError> {
        let n = self.dim;
        add_diagonal_sandwich(p, h, |i| {
            let (s, c) = (aux[i], aux[n + i]);
            r[i] * w[i] * (1.0 - self.alpha) * s * c * (c - s)
        });
        Ok(())
    }

    /// Σ_i log a'(z_i), in coordinate order from 0 (the block form sums in the same order).
    #[inline]
    fn log_abs_det(&self, z: &[f64]) -> f64 {
        let mut s = 0.0;
        for &t in z {
            s += math::ln(self.d1(t));
        }
        s
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

impl LeakySoftplus {
    /// [`LeakySoftplus::forward_with_aux`] on a block, exp and ln_1p over the lanes at once; lane
    /// by lane the same bits (the cache's first n coordinates σ(u) filled).
    #[inline(always)]
    pub(crate) fn forward_with_aux_block(&self, u: &Block, out: &mut Block, aux: &mut Block) {
        let lanes = out
            .coords_mut()
            .iter_mut()
            .zip(aux.coords_mut())
            .zip(u.coords());
        for ((o, si), ui) in lanes {
            let e = math::exp_lanes(ui.map(|t| -t.abs()));
            let lp = math::ln_1p_lanes(e);
            for l in 0..LANES {
                let t = ui[l];
                o[l] = self.value_from(t, lp[l]);
                si[l] = if t >= 0.0 { 1.0 } else { e[l] } / (1.0 + e[l]);
            }
        }
    }

    /// out_i = a'(u_i) r_i per lane, a' = α + (1 − α) σ(u) from the cache `aux` (its first n
    /// coordinates are σ(u)): [`StepBlockOps::vjp_block`] without the block wrappers.
    #[inline(always)]
    pub(crate) fn vjp_lanes(&self, aux: &[Lanes], r: &[Lanes], out: &mut [Lanes]) {
        for ((o, ri), si) in out.iter_mut().zip(r).zip(aux) {
            for l in 0..LANES {
                o[l] = self.slope(si[l]) * ri[l];
            }
        }
    }
}

/// The block forms: the scalar form's per-element formulas with the lanes innermost. The cache of
/// a block is [σ(u_0) … σ(u_{n−1}), σ(−u_0) … σ(−u_{n−1})], each a run of lanes.
impl StepBlockOps for LeakySoftplus {
    /// a(t) = α t + (1 − α)(max(t, 0) + log1p(e^{−|t|})) with exp and log1p over the lanes (AVX2
    /// where the CPU has it): the scalar [`LeakySoftplus::value`]'s operations, lane by lane the
    /// same bits.
    fn forward_block(&self, z: &Block, out: &mut Block, _: &mut LaneScratch) {
        forward_lanes(self, z, out);
    }

    fn fill_aux_block(&self, u: &Block, aux: &mut Block, _: &mut LaneScratch) {
        aux_lanes(self, u, aux);
    }

    fn forward_diff_block(
        &self,
        u0: &[f64],
        base_aux: &[f64],
        du: &Block,
        out: &mut Block,
        aux: &mut Block,
        _: &mut LaneScratch,
    ) {
        diff_lanes(self, u0, base_aux, du, out, aux);
    }

    fn jacobian_mul_block(
        &self,
        _z: &Block,
        aux: &Block,
        m: &MatBlock,
        out: &mut MatBlock,
        _: &mut LaneScratch,
    ) {
        for k in 0..m.ncols() {
            for ((o, mi), si) in out
                .column_mut(k)
                .iter_mut()
                .zip(m.column(k))
                .zip(aux.coords())
            {
                for l in 0..LANES {
                    o[l] = self.slope(si[l]) * mi[l];
                }
            }
        }
    }

    fn vjp_block(&self, _z: &Block, aux: &Block, r: &Block, out: &mut Block, _: &mut LaneScratch) {
        for ((o, ri), si) in out
            .coords_mut()
            .iter_mut()
            .zip(r.coords())
            .zip(aux.coords())
        {
            for l in 0..LANES {
                o[l] = self.slope(si[l]) * ri[l];
            }
        }
    }

    fn add_hessian_sandwich_block(
        &self,
        _z: &Block,
        aux: &Block,
        r: &Block,
        p: &MatBlock,
        h: &mut MatBlock,
        _: &mut LaneScratch,
    ) {
        let (n, d) = (self.dim, p.ncols());
        for i in 0..n {
            let mut c = [0.0; LANES];
            for (l, cl) in c.iter_mut().enumerate() {
                *cl = self.weighted_curvature(r[i][l], aux[i][l], aux[n + i][l]);
            }
            for k in 0..d {
                let pik = p[(i, k)];
                let mut pk = [0.0; LANES];
                for l in 0..LANES {
                    pk[l] = c[l] * pik[l];
                }
                for m in 0..d {
                    let pim = p[(i, m)];
                    let hmk = &mut h[(m, k)];
                    for l in 0..LANES {
                        // The scalar form skips c = 0 (h keeps its exact bits, −0 included).
                        let sum = hmk[l] + pk[l] * pim[l];
                        hmk[l] = if c[l] == 0.0 { hmk[l] } else { sum };
                    }
                }
            }
        }
    }

    /// Σ_i log a'(z_i) per lane, exp and the logarithm over the lanes (AVX2 where the CPU has
    /// it), summed in the scalar form's order.
    fn log_abs_det_block(&self, z: &Block, out: &mut Lanes, _: &mut LaneScratch) {
        log_abs_det_lanes(self, z, out);
    }

    /// a⁻¹ on every lane: [`LeakySoftplus::inverse_scalar`]'s Newton iteration run on all lanes
    /// together (exp and log1p over the lanes), each lane stopping where the scalar form stops —
    /// lane by lane the same bits. A lane that does not converge sends the block to the scalar
    /// form, which reports it.
    fn inverse_block(
        &self,
        x: &Block,
        out: &mut Block,
        s: &mut LaneScratch,
    ) -> Result<(), DecoderError> {
        let mut converged = true;
        inverse_lanes(self, x, out, &mut converged);
        if converged {
            return Ok(());
        }
        inverse_lane_by_lane(self, x, out, s)
    }
}

avx2_kernel! {
    /// The Newton iteration of `inverse_scalar` over the lanes of each coordinate; `converged`
    /// false when some lane's bracket is not finite or its iteration runs out.
    fn inverse_lanes / inverse_lanes_portable(
        a: &LeakySoftplus,
        x: &Block,
        out: &mut Block,
        converged: &mut bool,
    ) {
        let linv = |v: f64| if v >= 0.0 { v } else { v / a.alpha };
        let bound = (1.0 - a.alpha) / (8.0 * a.alpha.powi(3));
        for (o, y) in out.coords_mut().iter_mut().zip(x.coords()) {
            let lo = y.map(|y| linv(y - (1.0 - a.alpha) * LN_2));
            let mut t = y.map(linv);
            if !(t.iter().chain(&lo).all(|v| v.is_finite())) {
                *converged = false;
                return;
            }
            let mut done = [false; LANES];
            for _ in 0..SOFTPLUS_INVERSE_MAX_ITER {
                let e = math::exp_lanes(t.map(|t| -t.abs()));
                let lp = math::ln_1p_lanes(e);
                for l in 0..LANES {
                    if done[l] {
                        continue;
                    }
                    let res = a.value_from(t[l], lp[l]) - y[l];
                    if res <= 0.0 {
                        (o[l], done[l]) = (t[l], true);
                        continue;
                    }
                    let step = res / a.slope(sigmoid_pair_from(t[l], e[l]).0);
                    let next = (t[l] - step).max(lo[l]);
                    if next >= t[l] {
                        (o[l], done[l]) = (t[l], true);
                    } else if bound * step * step <= 0.25 * f64::EPSILON * next.abs() {
                        (o[l], done[l]) = (next, true);
                    } else {
                        t[l] = next;
                    }
                }
                if done.iter().all(|&d| d) {
                    break;
                }
            }
            if !done.iter().all(|&d| d) {
                *converged = false;
                return;
            }
        }
    }
}

// The lane kernels of the block forms, each compiled for AVX2 as well (`avx2_kernel!`).
avx2_kernel! {
    fn forward_lanes / forward_lanes_portable(a: &LeakySoftplus, z: &Block, out: &mut Block) {
        for (o, zi) in out.coords_mut().iter_mut().zip(z.coords()) {
            let lp = math::ln_1p_lanes(math::exp_lanes(zi.map(|t| -t.abs())));
            for l in 0..LANES {
                let t = zi[l];
                o[l] = a.value_from(t, lp[l]);
            }
        }
    }
}

avx2_kernel! {
    fn aux_lanes / aux_lanes_portable(a: &LeakySoftplus, u: &Block, aux: &mut Block) {
        let (s, c) = aux.coords_mut().split_at_mut(a.dim);
        for ((si, ci), ui) in s.iter_mut().zip(c.iter_mut()).zip(u.coords()) {
            let e = math::exp_lanes(ui.map(|t| -t.abs()));
            for l in 0..LANES {
                (si[l], ci[l]) = sigmoid_pair_from(ui[l], e[l]);
            }
        }
    }
}

avx2_kernel! {
    /// The difference form over the lanes: expm1 and log1p over all lanes at once, the small-step
    /// formula of `diff_element` kept where |Δ| ≤ 1 and the scalar element elsewhere — lane by
    /// lane its bits.
    fn diff_lanes / diff_lanes_portable(
        a: &LeakySoftplus,
        u0: &[f64],
        base_aux: &[f64],
        du: &Block,
        out: &mut Block,
        aux: &mut Block,
    ) {
        let n = a.dim;
        let (s, c) = aux.coords_mut().split_at_mut(n);
        for i in 0..n {
            let (u0i, s0, c0) = (u0[i], base_aux[i], base_aux[n + i]);
            let dt = du[i];
            let em = math::expm1_lanes(dt);
            let se = em.map(|e| s0 * e);
            let lp = math::ln_1p_lanes(se);
            // The small-step form on every lane (branch-free, vectorised), then the rare lanes
            // with |Δ| > 1 (or NaN) redone by the scalar element: each lane's bits are those of
            // `diff_element`.
            for l in 0..LANES {
                let q = 1.0 + se[l];
                out[i][l] = a.diff_from_log1p(dt[l], lp[l]);
                s[i][l] = s0 * (1.0 + em[l]) / q;
                c[i][l] = c0 / q;
            }
            for l in 0..LANES {
                if dt[l].is_nan() || dt[l].abs() > DIFF_FORM_MAX_STEP {
                    (out[i][l], s[i][l], c[i][l]) = a.diff_element(u0i, s0, c0, dt[l]);
                }
            }
        }
    }
}

avx2_kernel! {
    fn log_abs_det_lanes / log_abs_det_lanes_portable(a: &LeakySoftplus, z: &Block, out: &mut Lanes) {
        out.fill(0.0);
        for zi in z.coords() {
            let e = math::exp_lanes(zi.map(|t| -t.abs()));
            let mut d1 = [0.0; LANES];
            for l in 0..LANES {
                d1[l] = a.slope(sigmoid_pair_from(zi[l], e[l]).0);
            }
            let v = math::ln_lanes(d1);
            for (o, vl) in out.iter_mut().zip(v) {
                *o += vl;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lane kernels give the same bits compiled for AVX2 (what `forward_block` & co. run on
    /// this machine, if it has AVX2) and for the baseline target (`*_portable`), and the same bits
    /// as the scalar forms lane by lane: over arguments from −745 to 745, ±0 and both α extremes.
    #[test]
    fn lane_kernels_match_their_portable_twins_and_the_scalar_forms_bit_for_bit() {
        check();
        crate::lanes::dispatch::with_avx2_at_most(check);
    }

    /// The body of `lane_kernels_match_their_portable_twins_and_the_scalar_forms_bit_for_bit`, run once per vector unit.
    fn check() {
        let n = 3;
        let mut args: Vec<f64> = (0..240).map(|i| -745.0 + 6.25 * i as f64).collect();
        args.extend([0.0, -0.0, 1e-300, -1e-300, 36.7, -36.7, 710.0, -710.0]);
        for alpha in [1e-3, 0.2, 1.0] {
            let a = LeakySoftplus::new(n, alpha).unwrap();
            for chunk in args.chunks(n * LANES) {
                let mut z = Block::zeros(n);
                for (k, &t) in chunk.iter().enumerate() {
                    z.coords_mut()[k % n][k / n] = t;
                }
                let (mut o1, mut o2) = (Block::zeros(n), Block::zeros(n));
                forward_lanes(&a, &z, &mut o1);
                forward_lanes_portable(&a, &z, &mut o2);
                let (mut x1, mut x2) = (Block::zeros(2 * n), Block::zeros(2 * n));
                aux_lanes(&a, &z, &mut x1);
                aux_lanes_portable(&a, &z, &mut x2);
                // The difference form from u0 = (0.3, −2, 40), steps Δ = z/200: |Δ| ≤ 1 (the
                // expm1/log1p lanes) and beyond (the scalar fallback).
                let u0 = [0.3, -2.0, 40.0];
                let mut base = vec![0.0; 2 * n];
                for i in 0..n {
                    (base[i], base[n + i]) = sigmoid_pair(u0[i]);
                }
                let mut du = z.clone();
                for zi in du.coords_mut() {
                    for v in zi.iter_mut() {
                        *v /= 200.0;
                    }
                }
                let (mut f1, mut f2) = (Block::zeros(n), Block::zeros(n));
                let (mut y1, mut y2) = (Block::zeros(2 * n), Block::zeros(2 * n));
                diff_lanes(&a, &u0, &base, &du, &mut f1, &mut y1);
                diff_lanes_portable(&a, &u0, &base, &du, &mut f2, &mut y2);
                for i in 0..n {
                    for l in 0..LANES {
                        let want = a.diff_element(u0[i], base[i], base[n + i], du[i][l]);
                        let got = (f1[i][l], y1[i][l], y1[n + i][l]);
                        let port = (f2[i][l], y2[i][l], y2[n + i][l]);
                        for (g, (p, w)) in [got.0, got.1, got.2].iter().zip(
                            [port.0, port.1, port.2]
                                .iter()
                                .zip([want.0, want.1, want.2]),
                        ) {
                            assert_eq!(g.to_bits(), p.to_bits());
                            assert_eq!(g.to_bits(), w.to_bits(), "u0={} Δ={}", u0[i], du[i][l]);
                        }
                    }
                }
                let (mut d1, mut d2) = ([0.0; LANES], [0.0; LANES]);
                log_abs_det_lanes(&a, &z, &mut d1);
                log_abs_det_lanes_portable(&a, &z, &mut d2);
                for l in 0..LANES {
                    let zl: Vec<f64> = (0..n).map(|i| z.coords()[i][l]).collect();
                    assert_eq!(d1[l].to_bits(), d2[l].to_bits());
                    assert_eq!(d1[l].to_bits(), a.log_abs_det(&zl).to_bits(), "z={zl:?}");
                    for (i, &t) in zl.iter().enumerate() {
                        assert_eq!(o1.coords()[i][l].to_bits(), o2.coords()[i][l].to_bits());
                        assert_eq!(o1.coords()[i][l].to_bits(), a.value(t).to_bits(), "t={t}");
                        let (s, c) = sigmoid_pair(t);
                        for (k, want) in [(i, s), (n + i, c)] {
                            assert_eq!(x1.coords()[k][l].to_bits(), x2.coords()[k][l].to_bits());
                            assert_eq!(x1.coords()[k][l].to_bits(), want.to_bits(), "t={t}");
                        }
                    }
                }
            }
        }
    }
    use crate::compare::{assert_within, Tol};

    /// a(a⁻¹(y)) = y to within 4 eps·max(|y|, |α t|, a'(t)·|t|) for y over 30 orders of magnitude
    /// and both signs, and several α (the residual of a correctly rounded inverse is
    /// ≤ a'·ulp(t) + ulp(y), plus the round-off of evaluating a).
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
                        assert_within(
                            &format!("a(a⁻¹(y)), alpha {alpha} y {y} t {t}"),
                            &[a.value(t)],
                            &[y],
                            Tol::Scaled(4.0 * f64::EPSILON, scale),
                        );
                    }
                }
            }
        }
    }

    /// At |t| = 700 and beyond nothing overflows and a matches its asymptotes
    /// (t for t → ∞, α t for t → −∞, to round-off: absolute 1e-13 for a(−800) = −160, 1e-16 for
    /// a'(−800) = α, 1e-12 for a⁻¹(−160) = −800).
    #[test]
    fn large_arguments() {
        let a = LeakySoftplus::new(1, 0.2).unwrap();
        assert_eq!(a.value(800.0), 800.0);
        assert_within(
            "a(−800)",
            &[a.value(-800.0)],
            &[0.2 * -800.0],
            Tol::Scaled(1e-13, 1.0),
        );
        assert_within("a'(−800)", &[a.d1(-800.0)], &[0.2], Tol::Scaled(1e-16, 1.0));
        assert_eq!(a.d1(800.0), 1.0);
        assert_eq!(a.inverse_scalar(800.0), Some(800.0));
        assert_within(
            "a⁻¹(−160)",
            &[a.inverse_scalar(-160.0).unwrap()],
            &[-800.0],
            Tol::Scaled(1e-12, 1.0),
        );
    }

    /// a(t + Δ) − a(t) against the direct difference where the latter is exact enough: for
    /// t ∈ [−10, 10] and Δ ∈ {±0.5, ±1, 3} the direct difference errs by
    /// ≈ eps·(|a(t)| + |a(t + Δ)|), at most ≈ 9e-15 of |Δa| (at t = ±10, Δ = ±0.5: |a| ≤ 2.1 where
    /// a' ≈ α and |Δa| ≈ 0.1, |a| ≤ 10.5 where a' ≈ 1 and |Δa| ≈ 0.5), so 1e-14 relative; and for
    /// tiny Δ against the Taylor series a'(t)Δ + a''(t)Δ²/2 (error ≤ |a'''|·Δ³/6 < 1e-37), to 4 eps
    /// relative.
    #[test]
    fn difference_form() {
        let a = LeakySoftplus::new(1, 0.2).unwrap();
        for i in -40..=40 {
            let t = 0.25 * i as f64;
            for dt in [-0.5, 0.5, -1.0, 1.0, 3.0] {
                let direct = a.value(t + dt) - a.value(t);
                assert_within(
                    &format!("a(t + Δ) − a(t) at t={t}, Δ={dt}"),
                    &[a.value_diff(t, dt)],
                    &[direct],
                    Tol::Rel(1e-14),
                );
            }
            let dt = 1e-12;
            let taylor = a.d1(t) * dt + 0.5 * a.d2(t) * dt * dt;
            assert_within(
                &format!("a(t + Δ) − a(t) at t={t}, Δ={dt}"),
                &[a.value_diff(t, dt)],
                &[taylor],
                Tol::Rel(4.0 * f64::EPSILON),
            );
        }
    }

    #[test]
    fn bad_alpha() {
        for alpha in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(LeakySoftplus::new(2, alpha).is_err());
        }
    }
}
