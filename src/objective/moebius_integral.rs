//! The reconstruction term E_q‖x − f(z)‖² of a Möbius decoder up to a 1-D integral (derivation:
//! `docs/moebius-integral.md`), with its gradient and Hessian in θ = (μ, s = log σ²).
//!
//! # Which decoders
//!
//! f = (affine steps) ∘ (one Möbius step f_M(z) = b + α A (z − a)/‖z − a‖², §4.3) — the Möbius step
//! first, then any number of affine steps (the §4.3 families). Then f(z) = o + M v with
//! v = u/‖u‖², u = z − a, M = α P A and o = P b + q, where y ↦ P y + q is the composed affine tail.
//!
//! # Formula
//!
//! Under q = N(μ, diag σ²), u ~ N(m, diag σ²) with m = μ − a. With c = x − o, w = Mᵀc, G = MᵀM,
//! r0 = x − f(μ) and v0 = m/‖m‖² (the value at the centre),
//!
//! E_q‖x − f(z)‖² = ‖r0‖² − 2 wᵀ(E[v] − v0) + G : (E[v vᵀ] − v0 v0ᵀ),
//!
//! and with 1/‖u‖^{2k} = Γ(k)⁻¹ ∫₀^∞ t^{k−1} e^{−t‖u‖²} dt and the Gaussian integral in closed form
//! per coordinate (p_k = 1 + 2tσ_k², ℓ0 = −t‖m‖², Δ = −½ Σ log p_k + Σ 2t²σ_k² m_k²/p_k, so that
//! E[e^{−t‖u‖²}] = e^{ℓ0 + Δ}):
//!
//! | moment | integrand over t ∈ (0, ∞) |
//! | --- | --- |
//! | E[v_i] − v0_i | m_i e^{ℓ0} (e^{Δ − log p_i} − 1) |
//! | E[v_i v_j] − v0_i v0_j | t [m_i m_j e^{ℓ0} (e^{Δ − log p_i − log p_j} − 1) + δ_ij σ_i² e^{ℓ0 + Δ − log p_i}] |
//!
//! Each difference e^{ℓ0}(e^{y} − 1) is formed as e^{ℓ0}·expm1(y) for |y| ≤ [`MOEBIUS_EXPM1_MAX`] (no cancellation at
//! small σ, where the moments are O(σ²) and the reconstruction term must keep its relative accuracy
//! at every γ²) and as e^{ℓ0 + y} − e^{ℓ0} beyond. When the pole is within q's spread
//! (‖m‖² < [`MOEBIUS_CENTRE_MIN`]·Σσ², μ = a included, where r0 is undefined or huge and ‖r0‖² would
//! cancel against the integral) the raw moments are used instead: ‖c‖² − 2 wᵀE[v] + G : E[v vᵀ],
//! integrands without the subtracted e^{ℓ0} terms, whose terms are then all of the size of the
//! result.
//!
//! # Convergence and divergence
//!
//! Near t = 0 the centred integrands are O(t) (raw: O(1)); for t → ∞ they decay like t^{−d/2}
//! (the E[v vᵀ] diagonal) — integrable iff d ≥ 3. In d ≤ 2 the integral diverges (E‖v‖² =
//! E[1/‖u‖²] = ∞ for every Gaussian in one or two dimensions), and since G is positive definite
//! E_q‖x − f(z)‖² = ∞: the exact ELBO is −∞ ([`OracleError::MinusInfinity`]).
//!
//! # Quadrature
//!
//! In x = log t the integrand (times the Jacobian t) decays exponentially at both ends — like e^{2x}
//! on the left ([`MOEBIUS_LEFT_DECAY`] below the scale 1/(‖m‖² + Σσ²)) and like e^{−(d/2 − 1)x} on
//! the right — and is analytic in the strip |Im x| < π/2 (p_k ≠ 0 for Re t > 0). The trapezoid rule
//! then converges geometrically in 1/h (error ~ e^{−π²/(2h)} using a strip of half-width π/4):
//! starting at h = [`MOEBIUS_H0`] the step is halved (reusing the nodes) until two successive levels
//! agree to [`MOEBIUS_T_TOL`] relative to the integral of |integrand| in every component of the jet
//! (value, gradient, Hessian). The difference between the last two levels is the error estimate
//! (conservative: the finer level's error is about the square of the coarser's), floored at the
//! round-off eps × ∫|integrand|. The right end is
//! where the remaining tail, bounded by the geometric series of the last term, falls below
//! [`MOEBIUS_TRUNC`] of the integral's size. Derivatives in θ are those of the discretised integral
//! (differentiation under the integral sign, carried by jets), so Newton sees a consistent
//! objective.

use super::elbo::{DerivativeOrder, ElboParts};
use super::gaussian::{entropy, log_normaliser};
use super::jet::{Jet, JetShape};
use super::prior_term::{check_prior_width, prior_term};
use crate::error::OracleError;
use crate::input::{Beta, Encoder, Query};
use crate::model::{Decoder, Step};
use crate::quadrature::Neumaier;
use crate::tol::{
    EPS, MOEBIUS_H0, MOEBIUS_LEFT_DECAY, MOEBIUS_MAX_LEVELS, MOEBIUS_MAX_SPAN, MOEBIUS_TAIL_START,
    MOEBIUS_TRUNC, MOEBIUS_T_TOL,
};
use crate::tol::{MOEBIUS_CENTRE_MIN, MOEBIUS_EXPM1_MAX};
use nalgebra::{DMatrix, DVector};

/// A decoder of the form (affine steps) ∘ Möbius, reduced to f(z) = o + M (z − a)/‖z − a‖².
#[derive(Debug, Clone)]
pub(crate) struct MoebiusAffine {
    /// The pole a.
    pole: DVector<f64>,
    /// M = α P A (D × d).
    m: DMatrix<f64>,
    /// o = P b + q (length D).
    offset: DVector<f64>,
}

impl MoebiusAffine {
    /// The reduction of `decoder`, if its first step is Möbius and every other step affine.
    pub(crate) fn of(decoder: &Decoder) -> Option<Self> {
        let (first, rest) = decoder.steps().split_first()?;
        let Step::Moebius(mo) = first else {
            return None;
        };
        let mut p = mo.rotation() * mo.alpha();
        let mut o = mo.shift().clone();
        for s in rest {
            let Step::Affine(af) = s else {
                return None;
            };
            p = af.weight() * p;
            o = af.weight() * o + af.bias();
        }
        Some(MoebiusAffine {
            pole: mo.pole().clone(),
            m: p,
            offset: o,
        })
    }

    /// The latent dimension d.
    pub(crate) fn dim(&self) -> usize {
        self.pole.len()
    }
}

/// E_q‖x − f(z)‖² as a jet in θ = (μ, s), with the error estimate of its integral.
#[derive(Debug, Clone)]
pub(crate) struct Reconstruction {
    /// E_q‖x − f(z)‖² (value, and the derivatives asked for).
    pub value: Jet,
    /// |I_h − I_{2h}| per component: the error estimate (value, then derivatives).
    pub error: Jet,
    /// Nodes of the finest t-rule.
    pub nodes: usize,
}

/// Which moments the integrand carries (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// Differences from the values at the centre: E[v] − v0, E[v vᵀ] − v0 v0ᵀ.
    Centred,
    /// E[v], E[v vᵀ] themselves.
    Raw,
}

/// The per-coordinate jets of one evaluation: m_k = μ_k − a_k, σ_k² = e^{s_k}, m_k².
struct Vars {
    m: Vec<Jet>,
    sig2: Vec<Jet>,
    msq: Vec<Jet>,
    shape: JetShape,
}

impl Vars {
    fn new(mu: &[f64], logvar: &[f64], pole: &[f64], order: DerivativeOrder) -> Self {
        let d = mu.len();
        let shape = JetShape {
            n: 2 * d,
            grad: order >= DerivativeOrder::Gradient,
            hess: order >= DerivativeOrder::Hessian,
        };
        let m: Vec<Jet> = (0..d).map(|k| shape.var(mu[k] - pole[k], k)).collect();
        let sig2 = (0..d).map(|k| shape.var(logvar[k], d + k).exp()).collect();
        let msq = m.iter().map(|j| j.mul(j)).collect();
        Vars {
            m,
            sig2,
            msq,
            shape,
        }
    }
}

/// The weights of the integrand: −2 w_i on the first moments, G_ij on the second.
pub(crate) struct Weights<'a> {
    /// w = Mᵀ c.
    pub w: &'a [f64],
    /// G = MᵀM.
    pub g: &'a DMatrix<f64>,
}

/// F(t) = −2 Σ_i w_i I1_i(t) + Σ_ij G_ij I2_ij(t): the integrand of the module table at t, in the
/// given form.
fn integrand(t: f64, v: &Vars, wts: &Weights, form: Form) -> Jet {
    let d = v.m.len();
    let q: Vec<Jet> = v.sig2.iter().map(|s| s.scale(2.0 * t)).collect();
    let lp: Vec<Jet> = q.iter().map(|q| q.ln_1p()).collect();
    // ℓ0 = −t‖m‖²; log Z = Σ (−½ log p_k − t m_k²/p_k) formed directly (for large t, ℓ0 and Δ are
    // huge and opposite: ℓ0 + Δ would lose every digit); Δ = log Z − ℓ0 formed as
    // Σ (−½ log p_k + t q_k m_k²/p_k), accurate where it is small (the expm1 branch).
    let mut l0 = v.shape.constant(0.0);
    let mut delta = v.shape.constant(0.0);
    let mut logz = v.shape.constant(0.0);
    for k in 0..d {
        l0.add_scaled(-t, &v.msq[k]);
        delta.add_scaled(-0.5, &lp[k]);
        logz.add_scaled(-0.5, &lp[k]);
        let m2_over_p = v.msq[k].mul(&q[k].add_const(1.0).recip());
        delta.add_scaled(t, &q[k].mul(&m2_over_p));
        logz.add_scaled(-t, &m2_over_p);
    }
    let e0 = l0.exp();
    // For ls = Σ_{k ∈ S} log p_k: e^{ℓ0}(e^{Δ − ls} − 1) (centred) or e^{log Z − ls} (raw).
    let de = |ls: &Jet| -> Jet {
        match form {
            Form::Raw => logz.sub(ls).exp(),
            Form::Centred => {
                let y = delta.sub(ls);
                if y.v.abs() <= MOEBIUS_EXPM1_MAX {
                    e0.mul(&y.exp_m1())
                } else {
                    logz.sub(ls).exp().sub(&e0)
                }
            }
        }
    };
    let mut f = v.shape.constant(0.0);
    for i in 0..d {
        if wts.w[i] != 0.0 {
            f.add_scaled(-2.0 * wts.w[i], &v.m[i].mul(&de(&lp[i])));
        }
        for j in i..d {
            let gij = wts.g[(i, j)];
            if gij == 0.0 {
                continue;
            }
            let mut term = v.m[i].mul(&v.m[j]).mul(&de(&lp[i].add(&lp[j])));
            if i == j {
                term = term.add(&v.sig2[i].mul(&logz.sub(&lp[i]).exp()));
            }
            let c = if i == j { gij } else { 2.0 * gij };
            f.add_scaled(c * t, &term);
        }
    }
    f
}

/// A converged t-integral: value, error estimate, nodes.
struct TIntegral {
    value: Jet,
    error: Jet,
    nodes: usize,
}

/// ∫₀^∞ F(t) dt by the trapezoid rule in x = log t with step halving (module docs). `x_lo` is the
/// left end, `x_tail` where the truncation test may start, `rate` the tail's decay rate in x.
fn integrate(
    f: impl Fn(f64) -> Jet,
    shape: JetShape,
    x_lo: f64,
    x_tail: f64,
    rate: f64,
) -> Result<TIntegral, OracleError> {
    let not_converged = |achieved: f64, nodes: usize| OracleError::QuadratureNotConverged {
        what: "Moebius reconstruction (t-integral)",
        requested: MOEBIUS_T_TOL,
        achieved,
        nodes_per_dim: nodes,
    };
    let term = |x: f64| -> Jet {
        let t = x.exp();
        f(t).scale(t)
    };
    let zero = shape.constant(0.0);
    // Level 0: walk right from x_lo until the tail is negligible.
    let mut h = MOEBIUS_H0;
    let mut sum = zero.clone();
    let mut sum_v = Neumaier::default();
    let mut mag = zero.clone();
    let mut n0 = 0usize;
    loop {
        let x = x_lo + n0 as f64 * h;
        let tj = term(x);
        add_abs(&mut mag, &tj);
        sum_v.add(tj.v);
        sum.add_scaled(1.0, &tj);
        n0 += 1;
        if x >= x_tail && tail_negligible(&tj, &mag, h, rate) {
            break;
        }
        if x - x_lo > MOEBIUS_MAX_SPAN {
            return Err(not_converged(f64::INFINITY, n0));
        }
    }
    let mut nodes = n0;
    let mut prev = integral(&sum, &sum_v, h);
    let mut achieved = f64::INFINITY;
    for _ in 0..MOEBIUS_MAX_LEVELS {
        // Halve: the new nodes are the midpoints of the current ones.
        let count = nodes - 1;
        h *= 0.5;
        for i in 0..count {
            let tj = term(x_lo + (2 * i + 1) as f64 * h);
            add_abs(&mut mag, &tj);
            sum_v.add(tj.v);
            sum.add_scaled(1.0, &tj);
        }
        nodes += count;
        let cur = integral(&sum, &sum_v, h);
        let err = abs_diff(&cur, &prev);
        // `mag` sums |terms| over every level so far: the current level's L1 norm is ≤ h·mag.
        let ok = components(&err)
            .zip(components(&mag))
            .all(|(e, m)| e <= MOEBIUS_T_TOL * h * m);
        if ok {
            // Never below the round-off of the sums: eps × the integral of |integrand|.
            let mut error = err;
            error.v = error.v.max(EPS * h * mag.v);
            for (e, m) in error
                .g
                .iter_mut()
                .zip(&mag.g)
                .chain(error.h.iter_mut().zip(&mag.h))
            {
                *e = e.max(EPS * h * m);
            }
            return Ok(TIntegral {
                value: cur,
                error,
                nodes,
            });
        }
        achieved = err.v / (h * mag.v).max(f64::MIN_POSITIVE);
        prev = cur;
        if !components(&err).all(f64::is_finite) {
            return Err(not_converged(f64::INFINITY, nodes));
        }
    }
    Err(not_converged(achieved, nodes))
}

/// The trapezoid value h·Σ with the compensated value.
fn integral(sum: &Jet, sum_v: &Neumaier, h: f64) -> Jet {
    let mut j = sum.scale(h);
    j.v = h * sum_v.sum();
    j
}

fn components(j: &Jet) -> impl Iterator<Item = f64> + '_ {
    std::iter::once(j.v)
        .chain(j.g.iter().copied())
        .chain(j.h.iter().copied())
}

fn add_abs(mag: &mut Jet, t: &Jet) {
    mag.v += t.v.abs();
    for (m, x) in mag.g.iter_mut().zip(&t.g) {
        *m += x.abs();
    }
    for (m, x) in mag.h.iter_mut().zip(&t.h) {
        *m += x.abs();
    }
}

fn abs_diff(a: &Jet, b: &Jet) -> Jet {
    let mut d = a.sub(b);
    d.v = d.v.abs();
    d.g.iter_mut().for_each(|x| *x = x.abs());
    d.h.iter_mut().for_each(|x| *x = x.abs());
    d
}

/// Whether the tail after a term is negligible in every component: the geometric series of the
/// term at decay rate `rate` per unit x, |term|/(1 − e^{−rate·h}), is below [`MOEBIUS_TRUNC`] of
/// Σ|terms| so far.
fn tail_negligible(term: &Jet, mag: &Jet, h: f64, rate: f64) -> bool {
    let factor = 1.0 / (1.0 - (-rate * h).exp());
    components(term)
        .zip(components(mag))
        .all(|(t, m)| t.abs() * factor <= MOEBIUS_TRUNC * m)
}

/// The t-integral of F in `form` for u ~ N(m, diag e^{s}) (m = μ − a): Σ of the weighted moment
/// integrands of the module table. Errors: d ≤ 2 ([`OracleError::MinusInfinity`], step 0), or a
/// rule that does not converge.
pub(crate) fn moment_integral(
    mu: &[f64],
    logvar: &[f64],
    pole: &[f64],
    wts: &Weights,
    form: Form,
    order: DerivativeOrder,
) -> Result<(Jet, Jet, usize), OracleError> {
    let d = mu.len();
    if d <= 2 {
        return Err(OracleError::MinusInfinity { step: 0 });
    }
    let v = Vars::new(mu, logvar, pole, order);
    let (x_lo, x_tail, rate) = t_range(&v, form);
    let r = integrate(|t| integrand(t, &v, wts, form), v.shape, x_lo, x_tail, rate)?;
    Ok((r.value, r.error, r.nodes))
}

/// The rule's range: the left end [`MOEBIUS_LEFT_DECAY`]/(left rate) below log t0,
/// t0 = 1/(‖m‖² + Σσ²); the truncation test starts [`MOEBIUS_TAIL_START`] above the log of the
/// largest scale 1/min(‖m‖², σ²_min) (past it, e^{ℓ0} is dead and every p_k ≥ 1 + 2e⁴); the tail
/// decays at rate d/2 − 1 in x.
fn t_range(v: &Vars, form: Form) -> (f64, f64, f64) {
    let m2: f64 = v.msq.iter().map(|j| j.v).sum();
    let s2: f64 = v.sig2.iter().map(|j| j.v).sum();
    let s2_min = v.sig2.iter().map(|j| j.v).fold(f64::INFINITY, f64::min);
    let left_rate = match form {
        Form::Centred => 2.0,
        Form::Raw => 1.0,
    };
    let x_lo = -(m2 + s2).ln() - MOEBIUS_LEFT_DECAY / left_rate;
    let small = if m2 > 0.0 { m2.min(s2_min) } else { s2_min };
    let x_tail = -small.ln() + MOEBIUS_TAIL_START;
    let rate = 0.5 * v.m.len() as f64 - 1.0;
    (x_lo, x_tail, rate)
}

/// E_q‖x − f(z)‖² for the Möbius–affine decoder `ma` at encoder `enc` (module docs), with the
/// derivatives `order` asks for. `fmu` is f(μ); the centred form is used when ‖m‖² ≥
/// [`MOEBIUS_CENTRE_MIN`]·Σσ², the raw form otherwise (or when f(μ) is not available).
pub(crate) fn reconstruction(
    ma: &MoebiusAffine,
    x: &DVector<f64>,
    fmu: Option<&DVector<f64>>,
    enc: &Encoder,
    order: DerivativeOrder,
) -> Result<Reconstruction, OracleError> {
    let c = x - &ma.offset;
    let w = ma.m.transpose() * &c;
    let g = ma.m.transpose() * &ma.m;
    let wts = Weights {
        w: w.as_slice(),
        g: &g,
    };
    let (mu, lv) = (enc.mu().as_slice(), enc.logvar().as_slice());
    let v = Vars::new(mu, lv, ma.pole.as_slice(), order);
    let m2: f64 = v.msq.iter().map(|j| j.v).sum();
    let s2: f64 = v.sig2.iter().map(|j| j.v).sum();
    let (form, base) = match fmu {
        Some(fmu) if m2 > 0.0 && m2 >= MOEBIUS_CENTRE_MIN * s2 => {
            // ‖r0‖² with r0 = x − f(μ): the value from f(μ), the derivatives from −M ∇v0.
            let inv = v
                .msq
                .iter()
                .fold(v.shape.constant(0.0), |a, b| a.add(b))
                .recip();
            let v0: Vec<Jet> = v.m.iter().map(|mk| mk.mul(&inv)).collect();
            let mut rr = v.shape.constant(0.0);
            for i in 0..x.len() {
                let mut ri = v.shape.constant(x[i] - fmu[i]);
                for (j, v0j) in v0.iter().enumerate() {
                    let mut dv = v0j.clone();
                    dv.v = 0.0;
                    ri.add_scaled(-ma.m[(i, j)], &dv);
                }
                rr = rr.add(&ri.mul(&ri));
            }
            (Form::Centred, rr)
        }
        _ => (Form::Raw, v.shape.constant(c.norm_squared())),
    };
    let (int, error, nodes) = moment_integral(mu, lv, ma.pole.as_slice(), &wts, form, order)?;
    Ok(Reconstruction {
        value: base.add(&int),
        error,
        nodes,
    })
}

/// The ELBO (or β-objective) by the Möbius integral route, with the derivatives asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct MoebiusElbo {
    /// The four (unscaled) ELBO terms.
    pub parts: ElboParts,
    /// The objective: the ELBO, or the β-objective.
    pub value: f64,
    /// ∇_θ (length 2d), when asked for.
    pub gradient: Option<DVector<f64>>,
    /// ∇²_θ (2d × 2d), when asked for.
    pub hessian: Option<DMatrix<f64>>,
    /// (γ²/2)·|I_h − I_{2h}| (floored at the t-sums' round-off): the error estimate of the
    /// reconstruction term, the only one integrated here. Not included: the prior term's error
    /// (≤ e^{−44} relative, `prior_term.rs`) and the round-off of the closed-form terms, a few eps
    /// times each term's size ([`ElboParts::size`]).
    pub error_estimate: f64,
    /// (γ²/2)·|∇I_h − ∇I_{2h}|: the error estimate of each gradient entry, when asked for.
    pub gradient_error: Option<DVector<f64>>,
    /// Nodes of the finest t-rule.
    pub t_nodes: usize,
}

/// Whether the Möbius integral route applies to the query's decoder: a Möbius step followed only
/// by affine steps.
pub fn moebius_route_applies(query: &Query) -> bool {
    MoebiusAffine::of(query.model().decoder()).is_some()
}

/// The ELBO (paper eq. 1) — or the β-objective of §6 — at `enc` by the Möbius integral route
/// (module docs), exact up to the 1-D t-integral (error estimate returned), with its gradient and
/// Hessian in (μ, log σ²) when asked for. The prior term and the entropy are those of
/// [`super::elbo_on_rule`]. No pole guard is needed: the route integrates the pole exactly.
///
/// Errors: a decoder the route does not apply to ([`OracleError::InvalidParameter`], "decoder");
/// d ≤ 2, where the exact value is −∞ ([`OracleError::MinusInfinity`]); an encoder of another
/// dimension or too wide for the logistic prior term; a t-rule that does not converge.
pub fn moebius_elbo(
    query: &Query,
    enc: &Encoder,
    beta: Beta,
    order: DerivativeOrder,
) -> Result<MoebiusElbo, OracleError> {
    let model = query.model();
    query.check_encoder(enc)?;
    let ma = MoebiusAffine::of(model.decoder()).ok_or(OracleError::InvalidParameter {
        what: "decoder (the Moebius integral route needs a Moebius step followed only by affine steps)",
        value: f64::NAN,
    })?;
    let d = ma.dim();
    if d <= 2 {
        return Err(OracleError::MinusInfinity { step: 0 });
    }
    check_prior_width(model.prior(), enc)?;
    let fmu = model.decoder().forward(enc.mu()).ok();
    let rec = reconstruction(&ma, query.x(), fmu.as_ref(), enc, order)?;
    let gamma2 = query.gamma2();
    let b = beta.get();
    let sigma = enc.sigma();
    let prior: Vec<_> = enc
        .mu()
        .iter()
        .zip(sigma)
        .map(|(&m, &s)| prior_term(model.prior(), m, s))
        .collect();
    let parts = ElboParts {
        log_normaliser: log_normaliser(model.dim_observed(), gamma2),
        reconstruction: -0.5 * gamma2 * rec.value.v,
        prior: prior.iter().map(|p| p.value).sum(),
        entropy: entropy(enc.logvar()),
    };
    let c = -0.5 * gamma2;
    let gradient = (order >= DerivativeOrder::Gradient).then(|| {
        DVector::from_fn(2 * d, |i, _| {
            let k = i % d;
            c * rec.value.g[i]
                + if i < d {
                    b * prior[k].d_mu
                } else {
                    b * (prior[k].d_s + 0.5)
                }
        })
    });
    let hessian = (order >= DerivativeOrder::Hessian).then(|| {
        let mut h = DMatrix::from_column_slice(2 * d, 2 * d, &rec.value.h) * c;
        for k in 0..d {
            h[(k, k)] += b * prior[k].d_mu_mu;
            h[(k, d + k)] += b * prior[k].d_mu_s;
            h[(d + k, k)] += b * prior[k].d_mu_s;
            h[(d + k, d + k)] += b * prior[k].d_s_s;
        }
        h
    });
    Ok(MoebiusElbo {
        value: parts.beta_objective(beta),
        parts,
        gradient,
        hessian,
        error_estimate: 0.5 * gamma2 * rec.error.v,
        gradient_error: (order >= DerivativeOrder::Gradient)
            .then(|| DVector::from_iterator(2 * d, rec.error.g.iter().map(|e| 0.5 * gamma2 * e))),
        t_nodes: rec.nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// E‖v‖² = E[1/‖u‖²] (w = 0, G = I) by the raw form, with its jet.
    fn e_inv_sq(
        mu: &[f64],
        logvar: &[f64],
        order: DerivativeOrder,
    ) -> Result<(Jet, Jet, usize), OracleError> {
        let d = mu.len();
        let (w, g) = (vec![0.0; d], DMatrix::identity(d, d));
        let wts = Weights { w: &w, g: &g };
        moment_integral(mu, logvar, &vec![0.0; d], &wts, Form::Raw, order)
    }

    /// e^{−a} Σ_n aⁿ/(n!(2n + 1)) = ∫₀¹ e^{a(s² − 1)} ds: positive terms, summed until they no
    /// longer change the sum (a ≤ 50 here: ≤ 200 terms), so accurate to a few ulps.
    fn dawson_integral(a: f64) -> f64 {
        let (mut term, mut sum) = (1.0f64, 0.0f64);
        for n in 0..1000 {
            let add = term / (2 * n + 1) as f64;
            if sum + add == sum {
                break;
            }
            sum += add;
            term *= a / (n + 1) as f64;
        }
        (-a).exp() * sum
    }

    /// The closed form at the pole: u ~ N(0, σ² I_d) gives E[1/‖u‖²] = 1/(σ²(d − 2)) (E[1/χ²_d] =
    /// 1/(d − 2)), so Σ_k ∂/∂s_k = −value and Σ_kl ∂²/∂s_k∂s_l = value, ∂/∂μ = 0 by symmetry,
    /// and in d = 5, Σ_k ∂²/∂μ_k² = E[Δ ‖u‖⁻²] = −2(d − 4) E[‖u‖⁻⁴] = −2/(σ⁴(d − 2)). The t-rule is
    /// converged to 1e-14 of the integral of |integrand|, which here equals the integral (a
    /// positive integrand); derivatives the same: 1e-13 relative leaves a decade for the sums.
    #[test]
    fn at_the_pole_isotropic_closed_form() {
        for d in [3usize, 4, 5] {
            for s in [-20.0f64, -2.0, 0.0, 3.0] {
                let (j, err, _) =
                    e_inv_sq(&vec![0.0; d], &vec![s; d], DerivativeOrder::Hessian).unwrap();
                let want = (-s).exp() / (d as f64 - 2.0);
                assert_within("E 1/|u|^2", &[j.v], &[want], Tol::Rel(1e-13));
                assert!(err.v <= 1e-14 * want, "error estimate {} of {want}", err.v);
                let n = 2 * d;
                let ds: f64 = j.g[d..].iter().sum();
                let dss: f64 = (d..n)
                    .flat_map(|k| (d..n).map(move |l| (k, l)))
                    .map(|(k, l)| j.h[k * n + l])
                    .sum();
                assert_within("sum d/ds", &[ds], &[-want], Tol::Rel(1e-13));
                assert_within("sum d2/ds2", &[dss], &[want], Tol::Rel(1e-13));
                assert_within("d/dmu", &j.g[..d], &vec![0.0; d], Tol::Scaled(1e-13, want));
                if d == 5 {
                    let dmm: f64 = (0..d).map(|k| j.h[k * n + k]).sum();
                    let want_mm = -2.0 * (-2.0 * s).exp() / (d as f64 - 2.0);
                    assert_within("laplacian in mu", &[dmm], &[want_mm], Tol::Rel(1e-13));
                }
            }
        }
    }

    /// Off the pole in d = 3, isotropic: E[1/‖u‖²] = e^{−a}∫₀¹ e^{a s²} ds / σ², a = ‖m‖²/(2σ²)
    /// (substitute τ = t/(1 + 2tσ²), then 1 − 2τσ² = s², in ∫ E e^{−t‖u‖²} dt) — an independent
    /// representation, summed as a series. ‖m‖/σ from 0.1 (pole inside q) to 10; the raw form, and
    /// the centred form plus 1/‖m‖² (its v0 term). Both integrals converge to 1e-14 of a
    /// positive-dominated integrand: 1e-13 relative.
    #[test]
    fn off_the_pole_dawson_closed_form() {
        let dir = [0.48f64, -0.6, 0.64];
        for s in [-6.0f64, 0.0, 2.0] {
            let sigma = (0.5 * s).exp();
            for ratio in [0.1f64, 0.5, 1.0, 3.0, 10.0] {
                let mu: Vec<f64> = dir.iter().map(|c| c * ratio * sigma).collect();
                let a = 0.5 * ratio * ratio;
                let want = dawson_integral(a) / (sigma * sigma);
                let (raw, _, _) = e_inv_sq(&mu, &[s; 3], DerivativeOrder::Value).unwrap();
                assert_within("raw", &[raw.v], &[want], Tol::Rel(1e-13));
                let (w, g) = (vec![0.0; 3], DMatrix::identity(3, 3));
                let wts = Weights { w: &w, g: &g };
                let (c, _, _) = moment_integral(
                    &mu,
                    &[s; 3],
                    &[0.0; 3],
                    &wts,
                    Form::Centred,
                    DerivativeOrder::Value,
                )
                .unwrap();
                let m2 = ratio * ratio * sigma * sigma;
                assert_within(
                    "centred + 1/|m|^2",
                    &[c.v + 1.0 / m2],
                    &[want],
                    Tol::Rel(1e-13),
                );
            }
        }
    }

    /// Divergence in d = 2: the integrand (times the Jacobian t, in x = log t) tends to the constant
    /// Σ_i G_ii e^{−Σ m_k²/(2σ_k²)}/(4σ_1σ_2) (module docs: the diagonal term t² σ_i² Z/p_i with
    /// Z ~ e^{−Σm²/2σ²}/(2t σ_1σ_2)), so ∫ dx diverges linearly and the exact ELBO is −∞; at x = 60
    /// the corrections are O(e^{−60}), so the limit holds to round-off (1e-12 relative). In d = 3 the
    /// same quantity decays like e^{−x/2}. The ELBO route answers `MinusInfinity` in d = 2.
    #[test]
    fn divergence_in_two_dimensions() {
        let (mu, lv) = ([0.3f64, -0.2], [-1.0f64, 0.5]);
        let v = Vars::new(&mu, &lv, &[0.0, 0.0], DerivativeOrder::Value);
        let g = DMatrix::from_row_slice(2, 2, &[2.0, 0.3, 0.3, 1.5]);
        let w = [0.7, -0.4];
        let wts = Weights { w: &w, g: &g };
        let (s1, s2) = ((0.5 * lv[0]).exp(), (0.5 * lv[1]).exp());
        let e = (-(mu[0] * mu[0]) / (2.0 * s1 * s1) - mu[1] * mu[1] / (2.0 * s2 * s2)).exp();
        let limit = (g[(0, 0)] + g[(1, 1)]) * e / (4.0 * s1 * s2);
        for form in [Form::Centred, Form::Raw] {
            let t = 60f64.exp();
            let f = integrand(t, &v, &wts, form).v * t;
            assert_within("d=2 tail", &[f], &[limit], Tol::Rel(1e-12));
        }
        let v3 = Vars::new(
            &[0.3, -0.2, 0.1],
            &[-1.0, 0.5, 0.0],
            &[0.0; 3],
            DerivativeOrder::Value,
        );
        let g3 = DMatrix::identity(3, 3);
        let wts3 = Weights {
            w: &[0.0; 3],
            g: &g3,
        };
        let tail = |x: f64| integrand(x.exp(), &v3, &wts3, Form::Raw).v * x.exp();
        // e^{−x/2}: the ratio over Δx = 2 is e^{−1} to O(e^{−40}).
        assert_within(
            "d=3 tail",
            &[tail(42.0) / tail(40.0)],
            &[(-1.0f64).exp()],
            Tol::Rel(1e-12),
        );
        assert!(matches!(
            e_inv_sq(&mu, &lv, DerivativeOrder::Value),
            Err(OracleError::MinusInfinity { step: 0 })
        ));
    }
}
