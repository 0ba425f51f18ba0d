//! Errors of the metrics: shapes that disagree, non-finite entries, a constant column.

use std::fmt;

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MetricError {
    /// The inputs' shapes do not fit (`what` says how).
    Shape {
        /// What is wrong.
        what: String,
    },
    /// An entry is NaN or ±∞.
    NonFinite {
        /// Which input ("sources", "latents", "weights").
        input: &'static str,
        /// Row and column of the first bad entry.
        at: (usize, usize),
    },
    /// A column has no variance: its correlation with anything is undefined.
    Constant {
        /// Which input.
        input: &'static str,
        /// The column.
        column: usize,
    },
}

impl fmt::Display for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricError::Shape { what } => write!(f, "{what}"),
            MetricError::NonFinite { input, at } => {
                write!(f, "{input}[{}, {}] is NaN or infinite", at.0, at.1)
            }
            MetricError::Constant { input, column } => write!(
                f,
                "column {column} of the {input} is constant: its correlation is undefined"
            ),
        }
    }
}

impl std::error::Error for MetricError {}
