//! The paper's claims — the registry — and the verdict rows.
//!
//! A claim owns its check: each claim is a constant in `checks.rs`, written directly above the
//! function that checks it, carrying its name, source, statement, stated order and that function
//! ([`Check`], a plain function pointer); [`CLAIMS`] lists the constants. There is no lookup by
//! name, and a name cannot drift from its check: both sit in one definition. A claim without a
//! check does not compile (the field is required), and a check without a claim is an unused
//! `pub(crate)` function — a dead-code warning, which the project's clean-clippy rule does not let
//! through.
//!
//! A function pointer rather than an enum of check kinds, because the checks differ in shape
//! (order fits over a residual, inequalities over margins, the IMA gap switching between the two
//! by family): a pointer lets each be written as what it is, next to its neighbours, with the
//! shared machinery ([`CaseResults`]'s series and row builders) as ordinary methods.

use crate::checks;
use crate::fit::{fit, verdict, Fit, Series, Verdict};
use crate::run::PointResults;
use crate::sweep::{marginal_of, Case, Marginal, PointResult, PointStatic, Refusal};
use crate::tol::ASYMPTOTIC_FROM;
use nalgebra::DVector;

/// How a claim is checked: from the results of one case (and the worker threads it may use for
/// further oracle calls) to that case's row, which carries the claim's name.
pub type Check = fn(&CaseResults, &Claim, usize) -> Row;

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
    /// Whether the check reads ELBO*, μ̂ or σ̂² (or any ELBO): then it does not apply where
    /// ELBO* = −∞ exactly. `false`: it reads only log pθ(x) and the flow quantities.
    pub uses_elbo: bool,
    /// The check.
    pub check: Check,
}

/// Every claim checked, each with its check.
pub const CLAIMS: [Claim; 15] = [
    checks::PROP1_MEAN,
    checks::PROP1_VARIANCE,
    checks::EQ12,
    checks::EQ12_RATIO,
    checks::EQ13,
    checks::EQ13_FLOW,
    checks::EQ2,
    checks::EQ10_11,
    checks::IMA_GAP,
    checks::BETA_VAE,
    checks::COEF_MEAN,
    checks::COEF_VARIANCE,
    checks::MARGINAL_FLOW,
    checks::COEF_MARGINAL,
    checks::COEF_GAP,
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

/// A residual at one point: (residual, round-off floor) from x, its static part and its results.
pub(crate) type Residual = dyn Fn(&DVector<f64>, &PointStatic, &PointResult) -> (f64, f64);

/// A residual of a claim that reads only the marginal (and the flow quantities of the static part).
pub(crate) type MarginalResidual = dyn Fn(&DVector<f64>, &PointStatic, &Marginal) -> (f64, f64);

/// What a claim without ELBO* says where ELBO* = −∞ exactly.
pub const MINUS_INFINITY: &str =
    "ELBO* = −∞ exactly (reachable Möbius pole, d ≤ 2); μ̂, σ̂² undefined";

impl CaseResults<'_> {
    /// The residual series (max over points, at γ² where every point succeeded) of `r`, which returns
    /// (residual, floor) at one point; and how many γ² were skipped because a point was refused.
    fn series(&self, r: &Residual) -> (Series, usize) {
        self.series_of(|e| e.as_ref().ok(), |x, st, pr| r(x, st, pr))
    }

    /// [`Self::series`] over what `get` takes from each point's result at one γ²: `None` is a
    /// refusal. A residual that is not a number (NaN, ±∞) is recorded as +∞, which no fit accepts.
    fn series_of<'a, T>(
        &'a self,
        get: impl Fn(&'a Result<PointResult, Refusal>) -> Option<T>,
        r: impl Fn(&DVector<f64>, &PointStatic, &T) -> (f64, f64),
    ) -> (Series, usize) {
        let mut s = Series::default();
        let mut refused = 0;
        for (i, &g2) in self.grid.iter().enumerate() {
            let mut worst = (0.0f64, 0.0f64);
            let mut all = true;
            for (x, (st, res)) in self.case.xs.iter().zip(self.points) {
                match (st, get(&res[i])) {
                    (Ok(st), Some(v)) => {
                        let (e, fl) = r(x, st, &v);
                        let e = if e.is_nan() { f64::INFINITY } else { e };
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

    /// The row of an order claim: the series of `r`, its fit, and the verdict against the claim's
    /// stated order.
    pub(crate) fn order_row(&self, claim: &Claim, r: &Residual) -> Row {
        self.row_of_series(claim, self.series(r))
    }

    /// [`Self::order_row`] for a claim on the marginal: its series over every point and γ² with a
    /// log pθ(x), including where ELBO* = −∞.
    pub(crate) fn marginal_order_row(&self, claim: &Claim, r: &MarginalResidual) -> Row {
        self.row_of_series(claim, self.series_of(marginal_of, |x, st, m| r(x, st, m)))
    }

    /// Whether ELBO* = −∞ exactly for this case: the oracle said so at every point and γ².
    pub fn elbo_minus_infinity(&self) -> bool {
        !self.points.is_empty()
            && self.points.iter().all(|(st, res)| {
                st.is_ok()
                    && res
                        .iter()
                        .all(|r| matches!(r, Err(Refusal::ElboMinusInfinity(_))))
            })
    }

    /// The values of γ² ≥ [`ASYMPTOTIC_FROM`] (those a fit may use) left out of `s` because the
    /// oracle refused a point there.
    fn refused_in_fit_range(&self, s: &Series) -> usize {
        let in_range = |g: &&f64| **g >= ASYMPTOTIC_FROM;
        self.grid.iter().filter(in_range).count() - s.gamma2.iter().filter(in_range).count()
    }

    fn row_of_series(&self, claim: &Claim, (s, refused): (Series, usize)) -> Row {
        let p = claim.order.expect("an order claim");
        let f = fit(&s, ASYMPTOTIC_FROM);
        let (model, prior) = crate::sweep::label(self.case);
        Row {
            claim: claim.name,
            model,
            prior,
            stated: Some(p),
            largest: s.residual.iter().copied().fold(0.0, f64::max),
            verdict: verdict(&f, p, self.refused_in_fit_range(&s)),
            fit: f.ok(),
            refused,
            series: Some(s),
        }
    }

    /// The row of an inequality: its worst margin, and the verdict (`why` if it failed); refused
    /// counts the γ² at which some point has no result.
    pub(crate) fn inequality_row(
        &self,
        claim: &Claim,
        worst_margin: f64,
        ok: bool,
        why: String,
    ) -> Row {
        let (model, prior) = crate::sweep::label(self.case);
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

    /// The rows of every claim in `which` for this case, each from the claim's own check — or,
    /// where ELBO* = −∞ exactly, "n/a" for the claims that read it.
    pub fn rows(&self, which: &[Claim], threads: usize) -> Vec<Row> {
        let minus_infinity = self.elbo_minus_infinity();
        which
            .iter()
            .map(|c| {
                if c.uses_elbo && minus_infinity {
                    self.not_applicable(c, MINUS_INFINITY)
                } else {
                    (c.check)(self, c, threads)
                }
            })
            .collect()
    }

    /// The row of a claim that does not apply to this case.
    fn not_applicable(&self, claim: &Claim, why: &'static str) -> Row {
        let (model, prior) = crate::sweep::label(self.case);
        Row {
            claim: claim.name,
            model,
            prior,
            stated: claim.order,
            fit: None,
            largest: f64::NAN,
            verdict: Verdict::NotApplicable(why),
            refused: 0,
            series: None,
        }
    }

    /// The γ-independent parts of the points that have one.
    pub(crate) fn statics(&self) -> impl Iterator<Item = &PointStatic> {
        self.points.iter().filter_map(|(s, _)| s.as_ref().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry is well formed: names are unique (`--claim` selects by name), and every
    /// claim's check runs — on every case, with no points, so nothing is computed — and returns a
    /// row carrying that claim's name.
    #[test]
    fn registry_is_well_formed() {
        for c in &CLAIMS {
            let same = CLAIMS.iter().filter(|d| d.name == c.name).count();
            assert_eq!(same, 1, "{} is registered {same} times", c.name);
        }
        let cases = crate::sweep::cases(0, &mut ima_oracle::generate::rng(1));
        for case in &cases {
            let cr = CaseResults {
                case,
                grid: &[1e2],
                points: &[],
            };
            for claim in &CLAIMS {
                let row = (claim.check)(&cr, claim, 1);
                assert_eq!(row.claim, claim.name, "{}", case.family.name());
            }
        }
    }

    /// `select` picks by name and keeps registry order (not the order asked in); no names means
    /// every claim.
    #[test]
    fn select_by_name() {
        assert_eq!(select(&[]).len(), CLAIMS.len());
        let asked = ["eq12".to_string(), "prop1-mean".to_string()];
        let picked = select(&asked);
        assert_eq!(picked.len(), asked.len());
        assert!(picked.iter().all(|c| asked.iter().any(|n| n == c.name)));
        let position = |name: &str| CLAIMS.iter().position(|c| c.name == name);
        assert!(position(picked[0].name) < position(picked[1].name));
    }
}
