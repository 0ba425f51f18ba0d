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
//! Where the posterior's tail along an axis of L⁻ᵀ is heavier than the Gaussian's, e^ψ grows and the
//! rule converges slowly; each axis k is therefore widened by s_k = min(3, max(1, 4/√(2Δ_k))), Δ_k
//! the drop of φ at u = ±4 e_k (a Gaussian drops by 8), i.e. L⁻ᵀ → L⁻ᵀ diag(s) and the log-Jacobian
//! Σ log s_k joins the offset. Any such linear change of variables leaves the integral unchanged; it
//! only moves the nodes, and the node-doubling test still decides convergence.
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
//! [`log_marginal`] runs both routes in lockstep for square invertible decoders and takes the first
//! to converge. Where the posterior has one-sided heavy tails (a leaky-softplus unit near its kink:
//! slope α on one side, 1 on the other) the Laplace-centred integrand e^ψ grows against the Gaussian
//! weight and Gauss–Hermite converges slowly; the x-space integrand does not see this at large γ,
//! while at small γ the blur is wide and the x-space route is the slow one.
//!
//! # Poles
//!
//! The Laplace route refuses (an error, not a number) when a latent Möbius pole has Gaussian mass
//! above [`crate::elbo::POLE_MASS_TOL`] under N(ẑ, H⁻¹); the x-space route likewise for the
//! observation-space singularities of g under N(x, γ⁻² I).

use crate::decoder::Workspace;
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

/// The largest rule the x-space route may use inside [`log_marginal`]: its nodes each cost an
/// inverse of the decoder, and where it needs more than this the Laplace-centred route is cheaper.
pub const AUTO_X_SPACE_MAX_NODES: usize = 42;

/// log pθ(x), by whichever route converges first: for square invertible decoders the x-space and
/// the Laplace-centred routes run in lockstep (the same node counts, growing together; the x-space
/// route only up to [`AUTO_X_SPACE_MAX_NODES`]) and the first to meet the tolerance answers — the
/// x-space route usually at large γ (narrow blur), the Laplace-centred one at small γ (broad
/// posterior). Otherwise (D > d) the Laplace-centred route alone. A route that refuses (a pole
/// in reach, a decoder failure) drops out; if both do, the Laplace-centred route's error is
/// returned. The result says which route answered.
pub fn log_marginal(
    model: &Model,
    x: &[f64],
    gamma2: f64,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    opts.validate()?;
    check_vec("x", x, model.dim_observed())?;
    check_gamma2(gamma2)?;
    let mut routes: Vec<Box<dyn RouteEval + '_>> = Vec::new();
    let mut error = None;
    if model.decoder().is_square() {
        match XSpace::new(model, x, gamma2, AUTO_X_SPACE_MAX_NODES) {
            Ok(r) => routes.push(Box::new(r)),
            Err(e) => error = Some(e),
        }
    }
    match posterior_mode(model, x, gamma2, None).and_then(|m| LaplaceCentred::new(model, gamma2, m))
    {
        Ok(r) => routes.push(Box::new(r)),
        Err(e) => error = Some(e),
    }
    converge(routes, opts, error)
}

/// log pθ(x) by the Laplace-centred quadrature alone (module docs).
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

/// As [`log_marginal_laplace`], from a mode already found.
pub fn log_marginal_at_mode(
    model: &Model,
    gamma2: f64,
    mode: &PosteriorMode,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    opts.validate()?;
    let route = LaplaceCentred::new(model, gamma2, mode.clone())?;
    converge(vec![Box::new(route)], opts, None)
}

/// log pθ(x) by the x-space route alone (module docs): square invertible decoders only.
pub fn log_marginal_x_space(
    model: &Model,
    x: &[f64],
    gamma2: f64,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    opts.validate()?;
    check_vec("x", x, model.dim_observed())?;
    check_gamma2(gamma2)?;
    let route = XSpace::new(model, x, gamma2, usize::MAX)?;
    converge(vec![Box::new(route)], opts, None)
}

/// Where the Laplace-centred route probes the posterior's tails, in Laplace standard deviations.
const PROBE: f64 = 4.0;
/// The largest widening of a Laplace axis.
const MAX_WIDEN: f64 = 3.0;

/// One quadrature route: log E[…] on the n-point tensor rule (`None` past the node budget), and the
/// offset it is added to.
trait RouteEval {
    fn log_mean(&mut self, n: usize, max_total: usize) -> Result<Option<f64>, OracleError>;
    fn offset(&self) -> f64;
    fn route(&self) -> Route;
    fn what(&self) -> &'static str;
}

struct LaplaceCentred<'a> {
    model: &'a Model,
    gamma2: f64,
    mode: PosteriorMode,
    /// L⁻ᵀ, so that z = ẑ + M u.
    m: DMatrix<f64>,
    laplace: f64,
    ws: Workspace,
    lp0: Vec<f64>,
    dz: Vec<f64>,
    terms: Vec<f64>,
}

impl<'a> LaplaceCentred<'a> {
    fn new(model: &'a Model, gamma2: f64, mode: PosteriorMode) -> Result<Self, OracleError> {
        let d = model.dim_latent();
        let dd = model.dim_observed();
        let not_pd = OracleError::NotConverged {
            what: "posterior mode",
            iterations: mode.iterations,
            grad_norm: f64::NAN,
            reason: "the curvature at the mode is not positive definite",
        };
        let chol = mode.hessian.clone().cholesky().ok_or(not_pd.clone())?;
        let l = chol.l();
        model.guard_poles(
            mode.z.as_slice(),
            |v| (l.transpose() * v).norm_squared(),
            POLE_MASS_TOL,
            false,
        )?;
        let mut m = l.transpose().try_inverse().ok_or(not_pd)?;
        let mut ws = model.decoder().workspace();
        model.decoder().set_base(mode.z.as_slice(), &mut ws)?;
        let lp0: Vec<f64> = mode
            .z
            .iter()
            .map(|&t| model.prior().log_density(t))
            .collect();
        // Widen the axes along which the posterior's tail is heavier than its Laplace Gaussian (see
        // the module docs): probe φ at u = ±PROBE e_k; a Gaussian would drop by PROBE²/2.
        let mut log_widen = 0.0;
        {
            let mut dz = vec![0.0; d];
            for k in 0..d {
                let mut widen = 1.0f64;
                for sign in [-1.0, 1.0] {
                    for (i, o) in dz.iter_mut().enumerate() {
                        *o = m[(i, k)] * sign * PROBE;
                    }
                    let drop = match model.decoder().eval_offset(&dz, &mut ws, false) {
                        Ok(()) => {
                            let (mut ff, mut rf) = (0.0, 0.0);
                            for (df, r) in ws.output_diff().iter().zip(mode.residual.iter()) {
                                ff += df * df;
                                rf += r * df;
                            }
                            let dp: f64 = (0..d)
                                .map(|i| model.prior().log_density(mode.z[i] + dz[i]) - lp0[i])
                                .sum();
                            0.5 * gamma2 * (ff - 2.0 * rf) - dp
                        }
                        Err(_) => f64::INFINITY,
                    };
                    if drop > 0.0 && drop.is_finite() {
                        widen = widen.max(PROBE / (2.0 * drop).sqrt());
                    }
                }
                let widen = widen.min(MAX_WIDEN);
                for i in 0..d {
                    m[(i, k)] *= widen;
                }
                log_widen += widen.ln();
            }
        }
        let laplace = 0.5 * dd as f64 * (gamma2 / (2.0 * PI)).ln()
            + mode.phi
            + 0.5 * d as f64 * (2.0 * PI).ln()
            - l.diagonal().iter().map(|t| t.ln()).sum::<f64>()
            + log_widen;
        Ok(LaplaceCentred {
            model,
            gamma2,
            mode,
            m,
            laplace,
            ws,
            lp0,
            dz: vec![0.0; d],
            terms: Vec::new(),
        })
    }
}

impl RouteEval for LaplaceCentred<'_> {
    fn log_mean(&mut self, n: usize, max_total: usize) -> Result<Option<f64>, OracleError> {
        let d = self.model.dim_latent();
        let Some(rule) = TensorRule::new(n, d, max_total) else {
            return Ok(None);
        };
        let (dec, prior) = (self.model.decoder(), self.model.prior());
        self.terms.clear();
        for j in 0..rule.len() {
            let u = rule.node(j);
            for (k, o) in self.dz.iter_mut().enumerate() {
                *o = (0..d).map(|i| self.m[(k, i)] * u[i]).sum();
            }
            dec.eval_offset(&self.dz, &mut self.ws, false)?;
            let (mut ff, mut rf) = (0.0, 0.0);
            for (df, r) in self.ws.output_diff().iter().zip(self.mode.residual.iter()) {
                ff += df * df;
                rf += r * df;
            }
            let dprior: f64 = (0..d)
                .map(|k| prior.log_density(self.mode.z[k] + self.dz[k]) - self.lp0[k])
                .sum();
            let uu: f64 = u.iter().map(|t| t * t).sum();
            let psi = -0.5 * self.gamma2 * (ff - 2.0 * rf) + dprior + 0.5 * uu;
            self.terms.push(rule.weight(j).ln() + psi);
        }
        Ok(Some(log_sum_exp(&self.terms)))
    }
    fn offset(&self) -> f64 {
        self.laplace
    }
    fn route(&self) -> Route {
        Route::LaplaceCentred
    }
    fn what(&self) -> &'static str {
        "log marginal (Laplace-centred)"
    }
}

struct XSpace<'a> {
    model: &'a Model,
    x: &'a [f64],
    gamma: f64,
    ws: Workspace,
    y: Vec<f64>,
    terms: Vec<f64>,
    /// The largest rule this route may use (its nodes cost an inverse each).
    max_n: usize,
}

impl<'a> XSpace<'a> {
    fn new(model: &'a Model, x: &'a [f64], gamma2: f64, max_n: usize) -> Result<Self, OracleError> {
        let dd = model.dim_observed();
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
        Ok(XSpace {
            model,
            x,
            gamma: gamma2.sqrt(),
            ws: model.decoder().workspace(),
            y: vec![0.0; dd],
            terms: Vec::new(),
            max_n,
        })
    }
}

impl RouteEval for XSpace<'_> {
    fn log_mean(&mut self, n: usize, max_total: usize) -> Result<Option<f64>, OracleError> {
        if n > self.max_n {
            return Ok(None);
        }
        let Some(rule) = TensorRule::new(n, self.y.len(), max_total) else {
            return Ok(None);
        };
        let (dec, prior) = (self.model.decoder(), self.model.prior());
        self.terms.clear();
        for j in 0..rule.len() {
            for ((o, xi), u) in self.y.iter_mut().zip(self.x).zip(rule.node(j)) {
                *o = xi + u / self.gamma;
            }
            dec.inverse_into(&self.y, &mut self.ws)?;
            let ld = dec.log_abs_det_from(&self.ws)?;
            self.terms
                .push(rule.weight(j).ln() + prior.log_density_sum(self.ws.input()) - ld);
        }
        Ok(Some(log_sum_exp(&self.terms)))
    }
    fn offset(&self) -> f64 {
        0.0
    }
    fn route(&self) -> Route {
        Route::XSpace
    }
    fn what(&self) -> &'static str {
        "log marginal (x-space)"
    }
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

/// Grows the rule of every route together until one route's two successive values agree to the
/// tolerance. A route that errors drops out (its error kept for the report if none is left).
fn converge(
    mut routes: Vec<Box<dyn RouteEval + '_>>,
    opts: &QuadratureOptions,
    mut error: Option<OracleError>,
) -> Result<MarginalEstimate, OracleError> {
    let mut n = opts.min_nodes;
    let mut prev: Vec<Option<f64>> = vec![None; routes.len()];
    let mut best = (f64::INFINITY, n, "log marginal");
    loop {
        let mut any = false;
        for (r, p) in routes.iter_mut().zip(prev.iter_mut()) {
            if p.is_none() && n != opts.min_nodes {
                continue; // dropped earlier
            }
            match r.log_mean(n, opts.max_total) {
                Ok(Some(v)) => {
                    let cur = r.offset() + v;
                    any = true;
                    if let Some(before) = *p {
                        let err = (cur - before).abs();
                        if err < best.0 {
                            best = (err, n, r.what());
                        }
                        if err <= opts.tol * cur.abs().max(1.0) {
                            return Ok(MarginalEstimate {
                                value: cur,
                                error_estimate: err,
                                nodes_per_dim: n,
                                laplace: r.offset(),
                                route: r.route(),
                            });
                        }
                    }
                    *p = Some(cur);
                }
                Ok(None) => *p = None,
                Err(e) => {
                    *p = None;
                    error = Some(e);
                }
            }
        }
        let m = opts.next(n);
        if !any || m == n {
            break;
        }
        n = m;
    }
    if best.0.is_finite() || error.is_none() {
        return Err(OracleError::QuadratureNotConverged {
            what: best.2,
            requested: opts.tol,
            achieved: best.0,
            nodes_per_dim: best.1,
        });
    }
    Err(error.expect("checked"))
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
