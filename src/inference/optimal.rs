//! The optimal encoder for one x (paper eq. 7, the information projection of pθ(z | x) onto
//! factorized Gaussians): μ̂, σ̂² and ELBO* (eq. 8), by a safeguarded Newton method on the exact ELBO.
//!
//! # Method
//!
//! Variables θ = (μ, s = log σ²), started at the self-consistent point μ = g(x),
//! σ_k² = RHS of eq. 12 (or at a point the caller gives). Newton's method (`newton.rs`) on the
//! ELBO of a fixed Gauss–Hermite rule, with its exact gradient and Hessian ([`crate::objective`]), in the
//! natural coordinates (μ_k/σ_k, s_k) where the ELBO varies on a unit scale whatever γ is. It stops
//! when the Newton decrement is at the round-off floor of the gradient,
//! [`crate::tol::newton_decrement_floor`] with the size max(‖x‖∞, ‖f(μ)‖∞): the residual x − f(μ) is
//! known to eps‖x‖ absolutely, so γ²Jᵀr carries, in natural units, noise ~ eps γ ‖x‖. A solve never
//! returns an unconverged iterate.
//!
//! The rule is chosen by tolerance: the solve on n nodes per dimension is refined on a larger rule m,
//! and the two ELBO* must agree to `tol`·max(1, |ELBO*|); their difference is the returned error
//! estimate and the distance between the two optima (natural units) the location error estimate.
//!
//! # Möbius decoders
//!
//! For a Möbius step followed only by affine steps (the §4.3 families) the ELBO is exact up to a
//! 1-D integral ([`moebius_elbo`], `docs/moebius-integral.md`), with no pole guard. Where the
//! tensor rules refuse a pole within reach of q (small γ²), Newton runs on that integral instead,
//! once. (Where both apply they agree to ~4e-15 relative; the tensor rules are 10–50× cheaper
//! there, so they are tried first.) The error estimate is the integral's, (γ²/2)·|I_h − I_{2h}|; the location
//! error is |(−Ĥ)⁻¹ δĝ| in natural units, δĝ the integral's error estimate of the gradient.
//! `nodes_per_dim` then counts the nodes of the t-rule.
//!
//! # Which optimum
//!
//! At small γ² the information projection need not be unique (the posterior may be multimodal). The
//! solver returns the local maximum reached from the self-consistent start — the one Prop. 1 is
//! about. [`OptimalEncoder::min_curvature`] > 0 certifies a strict local maximum; to look for others,
//! start [`optimal_encoder_from`] elsewhere and compare ELBO*.

use super::newton::{maximize, natural_neg_hessian, Eval, NewtonOptions, Termination};
use super::self_consistent::Eq12Terms;
use crate::error::OracleError;
use crate::input::Beta;
use crate::input::{Encoder, Query};
use crate::objective::{
    elbo_on_rule, moebius_elbo, moebius_route_applies, ElboParts, ElboWorkspace, MoebiusElbo,
};
use crate::quadrature::{refine, QuadratureOptions, TensorRule};
use crate::tol::{newton_decrement_floor, value_noise};
use nalgebra::{DMatrix, DVector};

/// The result of Newton's method on one fixed rule.
#[derive(Debug, Clone, PartialEq)]
pub struct NewtonResult {
    /// θ̂ = (μ̂, log σ̂²).
    pub theta: DVector<f64>,
    /// The ELBO at θ̂ and its terms.
    pub parts: ElboParts,
    /// The gradient at θ̂.
    pub gradient: DVector<f64>,
    /// The Hessian at θ̂.
    pub hessian: DMatrix<f64>,
    /// Newton iterations taken (Hessian evaluations minus one).
    pub iterations: usize,
    /// ELBO evaluations, line searches included.
    pub evaluations: usize,
    /// The Newton decrement λ² at each iterate, in order (quadratic convergence shows here).
    pub decrements: Vec<f64>,
    /// Why it stopped.
    pub termination: Termination,
}

/// Newton's method for max ELBO on a fixed rule from `start` (module docs): natural coordinates
/// (μ_k/σ_k, s_k); decrement floor [`newton_decrement_floor`] with the size
/// max(‖x‖∞, ‖f(μ)‖∞). Each iterate is a new [`Encoder`], so an iterate that leaves the domain
/// (σ² overflowing) is refused like any bad encoder and the line search backs off.
pub fn newton_on_rule(
    query: &Query,
    start: &Encoder,
    rule: &TensorRule,
    opts: &NewtonOptions,
    ws: &mut ElboWorkspace,
) -> Result<NewtonResult, OracleError> {
    query.check_encoder(start)?;
    let d = start.dim();
    let xmax = query.x().amax();
    let f = |t: &DVector<f64>, order| -> Result<Eval<ElboParts>, OracleError> {
        let e = elbo_on_rule(query, &Encoder::from_theta(t)?, rule, order, ws)?;
        Ok(Eval {
            value: e.value,
            value_noise: value_noise(e.parts.terms()),
            gradient: e.gradient,
            hessian: e.hessian,
            extra: e.parts,
        })
    };
    let scale = |t: &DVector<f64>| natural_scale(t, d);
    let floor = |t: &DVector<f64>| decrement_floor(query, t, xmax);
    let s = maximize(
        "optimal encoder (Newton)",
        f,
        &start.theta(),
        scale,
        floor,
        opts,
    )?;
    Ok(NewtonResult {
        theta: s.theta,
        parts: s.last.extra,
        gradient: s.last.gradient.expect("final evaluation has a gradient"),
        hessian: s.last.hessian.expect("final evaluation has a Hessian"),
        iterations: s.iterations,
        evaluations: s.evaluations,
        decrements: s.decrements,
        termination: s.termination,
    })
}

/// The natural scales of θ = (μ, s = log σ²): σ_k = e^{s_k/2} for μ_k (the ELBO varies on the
/// scale of σ in μ), 1 for s_k.
fn natural_scale(theta: &DVector<f64>, d: usize) -> DVector<f64> {
    DVector::from_fn(2 * d, |i, _| {
        if i < d {
            (0.5 * theta[d + i]).exp()
        } else {
            1.0
        }
    })
}

/// The optimal encoder at one x and the evidence that it is one.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimalEncoder {
    /// μ̂ (length d).
    pub mu: DVector<f64>,
    /// log σ̂² (length d).
    pub logvar: DVector<f64>,
    /// σ̂² (length d).
    pub sigma2: DVector<f64>,
    /// ELBO* = ELBO(x; μ̂, σ̂²) (eq. 8).
    pub elbo: f64,
    /// The terms of ELBO*.
    pub parts: ElboParts,
    /// |ELBO*_n − ELBO*_m| between the last two rules: the error estimate of `elbo`.
    pub error_estimate: f64,
    /// max over coordinates of |θ̂_n − θ̂_m| in natural units (μ in units of σ̂, log σ̂² as is).
    pub location_error: f64,
    /// Nodes per dimension of the final rule (the Möbius integral route: nodes of its t-rule).
    pub nodes_per_dim: usize,
    /// Newton iterations, summed over the rules tried.
    pub iterations: usize,
    /// ELBO evaluations, summed over the rules tried.
    pub evaluations: usize,
    /// max|∂ELBO/∂θ| at θ̂ (original coordinates).
    pub grad_norm: f64,
    /// The smallest eigenvalue of −Ĥ in natural coordinates; > 0 certifies a strict local maximum.
    pub min_curvature: f64,
    /// Why the last Newton solve stopped.
    pub termination: Termination,
}

/// The self-consistent start of Prop. 1: μ = g(x), log σ² = log of the RHS of eq. 12.
pub fn self_consistent_encoder(query: &Query) -> Result<Encoder, OracleError> {
    Eq12Terms::at_observation(query.model(), query.x())?.encoder(query.precision())
}

/// The optimal encoder from the self-consistent start ([`self_consistent_encoder`]).
pub fn optimal_encoder(
    query: &Query,
    opts: &QuadratureOptions,
) -> Result<OptimalEncoder, OracleError> {
    optimal_encoder_from(query, &self_consistent_encoder(query)?, opts)
}

/// The optimal encoder reached from `start`: Newton on rules growing by tolerance, each larger rule
/// started from the optimum of the smaller one. For a Möbius(+affine) decoder the 1-D integral
/// route answers where the tensor route refuses a pole or its Newton iteration stalls (both seen
/// at γ² ≈ 1e2–1e3 for the §4.3 families).
pub fn optimal_encoder_from(
    query: &Query,
    start: &Encoder,
    opts: &QuadratureOptions,
) -> Result<OptimalEncoder, OracleError> {
    query.check_encoder(start)?;
    match optimal_encoder_tensor(query, start, opts) {
        Err(OracleError::PoleTooClose { .. } | OracleError::NotConverged { .. })
            if moebius_route_applies(query) =>
        {
            optimal_encoder_moebius(query, start, opts)
        }
        other => other,
    }
}

/// The optimal encoder on tensor Gauss–Hermite rules grown by tolerance (module docs).
fn optimal_encoder_tensor(
    query: &Query,
    start: &Encoder,
    opts: &QuadratureOptions,
) -> Result<OptimalEncoder, OracleError> {
    let d = start.dim();
    let mut ws = ElboWorkspace::new(query.model());
    let nopts = NewtonOptions::default();
    let (mut iterations, mut evaluations) = (0, 0);
    let r = refine(
        opts,
        "ELBO* (optimal encoder)",
        |n, prev: Option<&NewtonResult>| -> Result<Option<NewtonResult>, OracleError> {
            let Some(rule) = TensorRule::within_budget(n, d, opts.max_total())? else {
                return Ok(None);
            };
            let from = match prev {
                Some(p) => Encoder::from_theta(&p.theta)?,
                None => start.clone(),
            };
            let res = newton_on_rule(query, &from, &rule, &nopts, &mut ws)?;
            iterations += res.iterations;
            evaluations += res.evaluations;
            Ok(Some(res))
        },
        |res| res.parts.total(),
    )?;
    let (prev, cur) = (r.prev, r.cur);
    let scale = natural_scale(&cur.theta, d);
    let location_error = (0..2 * d)
        .map(|i| (cur.theta[i] - prev.theta[i]).abs() / scale[i])
        .fold(0.0, f64::max);
    let min_curvature = natural_neg_hessian(&cur.hessian, &scale)
        .symmetric_eigenvalues()
        .min();
    let logvar = cur.theta.rows(d, d).into_owned();
    Ok(OptimalEncoder {
        mu: cur.theta.rows(0, d).into_owned(),
        sigma2: logvar.map(f64::exp),
        logvar,
        elbo: cur.parts.total(),
        parts: cur.parts,
        error_estimate: r.err,
        location_error,
        nodes_per_dim: r.nodes,
        iterations,
        evaluations,
        grad_norm: cur.gradient.amax(),
        min_curvature,
        termination: cur.termination,
    })
}

/// The Newton decrement floor at θ = (μ, log σ²): the value noise of the reconstruction term at
/// the larger of max|x| and max|f(μ)| ([`newton_decrement_floor`]).
fn decrement_floor(query: &Query, theta: &DVector<f64>, xmax: f64) -> f64 {
    let d = query.model().dim_latent();
    let fmax = query
        .model()
        .decoder()
        .forward(&DVector::from_column_slice(&theta.as_slice()[..d]))
        .map(|f| f.amax())
        .unwrap_or(0.0);
    newton_decrement_floor(d, query.gamma2(), xmax.max(fmax))
}

/// The optimal encoder of a Möbius(+affine) decoder by Newton on [`moebius_elbo`] (module docs).
fn optimal_encoder_moebius(
    query: &Query,
    start: &Encoder,
    opts: &QuadratureOptions,
) -> Result<OptimalEncoder, OracleError> {
    let d = start.dim();
    let xmax = query.x().amax();
    let f = |t: &DVector<f64>, order| -> Result<Eval<MoebiusElbo>, OracleError> {
        let e = moebius_elbo(query, &Encoder::from_theta(t)?, Beta::ONE, order)?;
        Ok(Eval {
            value: e.value,
            value_noise: value_noise(e.parts.terms()),
            gradient: e.gradient.clone(),
            hessian: e.hessian.clone(),
            extra: e,
        })
    };
    let floor = |t: &DVector<f64>| decrement_floor(query, t, xmax);
    let s = maximize(
        "optimal encoder (Newton, Moebius integral)",
        f,
        &start.theta(),
        |t: &DVector<f64>| natural_scale(t, d),
        floor,
        &NewtonOptions::default(),
    )?;
    let e = s.last.extra;
    let elbo = e.parts.total();
    let requested = opts.tol() * elbo.abs().max(1.0);
    if e.error_estimate > requested || e.error_estimate.is_nan() {
        return Err(OracleError::QuadratureNotConverged {
            what: "ELBO* (optimal encoder, Moebius integral)",
            requested,
            achieved: e.error_estimate,
            nodes_per_dim: e.t_nodes,
        });
    }
    let scale = natural_scale(&s.theta, d);
    let hess = s.last.hessian.expect("final evaluation has a Hessian");
    let grad = s.last.gradient.expect("final evaluation has a gradient");
    let neg = natural_neg_hessian(&hess, &scale);
    // δθ̂ = (−Ĥ)⁻¹ D δg: where the integral's gradient error would move the optimum.
    let dg = e
        .gradient_error
        .as_ref()
        .expect("a Hessian evaluation has a gradient error")
        .component_mul(&scale);
    let location_error = neg
        .clone()
        .cholesky()
        .map(|c| c.solve(&dg).amax())
        .unwrap_or(f64::INFINITY);
    let min_curvature = neg.symmetric_eigenvalues().min();
    let logvar = s.theta.rows(d, d).into_owned();
    Ok(OptimalEncoder {
        mu: s.theta.rows(0, d).into_owned(),
        sigma2: logvar.map(f64::exp),
        logvar,
        elbo,
        parts: e.parts,
        error_estimate: e.error_estimate,
        location_error,
        nodes_per_dim: e.t_nodes,
        iterations: s.iterations,
        evaluations: s.evaluations,
        grad_norm: grad.amax(),
        min_curvature,
        termination: s.termination,
    })
}
