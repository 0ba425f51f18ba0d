//! [`Limits`]: the sizes a file may claim before it is believed — entries per array, dimension of a
//! model — with the defaults of [`crate::tol`]. Every size read from a file is checked against them
//! with overflow-checked arithmetic before anything is allocated from it.

use crate::tol::{MAX_DIM, MAX_ELEMENTS};

/// The limits on sizes that come from files. The defaults are [`MAX_ELEMENTS`] and [`MAX_DIM`]
/// (each justified there); the CLI raises them with `--max-elements` and `--max-dim`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most entries one array may hold, and the arrays of one model folder together.
    pub max_elements: u64,
    /// The largest dimension of a model: latent d and every step's output.
    pub max_dim: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_elements: MAX_ELEMENTS,
            max_dim: MAX_DIM,
        }
    }
}

/// How to raise the element limit, for error messages.
pub const RAISE_ELEMENTS: &str =
    "max_elements, default tol::MAX_ELEMENTS; raise it with --max-elements N on the command line, or io::Limits in code";

/// How to raise the dimension limit, for error messages.
pub const RAISE_DIM: &str =
    "max_dim, default tol::MAX_DIM; raise it with --max-dim N on the command line, or io::Limits in code";
