//! How each claim is checked: one function per claim, named after it and referenced from its entry
//! in [`crate::claims::CLAIMS`]. Order claims give their residual and its round-off floor at one
//! point (the fit and verdict are [`CaseResults::order_row`]'s); inequalities give their worst
//! margin (the row is [`CaseResults::inequality_row`]'s). Every floor and slack is built from the
//! named tolerances of [`crate::tol`].

use crate::claims::{CaseResults, Claim, Row};
use crate::fit::Verdict;
use crate::sweep::{PointResult, BETA_GAMMA0_SQ};
use crate::tol::{
    self, ESTIMATE_FACTOR, GAP_MIN_CONTRAST, GAP_OPEN_RATIO, LSQ_SINGULAR, MEAN_SLACK, ROUNDOFF,
    ZERO_CONTRAST,
};
use ima_oracle::objective::{beta_vae_offset, elbo};
use ima_oracle::paper::Asymptotics;
use ima_oracle::{Gamma2, Model, QuadratureOptions, Query};
use nalgebra::{DMatrix, DVector};

/// Round-off floor of ELBO* compared with a value of size |other|: [`ROUNDOFF`] times the sizes of
/// the terms involved, plus [`ESTIMATE_FACTOR`] times the quadrature error estimate.
fn elbo_floor(pr: &PointResult, other: f64) -> f64 {
    ROUNDOFF * (pr.elbo_scale + other.abs() + 1.0) + ESTIMATE_FACTOR * pr.elbo_err
}

/// The worst margin of an inequality seen so far, and whether every margin cleared its slack.
struct Margins {
    worst: f64,
    ok: bool,
}

impl Margins {
    fn new() -> Self {
        Margins {
            worst: f64::INFINITY,
            ok: true,
        }
    }

    /// One margin that must be ≥ −slack.
    fn add(&mut self, margin: f64, slack: f64) {
        self.worst = self.worst.min(margin);
        self.ok &= margin >= -slack;
    }
}

/// The claim [`prop1_mean`] checks.
pub(crate) const PROP1_MEAN: Claim = Claim {
    name: "prop1-mean",
    source: "Prop. 1, eq. 9",
    statement: "‖μ̂(x) − g(x)‖ = O(1/γ)",
    order: Some(1.0),
    uses_elbo: true,
    check: prop1_mean,
};

/// Prop. 1 (mean): ‖μ̂ − g(x)‖, floor [`ROUNDOFF`] (1 + ‖g‖ + ‖x‖) κ (one solve with J_f).
pub(crate) fn prop1_mean(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    cr.order_row(claim, &|x, st, pr| {
        (
            (&pr.mu - st.g()).norm(),
            ROUNDOFF * (1.0 + st.g().norm() + x.norm()) * st.kappa,
        )
    })
}

/// The claim [`prop1_variance`] checks.
pub(crate) const PROP1_VARIANCE: Claim = Claim {
    name: "prop1-variance",
    source: "Prop. 1, eq. 9",
    statement: "max_k σ̂_k²(x) = O(1/γ²)",
    order: Some(2.0),
    uses_elbo: true,
    check: prop1_variance,
};

/// Prop. 1 (variance): max_k σ̂_k², which has no floor (it is a positive number, not a difference).
pub(crate) fn prop1_variance(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    cr.order_row(claim, &|_, _, pr| (pr.sigma2.max(), 0.0))
}

/// The claim [`eq12`] checks.
pub(crate) const EQ12: Claim = Claim {
    name: "eq12",
    source: "Thm. 1, eq. 12",
    statement: "|σ̂_k² − (−(log m)''(g_k) + γ²‖J_:k‖²)⁻¹| = O(1/γ³)",
    order: Some(3.0),
    uses_elbo: true,
    check: eq12,
};

/// eq. 12: max_k |σ̂_k² − (−(log m)''(g_k) + γ²‖J_:k‖²)⁻¹|, floor [`ROUNDOFF`] κ² σ̂².
pub(crate) fn eq12(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    cr.order_row(claim, &|_, st, pr| {
        let rhs = st
            .eq12
            .sigma2(Gamma2::new(pr.gamma2).expect("a grid value"));
        let e = (0..pr.sigma2.len())
            .map(|k| (pr.sigma2[k] - rhs[k]).abs())
            .fold(0.0, f64::max);
        (e, ROUNDOFF * st.kappa * st.kappa * pr.sigma2.max())
    })
}

/// The claim [`eq12_ratio`] checks.
pub(crate) const EQ12_RATIO: Claim = Claim {
    name: "eq12-ratio",
    source: "Thm. 1, eq. 12",
    statement: "|σ̂_k² γ² ‖J_:k‖² − 1| → 0, = O(1/γ) by eq. 12",
    order: Some(1.0),
    uses_elbo: true,
    check: eq12_ratio,
};

/// eq. 12 times γ²: max_k |σ̂_k² γ² ‖J_:k‖² − 1|, floor [`ROUNDOFF`] κ².
pub(crate) fn eq12_ratio(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    cr.order_row(claim, &|_, st, pr| {
        let e = (0..pr.sigma2.len())
            .map(|k| (pr.sigma2[k] * pr.gamma2 * st.eq12.colnorm2[k] - 1.0).abs())
            .fold(0.0, f64::max);
        (e, ROUNDOFF * st.kappa * st.kappa)
    })
}

/// The claim [`eq13`] checks.
pub(crate) const EQ13: Claim = Claim {
    name: "eq13",
    source: "Thm. 1, eq. 13",
    statement: "|ELBO* − (log pθ(x) − c_IMA(f, g(x)))| = O(1/γ²), finite-γ log pθ",
    order: Some(2.0),
    uses_elbo: true,
    check: eq13,
};

/// eq. 13: |ELBO* − (log pθ − c_IMA)| with the finite-γ log pθ, whose error estimate joins the
/// floor.
pub(crate) fn eq13(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    cr.order_row(claim, &|_, st, pr| {
        let target = pr.eq13_rhs(st);
        (
            (pr.elbo - target).abs(),
            elbo_floor(pr, target) + ESTIMATE_FACTOR * pr.log_p_err,
        )
    })
}

/// The claim [`eq13_flow`] checks.
pub(crate) const EQ13_FLOW: Claim = Claim {
    name: "eq13-flow",
    source: "Thm. 1, eq. 13 with eq. 4",
    statement: "|ELBO* − (log p_flow(x) − c_IMA)| = O(1/γ²)",
    order: Some(2.0),
    uses_elbo: true,
    check: eq13_flow,
};

/// eq. 13 with eq. 4: |ELBO* − (log p_flow − c_IMA)|.
pub(crate) fn eq13_flow(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    cr.order_row(claim, &|_, st, pr| {
        let target = st.l_ima();
        ((pr.elbo - target).abs(), elbo_floor(pr, target))
    })
}

/// The claim [`beta_vae`] checks.
pub(crate) const BETA_VAE: Claim = Claim {
    name: "beta-vae",
    source: "§6, Appx. A.3",
    statement:
        "(L_β* − C(β))/β − (log p_flow − c_IMA) = O(1/γ'²), γ' = γ/√β, β → 0 at fixed γ² = 10",
    order: Some(2.0),
    uses_elbo: true,
    check: beta_vae,
};

/// §6: |(L_β − C(β))/β − (log p_flow − c_IMA)| with β = γ0²/γ² at fixed γ0²; the floor of L_β and C
/// is divided by β with the residual.
pub(crate) fn beta_vae(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    cr.order_row(claim, &|x, st, pr| {
        let gamma0 = Gamma2::new(BETA_GAMMA0_SQ).expect("a positive constant");
        let c = beta_vae_offset(x.len(), gamma0, pr.beta);
        let beta = pr.beta.get();
        let (lb, lb_err) = (pr.beta_objective.value, pr.beta_objective.error_estimate);
        let target = st.l_ima();
        let e = ((lb - c) / beta - target).abs();
        let fl = (ROUNDOFF * (lb.abs() + c.abs() + beta * pr.elbo_scale)
            + ESTIMATE_FACTOR * lb_err)
            / beta
            + ROUNDOFF * target.abs();
        (e, fl)
    })
}

/// The claim [`ima_gap`] checks.
pub(crate) const IMA_GAP: Claim = Claim {
    name: "ima-gap",
    source: "Thm. 1, §4.2–4.3, Fig. 4",
    statement:
        "IMA class (Möbius): |ELBO* − log pθ| = O(1/γ²); otherwise ELBO* − log pθ → −c_IMA ≠ 0",
    order: Some(2.0),
    uses_elbo: true,
    check: ima_gap,
};

/// The IMA gap: closes at O(1/γ²) in the IMA class, stays open elsewhere.
pub(crate) fn ima_gap(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    if cr.case.family.in_ima_class() {
        ima_gap_closes(cr, claim)
    } else {
        ima_gap_stays_open(cr, claim)
    }
}

/// IMA class: |ELBO* − log pθ| + |c_IMA| = O(1/γ²), and c_IMA itself is 0 to [`ZERO_CONTRAST`].
fn ima_gap_closes(cr: &CaseResults, claim: &Claim) -> Row {
    let mut row = cr.order_row(claim, &|_, st, pr| {
        let gap = pr.gap().abs();
        let fl = elbo_floor(pr, pr.log_p) + ESTIMATE_FACTOR * pr.log_p_err;
        (gap + st.c_ima.abs(), fl)
    });
    let cmax = cr.statics().map(|s| s.c_ima.abs()).fold(0.0, f64::max);
    if cmax > ZERO_CONTRAST {
        row.verdict = Verdict::Fails(format!("c_IMA = {cmax:e} for a Möbius map"));
    }
    row
}

/// Outside the IMA class the gap stays open: at the largest γ² every point has
/// |ELBO* − log p| > [`GAP_OPEN_RATIO`] c_IMA, and c_IMA > [`GAP_MIN_CONTRAST`] is bounded away
/// from 0; its convergence to −c_IMA is claim eq13.
fn ima_gap_stays_open(cr: &CaseResults, claim: &Claim) -> Row {
    let last = cr.grid.len() - 1;
    let mut worst = f64::INFINITY;
    let mut ok = true;
    let mut count = 0;
    for (st, res) in cr.points {
        if let (Ok(st), Ok(pr)) = (st, &res[last]) {
            count += 1;
            let ratio = pr.gap().abs() / st.c_ima;
            worst = worst.min(ratio);
            ok &= st.c_ima > GAP_MIN_CONTRAST && ratio > GAP_OPEN_RATIO;
        }
    }
    ok &= count > 0;
    cr.inequality_row(
        claim,
        worst,
        ok,
        format!("the gap closed: min |ELBO* − log p|/c_IMA = {worst:.3e}"),
    )
}

/// The claim [`eq2`] checks.
pub(crate) const EQ2: Claim = Claim {
    name: "eq2",
    source: "eq. 2",
    statement: "ELBO = log pθ − KL(q ‖ pθ(z|x)) ≤ log pθ for arbitrary encoders",
    order: None,
    uses_elbo: true,
    check: eq2,
};

/// eq. 2: KL = log p − ELBO(q) ≥ 0 for a perturbed encoder, and ELBO* ≤ log p, up to the error
/// estimates and the values' round-off.
pub(crate) fn eq2(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    let mut m = Margins::new();
    for (st, res) in cr.points {
        if st.is_err() {
            continue;
        }
        for pr in res.iter().flatten() {
            let slack = elbo_floor(pr, pr.log_p)
                + ESTIMATE_FACTOR * (pr.log_p_err + pr.elbo_perturbed.error_estimate);
            for v in [pr.elbo_perturbed.value, pr.elbo] {
                m.add(pr.log_p - v, slack);
            }
        }
    }
    let worst = m.worst;
    cr.inequality_row(claim, worst, m.ok, format!("KL = {worst:e} < 0"))
}

/// The claim [`eq10_11`] checks.
pub(crate) const EQ10_11: Claim = Claim { name: "eq10-11", source: "eq. 10–11", statement: "restricted encoders (μ = g(x) with σ² of eq. 12; a linear encoder fitted over all x) never beat ELBO*", order: None, uses_elbo: true, check: eq10_11 };

/// eq. 10–11: ELBO of restricted encoders ≤ ELBO*, per point and on average. The self-consistent
/// encoder (μ = g(x), σ² of eq. 12) at every point that succeeded; the linear encoder at each γ²
/// where every point succeeded (and there are at least 5, for 4 unknowns per output).
pub(crate) fn eq10_11(cr: &CaseResults, claim: &Claim, threads: usize) -> Row {
    let mut m = Margins::new();
    let n = cr.case.xs.len();
    for (i, &g2) in cr.grid.iter().enumerate() {
        let res: Vec<&PointResult> = cr
            .points
            .iter()
            .filter_map(|(_, r)| r[i].as_ref().ok())
            .collect();
        for pr in &res {
            let margin = pr.elbo - pr.elbo_self_consistent.value;
            let slack = ROUNDOFF * (pr.elbo_scale + 1.0)
                + ESTIMATE_FACTOR * (pr.elbo_err + pr.elbo_self_consistent.error_estimate);
            m.add(margin, slack);
        }
        if res.len() == n && n >= cr.case.model.dim_latent() + 2 {
            linear_encoder(cr, &res, g2, threads, &mut m);
        }
    }
    let worst = m.worst;
    cr.inequality_row(
        claim,
        worst,
        m.ok,
        format!("a restricted encoder beat ELBO* by {:e}", -worst),
    )
}

/// The linear encoder μ(x) = V x + c at one γ²: the least-squares fit of μ̂ over all points, with
/// σ_k² the geometric mean of σ̂_k²; its ELBO may beat ELBO* at no point (`m`), nor on average.
fn linear_encoder(
    cr: &CaseResults,
    res: &[&PointResult],
    g2: f64,
    threads: usize,
    m: &mut Margins,
) {
    let n = res.len();
    let dim = cr.case.model.dim_latent();
    // [x 1] V' = μ̂ by least squares (d + 1 unknowns per output, n ≥ d + 2 rows).
    let a = DMatrix::from_fn(
        n,
        dim + 1,
        |r, c| if c < dim { cr.case.xs[r][c] } else { 1.0 },
    );
    let b = DMatrix::from_fn(n, dim, |r, c| res[r].mu[c]);
    let Ok(v) = a.clone().svd(true, true).solve(&b, LSQ_SINGULAR) else {
        return;
    };
    let lv: Vec<f64> = (0..dim)
        .map(|k| res.iter().map(|p| p.sigma2[k].ln()).sum::<f64>() / n as f64)
        .collect();
    let q = QuadratureOptions::new(tol::quadrature(g2)).expect("a positive tolerance");
    let model = &cr.case.model;
    let vals = ima_oracle::parallel::par_map(
        n,
        threads,
        || (),
        |r, _| {
            let mu: Vec<f64> = (0..dim)
                .map(|c| (0..=dim).map(|j| a[(r, j)] * v[(j, c)]).sum())
                .collect();
            let query = Query::new(model, cr.case.xs[r].as_slice(), g2)?;
            elbo(&query, &query.encoder(&mu, &lv)?, &q).map(|e| (e.value, e.error_estimate))
        },
    );
    let (mut sum_lin, mut sum_opt) = (0.0f64, 0.0f64);
    let mut all = true;
    for (r, v) in vals.iter().enumerate() {
        match v {
            Ok((val, err)) => {
                let slack = ROUNDOFF * (res[r].elbo_scale + 1.0)
                    + ESTIMATE_FACTOR * (res[r].elbo_err + err);
                m.add(res[r].elbo - val, slack);
                sum_lin += val;
                sum_opt += res[r].elbo;
            }
            // A restricted encoder may put mass on a pole: no number, nothing to compare.
            Err(_) => all = false,
        }
    }
    if all {
        m.ok &= sum_lin <= sum_opt + MEAN_SLACK * sum_opt.abs().max(1.0);
    }
}

/// The leading coefficients at x ([`Asymptotics`], issue 14); `None` where they cannot be formed
/// (then the residual is +∞ and the claim fails for that case).
fn coefficients(model: &Model, x: &DVector<f64>) -> Option<Asymptotics> {
    Asymptotics::new(model, x).ok()
}

/// The claim [`coef_mean`] checks.
pub(crate) const COEF_MEAN: Claim = Claim {
    name: "coef-mean",
    source: "Prop. 1 sharpened (issue 14)",
    statement: "max_k |γ²(μ̂_k − g_k(x)) − C_μ,k| = O(1/γ²): C_μ is the leading coefficient",
    order: Some(2.0),
    uses_elbo: true,
    check: coef_mean,
};

/// γ²(μ̂ − g(x)) − C_μ, floor γ² × prop1-mean's floor.
pub(crate) fn coef_mean(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    let model = cr.case.model.clone();
    cr.order_row(claim, &move |x, st, pr| {
        let Some(a) = coefficients(&model, x) else {
            return (f64::INFINITY, 0.0);
        };
        let e = ((&pr.mu - st.g()) * pr.gamma2 - &a.c_mu).amax();
        let fl = pr.gamma2 * ROUNDOFF * (1.0 + st.g().norm() + x.norm()) * st.kappa;
        (e, fl)
    })
}

/// The claim [`coef_variance`] checks.
pub(crate) const COEF_VARIANCE: Claim = Claim {
    name: "coef-variance",
    source: "Thm. 1, eq. 12 sharpened (issue 14)",
    statement: "max_k |1/σ̂_k² − (γ²‖J_:k‖² − (log m)''(g_k)) − K_k| = O(1/γ²)",
    order: Some(2.0),
    uses_elbo: true,
    check: coef_variance,
};

/// 1/σ̂_k² − RHS(12)⁻¹ − K_k, floor [`ROUNDOFF`] κ²/σ̂² (eq12's relative floor on 1/σ̂²).
pub(crate) fn coef_variance(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    let model = cr.case.model.clone();
    cr.order_row(claim, &move |x, st, pr| {
        let Some(a) = coefficients(&model, x) else {
            return (f64::INFINITY, 0.0);
        };
        let g2 = Gamma2::new(pr.gamma2).expect("a grid value");
        let e = (0..pr.sigma2.len())
            .map(|k| (1.0 / pr.sigma2[k] - st.eq12.precision(k, g2) - a.k[k]).abs())
            .fold(0.0, f64::max);
        let fl = ROUNDOFF * st.kappa * st.kappa / pr.sigma2.min();
        (e, fl)
    })
}

/// The claim [`marginal_flow`] checks.
pub(crate) const MARGINAL_FLOW: Claim = Claim {
    name: "marginal-flow",
    source: "eq. 4 (the deterministic limit, §2)",
    statement: "|log pθ(x) − log p_flow(x)| = O(1/γ²): the marginal tends to the flow likelihood",
    order: Some(2.0),
    uses_elbo: false,
    check: marginal_flow,
};

/// |log pθ − log p_flow|, floor [`ROUNDOFF`] (|log pθ| + |log p_flow| + 1) + [`ESTIMATE_FACTOR`]
/// err(log pθ). It reads no ELBO: it applies where ELBO* = −∞ (d = 2 Möbius).
pub(crate) fn marginal_flow(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    cr.marginal_order_row(claim, &|_, st, m| {
        (
            (m.log_p - st.log_flow).abs(),
            ROUNDOFF * (m.log_p.abs() + st.log_flow.abs() + 1.0) + ESTIMATE_FACTOR * m.log_p_err,
        )
    })
}

/// The claim [`coef_marginal`] checks.
pub(crate) const COEF_MARGINAL: Claim = Claim {
    name: "coef-marginal",
    source: "eq. 13 with eq. 4 sharpened (issue 14)",
    statement: "|γ²(log pθ(x) − log p_flow(x)) − Δp_flow/(2p_flow)| = O(1/γ²)",
    order: Some(2.0),
    uses_elbo: false,
    check: coef_marginal,
};

/// γ²(log pθ − log p_flow) − M, floor γ² × ([`ROUNDOFF`] (|log pθ| + |log p_flow| + 1) +
/// [`ESTIMATE_FACTOR`] err(log pθ)).
pub(crate) fn coef_marginal(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    let model = cr.case.model.clone();
    cr.marginal_order_row(claim, &move |x, st, pr| {
        let Some(a) = coefficients(&model, x) else {
            return (f64::INFINITY, 0.0);
        };
        let e = ((pr.log_p - st.log_flow) * pr.gamma2 - a.marginal).abs();
        let fl = pr.gamma2
            * (ROUNDOFF * (pr.log_p.abs() + st.log_flow.abs() + 1.0)
                + ESTIMATE_FACTOR * pr.log_p_err);
        (e, fl)
    })
}

/// The claim [`coef_gap`] checks.
pub(crate) const COEF_GAP: Claim = Claim {
    name: "coef-gap",
    source: "Thm. 1, eq. 13 sharpened (issue 14)",
    statement: "|γ²(ELBO* − (log pθ(x) − c_IMA)) − E| = O(1/γ²): E is the leading coefficient",
    order: Some(2.0),
    uses_elbo: true,
    check: coef_gap,
};

/// γ²(ELBO* − (log pθ − c_IMA)) − E, floor γ² × eq13's floor.
pub(crate) fn coef_gap(cr: &CaseResults, claim: &Claim, _threads: usize) -> Row {
    let model = cr.case.model.clone();
    cr.order_row(claim, &move |x, st, pr| {
        let Some(a) = coefficients(&model, x) else {
            return (f64::INFINITY, 0.0);
        };
        let target = pr.eq13_rhs(st);
        let e = ((pr.elbo - target) * pr.gamma2 - a.gap).abs();
        let fl = pr.gamma2 * (elbo_floor(pr, target) + ESTIMATE_FACTOR * pr.log_p_err);
        (e, fl)
    })
}
