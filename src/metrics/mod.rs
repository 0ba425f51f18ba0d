//! Metrics of the paper's experiments (§4): the mean correlation coefficient (MCC) between true
//! sources and learned latents, with the optimal matching of components.
//!
//! | file | contents |
//! | --- | --- |
//! | `assignment.rs` | [`max_weight_assignment`]: the matching of rows to columns with the largest total weight (Hungarian algorithm, shortest augmenting paths) |
//! | `correlation.rs` | Pearson and Spearman correlation matrices between the columns of two samples; ranks with ties averaged |
//! | `mcc.rs` | [`mcc`]: the mean over matched components of the absolute correlation |
//! | `error.rs` | [`MetricError`] |

mod assignment;
mod correlation;
mod error;
mod mcc;

pub use assignment::max_weight_assignment;
pub use correlation::{correlation_matrix, ranks, Correlation};
pub use error::MetricError;
pub use mcc::{mcc, Mcc};
