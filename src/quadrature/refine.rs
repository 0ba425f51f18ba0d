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

use super::RuleError;
use crate::tol::{
    DEFAULT_MAX_NODES, DEFAULT_MAX_TOTAL, DEFAULT_MIN_NODES, DEFAULT_TOL, GH_MAX_NODES,
};
use std::fmt;

/// Why a tolerance-driven quadrature has no answer, or its options are invalid.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum QuadratureError {
    /// A rule could not be built.
    Rule(RuleError),
    /// An option is outside its domain (a tolerance ≤ 0, min_nodes > max_nodes, …).
    InvalidOption {
        /// Which option.
        what: &'static str,
        /// The value received.
        value: f64,
    },
    /// No two successive rules agreed to the tolerance within the node budget.
    NotConverged {
        /// What was being integrated.
        what: &'static str,
        /// The tolerance requested (relative to max(1, |value|)).
        requested: f64,
        /// The best agreement reached between two successive rules.
        achieved: f64,
        /// Nodes per dimension of the largest rule tried.
        nodes_per_dim: usize,
    },
}

impl fmt::Display for QuadratureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuadratureError::Rule(e) => write!(f, "quadrature rule: {e}"),
            QuadratureError::InvalidOption { what, value } => {
                write!(f, "{what} = {value} is outside its domain")
            }
            QuadratureError::NotConverged {
                what,
                requested,
                achieved,
                nodes_per_dim,
            } if achieved.is_finite() => write!(
                f,
                "{what}: quadrature error estimate {achieved:.3e} above the requested {requested:.3e} \
                 with {nodes_per_dim} nodes per dimension (the node budget is exhausted)"
            ),
            // No comparison was made: every rule's value was withheld as one the rule cannot
            // vouch for (a Laplace rule ending inside a tail it cannot see, a whole-cube rule too
            // coarse to see every maximum), up to the budget.
            QuadratureError::NotConverged {
                what,
                requested,
                nodes_per_dim,
                ..
            } => write!(
                f,
                "{what}: no two successive rules up to {nodes_per_dim} nodes per dimension gave \
                 values that could be compared (each rule's value was withheld as one it cannot \
                 vouch for); the requested tolerance {requested:.3e} was not reached"
            ),
        }
    }
}

impl std::error::Error for QuadratureError {}

impl From<RuleError> for QuadratureError {
    fn from(e: RuleError) -> Self {
        QuadratureError::Rule(e)
    }
}

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
    pub fn new(tol: f64) -> Result<Self, QuadratureError> {
        if !(tol > 0.0 && tol.is_finite()) {
            return Err(QuadratureError::InvalidOption {
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
    /// 1 ≤ min_nodes ≤ max_nodes ≤ [`GH_MAX_NODES`].
    pub fn with_nodes(self, min_nodes: usize, max_nodes: usize) -> Result<Self, QuadratureError> {
        if min_nodes == 0 || min_nodes > max_nodes {
            return Err(QuadratureError::InvalidOption {
                what: "min_nodes (must be in 1..=max_nodes)",
                value: min_nodes as f64,
            });
        }
        if max_nodes > GH_MAX_NODES {
            return Err(QuadratureError::InvalidOption {
                what: "max_nodes (above tol::GH_MAX_NODES)",
                value: max_nodes as f64,
            });
        }
        Ok(QuadratureOptions {
            min_nodes,
            max_nodes,
            ..self
        })
    }

    /// The same with `max_nodes` raised beyond [`GH_MAX_NODES`], for a route whose n-node rule
    /// builds no Gauss–Hermite or Gauss–Legendre rule of n nodes (the polar route in d = 2: a
    /// trapezoid rule in the angle and the radius). Lowers nothing.
    pub(crate) fn with_max_nodes_beyond_rules(self, max_nodes: usize) -> Self {
        QuadratureOptions {
            max_nodes: self.max_nodes.max(max_nodes),
            ..self
        }
    }

    /// The same with at most `max_total` tensor nodes (n^d). Errors for 0.
    pub fn with_max_total(self, max_total: usize) -> Result<Self, QuadratureError> {
        if max_total == 0 {
            return Err(QuadratureError::InvalidOption {
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
/// (a warm start), if any. `E` is the caller's error type.
pub(crate) type Solve<'a, T, E> = Box<dyn FnMut(usize, Option<&T>) -> Result<Option<T>, E> + 'a>;

/// One method in a [`race`].
pub(crate) struct Candidate<'a, T, E> {
    /// What it computes, for error messages.
    pub what: &'static str,
    /// The computation.
    pub solve: Solve<'a, T, E>,
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

/// How a candidate left the race.
enum Exit<E> {
    /// Its rule outgrew its budget.
    Budget,
    /// It raised an error.
    Error(E),
}

/// Grows the rule of every candidate together until one candidate's two successive values agree
/// to the tolerance (module docs). `initial_error` is the error of a candidate that could not even
/// be set up. When no candidate converges, the answer is, in this order:
/// 1. the error of the last candidate to drop out, if it dropped out by an error (it stopped the
///    race: a single failing candidate reports its own failure);
/// 2. [`QuadratureError::NotConverged`] with the best agreement reached, if any candidate compared
///    two rules (the budget ran out while agreement was being approached);
/// 3. the last error raised (or `initial_error`), if there was one;
/// 4. [`QuadratureError::InvalidOption`] on `min_nodes`: not even the first rule fits the budget.
pub(crate) fn race<T, E: From<QuadratureError>>(
    opts: &QuadratureOptions,
    mut candidates: Vec<Candidate<'_, T, E>>,
    value: impl Fn(&T) -> f64,
    initial_error: Option<E>,
) -> Result<Refined<T>, E> {
    let mut n = opts.min_nodes;
    let mut largest = n;
    let mut prev: Vec<Option<T>> = candidates.iter().map(|_| None).collect();
    let mut alive = vec![true; candidates.len()];
    let mut best = (
        f64::INFINITY,
        candidates.first().map_or("quadrature", |c| c.what),
    );
    let mut last_error = initial_error;
    let mut last_exit: Option<Exit<()>> = None;
    let mut produced = false;
    loop {
        for (i, c) in candidates.iter_mut().enumerate() {
            if !alive[i] {
                continue;
            }
            match (c.solve)(n, prev[i].as_ref()) {
                Ok(Some(cur)) => {
                    produced = true;
                    largest = n;
                    if let Some(before) = &prev[i] {
                        let v = value(&cur);
                        let err = (v - value(before)).abs();
                        if err < best.0 {
                            best = (err, c.what);
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
                    last_exit = Some(Exit::Budget);
                }
                Err(e) => {
                    alive[i] = false;
                    last_error = Some(e);
                    last_exit = Some(Exit::Error(()));
                }
            }
        }
        let m = opts.next(n);
        if !alive.contains(&true) || m == n {
            break;
        }
        n = m;
    }
    let stopped_by_error = matches!(last_exit, Some(Exit::Error(()))) && !alive.contains(&true);
    match last_error {
        Some(e) if stopped_by_error || !best.0.is_finite() => Err(e),
        _ if !produced => Err(QuadratureError::InvalidOption {
            what: "min_nodes (n^d exceeds max_total)",
            value: opts.min_nodes as f64,
        }
        .into()),
        _ => Err(QuadratureError::NotConverged {
            what: best.1,
            requested: opts.tol,
            achieved: best.0,
            nodes_per_dim: largest,
        }
        .into()),
    }
}

/// [`race`] with one candidate.
pub(crate) fn refine<'a, T, E: From<QuadratureError>>(
    opts: &QuadratureOptions,
    what: &'static str,
    solve: impl FnMut(usize, Option<&T>) -> Result<Option<T>, E> + 'a,
    value: impl Fn(&T) -> f64,
) -> Result<Refined<T>, E> {
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
            |n, _| Ok::<_, QuadratureError>(Some(1.0 + 0.5f64.powi(n as i32))),
            |v: &f64| *v,
        )
        .unwrap();
        // Node counts 6, 9, 13, 19, 28: |2^-19 − 2^-28| ≈ 1.9e-6 > 1e-6, |2^-28 − 2^-42| < 1e-6.
        assert_eq!(r.nodes, 42);
        assert_eq!(r.err, 0.5f64.powi(28) - 0.5f64.powi(42));
    }

    /// The caller's error in these tests: the loop's own, or a refusal of the computation.
    #[derive(Debug, PartialEq)]
    enum E {
        Quadrature(QuadratureError),
        Refused(&'static str),
    }

    impl From<QuadratureError> for E {
        fn from(e: QuadratureError) -> Self {
            E::Quadrature(e)
        }
    }

    fn candidate<'a>(
        what: &'static str,
        solve: impl FnMut(usize, Option<&f64>) -> Result<Option<f64>, E> + 'a,
    ) -> Candidate<'a, f64, E> {
        Candidate {
            what,
            solve: Box::new(solve),
        }
    }

    /// Each outcome of the race, in the order of precedence of [`race`]'s docs. Node counts run
    /// 6, 9, 13, 19, 28, 42, 63, 94, 96 (the default range).
    #[test]
    fn race_outcomes() {
        let opts = QuadratureOptions::new(1e-9).unwrap();
        let value = |v: &f64| *v;
        let constant = |_: usize, _: Option<&f64>| Ok(Some(1.0));
        let never = |n: usize, _: Option<&f64>| Ok(Some(1.0 / n as f64));
        let refused = |_: usize, _: Option<&f64>| Err(E::Refused("pole"));
        // The candidate that converges answers, whatever the others do.
        let r = race(
            &opts,
            vec![
                candidate("refused", refused),
                candidate("constant", constant),
            ],
            value,
            None,
        );
        let r = r.unwrap();
        assert_eq!((r.winner, r.nodes), (1, 9));
        // 1. The last candidate to drop out did so by an error: that error, even after agreement
        //    was being approached (one candidate failing at its third rule).
        let late = |n: usize, _: Option<&f64>| {
            if n < 13 {
                Ok(Some(1.0 / n as f64))
            } else {
                Err(E::Refused("late"))
            }
        };
        assert_eq!(
            refine(&opts, "late", late, value).err(),
            Some(E::Refused("late"))
        );
        let budget_early = |n: usize, _: Option<&f64>| Ok((n < 9).then_some(1.0));
        let r = race(
            &opts,
            vec![candidate("budget", budget_early), candidate("late", late)],
            value,
            None,
        );
        assert_eq!(r.err(), Some(E::Refused("late")));
        // 2. The budget ended the race after two rules were compared: NotConverged, with the best
        //    agreement and the largest rule tried.
        let budget_late = |n: usize, _: Option<&f64>| Ok((n < 42).then(|| 1.0 / n as f64));
        let r = race(
            &opts,
            vec![candidate("late", late), candidate("budget", budget_late)],
            value,
            None,
        );
        match r.err() {
            Some(E::Quadrature(QuadratureError::NotConverged {
                what,
                nodes_per_dim,
                achieved,
                ..
            })) => {
                assert_eq!((what, nodes_per_dim), ("budget", 28));
                assert_eq!(achieved, 1.0 / 19.0 - 1.0 / 28.0);
            }
            other => panic!("{other:?}"),
        }
        let r = refine(&opts, "never", never, value);
        assert!(matches!(
            r.err(),
            Some(E::Quadrature(QuadratureError::NotConverged {
                nodes_per_dim: 96,
                ..
            }))
        ));
        // Every rule's value withheld (NaN) up to the budget: NotConverged with no agreement
        // reached, and a message that says no comparison was made (not "estimate inf").
        let withheld = |_: usize, _: Option<&f64>| Ok(Some(f64::NAN));
        match refine(&opts, "withheld", withheld, value).err() {
            Some(E::Quadrature(e @ QuadratureError::NotConverged { achieved, .. })) => {
                assert!(achieved.is_infinite());
                let msg = e.to_string();
                assert!(
                    msg.contains("could be compared") && !msg.contains("inf"),
                    "{msg}"
                );
            }
            other => panic!("{other:?}"),
        }
        // 3. No rule pair was ever compared: the error raised, here the set-up error of a route
        //    that never ran, although the other route then ran out of budget.
        let one_value = |n: usize, _: Option<&f64>| Ok((n < 9).then_some(1.0));
        let r = race(
            &opts,
            vec![candidate("one", one_value)],
            value,
            Some(E::Refused("setup")),
        );
        assert_eq!(r.err(), Some(E::Refused("setup")));
        // 4. Not even the first rule fits: the budget is too small for min_nodes.
        let too_big = |_: usize, _: Option<&f64>| Ok(None);
        let r = refine(&opts, "big", too_big, value);
        assert!(matches!(
            r.err(),
            Some(E::Quadrature(QuadratureError::InvalidOption { .. }))
        ));
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
