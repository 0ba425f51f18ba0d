//! The error type of the oracle's numerical routines (ELBO, optimal encoder, marginal likelihood).

use crate::model::{DecoderError, PoleRefusal};
use crate::quadrature::{QuadratureError, RuleError};
use std::fmt;

/// Why a Newton solve stopped without converging (see [`OracleError::NotConverged`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The Hessian (or gradient) had a non-finite entry, so no Newton step exists.
    HessianNotFinite,
    /// The backtracking line search found no increase along the Newton step.
    LineSearchFailed,
    /// The iteration limit was reached.
    IterationLimit,
    /// The curvature at the optimum is not positive definite (not a strict maximum).
    CurvatureNotPositiveDefinite,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::HessianNotFinite => "the Hessian is not finite",
            StopReason::LineSearchFailed => "the line search found no increase",
            StopReason::IterationLimit => "iteration limit reached",
            StopReason::CurvatureNotPositiveDefinite => {
                "the curvature at the mode is not positive definite"
            }
        })
    }
}

/// Why an oracle quantity could not be computed to the documented accuracy.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OracleError {
    /// The decoder failed (bad input, pole, not invertible …).
    Decoder(DecoderError),
    /// A quadrature rule could not be built (node count out of range, too many nodes).
    Rule(RuleError),
    /// An argument has the wrong length.
    DimensionMismatch {
        /// Which argument.
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Length received.
        found: usize,
    },
    /// An argument holds NaN or ±∞.
    NonFinite {
        /// Which argument.
        what: &'static str,
        /// Index of the first bad entry.
        index: usize,
    },
    /// A scalar parameter is outside its domain (γ² ≤ 0, β < 0, a tolerance ≤ 0 …).
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// The value received.
        value: f64,
    },
    /// The exact value is −∞: E_q‖f(z)‖² diverges for a Möbius step in d ≤ 2 (|f| ~ 1/|z − a| near the
    /// pole is not square-integrable against any Gaussian in one or two dimensions).
    MinusInfinity {
        /// The Möbius step.
        step: usize,
    },
    /// A decoder pole carries non-negligible Gaussian mass: the quadrature cannot see the singular
    /// contribution there, so no value is returned.
    PoleTooClose {
        /// The Möbius step whose pole it is.
        step: usize,
        /// The pole's Mahalanobis distance from the Gaussian's centre.
        mahalanobis: f64,
        /// The Chernoff upper bound on the Gaussian mass at least that far out.
        mass_bound: f64,
    },
    /// The decoder is not smooth (a leaky ReLU step): a Gaussian expectation over it (ELBO,
    /// optimal encoder, marginal likelihood) would converge only slowly across the kinks, with
    /// error estimates that cannot be trusted, so none is returned. The flow quantities are
    /// unaffected.
    NotSmooth {
        /// The first non-smooth step.
        step: usize,
    },
    /// The x-space marginal likelihood needs a decoder onto R^D; this step (a sigmoid or a tanh)
    /// bounds the decoder's image, at whose boundary the flow density jumps to 0 — a jump a
    /// Gauss–Hermite rule whose nodes all fall inside would not see (a wrong value with a small
    /// error estimate), so the route refuses. The Laplace-centred route is unaffected.
    BoundedImage {
        /// The first step with a bounded image.
        step: usize,
    },
    /// A quadrature route asked for by name does not apply to this model or point.
    RouteNotApplicable {
        /// The route.
        route: &'static str,
        /// What it needs.
        why: &'static str,
    },
    /// The quadrature did not reach the requested tolerance within the node budget.
    QuadratureNotConverged {
        /// What was being integrated.
        what: &'static str,
        /// The tolerance requested (absolute, on the scale documented by the routine).
        requested: f64,
        /// The best error estimate reached.
        achieved: f64,
        /// Nodes per dimension of the largest rule tried.
        nodes_per_dim: usize,
    },
    /// An iterative solver stopped without converging; no iterate is returned.
    NotConverged {
        /// The solver.
        what: &'static str,
        /// Iterations performed.
        iterations: usize,
        /// The gradient's max-norm at the last iterate.
        grad_norm: f64,
        /// Why it stopped.
        reason: StopReason,
    },
}

impl From<DecoderError> for OracleError {
    fn from(e: DecoderError) -> Self {
        OracleError::Decoder(e)
    }
}

impl From<RuleError> for OracleError {
    fn from(e: RuleError) -> Self {
        OracleError::Rule(e)
    }
}

impl From<PoleRefusal> for OracleError {
    fn from(e: PoleRefusal) -> Self {
        match e {
            PoleRefusal::MinusInfinity { step } => OracleError::MinusInfinity { step },
            PoleRefusal::NotSmooth { step } => OracleError::NotSmooth { step },
            PoleRefusal::PoleTooClose {
                step,
                mahalanobis,
                mass_bound,
            } => OracleError::PoleTooClose {
                step,
                mahalanobis,
                mass_bound,
            },
        }
    }
}

impl From<QuadratureError> for OracleError {
    fn from(e: QuadratureError) -> Self {
        match e {
            QuadratureError::Rule(e) => OracleError::Rule(e),
            QuadratureError::InvalidOption { what, value } => {
                OracleError::InvalidParameter { what, value }
            }
            QuadratureError::NotConverged {
                what,
                requested,
                achieved,
                nodes_per_dim,
            } => OracleError::QuadratureNotConverged {
                what,
                requested,
                achieved,
                nodes_per_dim,
            },
        }
    }
}

impl fmt::Display for OracleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OracleError::Decoder(e) => write!(f, "decoder: {e}"),
            OracleError::Rule(e) => write!(f, "quadrature rule: {e}"),
            OracleError::DimensionMismatch {
                what,
                expected,
                found,
            } => write!(f, "{what}: expected length {expected}, found {found}"),
            OracleError::NonFinite { what, index } => {
                write!(f, "{what}: entry {index} is NaN or infinite")
            }
            OracleError::InvalidParameter { what, value } => {
                write!(f, "{what} = {value} is outside its domain")
            }
            // One text per refusal: the lower layers' own messages.
            &OracleError::MinusInfinity { step } => PoleRefusal::MinusInfinity { step }.fmt(f),
            &OracleError::NotSmooth { step } => PoleRefusal::NotSmooth { step }.fmt(f),
            OracleError::RouteNotApplicable { route, why } => {
                write!(f, "log marginal: the {route} route does not apply: {why}")
            }
            OracleError::BoundedImage { step } => write!(
                f,
                "the x-space marginal needs a decoder onto R^D, and step {step} (sigmoid or tanh) \
                 bounds its image: the flow density jumps to 0 at the boundary, which its \
                 Gauss-Hermite nodes need not see"
            ),
            &OracleError::PoleTooClose {
                step,
                mahalanobis,
                mass_bound,
            } => PoleRefusal::PoleTooClose {
                step,
                mahalanobis,
                mass_bound,
            }
            .fmt(f),
            &OracleError::QuadratureNotConverged {
                what,
                requested,
                achieved,
                nodes_per_dim,
            } => QuadratureError::NotConverged {
                what,
                requested,
                achieved,
                nodes_per_dim,
            }
            .fmt(f),
            OracleError::NotConverged {
                what,
                iterations,
                grad_norm,
                reason,
            } => write!(
                f,
                "{what} did not converge after {iterations} iterations (gradient max-norm {grad_norm:.3e}): {reason}"
            ),
        }
    }
}

impl std::error::Error for OracleError {}
