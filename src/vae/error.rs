//! Errors of the VAE routines: shapes that disagree, non-finite inputs, bad hyper-parameters, a
//! refusal of the oracle's quadrature, a diverging training run.

use super::network::NetworkError;
use crate::error::OracleError;
use crate::model::DecoderError;
use std::fmt;

/// Why a VAE loss, gradient or training run could not be computed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum VaeError {
    /// An array has the wrong number of entries.
    Shape {
        /// Which array.
        what: &'static str,
        /// The entries expected (with the shape, as text).
        expected: String,
        /// The entries found.
        found: usize,
    },
    /// An input holds NaN or ±∞.
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Index of the first bad entry (row-major).
        index: usize,
    },
    /// A hyper-parameter is outside its domain (lr ≤ 0, an empty batch, S = 0 …).
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The networks do not fit together.
    Network(NetworkError),
    /// The decoder as an oracle model failed (a rank-deficient layer).
    Decoder(DecoderError),
    /// The oracle's quadrature refused (exact-in-expectation loss) at a point.
    Oracle {
        /// The point (row of the batch).
        point: usize,
        /// Why.
        error: OracleError,
    },
    /// Training produced a non-finite loss.
    Diverged {
        /// The epoch (0-based).
        epoch: usize,
        /// The step within the epoch (0-based).
        step: usize,
    },
    /// The exact loss at a point whose q reaches a Möbius pole: its value is known (the 1-D
    /// integral route) but not its gradient in the decoder's parameters.
    NoExactGradient {
        /// The point (row of the batch).
        point: usize,
    },
    /// The caller's per-epoch callback stopped the run (e.g. a checkpoint could not be written).
    Stopped {
        /// The epoch (0-based) after which it stopped.
        epoch: usize,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for VaeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaeError::Shape {
                what,
                expected,
                found,
            } => write!(f, "{what}: expected {expected}, found {found} entries"),
            VaeError::NonFinite { what, index } => {
                write!(f, "{what}: entry {index} is NaN or infinite")
            }
            VaeError::InvalidParameter { what, message } => write!(f, "{what}: {message}"),
            VaeError::Network(e) => write!(f, "networks: {e}"),
            VaeError::Decoder(e) => write!(f, "decoder: {e}"),
            VaeError::Oracle { point, error } => write!(f, "point {point}: {error}"),
            VaeError::Diverged { epoch, step } => write!(
                f,
                "the loss became NaN or infinite at epoch {}, step {} (counting from 1; lower the learning rate?)",
                epoch + 1,
                step + 1
            ),
            VaeError::NoExactGradient { point } => write!(
                f,
                "point {point}: q reaches the decoder's Moebius pole, where the exact ELBO comes \
                 from the 1-D integral route, which gives no gradient in the decoder's parameters; \
                 use the given-noise loss (--eps) there"
            ),
            VaeError::Stopped { epoch, reason } => {
                write!(f, "training stopped after epoch {} (counting from 1): {reason}", epoch + 1)
            }
        }
    }
}

impl std::error::Error for VaeError {}

impl From<NetworkError> for VaeError {
    fn from(e: NetworkError) -> Self {
        VaeError::Network(e)
    }
}

impl From<DecoderError> for VaeError {
    fn from(e: DecoderError) -> Self {
        VaeError::Decoder(e)
    }
}

/// Checks that `v` holds `n` finite entries (`shape` describes them for the message).
pub(crate) fn check_array(
    what: &'static str,
    v: &[f64],
    n: usize,
    shape: impl FnOnce() -> String,
) -> Result<(), VaeError> {
    if v.len() != n {
        return Err(VaeError::Shape {
            what,
            expected: format!("{n} entries, {}", shape()),
            found: v.len(),
        });
    }
    match v.iter().position(|t| !t.is_finite()) {
        Some(index) => Err(VaeError::NonFinite { what, index }),
        None => Ok(()),
    }
}
