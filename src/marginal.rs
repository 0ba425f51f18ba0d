//! The marginal likelihood log pθ(x) = log ∫ N(x; f(z), γ⁻² I) p0(z) dz at finite γ, its posterior
//! mode, and the gap KL(q ‖ pθ(z | x)) of eq. 2.
//!
//! # Laplace-centred quadrature (the main route)
//!
//! With φ(z) = −(γ²/2)‖x − f(z)‖² + log p0(z), the mode ẑ = argmax φ (Newton from g(x), see
//! [`crate::newton`]) and H = −∇²φ(ẑ) = γ²(JᵀJ − Σ_i r_i ∇²f_i) − diag((log m)'') = L Lᵀ,
//! the substitution z = ẑ + L⁻ᵀu gives
//!
//! log pθ(x) = (D/2) log(γ²/2π) + φ(ẑ) + (d/2) log 2π − Σ_k log L_kk + log E_{u~N(0,I)}[e^{ψ(u)}],
//! ψ(u) = φ(ẑ + L⁻ᵀu) − φ(ẑ) + ½‖u‖².
//!
//! The first four terms are the Laplace approximation; ψ = O(‖u‖³/γ) measures the posterior's
//! departure from its Laplace Gaussian, so the Gauss–Hermite rule converges the faster the larger γ.
//! Inside ψ, φ(z) − φ(ẑ) = −(γ²/2)(‖Δf‖² − 2 r̂·Δf) + Σ_k [log m(z_k) − log m(ẑ_k)] with
//! Δf = f(z) − f(ẑ) in difference form: no cancellation at large γ. The node count grows until two
//! rules agree to the tolerance; their difference is the error estimate.
//!
//! # x-space route (an independent check, square invertible decoders)
//!
//! pθ is the flow density p_flow(y) = p0(g(y))/|det J_f(g(y))| (eq. 4) blurred by N(0, γ⁻² I):
//! log pθ(x) = log E_{ξ~N(0, I_D)}[p_flow(x + ξ/γ)], by Gauss–Hermite over ξ. It needs only g and
//! log|det J| and its integrand flattens as γ grows.
//!
//! # Which route
//!
//! [`log_marginal`] picks: x-space first for square invertible decoders (with a small node budget),
//! else or failing that the Laplace-centred route. Where the posterior has one-sided heavy tails
//! (a leaky-softplus unit near its kink: slope α on one side, 1 on the other) the Laplace-centred
//! integrand e^ψ grows against the Gaussian weight and Gauss–Hermite converges slowly; the x-space
//! integrand does not see this at large γ.
//!
//! # Poles
//!
//! The Laplace route refuses (an error, not a number) when a latent Möbius pole has Gaussian mass
//! above [`crate::elbo::POLE_MASS_TOL`] under N(ẑ, H⁻¹); the x-space route likewise for the
//! observation-space singularities of g under N(x, γ⁻² I).

use crate::elbo::{elbo, ElboEstimate, QuadratureOptions, POLE_MASS_TOL};
use crate::error::{check_gamma2, check_vec, OracleError};
use crate::model::Model;
use crate::newton::{maximize, Eval, NewtonOptions, Termination};
use crate::quadrature::TensorRule;
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;

/// The posterior mode ẑ = argmax_z [log p(x | z) + log p0(z)] and the curvature there.
#[derive(Debug, Clone, PartialEq)]
pub struct PosteriorMode {
    /// ẑ.
    pub z: DVector<f64>,
    /// H = −∇² log p(x, z) at ẑ (positive definite).
    pub hessian: DMatrix<f64>,
    /// x − f(ẑ).
    pub residual: DVector<f64>,
    /// φ(ẑ) = −(γ²/2)‖x − f(ẑ)‖² + log p0(ẑ) (without the (D/2) log(γ²/2π) normaliser).
    pub phi: f64,
    /// Newton iterations.
    pub iterations: usize,
    /// Why Newton stopped.
    pub termination: Termination,
}

/// The posterior mode, by Newton from `start` (default: g(x)).
pub fn posterior_mode(
    model: &Model,
    x: &[f64],
    gamma2: f64,
    start: Option<&[f64]>,
) -> Result<PosteriorMode, OracleError> {
    check_vec("x", x, model.dim_observed())?;
    check_gamma2(gamma2)?;
    let d = model.dim_latent();
    let dd = model.dim_observed();
    let z0 = match start {
        Some(s) => {
            check_vec("start", s, d)?;
            DVector::from_column_slice(s)
        }
        None => model.decoder().inverse(&DVector::from_column_slice(x))?,
    };
    let dec = model.decoder();
    let prior = model.prior();
    let mut ws = dec.workspace();
    let mut hc = DMatrix::zeros(d, d);
    let eps = f64::EPSILON;
    let f = |z: &DVector<f64>, order| -> Result<Eval<DVector<f64>>, OracleError> {
        let want = order >= crate::elbo::Order::Gradient;
        dec.eval(z.as_slice(), &mut ws, want)?;
        let r = DVector::from_fn(dd, |i, _| x[i] - ws.output()[i]);
        let lp = prior.log_density_sum(z.as_slice());
        let rec = 0.5 * gamma2 * r.norm_squared();
        let mut e = Eval {
            value: lp - rec,
            value_noise: 8.0 * eps * (1.0 + rec + lp.abs()),
            gradient: None,
            hessian: None,
            extra: r.clone(),
        };
        if want {
            let j = ws.jacobian();
            let mut g = j.tr_mul(&r) * gamma2;
            for k in 0..d {
                g[k] += prior.d1(z[k]);
            }
            e.gradient = Some(g);
            if order >= crate::elbo::Order::Hessian {
                let jtj = j.tr_mul(j);
                dec.hessian_contraction_into(&mut ws, r.as_slice(), &mut hc)?;
                let mut h = (hc.clone() - jtj) * gamma2;
                for k in 0..d {
                    h[(k, k)] += prior.d2(z[k]);
                }
                e.hessian = Some(h);
            }
        }
        Ok(e)
    };
    // Natural scales at the start: the eq. 12 widths 1/√(−(log m)'' + γ²‖J_:k‖²).
    let j0 = dec.jacobian(&z0)?;
    let scale0 = DVector::from_fn(d, |k, _| {
        1.0 / (-prior.d2(z0[k]) + gamma2 * j0.column(k).norm_squared()).sqrt()
    });
    let xmax = x.iter().fold(0.0f64, |a, t| a.max(t.abs()));
    let floor = 64.0 * 64.0 * eps * eps * d as f64 * (1.0 + gamma2 * xmax * xmax);
    let s = maximize(
        "posterior mode (Newton)",
        f,
        &z0,
        |_| scale0.clone(),
        |_| floor,
        &NewtonOptions::default(),
    )?;
    let hessian = -s.last.hessian.expect("final evaluation has a Hessian");
    Ok(PosteriorMode {
        z: s.theta,
        hessian,
        residual: s.last.extra,
        phi: s.last.value,
        iterations: s.iterations,
        termination: s.termination,
    })
}

/// log pθ(x) with its error estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginalEstimate {
    /// log pθ(x).
    pub value: f64,
    /// The difference between the last two rules.
    pub error_estimate: f64,
    /// Nodes per dimension of the rule that produced `value`.
    pub nodes_per_dim: usize,
    /// The Laplace approximation (the first four terms of the module formula); 0 for the x-space route.
    pub laplace: f64,
    /// Which route produced the value.
    pub route: Route,
}

/// The quadrature route of a [`MarginalEstimate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Gauss–Hermite in z around the posterior mode, scaled by the Laplace curvature.
    LaplaceCentred,
    /// Gauss–Hermite over the N(0, γ⁻² I) blur of the flow density, in x.
    XSpace,
}

/// The largest x-space rule [`log_marginal`] tries before switching to the Laplace-centred route.
pub const AUTO_X_SPACE_MAX_NODES: usize = 28;

/// log pθ(x), by whichever route converges cheaply: for square invertible decoders the x-space
/// route is tried first with at most [`AUTO_X_SPACE_MAX_NODES`] nodes per dimension (it converges
/// fastest at large γ, where the blur is narrow); if it refuses or does not converge, the
/// Laplace-centred route with the full budget (it alone handles D > d, and it converges faster
/// at small γ, where the posterior is broad). Both are documented in the module; the result says
/// which one answered.
pub fn log_marginal(
    model: &Model,
    x: &[f64],
    gamma2: f64,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    opts.validate()?;
    if model.decoder().is_square() {
        let quick = QuadratureOptions {
            max_nodes: opts.max_nodes.min(AUTO_X_SPACE_MAX_NODES),
            ..*opts
        };
        match log_marginal_x_space(model, x, gamma2, &quick) {
            Ok(m) => return Ok(m),
            Err(OracleError::QuadratureNotConverged { .. } | OracleError::PoleTooClose { .. }) => {}
            Err(OracleError::Decoder(_)) => {}
            Err(e) => return Err(e),
        }
    }
    log_marginal_laplace(model, x, gamma2, opts)
}

/// log pθ(x) by the Laplace-centred quadrature (module docs), to `opts.tol`·max(1, |log p|).
pub fn log_marginal_laplace(
    model: &Model,
    x: &[f64],
    gamma2: f64,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    opts.validate()?;
    let mode = posterior_mode(model, x, gamma2, None)?;
    log_marginal_at_mode(model, gamma2, &mode, opts)
}

/// As [`log_marginal`], from a mode already found.
pub fn log_marginal_at_mode(
    model: &Model,
    gamma2: f64,
    mode: &PosteriorMode,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    let d = model.dim_latent();
    let dd = model.dim_observed();
    let chol = mode
        .hessian
        .clone()
        .cholesky()
        .ok_or(OracleError::NotConverged {
            what: "posterior mode",
            iterations: mode.iterations,
            grad_norm: f64::NAN,
            reason: "the curvature at the mode is not positive definite",
        })?;
    let l = chol.l();
    model.guard_poles(
        mode.z.as_slice(),
        |v| (l.transpose() * v).norm_squared(),
        POLE_MASS_TOL,
        false,
    )?;
    // M = L⁻ᵀ, so that z = ẑ + M u.
    let m = l
        .transpose()
        .try_inverse()
        .ok_or(OracleError::NotConverged {
            what: "posterior mode",
            iterations: mode.iterations,
            grad_norm: f64::NAN,
            reason: "the Cholesky factor is singular",
        })?;
    let laplace =
        0.5 * dd as f64 * (gamma2 / (2.0 * PI)).ln() + mode.phi + 0.5 * d as f64 * (2.0 * PI).ln()
            - l.diagonal().iter().map(|t| t.ln()).sum::<f64>();
    let dec = model.decoder();
    let prior = model.prior();
    let mut ws = dec.workspace();
    dec.set_base(mode.z.as_slice(), &mut ws)?;
    let lp0: Vec<f64> = mode.z.iter().map(|&t| prior.log_density(t)).collect();
    let mut dz = vec![0.0; d];
    let mut terms = Vec::new();
    let mut log_mean = |n: usize| -> Result<Option<f64>, OracleError> {
        let Some(rule) = TensorRule::new(n, d, opts.max_total) else {
            return Ok(None);
        };
        terms.clear();
        for j in 0..rule.len() {
            let u = rule.node(j);
            for (k, o) in dz.iter_mut().enumerate() {
                *o = (0..d).map(|i| m[(k, i)] * u[i]).sum();
            }
            dec.eval_offset(&dz, &mut ws, false)?;
            let (mut ff, mut rf) = (0.0, 0.0);
            for (df, r) in ws.output_diff().iter().zip(mode.residual.iter()) {
                ff += df * df;
                rf += r * df;
            }
            let dprior: f64 = (0..d)
                .map(|k| prior.log_density(mode.z[k] + dz[k]) - lp0[k])
                .sum();
            let uu: f64 = u.iter().map(|t| t * t).sum();
            let psi = -0.5 * gamma2 * (ff - 2.0 * rf) + dprior + 0.5 * uu;
            terms.push(rule.weight(j).ln() + psi);
        }
        Ok(Some(log_sum_exp(&terms)))
    };
    converge(
        "log marginal (Laplace-centred)",
        opts,
        &mut log_mean,
        laplace,
        Route::LaplaceCentred,
    )
}

/// log pθ(x) by the x-space route (module docs): square invertible decoders only.
pub fn log_marginal_x_space(
    model: &Model,
    x: &[f64],
    gamma2: f64,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    opts.validate()?;
    check_vec("x", x, model.dim_observed())?;
    check_gamma2(gamma2)?;
    let dd = model.dim_observed();
    let gamma = gamma2.sqrt();
    for (step, xp) in model.x_poles() {
        let t = gamma2 * (xp - DVector::from_column_slice(x)).norm_squared();
        let bound = crate::model::chi2_tail_bound(dd, t);
        if bound > POLE_MASS_TOL {
            return Err(OracleError::PoleTooClose {
                step: *step,
                mahalanobis: t.sqrt(),
                mass_bound: bound,
            });
        }
    }
    let dec = model.decoder();
    let prior = model.prior();
    let mut ws = dec.workspace();
    let mut y = vec![0.0; dd];
    let mut terms = Vec::new();
    let mut log_mean = |n: usize| -> Result<Option<f64>, OracleError> {
        let Some(rule) = TensorRule::new(n, dd, opts.max_total) else {
            return Ok(None);
        };
        terms.clear();
        for j in 0..rule.len() {
            for ((o, xi), u) in y.iter_mut().zip(x).zip(rule.node(j)) {
                *o = xi + u / gamma;
            }
            dec.inverse_into(&y, &mut ws)?;
            let ld = dec.log_abs_det_from(&ws)?;
            terms.push(rule.weight(j).ln() + prior.log_density_sum(ws.input()) - ld);
        }
        Ok(Some(log_sum_exp(&terms)))
    };
    converge(
        "log marginal (x-space)",
        opts,
        &mut log_mean,
        0.0,
        Route::XSpace,
    )
}

/// log Σ_j e^{a_j}, shifted by the maximum, summed with compensation.
fn log_sum_exp(a: &[f64]) -> f64 {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    let mut acc = crate::quadrature::Neumaier::default();
    for &v in a {
        acc.add((v - m).exp());
    }
    m + acc.sum().ln()
}

/// Grows the rule until two successive values of `offset + f(n)` agree to the tolerance.
fn converge(
    what: &'static str,
    opts: &QuadratureOptions,
    f: &mut impl FnMut(usize) -> Result<Option<f64>, OracleError>,
    offset: f64,
    route: Route,
) -> Result<MarginalEstimate, OracleError> {
    let mut n = opts.min_nodes;
    let mut prev = offset
        + f(n)?.ok_or(OracleError::InvalidParameter {
            what: "min_nodes (n^d exceeds max_total)",
            value: n as f64,
        })?;
    let mut best = f64::INFINITY;
    loop {
        let m = opts.next(n);
        if m == n {
            break;
        }
        let Some(v) = f(m)? else { break };
        let cur = offset + v;
        let err = (cur - prev).abs();
        best = best.min(err);
        if err <= opts.tol * cur.abs().max(1.0) {
            return Ok(MarginalEstimate {
                value: cur,
                error_estimate: err,
                nodes_per_dim: m,
                laplace: offset,
                route,
            });
        }
        prev = cur;
        n = m;
    }
    Err(OracleError::QuadratureNotConverged {
        what,
        requested: opts.tol,
        achieved: best,
        nodes_per_dim: n,
    })
}

/// KL(q ‖ pθ(z | x)) for q = N(μ, diag e^{logvar}).
///
/// Any evaluation of this KL needs log pθ(x) (pθ(z | x) = p(x, z)/pθ(x)), and
/// E_q[log q − log p(x, z)] is −ELBO by definition, so KL = log pθ(x) − ELBO (eq. 2) is computed
/// from the converged marginal (Laplace-centred rule) and the converged ELBO (rule under q): two
/// independent quadratures. Its error estimate is the sum of theirs; KL ≥ 0 up to that error is the
/// non-trivial check. Returns (KL, error estimate, the ELBO estimate, the marginal estimate).
pub fn kl_to_posterior(
    model: &Model,
    x: &[f64],
    mu: &[f64],
    logvar: &[f64],
    gamma2: f64,
    opts: &QuadratureOptions,
) -> Result<(f64, f64, ElboEstimate, MarginalEstimate), OracleError> {
    let e = elbo(model, x, mu, logvar, gamma2, opts)?;
    let m = log_marginal(model, x, gamma2, opts)?;
    Ok((m.value - e.value, m.error_estimate + e.error_estimate, e, m))
}
