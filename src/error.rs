//! The error type of the oracle's numerical routines (ELBO, optimal encoder, marginal likelihood).

use crate::decoder::DecoderError;
use std::fmt;

/// Why an oracle quantity could not be computed to the documented accuracy.
#[derive(Debug, Clone, PartialEq)]
pub enum OracleError {
    /// The decoder failed (bad input, pole, not invertible …).
    Decoder(DecoderError),
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
    /// The quadrature did not reach the requested tolerance within the node budget.
    QuadratureNotConverged {
        /// What was being integrated.
        what: &'static str,
        /// The tolerance requested (absolute, on the scale documented by the routine).
        requested: f64,
        /// The best error estimate reached.
        achieved: f64,
        /// Nodes per dimension at the last attempt.
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
        reason: &'static str,
    },
}

impl From<DecoderError> for OracleError {
    fn from(e: DecoderError) -> Self {
        OracleError::Decoder(e)
    }
}

impl fmt::Display for OracleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OracleError::Decoder(e) => write!(f, "decoder: {e}"),
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
            OracleError::MinusInfinity { step } => write!(
                f,
                "the exact value is -inf: E_q|f(z)|^2 diverges at the pole of the Moebius step {step} in dimension d <= 2"
            ),
            OracleError::PoleTooClose {
                step,
                mahalanobis,
                mass_bound,
            } => write!(
                f,
                "the pole of step {step} lies {mahalanobis:.3} standard deviations from the Gaussian's centre \
                 (mass that far out <= {mass_bound:.3e}); the quadrature cannot be trusted there"
            ),
            OracleError::QuadratureNotConverged {
                what,
                requested,
                achieved,
                nodes_per_dim,
            } => write!(
                f,
                "{what}: quadrature error estimate {achieved:.3e} above the requested {requested:.3e} \
                 with {nodes_per_dim} nodes per dimension (the node budget is exhausted)"
            ),
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

/// Checks the length and finiteness of a vector argument.
pub(crate) fn check_vec(what: &'static str, v: &[f64], expected: usize) -> Result<(), OracleError> {
    if v.len() != expected {
        return Err(OracleError::DimensionMismatch {
            what,
            expected,
            found: v.len(),
        });
    }
    match v.iter().position(|t| !t.is_finite()) {
        Some(index) => Err(OracleError::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// Checks that γ² is finite and positive.
pub(crate) fn check_gamma2(gamma2: f64) -> Result<(), OracleError> {
    if gamma2.is_finite() && gamma2 > 0.0 {
        Ok(())
    } else {
        Err(OracleError::InvalidParameter {
            what: "gamma2",
            value: gamma2,
        })
    }
}

/// Checks that β is finite and non-negative.
pub(crate) fn check_beta(beta: f64) -> Result<(), OracleError> {
    if beta >= 0.0 && beta.is_finite() {
        Ok(())
    } else {
        Err(OracleError::InvalidParameter {
            what: "beta",
            value: beta,
        })
    }
}
