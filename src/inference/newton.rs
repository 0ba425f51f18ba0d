//! A safeguarded Newton maximiser for small, smooth problems (2d ≤ a few dozen variables), shared by
//! the optimal encoder ([`super::optimal_encoder`]) and the posterior mode ([`super::posterior_mode`]).
//!
//! Each iteration works in caller-given natural coordinates (θ = θ_k + D p̂, D = diag(scale(θ_k))) in
//! which the objective varies on a unit scale:
//!
//! 1. solve (−Ĥ + λI) p̂ = ĝ by Cholesky, λ = 0 when −Ĥ = −D H D is positive definite and otherwise the
//!    smallest 10^k·1e-8·max(1, max diag(−Ĥ)) that makes it so (Levenberg; [`LEVENBERG_BASE`],
//!    [`LEVENBERG_GROWTH`], [`LEVENBERG_TRIES`]);
//! 2. the Newton decrement λ² = ĝᵀp̂ (twice the increase still available) is compared with the
//!    caller's round-off floor: at or below it, θ_k is returned;
//! 3. if the predicted increase λ²/2 is below the objective's own round-off (`value_noise`), the full
//!    step is taken — the value can no longer judge it, and the iteration is in its quadratic regime;
//! 4. otherwise a backtracking line search (Armijo, c = [`ARMIJO`], up to [`MAX_HALVINGS`] halvings)
//!    must find an increase. If none exists and λ² ≤ [`STALL_FACTOR`] × floor, the iterate is at
//!    round-off ("stalled");
//!    otherwise the solve fails with an error — the first error the objective raised along the step
//!    if there was one (a pole guard, say), else [`OracleError::NotConverged`]. A solve never
//!    returns an unconverged iterate.

use crate::error::{OracleError, StopReason};
use crate::objective::DerivativeOrder;
use crate::tol::{
    ARMIJO, LEVENBERG_BASE, LEVENBERG_GROWTH, LEVENBERG_TRIES, MAX_HALVINGS, NEWTON_MAX_ITER,
    STALL_FACTOR,
};
use nalgebra::{DMatrix, DVector};

/// Why a Newton solve stopped successfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// The Newton decrement fell to the round-off floor.
    DecrementAtRoundOff,
    /// The line search could not improve a point whose decrement was within [`STALL_FACTOR`] of
    /// the floor.
    StalledAtRoundOff,
    /// The gradient's max-norm fell below the caller's `grad_tol`.
    GradientTolerance,
}

/// Options of a Newton solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonOptions {
    /// Iteration limit (default [`NEWTON_MAX_ITER`]).
    pub max_iter: usize,
    /// Stop as soon as the gradient's max-norm (original coordinates) is below this; `None`
    /// (default) iterates to round-off.
    pub grad_tol: Option<f64>,
}

impl Default for NewtonOptions {
    fn default() -> Self {
        NewtonOptions {
            max_iter: NEWTON_MAX_ITER,
            grad_tol: None,
        }
    }
}

/// One evaluation of the objective.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Eval<T> {
    pub value: f64,
    /// The absolute round-off of `value`.
    pub value_noise: f64,
    pub gradient: Option<DVector<f64>>,
    pub hessian: Option<DMatrix<f64>>,
    /// Whatever else the caller wants to keep from the final evaluation.
    pub extra: T,
}

/// A converged solve.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Solution<T> {
    pub theta: DVector<f64>,
    pub last: Eval<T>,
    pub iterations: usize,
    pub evaluations: usize,
    pub decrements: Vec<f64>,
    pub termination: Termination,
}

/// Maximises `f` from `theta0`. `scale(θ)` gives the natural-coordinate scales, `floor(θ)` the
/// round-off floor of the Newton decrement at θ. The steps are those of the module docs.
pub(crate) fn maximize<T>(
    what: &'static str,
    mut f: impl FnMut(&DVector<f64>, DerivativeOrder) -> Result<Eval<T>, OracleError>,
    theta0: &DVector<f64>,
    scale: impl Fn(&DVector<f64>) -> DVector<f64>,
    floor: impl Fn(&DVector<f64>) -> f64,
    opts: &NewtonOptions,
) -> Result<Solution<T>, OracleError> {
    let mut theta = theta0.clone();
    let mut evaluations = 0;
    let mut decrements = Vec::new();
    let mut last_gmax = f64::NAN;
    for it in 0..=opts.max_iter {
        let e = f(&theta, DerivativeOrder::Hessian)?;
        evaluations += 1;
        let g = e
            .gradient
            .as_ref()
            .expect("a Hessian evaluation has a gradient");
        let h = e
            .hessian
            .as_ref()
            .expect("a Hessian evaluation has a Hessian");
        let gmax = g.amax();
        last_gmax = gmax;
        let sc = scale(&theta);
        let gs = g.component_mul(&sc);
        let a = natural_neg_hessian(h, &sc);
        let not_converged = |reason| OracleError::NotConverged {
            what,
            iterations: it,
            grad_norm: gmax,
            reason,
        };
        let step_s =
            regularised_solve(&a, &gs).ok_or(not_converged(StopReason::HessianNotFinite))?;
        let dec = gs.dot(&step_s).max(0.0);
        decrements.push(dec);
        let fl = floor(&theta);
        let stop = match opts.grad_tol {
            Some(tol) => (gmax < tol).then_some(Termination::GradientTolerance),
            None => (dec <= fl).then_some(Termination::DecrementAtRoundOff),
        };
        let termination = match stop {
            Some(termination) => termination,
            None if it == opts.max_iter => break,
            None => {
                let step = step_s.component_mul(&sc);
                if 0.5 * dec <= e.value_noise {
                    theta += step;
                    continue;
                }
                match line_search(&mut f, &theta, &step, e.value, dec, &mut evaluations) {
                    LineSearch::Accepted(next) => {
                        theta = next;
                        continue;
                    }
                    LineSearch::Failed(_)
                        if dec <= STALL_FACTOR * fl && opts.grad_tol.is_none() =>
                    {
                        Termination::StalledAtRoundOff
                    }
                    // The objective could not be evaluated along the step (a pole guard, say):
                    // that is the reason to report.
                    LineSearch::Failed(Some(err)) => return Err(err),
                    LineSearch::Failed(None) => {
                        return Err(not_converged(StopReason::LineSearchFailed))
                    }
                }
            }
        };
        return Ok(Solution {
            theta,
            last: e,
            iterations: it,
            evaluations,
            decrements,
            termination,
        });
    }
    Err(OracleError::NotConverged {
        what,
        iterations: opts.max_iter,
        grad_norm: last_gmax,
        reason: StopReason::IterationLimit,
    })
}

/// −D H D with D = diag(`scale`): the negative Hessian in natural coordinates, positive definite
/// at a strict maximum.
pub(crate) fn natural_neg_hessian(h: &DMatrix<f64>, scale: &DVector<f64>) -> DMatrix<f64> {
    let n = scale.len();
    DMatrix::from_fn(n, n, |i, k| -h[(i, k)] * scale[i] * scale[k])
}

/// The outcome of a backtracking line search.
enum LineSearch {
    /// A point with sufficient increase.
    Accepted(DVector<f64>),
    /// None found; the first error the objective raised along the step, if any.
    Failed(Option<OracleError>),
}

/// Backtracking from the full step: θ + t·step, t = 1, ½, ¼, … ([`MAX_HALVINGS`] times) until
/// f(θ + t·step) ≥ f(θ) + [`ARMIJO`]·t·λ² at a point that differs from θ.
fn line_search<T>(
    f: &mut impl FnMut(&DVector<f64>, DerivativeOrder) -> Result<Eval<T>, OracleError>,
    theta: &DVector<f64>,
    step: &DVector<f64>,
    value: f64,
    dec: f64,
    evaluations: &mut usize,
) -> LineSearch {
    let mut t = 1.0;
    let mut trial_error = None;
    for _ in 0..MAX_HALVINGS {
        let trial = theta + step * t;
        *evaluations += 1;
        match f(&trial, DerivativeOrder::Value) {
            Ok(et) => {
                if et.value >= value + ARMIJO * t * dec && &trial != theta {
                    return LineSearch::Accepted(trial);
                }
            }
            Err(err) => {
                trial_error.get_or_insert(err);
            }
        }
        t *= 0.5;
    }
    LineSearch::Failed(trial_error)
}

/// Solves (A + λI) p = b with the smallest λ ∈ {0} ∪ {10^k·1e-8·max(1, max diag A)} for which
/// A + λI is positive definite (Cholesky succeeds; see [`LEVENBERG_BASE`]). `None` if A is not
/// finite or no shift within [`LEVENBERG_TRIES`] works.
pub(crate) fn regularised_solve(a: &DMatrix<f64>, b: &DVector<f64>) -> Option<DVector<f64>> {
    if a.iter().chain(b.iter()).any(|t| !t.is_finite()) {
        return None;
    }
    let n = a.nrows();
    let base = a.diagonal().amax().max(1.0) * LEVENBERG_BASE;
    let mut lambda = 0.0;
    for _ in 0..LEVENBERG_TRIES {
        let m = a + DMatrix::identity(n, n) * lambda;
        if let Some(ch) = m.cholesky() {
            return Some(ch.solve(b));
        }
        lambda = if lambda == 0.0 {
            base
        } else {
            lambda * LEVENBERG_GROWTH
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// Rosenbrock's function (negated), from (−1.2, 1): the solve must reach the maximum (1, 1) to
    /// round-off (1e-13 absolute), with quadratically falling decrements at the end:
    /// λ²_{k+1} ≤ 1e3 (λ²_k)² once λ²_k < 1e-4 (Rosenbrock's constant is ~50 here; a linear rate
    /// would break the bound at once).
    #[test]
    fn rosenbrock() {
        let f = |t: &DVector<f64>, order: DerivativeOrder| -> Result<Eval<()>, OracleError> {
            let (x, y) = (t[0], t[1]);
            let value = -((1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2));
            let gradient = (order >= DerivativeOrder::Gradient).then(|| {
                DVector::from_vec(vec![
                    2.0 * (1.0 - x) + 400.0 * x * (y - x * x),
                    -200.0 * (y - x * x),
                ])
            });
            let hessian = (order >= DerivativeOrder::Hessian).then(|| {
                DMatrix::from_row_slice(
                    2,
                    2,
                    &[
                        -2.0 - 1200.0 * x * x + 400.0 * y,
                        400.0 * x,
                        400.0 * x,
                        -200.0,
                    ],
                )
            });
            Ok(Eval {
                value,
                // The value is a handful of flops on O(1) numbers: a few ulps.
                value_noise: 4.0 * f64::EPSILON * (1.0 + value.abs()),
                gradient,
                hessian,
                extra: (),
            })
        };
        let s = maximize(
            "rosenbrock",
            f,
            &DVector::from_vec(vec![-1.2, 1.0]),
            |_| DVector::from_element(2, 1.0),
            |_| 1e-28,
            &NewtonOptions::default(),
        )
        .unwrap();
        assert_within(
            "θ*",
            s.theta.as_slice(),
            &[1.0, 1.0],
            Tol::Scaled(1e-13, 1.0),
        );
        assert!(s.iterations < 40, "{} iterations", s.iterations);
        let d = &s.decrements;
        for k in 0..d.len() - 1 {
            if d[k] < 1e-4 && d[k + 1] > 1e-28 {
                assert!(d[k + 1] <= 1e3 * d[k] * d[k], "not quadratic: {d:?}");
            }
        }
    }
}
