//! Choosing the rule by tolerance: the one refinement loop of the crate.
//!
//! A quantity computed on an n-node-per-dimension rule is recomputed on a larger rule until two
//! successive results agree: |v(m) − v(n)| ≤ tol·max(1, |v(m)|). Their difference is the error
//! estimate returned with the value. Node counts grow as n → n + max(2, n/2) (so successive rules
//! share no structure that could make them agree by accident), from `min_nodes` to `max_nodes`,
//! within `max_total` tensor nodes.
//!
//! Several candidate methods for the same quantity may run in lockstep ([`race`]): at each node
//! count each candidate still in the race computes once, and the first whose two successive values
//! agree answers. A candidate drops out when its rule exceeds its budget or when it errors (a pole
//! in reach, a decoder failure). The ELBO and the optimal encoder run one candidate; the marginal
//! likelihood runs two routes.

use crate::error::OracleError;
use crate::tol::{DEFAULT_MAX_NODES, DEFAULT_MAX_TOTAL, DEFAULT_MIN_NODES, DEFAULT_TOL};

/// How precisely, and within what budget, a tolerance-driven quadrature must converge. Built
/// validated (the fields cannot hold a bad value); `Default` is tol = [`DEFAULT_TOL`], nodes per
/// dimension from [`DEFAULT_MIN_NODES`] to [`DEFAULT_MAX_NODES`], at most [`DEFAULT_MAX_TOTAL`]
/// tensor nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuadratureOptions {
    tol: f64,
    min_nodes: usize,
    max_nodes: usize,
    max_total: usize,
}

impl Default for QuadratureOptions {
    fn default() -> Self {
        QuadratureOptions {
            tol: DEFAULT_TOL,
            min_nodes: DEFAULT_MIN_NODES,
            max_nodes: DEFAULT_MAX_NODES,
            max_total: DEFAULT_MAX_TOTAL,
        }
    }
}

impl QuadratureOptions {
    /// The defaults with tolerance `tol` (absolute error relative to max(1, |value|)). Errors unless
    /// `tol` is finite and positive.
    pub fn new(tol: f64) -> Result<Self, OracleError> {
        if !(tol > 0.0 && tol.is_finite()) {
            return Err(OracleError::InvalidParameter {
                what: "quadrature tolerance",
                value: tol,
            });
        }
        Ok(QuadratureOptions {
            tol,
            ..Default::default()
        })
    }

    /// The same with nodes per dimension from `min_nodes` to `max_nodes`. Errors unless
    /// 1 ≤ min_nodes ≤ max_nodes ≤ [`crate::tol::GH_MAX_NODES`].
    pub fn with_nodes(self, min_nodes: usize, max_nodes: usize) -> Result<Self, OracleError> {
        if min_nodes == 0 || min_nodes > max_nodes {
            return Err(OracleError::InvalidParameter {
                what: "min_nodes (must be in 1..=max_nodes)",
                value: min_nodes as f64,
            });
        }
        if max_nodes > crate::tol::GH_MAX_NODES {
            return Err(OracleError::InvalidParameter {
                what: "max_nodes (at most GH_MAX_NODES = 256)",
                value: max_nodes as f64,
            });
        }
        Ok(QuadratureOptions {
            min_nodes,
            max_nodes,
            ..self
        })
    }

    /// The same with at most `max_total` tensor nodes (n^d). Errors for 0.
    pub fn with_max_total(self, max_total: usize) -> Result<Self, OracleError> {
        if max_total == 0 {
            return Err(OracleError::InvalidParameter {
                what: "max_total (must be positive)",
                value: 0.0,
            });
        }
        Ok(QuadratureOptions { max_total, ..self })
    }

    /// The tolerance, relative to max(1, |value|).
    pub fn tol(&self) -> f64 {
        self.tol
    }

    /// Nodes per dimension of the first rule.
    pub fn min_nodes(&self) -> usize {
        self.min_nodes
    }

    /// Nodes per dimension of the largest rule.
    pub fn max_nodes(&self) -> usize {
        self.max_nodes
    }

    /// The largest number of tensor nodes n^d.
    pub fn max_total(&self) -> usize {
        self.max_total
    }

    /// The next, larger node count after n: n + max(2, n/2), capped at `max_nodes`.
    pub(crate) fn next(&self, n: usize) -> usize {
        (n + (n / 2).max(2)).min(self.max_nodes)
    }
}

/// The computation of one candidate on the n-node rule: `Ok(None)` when that rule exceeds the
/// candidate's budget; the second argument is the candidate's result on the previous, smaller rule
/// (a warm start), if any.
pub(crate) type Solve<'a, T> =
    Box<dyn FnMut(usize, Option<&T>) -> Result<Option<T>, OracleError> + 'a>;

/// One method in a [`race`].
pub(crate) struct Candidate<'a, T> {
    /// What it computes, for error messages.
    pub what: &'static str,
    /// The computation.
    pub solve: Solve<'a, T>,
}

/// Two successive rules of one candidate that agree.
pub(crate) struct Refined<T> {
    /// The result on the smaller rule.
    pub prev: T,
    /// The result on the larger rule (the one to report).
    pub cur: T,
    /// |value(cur) − value(prev)|, the error estimate.
    pub err: f64,
    /// Nodes per dimension of the larger rule.
    pub nodes: usize,
    /// Which candidate answered (its index).
    pub winner: usize,
}

/// Grows the rule of every candidate together until one candidate's two successive values agree
/// to the tolerance (module docs). `initial_error` is the error of a candidate that could not
/// even be set up. When no candidate converges: the error of the last candidate to drop out if it
/// dropped out by an error; else [`OracleError::QuadratureNotConverged`] with the best agreement
/// reached (or [`OracleError::InvalidParameter`] if not even the first rule fits the budget).
pub(crate) fn race<T>(
    opts: &QuadratureOptions,
    mut candidates: Vec<Candidate<'_, T>>,
    value: impl Fn(&T) -> f64,
    initial_error: Option<OracleError>,
) -> Result<Refined<T>, OracleError> {
    let mut n = opts.min_nodes;
    let mut prev: Vec<Option<T>> = candidates.iter().map(|_| None).collect();
    let mut alive = vec![true; candidates.len()];
    let mut best = (
        f64::INFINITY,
        n,
        candidates.first().map_or("quadrature", |c| c.what),
    );
    let mut last_stop = initial_error;
    let mut produced = false;
    loop {
        for (i, c) in candidates.iter_mut().enumerate() {
            if !alive[i] {
                continue;
            }
            match (c.solve)(n, prev[i].as_ref()) {
                Ok(Some(cur)) => {
                    produced = true;
                    if let Some(before) = &prev[i] {
                        let v = value(&cur);
                        let err = (v - value(before)).abs();
                        if err < best.0 {
                            best = (err, n, c.what);
                        }
                        if err <= opts.tol * v.abs().max(1.0) {
                            let prev = prev[i].take().expect("checked");
                            return Ok(Refined {
                                prev,
                                cur,
                                err,
                                nodes: n,
                                winner: i,
                            });
                        }
                    }
                    prev[i] = Some(cur);
                }
                Ok(None) => {
                    alive[i] = false;
                    last_stop = None;
                }
                Err(e) => {
                    alive[i] = false;
                    last_stop = Some(e);
                }
            }
        }
        let m = opts.next(n);
        if !alive.contains(&true) || m == n {
            break;
        }
        n = m;
    }
    match last_stop {
        Some(e) if !alive.contains(&true) => Err(e),
        _ if !produced => Err(OracleError::InvalidParameter {
            what: "min_nodes (n^d exceeds max_total)",
            value: opts.min_nodes as f64,
        }),
        _ => Err(OracleError::QuadratureNotConverged {
            what: best.2,
            requested: opts.tol,
            achieved: best.0,
            nodes_per_dim: best.1,
        }),
    }
}

/// [`race`] with one candidate.
pub(crate) fn refine<'a, T>(
    opts: &QuadratureOptions,
    what: &'static str,
    solve: impl FnMut(usize, Option<&T>) -> Result<Option<T>, OracleError> + 'a,
    value: impl Fn(&T) -> f64,
) -> Result<Refined<T>, OracleError> {
    race(
        opts,
        vec![Candidate {
            what,
            solve: Box::new(solve),
        }],
        value,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sequence converging like 2^{−n}: the loop stops at the first pair of successive node
    /// counts whose values agree to the tolerance, and reports that difference.
    #[test]
    fn stops_at_the_first_agreement() {
        let opts = QuadratureOptions::new(1e-6).unwrap();
        let r = refine(
            &opts,
            "test",
            |n, _| Ok(Some(1.0 + 0.5f64.powi(n as i32))),
            |v: &f64| *v,
        )
        .unwrap();
        // Node counts 6, 9, 13, 19, 28: |2^-19 − 2^-28| ≈ 1.9e-6 > 1e-6, |2^-28 − 2^-42| < 1e-6.
        assert_eq!(r.nodes, 42);
        assert_eq!(r.err, 0.5f64.powi(28) - 0.5f64.powi(42));
    }

    /// A race: the faster candidate answers; a candidate that errors drops out; when none
    /// converges the last error is reported; the budget exhausted gives QuadratureNotConverged.
    #[test]
    fn race_outcomes() {
        let opts = QuadratureOptions::new(1e-9).unwrap();
        let slow = |_: usize, _: Option<&f64>| Ok(Some(1.0));
        let fails = |_: usize, _: Option<&f64>| -> Result<Option<f64>, OracleError> {
            Err(OracleError::MinusInfinity { step: 3 })
        };
        let r = race(
            &opts,
            vec![
                Candidate {
                    what: "fails",
                    solve: Box::new(fails),
                },
                Candidate {
                    what: "slow",
                    solve: Box::new(slow),
                },
            ],
            |v| *v,
            None,
        )
        .unwrap();
        assert_eq!((r.winner, r.nodes), (1, 9));
        let e = refine(&opts, "fails", fails, |v: &f64| *v).err().unwrap();
        assert_eq!(e, OracleError::MinusInfinity { step: 3 });
        let never = |n: usize, _: Option<&f64>| Ok(Some(1.0 / n as f64));
        let e = refine(&opts, "never", never, |v: &f64| *v).err().unwrap();
        assert!(matches!(
            e,
            OracleError::QuadratureNotConverged { what: "never", .. }
        ));
        let too_big = |_: usize, _: Option<&f64>| Ok(None);
        let e = refine(&opts, "big", too_big, |v: &f64| *v).err().unwrap();
        assert!(matches!(e, OracleError::InvalidParameter { .. }));
    }

    #[test]
    fn options_are_validated() {
        for tol in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(QuadratureOptions::new(tol).is_err());
        }
        let o = QuadratureOptions::default();
        assert!(o.with_nodes(0, 5).is_err() && o.with_nodes(7, 6).is_err());
        assert!(o.with_nodes(2, 300).is_err() && o.with_max_total(0).is_err());
        assert_eq!(o.with_nodes(2, 4).unwrap().next(3), 4);
    }
}
