//! The exact ELBO (paper eq. 1) for q(z | x) = N(μ, diag σ²), with its closed-form gradient and
//! Hessian with respect to (μ, log σ²), and the β-VAE objective of §6 that shares its kernel.
//!
//! # Formula
//!
//! ELBO(x; μ, s = log σ², γ²) = (D/2) log(γ²/2π) − (γ²/2) E_q‖x − f(z)‖² + Σ_k E_q[log m(z_k)]
//!                              + Σ_k ½ (log 2π + 1 + s_k).
//!
//! * Reconstruction: tensor-product Gauss–Hermite over ξ ~ N(0, I_d), z = μ + σ ⊙ ξ, with the residual
//!   in difference form r(z) = [x − f(μ)] − [f(μ + σξ) − f(μ)] (see [`crate::model::Decoder::eval_offset`]).
//! * Prior cross-entropy: closed form for the Gaussian prior, a 1-D trapezoid rule per coordinate
//!   for the logistic prior (see `prior_term.rs`).
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
//!
//! # Refusals
//!
//! A Möbius pole with Gaussian mass above [`crate::tol::POLE_MASS_TOL`] under q
//! ([`OracleError::PoleTooClose`]) — on a fixed rule; [`elbo`] and [`beta_vae`] then answer by the
//! Möbius integral route where it applies (a Möbius step followed by affine steps,
//! [`super::moebius_elbo`]); a Möbius step in d ≤ 2, where the exact value is −∞
//! ([`OracleError::MinusInfinity`]); a logistic-prior encoder wider than
//! [`crate::tol::MAX_SIGMA_OVER_SCALE`] prior scales; a decoder failure at a node.
//!
//! # β-VAE (§6)
//!
//! E_q[log p(x | z)] − β KL(q ‖ p0): the prior and entropy terms scaled by β. Dividing by β shows the
//! objective equals β·ELBO at precision γ²/β plus the constant (D/2)(log(γ²/2π) − β log(γ²/(2πβ))):
//! the β-VAE optimum is the ELBO optimum at γ'² = γ²/β, which is why its limit is the
//! IMA-regularised likelihood as γ/√β → ∞.

use super::gaussian::{entropy, log_normaliser};
use super::moebius_integral::{moebius_elbo, moebius_route_applies};
use super::prior_term::{check_prior_width, prior_term};
use super::reconstruction::{self, ElboWorkspace};
use crate::error::OracleError;
use crate::input::{Beta, Encoder, Gamma2, Query};
use crate::quadrature::{refine, QuadratureOptions, TensorRule};
use nalgebra::{DMatrix, DVector};

/// Which derivatives of an objective to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DerivativeOrder {
    /// The value only.
    Value,
    /// The value and the gradient.
    Gradient,
    /// The value, the gradient and the Hessian.
    Hessian,
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

    /// The β-VAE objective E_q[log p(x | z)] − β KL(q ‖ p0) (β = 1: the ELBO).
    pub fn beta_objective(&self, beta: Beta) -> f64 {
        self.expected_log_likelihood() - beta.get() * self.kl_to_prior()
    }

    /// The four terms, in the order of the sum.
    pub fn terms(&self) -> [f64; 4] {
        [
            self.log_normaliser,
            self.reconstruction,
            self.prior,
            self.entropy,
        ]
    }

    /// Σ of the terms' sizes, left to right: the scale of the value's round-off.
    pub fn size(&self) -> f64 {
        self.terms().iter().map(|t| t.abs()).sum()
    }
}

/// The ELBO (or β-objective) on a fixed rule, with the derivatives in θ = (μ_1 … μ_d,
/// s_1 … s_d), s = log σ², that were asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ElboDerivatives {
    /// The four (unscaled) ELBO terms.
    pub parts: ElboParts,
    /// The objective: the ELBO, or the β-objective.
    pub value: f64,
    /// ∇_θ (length 2d), when asked for.
    pub gradient: Option<DVector<f64>>,
    /// ∇²_θ (2d × 2d, symmetric), when asked for.
    pub hessian: Option<DMatrix<f64>>,
}

/// The ELBO at `enc` on a fixed rule over ξ ~ N(0, I_d), with the derivatives `order` asks for.
/// Errors: an encoder or rule of another latent dimension, or a workspace of another model
/// ([`OracleError::DimensionMismatch`]), and the refusals of the module docs.
pub fn elbo_on_rule(
    query: &Query,
    enc: &Encoder,
    rule: &TensorRule,
    order: DerivativeOrder,
    ws: &mut ElboWorkspace,
) -> Result<ElboDerivatives, OracleError> {
    beta_vae_on_rule(query, enc, Beta::ONE, rule, order, ws)
}

/// The β-VAE objective of §6 on a fixed rule, with its gradient and Hessian in (μ, log σ²): the
/// prior and entropy terms of [`elbo_on_rule`] scaled by β. The returned `parts` are the unscaled
/// ELBO terms; `value` is the β-objective. Errors as [`elbo_on_rule`].
pub fn beta_vae_on_rule(
    query: &Query,
    enc: &Encoder,
    beta: Beta,
    rule: &TensorRule,
    order: DerivativeOrder,
    ws: &mut ElboWorkspace,
) -> Result<ElboDerivatives, OracleError> {
    let model = query.model();
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    query.check_encoder(enc)?;
    if rule.dim() != d || !ws.fits(d, dd) {
        return Err(OracleError::DimensionMismatch {
            what: "quadrature rule or workspace (built for another model)",
            expected: d,
            found: rule.dim(),
        });
    }
    check_prior_width(model.prior(), enc)?;
    let sigma = enc.sigma();
    model.guard_poles(
        enc.mu().as_slice(),
        |v| v.iter().zip(sigma).map(|(a, s)| (a / s) * (a / s)).sum(),
        true,
    )?;
    ws.prior.clear();
    for (&m, &s) in enc.mu().iter().zip(sigma) {
        ws.prior.push(prior_term(model.prior(), m, s));
    }
    reconstruction::accumulate(query, enc, rule, order, ws)?;
    let gamma2 = query.gamma2();
    let parts = ElboParts {
        log_normaliser: log_normaliser(dd, gamma2),
        reconstruction: -0.5 * gamma2 * ws.sums.rec.sum(),
        prior: ws.prior.iter().map(|p| p.value).sum(),
        entropy: entropy(enc.logvar()),
    };
    let b = beta.get();
    Ok(ElboDerivatives {
        value: parts.beta_objective(beta),
        parts,
        gradient: (order >= DerivativeOrder::Gradient)
            .then(|| reconstruction::gradient(&ws.sums, enc, gamma2, b, &ws.prior)),
        hessian: (order >= DerivativeOrder::Hessian)
            .then(|| reconstruction::hessian(&ws.sums, enc, gamma2, b, &ws.prior)),
    })
}

/// The constant C(β) of the β-VAE identity of the module docs: the β-objective at precision γ²
/// equals β·ELBO at precision γ²/β plus C(β) = (D/2) log(γ²/2π) − β (D/2) log(γ²/(2πβ)), for every
/// encoder. (`gamma2` is the β-objective's precision.)
pub fn beta_vae_offset(dim_observed: usize, gamma2: Gamma2, beta: Beta) -> f64 {
    let b = beta.get();
    log_normaliser(dim_observed, gamma2.get()) - b * log_normaliser(dim_observed, gamma2.get() / b)
}

/// An ELBO (or β-objective) value with its quadrature error estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct ElboEstimate {
    /// The value, from the larger of the two rules compared.
    pub value: f64,
    /// The four ELBO terms (larger rule).
    pub parts: ElboParts,
    /// |value_n − value_m|: the difference between the two rules, a conservative estimate of the
    /// error of `value`.
    pub error_estimate: f64,
    /// Nodes per dimension of the rule that produced `value`; 0 when the Möbius integral route
    /// produced it ([`super::moebius_elbo`]: no tensor rule).
    pub nodes_per_dim: usize,
}

/// The ELBO (eq. 1) at `enc` to a requested tolerance: the rule grows until two successive rules
/// agree to `opts.tol()`·max(1, |ELBO|). Errors as [`elbo_on_rule`], or
/// [`OracleError::QuadratureNotConverged`] when the node budget runs out.
pub fn elbo(
    query: &Query,
    enc: &Encoder,
    opts: &QuadratureOptions,
) -> Result<ElboEstimate, OracleError> {
    beta_vae(query, enc, Beta::ONE, opts)
}

/// The β-VAE objective of §6 (module docs) to the tolerance of [`elbo`]. Since the reconstruction
/// is the only term that needs the tensor rule, the error estimate of the ELBO applies unchanged.
///
/// Where the tensor route refuses a Möbius pole within reach ([`OracleError::PoleTooClose`]) and
/// the decoder is a Möbius step followed by affine steps, the value comes from the Möbius
/// integral route ([`super::moebius_elbo`], exact up to a 1-D integral, no pole guard) with its
/// error estimate, and `nodes_per_dim` is 0.
pub fn beta_vae(
    query: &Query,
    enc: &Encoder,
    beta: Beta,
    opts: &QuadratureOptions,
) -> Result<ElboEstimate, OracleError> {
    match beta_vae_tensor(query, enc, beta, opts) {
        Err(OracleError::PoleTooClose { .. }) if moebius_route_applies(query) => {
            let e = moebius_elbo(query, enc, beta, DerivativeOrder::Value)?;
            let requested = opts.tol() * e.parts.total().abs().max(1.0);
            if e.error_estimate > requested || e.error_estimate.is_nan() {
                return Err(OracleError::QuadratureNotConverged {
                    what: "ELBO (Moebius integral)",
                    requested,
                    achieved: e.error_estimate,
                    nodes_per_dim: e.t_nodes,
                });
            }
            Ok(ElboEstimate {
                value: e.value,
                parts: e.parts,
                error_estimate: e.error_estimate,
                nodes_per_dim: 0,
            })
        }
        r => r,
    }
}

/// [`beta_vae`] by the tensor Gauss–Hermite route alone.
fn beta_vae_tensor(
    query: &Query,
    enc: &Encoder,
    beta: Beta,
    opts: &QuadratureOptions,
) -> Result<ElboEstimate, OracleError> {
    let model = query.model();
    let mut ws = ElboWorkspace::new(model);
    let r = refine(
        opts,
        "ELBO",
        |n, _| -> Result<Option<ElboDerivatives>, OracleError> {
            let Some(rule) = TensorRule::within_budget(n, model.dim_latent(), opts.max_total())?
            else {
                return Ok(None);
            };
            elbo_on_rule(query, enc, &rule, DerivativeOrder::Value, &mut ws).map(Some)
        },
        |e| e.value,
    )?;
    Ok(ElboEstimate {
        value: r.cur.parts.beta_objective(beta),
        parts: r.cur.parts,
        error_estimate: r.err,
        nodes_per_dim: r.nodes,
    })
}
