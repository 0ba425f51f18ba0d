//! The quadrature layer: rules, sums, and the refinement policy that chooses a rule by tolerance.
//!
//! | file | contents |
//! | --- | --- |
//! | `gauss_hermite.rs` | [`GaussHermite`]: n-point rules for E[g(ξ)], ξ ~ N(0, 1) (probabilists' convention) |
//! | `gauss_legendre.rs` | [`GaussLegendre`]: n-point rules on [−1, 1] (the polar route's angles) |
//! | `tensor.rs` | [`TensorRule`]: their tensor products in d dimensions |
//! | `sum.rs` | [`Neumaier`] compensated sums, [`log_sum_exp`], [`SampleMean`] (mean ± standard error) |
//! | `refine.rs` | [`QuadratureOptions`] and the one loop that grows a rule until two successive rules agree |

mod gauss_hermite;
mod gauss_legendre;
mod refine;
mod sum;
mod tensor;

pub use gauss_hermite::GaussHermite;
pub use gauss_legendre::GaussLegendre;
pub(crate) use refine::{race, refine, Candidate};
pub use refine::{QuadratureError, QuadratureOptions};
pub use sum::{log_sum_exp, Neumaier, SampleMean};
pub use tensor::TensorRule;

use std::fmt;

/// Why a quadrature rule could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleError {
    /// The number of nodes per dimension is outside 1 ..= `max`.
    NodesOutOfRange {
        /// Nodes requested.
        nodes: usize,
        /// The largest supported ([`crate::tol::GH_MAX_NODES`]).
        max: usize,
    },
    /// n^d exceeds the budget (or overflows).
    TooManyNodes {
        /// Nodes per dimension.
        nodes_per_dim: usize,
        /// Dimension.
        dim: usize,
        /// The budget of tensor nodes.
        max_total: usize,
    },
    /// A rule in dimension 0.
    ZeroDimension,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::NodesOutOfRange { nodes, max } => {
                write!(f, "{nodes} nodes per dimension is outside 1..={max}")
            }
            RuleError::TooManyNodes {
                nodes_per_dim,
                dim,
                max_total,
            } => write!(
                f,
                "{nodes_per_dim}^{dim} nodes exceed the budget of {max_total} tensor nodes"
            ),
            RuleError::ZeroDimension => write!(f, "a rule in dimension 0"),
        }
    }
}

impl std::error::Error for RuleError {}
