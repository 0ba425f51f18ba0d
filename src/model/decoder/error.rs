//! The error type of decoder construction and evaluation.

use std::fmt;

/// Why a decoder could not be built or evaluated. Every variant says where: which step (0-based,
/// in the order the steps are applied) and, for inputs, which coordinate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DecoderError {
    /// An input vector has the wrong length.
    DimensionMismatch {
        /// What was being checked ("z", "x", "step 2 input", …).
        what: String,
        /// The length required.
        expected: usize,
        /// The length received.
        found: usize,
    },
    /// An input or parameter holds NaN or ±∞.
    NonFinite {
        /// What holds it ("z", "x", "W of step 1", …).
        what: String,
        /// The index of the first offending entry (row-major for matrices).
        index: usize,
    },
    /// A parameter is outside its allowed range.
    InvalidParameter {
        /// The step (0-based) or `None` when the step is being built on its own.
        step: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A linear map that must be invertible (or of full rank) is singular to working precision.
    Singular {
        /// The step, when known.
        step: Option<usize>,
        /// The reciprocal condition number σ_min/σ_max found.
        rcond: f64,
    },
    /// The step (or chain) has no inverse: not square, or not injective.
    NotInvertible {
        /// The step, when known.
        step: Option<usize>,
        /// Why.
        reason: String,
    },
    /// The evaluation hit a pole or overflowed (a Möbius step at its pole, e.g.).
    Pole {
        /// The step at which the first non-finite value appeared.
        step: usize,
        /// What was being evaluated ("forward", "inverse", …).
        what: &'static str,
    },
    /// An inverse was asked for a value outside the step's image (a sigmoid's x ∉ (0, 1), a
    /// tanh's x ∉ (−1, 1)): no z maps there.
    OutsideImage {
        /// The step, when known.
        step: Option<usize>,
        /// The coordinate.
        index: usize,
        /// The value received.
        value: f64,
        /// The step's image, e.g. "(0, 1)".
        image: &'static str,
    },
    /// An iterative inverse failed to converge (should not happen for valid parameters).
    NoConvergence {
        /// The step.
        step: Option<usize>,
        /// The coordinate.
        index: usize,
    },
}

impl DecoderError {
    /// The same error, attributed to step `step` of a chain.
    pub(crate) fn at_step(self, step: usize) -> Self {
        match self {
            DecoderError::InvalidParameter { message, .. } => DecoderError::InvalidParameter {
                step: Some(step),
                message,
            },
            DecoderError::Singular { rcond, .. } => DecoderError::Singular {
                step: Some(step),
                rcond,
            },
            DecoderError::NotInvertible { reason, .. } => DecoderError::NotInvertible {
                step: Some(step),
                reason,
            },
            DecoderError::NoConvergence { index, .. } => DecoderError::NoConvergence {
                step: Some(step),
                index,
            },
            DecoderError::OutsideImage {
                index,
                value,
                image,
                ..
            } => DecoderError::OutsideImage {
                step: Some(step),
                index,
                value,
                image,
            },
            other => other,
        }
    }
}

fn step_name(step: &Option<usize>) -> String {
    match step {
        Some(s) => format!("step {s}"),
        None => "step".to_string(),
    }
}

impl fmt::Display for DecoderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecoderError::DimensionMismatch {
                what,
                expected,
                found,
            } => write!(f, "{what}: expected length {expected}, found {found}"),
            DecoderError::NonFinite { what, index } => {
                write!(f, "{what}: entry {index} is not finite (NaN or infinite)")
            }
            DecoderError::InvalidParameter { step, message } => {
                write!(f, "{}: {message}", step_name(step))
            }
            DecoderError::Singular { step, rcond } => write!(
                f,
                "{}: matrix is singular to working precision (reciprocal condition number {rcond:.3e})",
                step_name(step)
            ),
            DecoderError::NotInvertible { step, reason } => {
                write!(f, "{}: not invertible: {reason}", step_name(step))
            }
            DecoderError::Pole { step, what } => write!(
                f,
                "step {step}: {what} evaluation hit a pole or overflowed (non-finite value)"
            ),
            DecoderError::OutsideImage {
                step,
                index,
                value,
                image,
            } => write!(
                f,
                "{}: inverse: coordinate {index} = {value:e} is outside the step's image {image}",
                step_name(step)
            ),
            DecoderError::NoConvergence { step, index } => write!(
                f,
                "{}: iterative inverse did not converge at coordinate {index}",
                step_name(step)
            ),
        }
    }
}

impl std::error::Error for DecoderError {}

/// Checks that every entry of `v` is finite.
pub(crate) fn check_finite(what: &str, v: &[f64]) -> Result<(), DecoderError> {
    match v.iter().position(|t| !t.is_finite()) {
        None => Ok(()),
        Some(index) => Err(DecoderError::NonFinite {
            what: what.to_string(),
            index,
        }),
    }
}

/// Checks the length of `v`.
pub(crate) fn check_len(what: &str, v: &[f64], expected: usize) -> Result<(), DecoderError> {
    if v.len() == expected {
        Ok(())
    } else {
        Err(DecoderError::DimensionMismatch {
            what: what.to_string(),
            expected,
            found: v.len(),
        })
    }
}
