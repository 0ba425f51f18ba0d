//! The cube route of the marginal likelihood (see the module docs of [`super`]): for a decoder
//! whose first step is a `sigmoid` and a Beta-logistic prior, integrate in y = σ(z) over the unit
//! cube, where the prior is the Beta law itself and the tails are gone:
//!
//! pθ(x) = ∫_{(0,1)^d} Π_k Beta(y_k; a, b) · N(x; h(y), γ⁻² I_D) dy,
//!
//! h the steps after the sigmoid (the change of variables y = σ(z) turns the Beta-logistic density
//! m(z) dz into Beta(y; a, b) dy, `docs/model-format.md`). The likelihood is a bump of width
//! w_k = √((γ² JᵀJ)⁻¹)_kk around c = σ(ẑ) (J = J_h(c)); the route integrates over the box
//! B = Π [c_k − K w_k, c_k + K w_k] ∩ [0, 1] with a tensor Gauss–Legendre rule, the bump cut by the
//! cube's faces where it reaches them — exactly the points where the Laplace-centred route meets the
//! prior's exponential tail in z and refuses.
//!
//! Accuracy: the integrand is analytic on B when every face of the cube that B touches carries an
//! integer exponent (a − 1 at y_k = 0, b − 1 at y_k = 1; the uniform prior a = b = 1 always), so the
//! rule converges geometrically and the difference of successive rules is the error estimate; the
//! route refuses other Beta laws on a face (y^{a−1} is not smooth there). The truncation to B is
//! checked on B's own faces: the integrand on every face of B inside the cube must lie
//! [`CUBE_EDGE_DROP`] below its value at c, else K grows by [`CUBE_BOX_GROWTH`] (up to the whole
//! cube, where nothing is truncated). That check cannot see a second local maximum of the likelihood elsewhere in the
//! cube; the route assumes there is none, and is raced automatically only where that is proved
//! ([`integrand_is_unimodal`]; module docs of [`super`]). The residual is propagated as a difference from c,
//! x − h(y) = [x − h(c)] − [h(y) − h(c)], as in the other routes: no cancellation at large γ.
//!
//! **Whole cube** ([`Cube::whole`]). Where unimodality is not proved, the route integrates over the
//! whole cube instead, where nothing is truncated and a second maximum lies inside the domain. It
//! must then not fall between the nodes. At a maximum y* with residual r* = x − h(y*), the
//! log-likelihood's curvature is γ²(JᵀJ − Σ r*_i ∇²h_i), at most γ²(L² + ‖r*‖ M2) with L ≥ ‖J_h‖₂
//! and M2 ≥ ‖Σ r_i ∇²h_i‖₂/‖r‖ over the cube (from the steps' norms and the pole's distance,
//! [`derivative_bounds`]); a maximum within e^{−40} of the highest has ‖r*‖ ≤ √(‖r̂‖² + 80/γ²)
//! (r̂ the residual at c, which bounds the smallest one from above). So every maximum that counts
//! is at least 1/(γ L_eff) wide, L_eff² = L² + M2 √(‖r̂‖² + 80/γ²) — along a face of the cube too,
//! and for an x outside h's image. A rule counts only once its widest Gauss–Legendre gap,
//! π/(2n + 1) on [0, 1], is at most half that width (n ≥ π γ L_eff nodes per axis; smaller rules
//! report NaN and the race grows them), so no maximum falls between its nodes. The cost is n^d
//! with n ∝ γ: the whole cube answers at small γ² (≲ 1e3 for the authors' model), where the
//! likelihood is broad and the box would be the whole cube anyway.
//!
//! **Base residual.** Where the posterior is cut by a face, log pθ(x) moves by ≈ γ·δ for a shift δ
//! of x (E[r] ~ 1/γ, not the O(1/γ²) of an uncut posterior), so x − h(c) is formed to a few eps
//! relative (double-double through affine and Möbius steps, `accurate_residual`) rather than with the plain difference's eps·|x|; for other steps the route
//! applies only while γ·eps·‖x‖∞ ≤ [`CUBE_PLAIN_RESIDUAL_MAX`].

use crate::error::OracleError;
use crate::input::Query;
use crate::lanes::math::dd::Dd;
use crate::model::special::ln_beta;
use crate::model::{Affine, Decoder, Moebius, Prior, Step, Workspace};
use crate::objective::log_normaliser;
use crate::quadrature::{log_sum_exp, GaussLegendre};
use crate::tol::{CUBE_BOX_GROWTH, CUBE_BOX_HALF_WIDTH, CUBE_EDGE_DROP, CUBE_PLAIN_RESIDUAL_MAX};
use nalgebra::DMatrix;

/// Whether the integrand Π Beta(y_k) · N(x; h(y), γ⁻² I) has one maximum on the cube, so that the
/// route's box check suffices and it may join the race (module docs of [`super`]):
/// - h a single affine step: the likelihood is log-concave in y (its level sets are ellipsoids),
///   and so is Beta(a, b) for the integer exponents a − 1, b − 1 ≥ 0 the route accepts;
/// - h a single Möbius step (an inversion about a, then a similarity, shift b = h(∞)) with the
///   uniform prior: the preimage of a ball around x is a ball as long as the ball does not contain
///   b, so the likelihood's superlevel sets are convex down to the level of ‖x − h(y)‖ = ‖x − b‖;
///   below it a second maximum could exist, and is negligible when
///   γ²(‖x − b‖² − ‖x − h(c)‖²)/2 > [`CUBE_EDGE_DROP`] (the same margin as the box's faces).
pub(super) fn integrand_is_unimodal(query: &Query) -> bool {
    let model = query.model();
    match (model.decoder().steps(), *model.prior()) {
        ([Step::Sigmoid(_), Step::Affine(_)], _) => true,
        ([Step::Sigmoid(_), Step::Moebius(m)], Prior::BetaLogistic { a, b })
            if a == 1.0 && b == 1.0 =>
        {
            let d = model.dim_latent();
            let Ok(rest) = after_sigmoid(model.decoder()) else {
                return false;
            };
            // The centre: the closest point of the cube to g(x), or the cube's centre.
            let c: Vec<f64> = match rest.inverse(query.x()) {
                Ok(y) => y.iter().map(|t| t.clamp(0.0, 1.0)).collect(),
                Err(_) => vec![0.5; d],
            };
            let Ok(hc) = rest.forward(&nalgebra::DVector::from_column_slice(&c)) else {
                return false;
            };
            let far = (query.x() - m.shift()).norm_squared();
            let near = (query.x() - hc).norm_squared();
            let Ok(Some(widths)) = bump_widths(&rest, &c, query.gamma2()) else {
                return false;
            };
            0.5 * query.gamma2() * (far - near) > CUBE_EDGE_DROP - log_volume(&widths)
        }
        _ => false,
    }
}

/// h, the decoder's steps after its leading sigmoid (the identity if there are none).
fn after_sigmoid(decoder: &Decoder) -> Result<Decoder, OracleError> {
    let d = decoder.dim_in();
    let mut steps = decoder.steps()[1..].to_vec();
    if steps.is_empty() {
        steps.push(Affine::new(DMatrix::identity(d, d), None)?.into());
    }
    Ok(Decoder::new(d, steps)?)
}

/// The likelihood bump's widths at c, w_k = √((γ² JᵀJ)⁻¹)_kk (J = J_h(c)); `None` if J has not
/// full column rank, an error if h fails at c.
fn bump_widths(rest: &Decoder, c: &[f64], gamma2: f64) -> Result<Option<Vec<f64>>, OracleError> {
    let j = rest.jacobian(&nalgebra::DVector::from_column_slice(c))?;
    Ok((j.transpose() * &j * gamma2)
        .try_inverse()
        .map(|cov| (0..c.len()).map(|k| cov[(k, k)].max(0.0).sqrt()).collect()))
}

/// Σ_k log min(1, √(2π) w_k): the log of the likelihood bump's volume relative to its peak, at
/// most 0 (the cube's volume is 1). A region of the cube where the integrand is e^{−m} below the
/// peak holds at most e^{−m}/e^{vol} of the mass, so the margins [`CUBE_EDGE_DROP`] are counted
/// from vol.
fn log_volume(widths: &[f64]) -> f64 {
    widths
        .iter()
        .map(|w| ((2.0 * std::f64::consts::PI).sqrt() * w).min(1.0).ln())
        .sum()
}

/// Bounds (L, M2) over the unit cube for h a Möbius step followed by affine steps, or affine
/// steps alone: L ≥ ‖J_h(y)‖₂ and M2 ≥ ‖Σ_i r_i ∇²h_i(y)‖₂ per unit ‖r‖. A Möbius step at y has
/// ‖J‖ = |α|/‖y − a‖² (module docs of `moebius.rs`) and ‖Σ r_i ∇²h_i‖ = 2|α|‖r‖/‖y − a‖³: with
/// c = Aᵀr and v = y − a the contraction is [−2(c vᵀ + v cᵀ + (c·v) I) + 8(c·v) v vᵀ/‖v‖²]/‖v‖⁴
/// (the table there), whose eigenvalues are ±2‖c‖/‖v‖³ in the plane of c and v and
/// −2(c·v)/‖v‖⁴ across it (checked against finite differences and 20 000 random cases, d = 2–5,
/// when this bound was written); with the distance from the pole to the cube in place of
/// ‖y − a‖ these hold everywhere on it. An affine step after it multiplies both by ‖W‖₂ (it is
/// linear: no second derivative of its own). `None` for other chains, or a pole in the closed
/// cube.
fn derivative_bounds(rest: &Decoder) -> Option<(f64, f64)> {
    let mut steps = rest.steps().iter();
    let (mut l, mut m2) = match rest.steps().first()? {
        Step::Moebius(m) => {
            steps.next();
            let dist2: f64 = m
                .pole()
                .iter()
                .map(|&a| (a - a.clamp(0.0, 1.0)).powi(2))
                .sum();
            if dist2 <= 0.0 {
                return None;
            }
            (
                m.alpha().abs() / dist2,
                2.0 * m.alpha().abs() / dist2.powf(1.5),
            )
        }
        _ => (1.0, 0.0),
    };
    for step in steps {
        let Step::Affine(a) = step else {
            return None;
        };
        let norm = spectral_norm(a.weight());
        l *= norm;
        m2 *= norm;
    }
    (l.is_finite() && m2.is_finite()).then_some((l, m2))
}

/// ‖W‖₂, the largest singular value.
fn spectral_norm(w: &DMatrix<f64>) -> f64 {
    w.singular_values().max()
}

/// r̂ = x − h(c) to a few eps relative, or `None` for a chain with other steps than affine and
/// Möbius ones: h(c) in double-double arithmetic step by step (relative error ~1e-30 per
/// operation), x − h(c) rounded once at the end. That matters where the posterior is cut by a
/// face: log pθ(x) then changes by γ²·E[r]·δ ≈ γ·δ for a shift δ of x (E[r] ~ 1/γ instead of the
/// O(1/γ²) of an uncut posterior), so the plain difference's ulp of x would cost γ·eps·|x| —
/// 1.8e-13 at γ² = 2³⁰ in `tests/marginal_bounded_image.rs`, 5e-12 at 2⁴⁰.
fn accurate_residual(x: &[f64], rest: &Decoder, c: &[f64]) -> Option<Vec<f64>> {
    let mut u: Vec<Dd> = c.iter().map(|&t| Dd::from_f64(t)).collect();
    for step in rest.steps() {
        u = match step {
            Step::Affine(aff) => (0..aff.weight().nrows())
                .map(|i| {
                    u.iter()
                        .enumerate()
                        .fold(Dd::from_f64(aff.bias()[i]), |acc, (k, &t)| {
                            acc + t * aff.weight()[(i, k)]
                        })
                })
                .collect(),
            Step::Moebius(m) => moebius_dd(m, &u),
            _ => return None,
        };
    }
    Some(
        x.iter()
            .zip(&u)
            .map(|(&x, &h)| (Dd::from_f64(x) - h).to_f64())
            .collect(),
    )
}

/// A Möbius step b + α A (u − a)/‖u − a‖² in double-double arithmetic.
fn moebius_dd(m: &Moebius, u: &[Dd]) -> Vec<Dd> {
    let v: Vec<Dd> = u
        .iter()
        .zip(m.pole().iter())
        .map(|(&t, &a)| t - Dd::from_f64(a))
        .collect();
    let s = v.iter().fold(Dd::from_f64(0.0), |acc, &t| acc + t * t);
    (0..v.len())
        .map(|i| {
            let av = (0..v.len()).fold(Dd::from_f64(0.0), |acc, k| {
                acc + v[k] * m.rotation()[(i, k)]
            });
            av * m.alpha() / s + m.shift()[i]
        })
        .collect()
}

/// The route at one (x, γ²), with its buffers.
pub(super) struct Cube<'a> {
    query: &'a Query<'a>,
    /// h: the decoder's steps after the leading sigmoid.
    rest: Decoder,
    /// The Beta exponents a − 1, b − 1.
    powers: (f64, f64),
    /// The box as offsets from c: [c_k + lo_k, c_k + hi_k] (the cube's faces at −c_k and 1 − c_k).
    /// Offsets, not absolute y: beside a face at large γ² the box is ~1e-7 wide and an absolute y
    /// (ulp 1e-16) would carry a relative error 1e-9 into y − c, and γ·1e-16 into the residual.
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// The centre c, h's base point.
    c: Vec<f64>,
    /// r̂ = x − h(c), the base residual.
    r0: Vec<f64>,
    /// (D/2) log(γ²/2π) − (γ²/2)‖r̂‖² − d log B(a, b): the integrand's constant factor.
    offset: f64,
    max_total: usize,
    /// The fewest nodes per axis whose rule counts (0 for the box; [`Cube::whole`]).
    min_nodes: usize,
    ws: Workspace,
    dy: Vec<f64>,
    terms: Vec<f64>,
}

impl<'a> Cube<'a> {
    /// The parts the box and the whole cube share, the box set to the whole cube; `None` when the
    /// route does not apply: the first step is not a sigmoid, the prior is not Beta-logistic, the
    /// smallest rule exceeds the budget, or the base residual x − h(c) cannot be formed to a few
    /// eps relative (h not a chain of affine and Möbius steps) while γ·eps·‖x‖∞ could show
    /// (`accurate_residual`). `rest`: h, the steps after the sigmoid ([`after_sigmoid`]).
    fn base(
        query: &'a Query<'a>,
        rest: Decoder,
        centre: &[f64],
        max_total: usize,
    ) -> Result<Option<Self>, OracleError> {
        let model = query.model();
        let (Some(Step::Sigmoid(_)), Prior::BetaLogistic { a, b }) =
            (model.decoder().steps().first(), *model.prior())
        else {
            return Ok(None);
        };
        let d = model.dim_latent();
        // The smallest rule and the face check (2d faces of 9^{d−1} points) must fit the budget.
        let faces = 9usize
            .checked_pow(d as u32 - 1)
            .and_then(|f| f.checked_mul(2 * d));
        let smallest = 8usize.checked_pow(d as u32);
        if !matches!((faces, smallest), (Some(f), Some(m)) if f <= max_total && m <= max_total) {
            return Ok(None);
        }
        let c: Vec<f64> = centre.iter().map(|t| t.clamp(0.0, 1.0)).collect();
        let mut ws = rest.workspace();
        rest.set_base(&c, &mut ws)?;
        let gamma2 = query.gamma2();
        let r0 = match accurate_residual(query.x().as_slice(), &rest, &c) {
            Some(r) => r,
            None if gamma2.sqrt() * f64::EPSILON * query.x().amax() <= CUBE_PLAIN_RESIDUAL_MAX => {
                query
                    .x()
                    .iter()
                    .zip(ws.base_output())
                    .map(|(x, h)| x - h)
                    .collect()
            }
            None => return Ok(None),
        };
        let rr: f64 = r0.iter().map(|t| t * t).sum();
        Ok(Some(Cube {
            query,
            rest,
            powers: (a - 1.0, b - 1.0),
            lo: c.iter().map(|c| -c).collect(),
            hi: c.iter().map(|c| 1.0 - c).collect(),
            c,
            r0,
            offset: log_normaliser(model.dim_observed(), gamma2)
                - 0.5 * gamma2 * rr
                - d as f64 * ln_beta(a, b),
            max_total,
            min_nodes: 0,
            ws,
            dy: vec![0.0; d],
            terms: Vec::new(),
        }))
    }

    /// Sets the route up around `centre` (σ of the posterior mode, or a point of the cube near
    /// g(x)); `None` when it does not apply ([`Cube::base`]), or the box touches a face whose Beta
    /// exponent is not a non-negative integer.
    pub(super) fn new(
        query: &'a Query<'a>,
        centre: &[f64],
        max_total: usize,
    ) -> Result<Option<Self>, OracleError> {
        let rest = after_sigmoid(query.model().decoder())?;
        let Some(mut route) = Cube::base(query, rest, centre, max_total)? else {
            return Ok(None);
        };
        let d = route.c.len();
        let Some(widths) = bump_widths(&route.rest, &route.c, query.gamma2())? else {
            return Ok(None);
        };
        // The edge margin counts from the bump's volume (see `log_volume`).
        let peak = route.log_integrand_at(&vec![0.0; d])? + log_volume(&widths);
        let mut half = CUBE_BOX_HALF_WIDTH;
        loop {
            for (k, w) in widths.iter().enumerate() {
                route.lo[k] = (-half * w).max(-route.c[k]);
                route.hi[k] = (half * w).min(1.0 - route.c[k]);
            }
            let whole = (0..d).all(|k| route.on_face(k, false) && route.on_face(k, true));
            if whole || route.edges_below(peak - CUBE_EDGE_DROP)? {
                break;
            }
            half *= CUBE_BOX_GROWTH;
        }
        let integer = |p: f64| p >= 0.0 && p.fract() == 0.0;
        for k in 0..d {
            if (route.on_face(k, false) && !integer(route.powers.0))
                || (route.on_face(k, true) && !integer(route.powers.1))
            {
                return Ok(None);
            }
        }
        Ok(Some(route))
    }

    /// The route over the whole cube (module docs, "Whole cube"), differences taken from `centre`;
    /// `None` where it does not apply: as for [`Cube::base`], a Beta exponent that is not a
    /// non-negative integer, no bound on h's derivatives over the cube ([`derivative_bounds`]), or
    /// a rule fine enough for the narrowest maximum (n ≥ π γ L_eff) beyond `max_nodes` per axis.
    pub(super) fn whole(
        query: &'a Query<'a>,
        centre: &[f64],
        max_nodes: usize,
        max_total: usize,
    ) -> Result<Option<Self>, OracleError> {
        let rest = after_sigmoid(query.model().decoder())?;
        let Some((l, m2)) = derivative_bounds(&rest) else {
            return Ok(None);
        };
        let Some(mut route) = Cube::base(query, rest, centre, max_total)? else {
            return Ok(None);
        };
        // A maximum whose height is within e^{−40} of the main one has ‖r‖ ≤ √(‖r̂‖² + 80/γ²);
        // its curvature is at most γ²(L² + ‖r‖ M2) (module docs).
        let gamma2 = query.gamma2();
        let rr: f64 = route.r0.iter().map(|t| t * t).sum();
        let l_eff = (l * l + m2 * (rr + 80.0 / gamma2).sqrt()).sqrt();
        let needed = (std::f64::consts::PI * gamma2.sqrt() * l_eff).ceil();
        let integer = |p: f64| p >= 0.0 && p.fract() == 0.0;
        if !(needed <= max_nodes as f64 && integer(route.powers.0) && integer(route.powers.1)) {
            return Ok(None);
        }
        route.min_nodes = needed as usize;
        Ok(Some(route))
    }

    /// Whether the box's lower (`upper` false) or upper side along axis k is the cube's face.
    fn on_face(&self, k: usize, upper: bool) -> bool {
        if upper {
            self.hi[k] == 1.0 - self.c[k]
        } else {
            self.lo[k] == -self.c[k]
        }
    }

    /// log of the integrand at y = c + δ without `offset`: Σ_k [(a − 1) log y_k + (b − 1)
    /// log(1 − y_k)] − (γ²/2)(‖Δh‖² − 2 r̂·Δh), Δh = h(c + δ) − h(c) in difference form; y_k and
    /// 1 − y_k = (1 − c_k) − δ_k each from one rounding.
    fn log_integrand_at(&mut self, delta: &[f64]) -> Result<f64, OracleError> {
        self.dy.copy_from_slice(delta);
        self.rest.eval_offset(&self.dy, &mut self.ws, false)?;
        let (mut ff, mut rf) = (0.0, 0.0);
        for (dh, r) in self.ws.output_diff().iter().zip(&self.r0) {
            ff += dh * dh;
            rf += r * dh;
        }
        let (pa, pb) = self.powers;
        let mut prior = 0.0;
        for (&t, &c) in delta.iter().zip(&self.c) {
            if pa != 0.0 {
                prior += pa * (c + t).ln();
            }
            if pb != 0.0 {
                prior += pb * ((1.0 - c) - t).ln();
            }
        }
        Ok(prior - 0.5 * self.query.gamma2() * (ff - 2.0 * rf))
    }

    /// Whether the integrand lies below `level` on every face of the box that is inside the cube,
    /// sampled on a 9-point grid per remaining coordinate (the box's own edges included).
    fn edges_below(&mut self, level: f64) -> Result<bool, OracleError> {
        const GRID: usize = 9;
        let d = self.lo.len();
        let mut delta = vec![0.0; d];
        for k in 0..d {
            for (side, upper) in [(self.lo[k], false), (self.hi[k], true)] {
                if self.on_face(k, upper) {
                    continue;
                }
                for idx in 0..GRID.pow(d as u32 - 1) {
                    let mut r = idx;
                    for (i, di) in delta.iter_mut().enumerate() {
                        if i == k {
                            *di = side;
                            continue;
                        }
                        let j = r % GRID;
                        r /= GRID;
                        // The box's own ends exactly (lo + 1·(hi − lo) can round past hi, outside
                        // the cube: ln of a negative number). On a face of the cube ln y = −∞
                        // (a > 1): below any level, as it should.
                        *di = if j == GRID - 1 {
                            self.hi[i]
                        } else {
                            let t = j as f64 / (GRID - 1) as f64;
                            self.lo[i] + t * (self.hi[i] - self.lo[i])
                        };
                    }
                    match self.log_integrand_at(&delta) {
                        Ok(v) if v <= level => {}
                        _ => return Ok(false),
                    }
                }
            }
        }
        Ok(true)
    }

    /// log pθ(x) on the n-point-per-axis Gauss–Legendre rule over the box; `None` past the node
    /// budget.
    pub(super) fn log_marginal(&mut self, n: usize) -> Result<Option<f64>, OracleError> {
        let d = self.lo.len();
        let total = match n.checked_pow(d as u32) {
            Some(t) if t <= self.max_total => t,
            _ => return Ok(None),
        };
        if n < self.min_nodes {
            // Too coarse to see every maximum of the whole cube (module docs): not a value.
            return Ok(Some(f64::NAN));
        }
        let rule = GaussLegendre::new(n)?;
        let half: Vec<f64> = (0..d).map(|k| 0.5 * (self.hi[k] - self.lo[k])).collect();
        let log_w: Vec<f64> = rule.weights().iter().map(|w| w.ln()).collect();
        let mut delta = vec![0.0; d];
        self.terms.clear();
        for idx in 0..total {
            let mut r = idx;
            let mut lw = 0.0;
            for k in 0..d {
                let i = r % n;
                r /= n;
                delta[k] = self.lo[k] + half[k] * (rule.nodes()[i] + 1.0);
                lw += log_w[i];
            }
            let v = self.log_integrand_at(&delta)?;
            self.terms.push(lw + v);
        }
        let jac: f64 = half.iter().map(|h| h.ln()).sum();
        Ok(Some(self.offset + jac + log_sum_exp(&self.terms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DVector;

    /// The double-double base residuals against exact rational arithmetic (Python's `fractions`
    /// on the same doubles): x − (W c + b) for W = [[0.1], [0.7]], b = (0, 0.09), c = 3 (then 1.3),
    /// and x − c/‖c‖² for the Möbius map with α = 1, A = I, a = b = 0 at c = (0.75, 1), whose
    /// image (0.48, 0.64) is not a double. The plain differences give −5.55e-17 and 8.33e-17
    /// (3e-17 and 6e-17 off) and 0, 0 (all of the residual lost); these keep all but the last
    /// bits (1e-12 relative: the residual's own rounding plus the final sum's).
    #[test]
    fn accurate_residuals_against_exact_rationals() {
        let w = DMatrix::from_row_slice(2, 1, &[0.1, 0.7]);
        let aff = Affine::new(w, Some(DVector::from_vec(vec![0.0, 0.09]))).unwrap();
        let affine = Decoder::new(1, vec![aff.into()]).unwrap();
        let r = accurate_residual(&[0.3, 0.0], &affine, &[3.0]).unwrap();
        assert!(
            (r[0] - -2.7755575615628914e-17).abs() <= 1e-12 * 2.8e-17,
            "{r:?}"
        );
        let r = accurate_residual(&[0.0, 1.0], &affine, &[1.3]).unwrap();
        assert!(
            (r[1] - 2.997602166487923e-17).abs() <= 1e-12 * 3e-17,
            "{r:?}"
        );
        let m = Moebius::new(
            1.0,
            DMatrix::identity(2, 2),
            DVector::zeros(2),
            DVector::zeros(2),
        )
        .unwrap();
        let rest = Decoder::new(2, vec![m.into()]).unwrap();
        let r = accurate_residual(&[0.48, 0.64], &rest, &[0.75, 1.0]).unwrap();
        for (got, want) in r
            .iter()
            .zip([-1.7763568394002505e-17, 1.3322676295501878e-17])
        {
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{r:?}");
        }
    }
}
