//! The paper's claims, how each residual is computed, and the verdicts.

use crate::fit::{fit, verdict, Fit, Series, Verdict};
use crate::run::PointResults;
use crate::sweep::{Case, PointResult, PointStatic, BETA_GAMMA0_SQ};
use crate::tol::{
    self, ASYMPTOTIC_FROM, ESTIMATE_FACTOR, GAP_MIN_CONTRAST, GAP_OPEN_RATIO, LSQ_SINGULAR,
    MEAN_SLACK, ROUNDOFF, ZERO_CONTRAST,
};
use ima_oracle::elbo::{elbo, QuadratureOptions};
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;

/// A claim of the paper.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    /// Short name (for `--claim`).
    pub name: &'static str,
    /// Where in the paper.
    pub source: &'static str,
    /// The statement checked.
    pub statement: &'static str,
    /// The stated order p of an O(1/γ^p) claim; `None` for identities and inequalities.
    pub order: Option<f64>,
}

/// Every claim checked (and only these: `registry_is_complete` in the tests holds the two lists
/// together).
pub const CLAIMS: [Claim; 10] = [
    Claim { name: "prop1-mean", source: "Prop. 1, eq. 9", statement: "‖μ̂(x) − g(x)‖ = O(1/γ)", order: Some(1.0) },
    Claim { name: "prop1-variance", source: "Prop. 1, eq. 9", statement: "max_k σ̂_k²(x) = O(1/γ²)", order: Some(2.0) },
    Claim { name: "eq12", source: "Thm. 1, eq. 12", statement: "|σ̂_k² − (−(log m)''(g_k) + γ²‖J_:k‖²)⁻¹| = O(1/γ³)", order: Some(3.0) },
    Claim { name: "eq12-ratio", source: "Thm. 1, eq. 12", statement: "|σ̂_k² γ² ‖J_:k‖² − 1| → 0, = O(1/γ) by eq. 12", order: Some(1.0) },
    Claim { name: "eq13", source: "Thm. 1, eq. 13", statement: "|ELBO* − (log pθ(x) − c_IMA(f, g(x)))| = O(1/γ²), finite-γ log pθ", order: Some(2.0) },
    Claim { name: "eq13-flow", source: "Thm. 1, eq. 13 with eq. 4", statement: "|ELBO* − (log p_flow(x) − c_IMA)| = O(1/γ²)", order: Some(2.0) },
    Claim { name: "eq2", source: "eq. 2", statement: "ELBO = log pθ − KL(q ‖ pθ(z|x)) ≤ log pθ for arbitrary encoders", order: None },
    Claim { name: "eq10-11", source: "eq. 10–11", statement: "restricted encoders (μ = g(x) with σ² of eq. 12; a linear encoder fitted over all x) never beat ELBO*", order: None },
    Claim { name: "ima-gap", source: "Thm. 1, §4.2–4.3, Fig. 4", statement: "IMA class (Möbius): |ELBO* − log pθ| = O(1/γ²); otherwise ELBO* − log pθ → −c_IMA ≠ 0", order: Some(2.0) },
    Claim { name: "beta-vae", source: "§6, Appx. A.3", statement: "(L_β* − C(β))/β − (log p_flow − c_IMA) = O(1/γ'²), γ' = γ/√β, β → 0 at fixed γ² = 10", order: Some(2.0) },
];

/// The claims named in `names`, in registry order; every claim when `names` is empty.
pub fn select(names: &[String]) -> Vec<Claim> {
    CLAIMS
        .iter()
        .filter(|c| names.is_empty() || names.iter().any(|n| n == c.name))
        .copied()
        .collect()
}

/// One row of the verdict table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The claim.
    pub claim: &'static str,
    /// The model family.
    pub model: String,
    /// The prior.
    pub prior: String,
    /// Stated order, if any.
    pub stated: Option<f64>,
    /// The fit, for order claims.
    pub fit: Option<Fit>,
    /// The largest residual (order claims) or the worst margin (inequalities).
    pub largest: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// γ² values at which the oracle refused some point (a Möbius pole too close, …).
    pub refused: usize,
    /// The residual series fitted (order claims).
    pub series: Option<Series>,
}

/// All results of one case: per point, its static part and per γ² the result or the refusal.
pub struct CaseResults<'a> {
    /// The case.
    pub case: &'a Case,
    /// The γ² grid.
    pub grid: &'a [f64],
    /// Per point: static part (or why it failed) and results over the grid.
    pub points: &'a [PointResults],
}

/// Round-off floor of ELBO* compared with a value of size |other|: [`ROUNDOFF`] times the sizes of
/// the terms involved, plus [`ESTIMATE_FACTOR`] times the quadrature error estimate.
fn elbo_floor(pr: &PointResult, other: f64) -> f64 {
    ROUNDOFF * (pr.elbo_scale + other.abs() + 1.0) + ESTIMATE_FACTOR * pr.elbo_err
}

type Residual = dyn Fn(&DVector<f64>, &PointStatic, &PointResult) -> (f64, f64);

impl CaseResults<'_> {
    /// The residual series (max over points, at γ² where every point succeeded) of `r`, which returns
    /// (residual, floor) at one point; and how many γ² were skipped because a point was refused.
    fn series(&self, r: &Residual) -> (Series, usize) {
        let mut s = Series::default();
        let mut refused = 0;
        for (i, &g2) in self.grid.iter().enumerate() {
            let mut worst = (0.0f64, 0.0f64);
            let mut all = true;
            for (x, (st, res)) in self.case.xs.iter().zip(self.points) {
                match (st, &res[i]) {
                    (Ok(st), Ok(pr)) => {
                        let (e, fl) = r(x, st, pr);
                        worst = (worst.0.max(e), worst.1.max(fl));
                    }
                    _ => all = false,
                }
            }
            if all {
                s.gamma2.push(g2);
                s.residual.push(worst.0);
                s.floor.push(worst.1);
            } else {
                refused += 1;
            }
        }
        (s, refused)
    }

    fn order_row(&self, claim: &Claim, r: &Residual) -> Row {
        let (s, refused) = self.series(r);
        let p = claim.order.expect("an order claim");
        let f = fit(&s, ASYMPTOTIC_FROM);
        let (model, prior) = self.case.label();
        Row {
            claim: claim.name,
            model,
            prior,
            stated: Some(p),
            largest: s.residual.iter().copied().fold(0.0, f64::max),
            verdict: verdict(&f, p),
            fit: f.ok(),
            refused,
            series: Some(s),
        }
    }

    fn inequality_row(&self, claim: &Claim, worst_margin: f64, ok: bool, why: String) -> Row {
        let (model, prior) = self.case.label();
        let refused = (0..self.grid.len())
            .filter(|&i| {
                self.points
                    .iter()
                    .any(|(st, r)| st.is_err() || r[i].is_err())
            })
            .count();
        Row {
            claim: claim.name,
            model,
            prior,
            stated: None,
            fit: None,
            largest: worst_margin,
            verdict: if ok {
                Verdict::Holds
            } else {
                Verdict::Fails(why)
            },
            refused,
            series: None,
        }
    }

    /// The rows of every claim in `which` for this case.
    pub fn rows(&self, which: &[Claim], threads: usize) -> Vec<Row> {
        which.iter().map(|c| self.row(c, threads)).collect()
    }

    fn row(&self, claim: &Claim, threads: usize) -> Row {
        match claim.name {
            "prop1-mean" => self.order_row(claim, &|x, st, pr| {
                (
                    (&pr.mu - &st.g).norm(),
                    ROUNDOFF * (1.0 + st.g.norm() + x.norm()) * st.kappa,
                )
            }),
            "prop1-variance" => self.order_row(claim, &|_, _, pr| (pr.sigma2.max(), 0.0)),
            "eq12" => self.order_row(claim, &|_, st, pr| {
                let e = (0..3)
                    .map(|k| {
                        (pr.sigma2[k] - 1.0 / (st.neg_d2[k] + pr.gamma2 * st.colnorm2[k])).abs()
                    })
                    .fold(0.0, f64::max);
                (e, ROUNDOFF * st.kappa * st.kappa * pr.sigma2.max())
            }),
            "eq12-ratio" => self.order_row(claim, &|_, st, pr| {
                let e = (0..3)
                    .map(|k| (pr.sigma2[k] * pr.gamma2 * st.colnorm2[k] - 1.0).abs())
                    .fold(0.0, f64::max);
                (e, ROUNDOFF * st.kappa * st.kappa)
            }),
            "eq13" => self.order_row(claim, &|_, st, pr| {
                let target = pr.log_p - st.c_ima;
                (
                    (pr.elbo - target).abs(),
                    elbo_floor(pr, target) + ESTIMATE_FACTOR * pr.log_p_err,
                )
            }),
            "eq13-flow" => self.order_row(claim, &|_, st, pr| {
                let target = st.log_flow - st.c_ima;
                ((pr.elbo - target).abs(), elbo_floor(pr, target))
            }),
            "beta-vae" => self.order_row(claim, &|_, st, pr| {
                let beta = BETA_GAMMA0_SQ / pr.gamma2;
                let c = 1.5
                    * ((BETA_GAMMA0_SQ / (2.0 * PI)).ln() - beta * (pr.gamma2 / (2.0 * PI)).ln());
                let (lb, lb_err) = pr.beta_objective;
                let target = st.log_flow - st.c_ima;
                let e = ((lb - c) / beta - target).abs();
                let fl = (ROUNDOFF * (lb.abs() + c.abs() + beta * pr.elbo_scale)
                    + ESTIMATE_FACTOR * lb_err)
                    / beta
                    + ROUNDOFF * target.abs();
                (e, fl)
            }),
            "ima-gap" => {
                if self.case.family.in_ima_class() {
                    let mut row = self.order_row(claim, &|_, st, pr| {
                        let gap = (pr.elbo - pr.log_p).abs();
                        let fl = elbo_floor(pr, pr.log_p) + ESTIMATE_FACTOR * pr.log_p_err;
                        (gap + st.c_ima.abs(), fl)
                    });
                    let cmax = self.statics().map(|s| s.c_ima.abs()).fold(0.0, f64::max);
                    if cmax > ZERO_CONTRAST {
                        row.verdict = Verdict::Fails(format!("c_IMA = {cmax:e} for a Möbius map"));
                    }
                    row
                } else {
                    // The gap stays open: at the largest γ² every point has |ELBO* − log p| ≥ c_IMA/2,
                    // and c_IMA is bounded away from 0; its convergence to −c_IMA is claim eq13.
                    let last = self.grid.len() - 1;
                    let mut worst = f64::INFINITY;
                    let mut ok = true;
                    let mut count = 0;
                    for (st, res) in self.points {
                        if let (Ok(st), Ok(pr)) = (st, &res[last]) {
                            count += 1;
                            let ratio = (pr.elbo - pr.log_p).abs() / st.c_ima;
                            worst = worst.min(ratio);
                            ok &= st.c_ima > GAP_MIN_CONTRAST && ratio > GAP_OPEN_RATIO;
                        }
                    }
                    ok &= count > 0;
                    let mut row = self.inequality_row(
                        claim,
                        worst,
                        ok,
                        format!("the gap closed: min |ELBO* − log p|/c_IMA = {worst:.3e}"),
                    );
                    row.stated = None;
                    row
                }
            }
            "eq2" => {
                // KL = log p − ELBO(q) ≥ 0 for a perturbed encoder, and ELBO* ≤ log p, up to the
                // error estimates and the values' round-off.
                let mut worst = f64::INFINITY;
                let mut ok = true;
                for (st, res) in self.points {
                    if st.is_err() {
                        continue;
                    }
                    for pr in res.iter().flatten() {
                        let slack = elbo_floor(pr, pr.log_p)
                            + ESTIMATE_FACTOR * (pr.log_p_err + pr.elbo_perturbed.1);
                        for v in [pr.elbo_perturbed.0, pr.elbo] {
                            let kl = pr.log_p - v;
                            worst = worst.min(kl);
                            ok &= kl >= -slack;
                        }
                    }
                }
                self.inequality_row(claim, worst, ok, format!("KL = {worst:e} < 0"))
            }
            "eq10-11" => self.eq10_11(claim, threads),
            other => unreachable!("claim {other} has no check"),
        }
    }

    fn statics(&self) -> impl Iterator<Item = &PointStatic> {
        self.points.iter().filter_map(|(s, _)| s.as_ref().ok())
    }

    /// eq. 10–11: ELBO of restricted encoders ≤ ELBO*, per point and on average. The linear encoder
    /// μ(x) = V x + c is the least-squares fit of μ̂ over all points at that γ², with σ_k² the
    /// geometric mean of σ̂_k².
    fn eq10_11(&self, claim: &Claim, threads: usize) -> Row {
        let mut worst = f64::INFINITY;
        let mut ok = true;
        let n = self.case.xs.len();
        for (i, &g2) in self.grid.iter().enumerate() {
            let res: Vec<&PointResult> = self
                .points
                .iter()
                .filter_map(|(_, r)| r[i].as_ref().ok())
                .collect();
            // Self-consistent encoder, every point that succeeded.
            for pr in &res {
                let margin = pr.elbo - pr.elbo_self_consistent.0;
                let slack = ROUNDOFF * (pr.elbo_scale + 1.0)
                    + ESTIMATE_FACTOR * (pr.elbo_err + pr.elbo_self_consistent.1);
                worst = worst.min(margin);
                ok &= margin >= -slack;
            }
            if res.len() < n || n < 5 {
                continue;
            }
            // Linear encoder: [x 1] V' = μ̂ by least squares (4 unknowns per output, n ≥ 5 rows).
            let a = DMatrix::from_fn(n, 4, |r, c| if c < 3 { self.case.xs[r][c] } else { 1.0 });
            let b = DMatrix::from_fn(n, 3, |r, c| res[r].mu[c]);
            let Ok(v) = a.clone().svd(true, true).solve(&b, LSQ_SINGULAR) else {
                continue;
            };
            let lv: Vec<f64> = (0..3)
                .map(|k| res.iter().map(|p| p.sigma2[k].ln()).sum::<f64>() / n as f64)
                .collect();
            let q = QuadratureOptions {
                tol: tol::quadrature(g2),
                ..Default::default()
            };
            let model = &self.case.model;
            let vals = ima_oracle::batch::par_map(
                n,
                threads,
                || (),
                |r, _| {
                    let mu: Vec<f64> = (0..3)
                        .map(|c| (0..4).map(|j| a[(r, j)] * v[(j, c)]).sum())
                        .collect();
                    elbo(model, self.case.xs[r].as_slice(), &mu, &lv, g2, &q)
                        .map(|e| (e.value, e.error_estimate))
                },
            );
            let (mut sum_lin, mut sum_opt) = (0.0, 0.0);
            let mut all = true;
            for (r, v) in vals.iter().enumerate() {
                match v {
                    Ok((val, err)) => {
                        let margin = res[r].elbo - val;
                        let slack = ROUNDOFF * (res[r].elbo_scale + 1.0)
                            + ESTIMATE_FACTOR * (res[r].elbo_err + err);
                        worst = worst.min(margin);
                        ok &= margin >= -slack;
                        sum_lin += val;
                        sum_opt += res[r].elbo;
                    }
                    // A restricted encoder may put mass on a pole: no number, nothing to compare.
                    Err(_) => all = false,
                }
            }
            if all {
                ok &= sum_lin <= sum_opt + MEAN_SLACK * sum_opt.abs().max(1.0);
            }
        }
        self.inequality_row(
            claim,
            worst,
            ok,
            format!("a restricted encoder beat ELBO* by {:e}", -worst),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every claim in the registry has a check: `row` is run for each registered claim on every
    /// family (with no points, so nothing is computed) and would hit `unreachable!` for a claim
    /// without one; and the registry's names are unique.
    #[test]
    fn registry_is_complete() {
        let cases = crate::sweep::cases(0, &mut ima_oracle::generate::rng(1));
        for case in &cases {
            let cr = CaseResults {
                case,
                grid: &[1e2],
                points: &[],
            };
            let rows = cr.rows(&CLAIMS, 1);
            assert_eq!(rows.len(), CLAIMS.len());
            for (row, claim) in rows.iter().zip(&CLAIMS) {
                assert_eq!(row.claim, claim.name);
            }
        }
        for c in &CLAIMS {
            assert_eq!(
                CLAIMS.iter().filter(|d| d.name == c.name).count(),
                1,
                "{}",
                c.name
            );
        }
    }
}
