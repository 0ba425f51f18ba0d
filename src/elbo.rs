//! The exact ELBO (paper eq. 1) for q(z | x) = N(μ, diag σ²), with its closed-form gradient and
//! Hessian with respect to (μ, log σ²).
//!
//! # Formula
//!
//! ELBO(x; μ, s = log σ², γ²) = (D/2) log(γ²/2π) − (γ²/2) E_q‖x − f(z)‖² + Σ_k E_q[log m(z_k)]
//!                              + Σ_k ½ (log 2π + 1 + s_k).
//!
//! * Reconstruction: tensor-product Gauss–Hermite over ξ ~ N(0, I_d), z = μ + σ ⊙ ξ, with the residual
//!   in difference form r(z) = [x − f(μ)] − [f(μ + σξ) − f(μ)] (see [`crate::Decoder::eval_offset`]).
//! * Prior cross-entropy: closed form for the Gaussian prior, a 1-D trapezoid rule per coordinate
//!   for the logistic prior (see [`crate::prior_expectation`]).
//! * Entropy: closed form.
//!
//! # Derivatives
//!
//! With h(z) = ‖x − f(z)‖², ∇h = −2 Jᵀr, ∇²h = 2(JᵀJ − Σ_i r_i ∇²f_i), ∂z_k/∂s_k = ξ_k σ_k/2:
//!
//! | derivative | reconstruction part, −(γ²/2)·E[…] of |
//! | --- | --- |
//! | ∂/∂μ_k | ∂_k h |
//! | ∂/∂s_k | ∂_k h · ξ_k σ_k/2 |
//! | ∂²/∂μ_k∂μ_l | ∂²_kl h |
//! | ∂²/∂μ_k∂s_l | ∂²_kl h · ξ_l σ_l/2 |
//! | ∂²/∂s_k∂s_l | ∂²_kl h · ξ_k ξ_l σ_k σ_l/4 + δ_kl ∂_k h · ξ_k σ_k/4 |
//!
//! and likewise for each prior coordinate with log m in place of −(γ²/2) h; the entropy adds ½ to
//! ∂/∂s_k. These are the exact derivatives of the discretised objective (the same nodes and weights),
//! so Newton's method on it converges quadratically.
//!
//! # Accuracy
//!
//! For a fixed rule the sums are compensated (Neumaier), so round-off is a few eps times the size of
//! each term: (D/2)|log(γ²/2π)|, the entropy, and (γ²/2)·E‖r‖² = O(d). The residual's own round-off is
//! one fixed vector x − f(μ) of size eps‖x‖, which moves the value by (γ²/2)·2 E\[r\]·δ; at the optimum
//! E\[Jᵀr\] = O(1/γ²), so the value keeps ~eps relative accuracy for every γ² (the direct form
//! x − f(z) would lose log10 γ digits). [`elbo`] chooses the node count by comparing n with a larger
//! rule until they agree to the tolerance, and returns that difference as the error estimate.

use crate::decoder::Workspace;
use crate::error::{check_beta, check_gamma2, check_vec, OracleError};
use crate::model::Model;
use crate::prior_expectation::prior_expectation;
use crate::quadrature::{Neumaier, TensorRule};
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;

/// How much to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Order {
    /// The value only.
    Value,
    /// The value and the gradient.
    Gradient,
    /// The value, the gradient and the Hessian.
    Hessian,
}

/// The quadrature rule of the reconstruction term: a tensor Gauss–Hermite rule over ξ ~ N(0, I_d).
/// (The prior term has its own rule, see [`crate::prior_expectation`].)
#[derive(Debug, Clone)]
pub struct ElboRule {
    tensor: TensorRule,
}

impl ElboRule {
    /// `n` nodes per latent dimension (n^d in all); `None` when n is outside [1, 256] or
    /// n^d > `max_total`.
    pub fn new(n: usize, d: usize, max_total: usize) -> Option<Self> {
        Some(ElboRule {
            tensor: TensorRule::new(n, d, max_total)?,
        })
    }

    /// Nodes per dimension.
    pub fn nodes_per_dim(&self) -> usize {
        self.tensor.per_dim()
    }
}

/// The four terms of the ELBO, each as it enters the sum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElboParts {
    /// (D/2) log(γ²/2π).
    pub log_normaliser: f64,
    /// −(γ²/2) E_q‖x − f(z)‖².
    pub reconstruction: f64,
    /// E_q[log p0(z)] (minus the prior cross-entropy).
    pub prior: f64,
    /// The entropy of q, Σ_k ½ (log 2π + 1 + log σ_k²).
    pub entropy: f64,
}

impl ElboParts {
    /// ELBO = log_normaliser + reconstruction + prior + entropy.
    pub fn total(&self) -> f64 {
        self.log_normaliser + self.reconstruction + self.prior + self.entropy
    }

    /// E_q[log p(x | z)] = log_normaliser + reconstruction.
    pub fn expected_log_likelihood(&self) -> f64 {
        self.log_normaliser + self.reconstruction
    }

    /// KL(q ‖ p0) = −(prior + entropy).
    pub fn kl_to_prior(&self) -> f64 {
        -(self.prior + self.entropy)
    }
}

/// The ELBO on a fixed rule, with derivatives with respect to θ = (μ_1 … μ_d, s_1 … s_d), s = log σ².
#[derive(Debug, Clone, PartialEq)]
pub struct ElboDerivatives {
    /// The four terms.
    pub parts: ElboParts,
    /// The ELBO.
    pub value: f64,
    /// ∇_θ ELBO (length 2d), when requested.
    pub gradient: Option<DVector<f64>>,
    /// ∇²_θ ELBO (2d × 2d, symmetric), when requested.
    pub hessian: Option<DMatrix<f64>>,
}

/// Buffers for evaluating the ELBO of one model, allocation-free across calls.
#[derive(Debug, Clone)]
pub struct ElboWorkspace {
    dec: Workspace,
    delta0: Vec<f64>,
    r: Vec<f64>,
    jtr: Vec<f64>,
    dz: Vec<f64>,
    sigma: Vec<f64>,
    contraction: DMatrix<f64>,
}

impl ElboWorkspace {
    /// Buffers for `model`.
    pub fn new(model: &Model) -> Self {
        let (d, dd) = (model.dim_latent(), model.dim_observed());
        ElboWorkspace {
            dec: model.decoder().workspace(),
            delta0: vec![0.0; dd],
            r: vec![0.0; dd],
            jtr: vec![0.0; d],
            dz: vec![0.0; d],
            sigma: vec![0.0; d],
            contraction: DMatrix::zeros(d, d),
        }
    }
}

/// The Chernoff mass bound below which a pole is considered invisible to the quadrature: 1e-20, far
/// below the 1e-16 relative precision anything here is computed to.
pub const POLE_MASS_TOL: f64 = 1e-20;

/// Checks x, μ, log σ² and γ² for [`elbo_on_rule`] and friends.
pub(crate) fn check_inputs(
    model: &Model,
    x: &[f64],
    mu: &[f64],
    logvar: &[f64],
    gamma2: f64,
) -> Result<(), OracleError> {
    check_vec("x", x, model.dim_observed())?;
    check_vec("mu", mu, model.dim_latent())?;
    check_vec("logvar", logvar, model.dim_latent())?;
    check_gamma2(gamma2)?;
    // σ² = exp(s) must be a positive normal number and finite.
    if let Some(index) = logvar.iter().position(|&s| !(-700.0..=700.0).contains(&s)) {
        return Err(OracleError::NonFinite {
            what: "logvar (exp overflows or underflows)",
            index,
        });
    }
    if let crate::prior::Prior::Logistic { scale } = model.prior() {
        let limit = 2.0 * (crate::prior_expectation::MAX_SIGMA_OVER_SCALE * scale).ln();
        if let Some(&s) = logvar.iter().find(|&&s| s > limit) {
            return Err(OracleError::InvalidParameter {
                what: "logvar (sigma above 5e3 logistic scales: the prior term would need > 1e6 nodes)",
                value: s,
            });
        }
    }
    Ok(())
}

/// The ELBO at (μ, log σ²) on a fixed rule, with the derivatives `order` asks for.
///
/// Errors: wrong lengths or non-finite inputs, γ² ≤ 0, a decoder failure at a node, a pole of the
/// decoder with Gaussian mass above [`POLE_MASS_TOL`] under q, or a Möbius step in d ≤ 2
/// ([`OracleError::MinusInfinity`], the exact value).
#[allow(clippy::too_many_arguments)]
pub fn elbo_on_rule(
    model: &Model,
    x: &[f64],
    mu: &[f64],
    logvar: &[f64],
    gamma2: f64,
    rule: &ElboRule,
    order: Order,
    ws: &mut ElboWorkspace,
) -> Result<ElboDerivatives, OracleError> {
    beta_vae_on_rule(model, x, mu, logvar, gamma2, 1.0, rule, order, ws)
}

/// The β-VAE objective of §6, E_q[log p(x | z)] − β KL(q ‖ p0), on a fixed rule, with its gradient
/// and Hessian in (μ, log σ²): the prior and entropy terms of [`elbo_on_rule`] scaled by β. The
/// returned `parts` are the unscaled ELBO terms; `value` is the β-objective. β = 1 is the ELBO.
#[allow(clippy::too_many_arguments)]
pub fn beta_vae_on_rule(
    model: &Model,
    x: &[f64],
    mu: &[f64],
    logvar: &[f64],
    gamma2: f64,
    beta: f64,
    rule: &ElboRule,
    order: Order,
    ws: &mut ElboWorkspace,
) -> Result<ElboDerivatives, OracleError> {
    check_inputs(model, x, mu, logvar, gamma2)?;
    check_beta(beta)?;
    let d = model.dim_latent();
    let dd = model.dim_observed();
    if rule.tensor.dim() != d {
        return Err(OracleError::DimensionMismatch {
            what: "quadrature rule (built for another latent dimension)",
            expected: d,
            found: rule.tensor.dim(),
        });
    }
    let dec = model.decoder();
    for (s, &lv) in ws.sigma.iter_mut().zip(logvar) {
        *s = (0.5 * lv).exp();
    }
    let sigma = &ws.sigma;
    model.guard_poles(
        mu,
        |v| v.iter().zip(sigma).map(|(a, s)| (a / s) * (a / s)).sum(),
        POLE_MASS_TOL,
        true,
    )?;
    dec.set_base(mu, &mut ws.dec)?;
    for ((o, xi), fi) in ws.delta0.iter_mut().zip(x).zip(ws.dec.base_output()) {
        *o = xi - fi;
    }

    let want_grad = order >= Order::Gradient;
    let want_hess = order >= Order::Hessian;
    let mut rec = Neumaier::default();
    // Gradient sums: E[(Jᵀr)_k], E[(Jᵀr)_k ξ_k].
    let mut g_mu = vec![Neumaier::default(); if want_grad { d } else { 0 }];
    let mut g_s = vec![Neumaier::default(); if want_grad { d } else { 0 }];
    // Hessian sums of G = ∇²h: E[G_kl], E[G_kl ξ_l], E[G_kl ξ_k ξ_l] (full d×d, column-major).
    let hn = if want_hess { d * d } else { 0 };
    // Plain sums: the Hessian only steers Newton; its round-off (≤ N eps relative) is harmless.
    let mut h_mm = vec![0.0f64; hn];
    let mut h_ms = vec![0.0f64; hn];
    let mut h_ss = vec![0.0f64; hn];

    let tensor = &rule.tensor;
    for j in 0..tensor.len() {
        let xi = tensor.node(j);
        let w = tensor.weight(j);
        for ((dz, s), x) in ws.dz.iter_mut().zip(&ws.sigma).zip(xi) {
            *dz = s * x;
        }
        dec.eval_offset(&ws.dz, &mut ws.dec, want_grad)?;
        let mut rr = 0.0;
        for ((r, d0), df) in ws.r.iter_mut().zip(&ws.delta0).zip(ws.dec.output_diff()) {
            *r = d0 - df;
            rr += *r * *r;
        }
        rec.add(w * rr);
        if !want_grad {
            continue;
        }
        let jac = ws.dec.jacobian();
        for (k, jt) in ws.jtr.iter_mut().enumerate() {
            *jt = (0..dd).map(|i| jac[(i, k)] * ws.r[i]).sum();
        }
        for k in 0..d {
            g_mu[k].add(w * ws.jtr[k]);
            g_s[k].add(w * ws.jtr[k] * xi[k]);
        }
        if !want_hess {
            continue;
        }
        dec.hessian_contraction_into(&mut ws.dec, &ws.r, &mut ws.contraction)?;
        let jac = ws.dec.jacobian().as_slice();
        let cont = ws.contraction.as_slice();
        for l in 0..d {
            let wl = w * xi[l];
            let jl = &jac[l * dd..(l + 1) * dd];
            for k in 0..=l {
                let jk = &jac[k * dd..(k + 1) * dd];
                let jtj: f64 = jk.iter().zip(jl).map(|(a, b)| a * b).sum();
                let g = 2.0 * (jtj - cont[l * d + k]);
                let idx = l * d + k;
                h_mm[idx] += w * g;
                h_ms[idx] += wl * g;
                h_ss[idx] += wl * g * xi[k];
                if k != l {
                    // G is symmetric; ∂μ_l∂s_k needs ξ_k.
                    let sym = k * d + l;
                    h_ms[sym] += w * g * xi[k];
                }
            }
        }
    }

    let prior = model.prior();
    let pc: Vec<[f64; 6]> = (0..d)
        .map(|k| prior_expectation(prior, mu[k], ws.sigma[k]))
        .collect();
    let parts = ElboParts {
        log_normaliser: 0.5 * dd as f64 * (gamma2 / (2.0 * PI)).ln(),
        reconstruction: -0.5 * gamma2 * rec.sum(),
        prior: pc.iter().map(|p| p[0]).sum(),
        entropy: logvar
            .iter()
            .map(|s| 0.5 * ((2.0 * PI).ln() + 1.0 + s))
            .sum(),
    };
    let gradient = want_grad.then(|| {
        let mut g = DVector::zeros(2 * d);
        for k in 0..d {
            let sk = ws.sigma[k];
            g[k] = gamma2 * g_mu[k].sum() + beta * pc[k][1];
            g[d + k] = 0.5 * gamma2 * sk * g_s[k].sum() + beta * (pc[k][2] + 0.5);
        }
        g
    });
    let hessian = want_hess.then(|| {
        let mut h = DMatrix::zeros(2 * d, 2 * d);
        let c = -0.5 * gamma2;
        for l in 0..d {
            for k in 0..d {
                let idx = l * d + k;
                let (sk, sl) = (ws.sigma[k], ws.sigma[l]);
                // Only the lower triangle (k ≤ l) of the symmetric sums was accumulated.
                let (lo, hi) = (k.min(l), k.max(l));
                let sym_idx = hi * d + lo;
                h[(k, l)] = c * h_mm[sym_idx];
                // ∂μ_k ∂s_l and its transpose.
                let ms = c * h_ms[idx] * 0.5 * sl;
                h[(k, d + l)] = ms;
                h[(d + l, k)] = ms;
                h[(d + k, d + l)] = c * h_ss[sym_idx] * 0.25 * sk * sl;
            }
        }
        for k in 0..d {
            let sk = ws.sigma[k];
            h[(d + k, d + k)] += 0.25 * gamma2 * sk * g_s[k].sum();
            h[(k, k)] += beta * pc[k][3];
            h[(k, d + k)] += beta * pc[k][4];
            h[(d + k, k)] += beta * pc[k][4];
            h[(d + k, d + k)] += beta * pc[k][5];
        }
        h
    });
    Ok(ElboDerivatives {
        value: parts.expected_log_likelihood() - beta * parts.kl_to_prior(),
        parts,
        gradient,
        hessian,
    })
}

/// Options for choosing the quadrature by tolerance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuadratureOptions {
    /// Target absolute error, relative to max(1, |value|): 1e-13 by default.
    pub tol: f64,
    /// Nodes per dimension to start from (default 6).
    pub min_nodes: usize,
    /// Largest nodes per dimension to try (default 96).
    pub max_nodes: usize,
    /// Largest total number of tensor nodes n^d (default 2 000 000).
    pub max_total: usize,
}

impl Default for QuadratureOptions {
    fn default() -> Self {
        QuadratureOptions {
            tol: 1e-13,
            min_nodes: 6,
            max_nodes: 96,
            max_total: 2_000_000,
        }
    }
}

impl QuadratureOptions {
    pub(crate) fn validate(&self) -> Result<(), OracleError> {
        if !(self.tol > 0.0 && self.tol.is_finite()) {
            return Err(OracleError::InvalidParameter {
                what: "quadrature tolerance",
                value: self.tol,
            });
        }
        if self.min_nodes == 0 || self.min_nodes > self.max_nodes {
            return Err(OracleError::InvalidParameter {
                what: "min_nodes (must be in 1..=max_nodes)",
                value: self.min_nodes as f64,
            });
        }
        Ok(())
    }

    /// The next, larger node count after n: n + max(2, n/2) (so successive rules share no
    /// structure that could make them agree by accident), capped at `max_nodes`.
    pub(crate) fn next(&self, n: usize) -> usize {
        (n + (n / 2).max(2)).min(self.max_nodes)
    }

    /// Grows the node count from `min_nodes` until two successive results agree:
    /// |value(cur) − value(prev)| ≤ tol·max(1, |value(cur)|). `solve(n, prev)` computes on the n-node
    /// rule (`prev`, the result of the smaller rule, may serve as a warm start) and returns `None`
    /// when that rule exceeds the budget. Errors with [`OracleError::QuadratureNotConverged`]
    /// when the budget runs out first.
    pub(crate) fn refine<T>(
        &self,
        what: &'static str,
        mut solve: impl FnMut(usize, Option<&T>) -> Result<Option<T>, OracleError>,
        value: impl Fn(&T) -> f64,
    ) -> Result<Refined<T>, OracleError> {
        let mut n = self.min_nodes;
        let mut prev = solve(n, None)?.ok_or(OracleError::InvalidParameter {
            what: "min_nodes (n^d exceeds max_total)",
            value: n as f64,
        })?;
        let mut best = f64::INFINITY;
        loop {
            let m = self.next(n);
            if m == n {
                break;
            }
            let Some(cur) = solve(m, Some(&prev))? else {
                break;
            };
            let v = value(&cur);
            let err = (v - value(&prev)).abs();
            best = best.min(err);
            if err <= self.tol * v.abs().max(1.0) {
                return Ok(Refined {
                    prev,
                    cur,
                    err,
                    nodes: m,
                });
            }
            prev = cur;
            n = m;
        }
        Err(OracleError::QuadratureNotConverged {
            what,
            requested: self.tol,
            achieved: best,
            nodes_per_dim: n,
        })
    }
}

/// Two successive rules that agree (see [`QuadratureOptions::refine`]).
pub(crate) struct Refined<T> {
    /// The result on the smaller rule.
    pub prev: T,
    /// The result on the larger rule (the one to report).
    pub cur: T,
    /// |value(cur) − value(prev)|, the error estimate.
    pub err: f64,
    /// Nodes per dimension of the larger rule.
    pub nodes: usize,
}

/// An ELBO value with its error estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct ElboEstimate {
    /// The ELBO, from the larger of the two rules compared.
    pub value: f64,
    /// The four terms (larger rule).
    pub parts: ElboParts,
    /// |ELBO_n − ELBO_m|: the difference between the two rules, a conservative estimate of the
    /// error of `value`.
    pub error_estimate: f64,
    /// Nodes per dimension of the rule that produced `value`.
    pub nodes_per_dim: usize,
}

/// The ELBO (eq. 1) at (μ, log σ²) to a requested tolerance: the rule grows until two successive
/// rules agree to `opts.tol`·max(1, |ELBO|). Errors as [`elbo_on_rule`], or
/// [`OracleError::QuadratureNotConverged`] when the node budget runs out.
pub fn elbo(
    model: &Model,
    x: &[f64],
    mu: &[f64],
    logvar: &[f64],
    gamma2: f64,
    opts: &QuadratureOptions,
) -> Result<ElboEstimate, OracleError> {
    opts.validate()?;
    let mut ws = ElboWorkspace::new(model);
    let r = opts.refine(
        "ELBO",
        |n, _| {
            let Some(rule) = ElboRule::new(n, model.dim_latent(), opts.max_total) else {
                return Ok(None);
            };
            elbo_on_rule(model, x, mu, logvar, gamma2, &rule, Order::Value, &mut ws).map(Some)
        },
        |e| e.value,
    )?;
    Ok(ElboEstimate {
        value: r.cur.value,
        parts: r.cur.parts,
        error_estimate: r.err,
        nodes_per_dim: r.nodes,
    })
}

/// The β-VAE objective of §6, E_q[log p(x | z)] − β KL(q ‖ p0), to the tolerance of [`elbo`]
/// (β = 1 is the ELBO). Since the reconstruction is the only term that needs the tensor rule, the
/// error estimate of [`elbo`] applies unchanged. Errors unless β ≥ 0 is finite.
///
/// Dividing by β shows the objective equals β·ELBO at precision γ²/β plus the constant
/// (D/2)(log(γ²/2π) − β log(γ²/(2πβ))): the β-VAE optimum is the ELBO optimum at γ'² = γ²/β, which is
/// why its limit is the IMA-regularised likelihood as γ/√β → ∞.
pub fn beta_vae(
    model: &Model,
    x: &[f64],
    mu: &[f64],
    logvar: &[f64],
    gamma2: f64,
    beta: f64,
    opts: &QuadratureOptions,
) -> Result<ElboEstimate, OracleError> {
    check_beta(beta)?;
    let mut e = elbo(model, x, mu, logvar, gamma2, opts)?;
    e.value = e.parts.expected_log_likelihood() - beta * e.parts.kl_to_prior();
    Ok(e)
}
