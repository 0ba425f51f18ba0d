//! Model folders: a plain-text manifest `model.txt` and `.npy` arrays (format documented in
//! `docs/model-format.md`, version 1).
//!
//! ```text
//! ima-oracle model 1
//! dim 3                                  # latent dimension d; D follows from the steps
//! prior gaussian 1.0                     # gaussian VARIANCE | logistic SCALE
//! step linear W1.npy b1.npy              # W stored (out, in) like torch.nn.Linear.weight; bias optional
//! step leaky_softplus 0.2                # alpha
//! step moebius 1.0 A.npy a.npy b.npy     # alpha, orthogonal A, pole a, shift b
//! ```
//!
//! One directive per line, steps applied top to bottom; `#` starts a comment; paths are relative to
//! the manifest. Every error names the file, the line and the problem; sizes are bounded by
//! [`crate::io::Limits`].
//!
//! | file | contents |
//! | --- | --- |
//! | `manifest.rs` | the manifest's text: bounded read, UTF-8, lines and words |
//! | `load.rs` | [`load_model`], [`load_model_with`]: the manifest parser, one function per directive |
//! | `save.rs` | [`save_model`] |
//! | `vae_folder.rs` | VAE folders: `model.txt` plus the encoder's `encoder.txt` ([`load_vae`], [`save_vae`]) |
//! | `tests.rs` | every error of the manifest parser, with file and line |

mod load;
mod manifest;
mod save;
mod vae_folder;

pub use load::{load_encoder_with, load_model, load_model_with, load_model_with_notes, ArrayNames};
pub use save::save_model;
pub use vae_folder::{load_vae, load_vae_with, save_vae, VaeFolder};

use std::fmt;
use std::path::{Path, PathBuf};

/// The manifest's first line.
pub const MAGIC_LINE: &str = "ima-oracle model 1";

/// The first line of a VAE folder's encoder manifest, `encoder.txt` (docs/vae-format.md).
pub const ENCODER_MAGIC_LINE: &str = "ima-oracle encoder 1";

/// An error loading or saving a model folder.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFileError {
    /// The file concerned (the manifest or an array).
    pub path: PathBuf,
    /// The manifest line (1-based), when the problem is tied to one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl ModelFileError {
    /// An error about `path` (at `line` of it, if given).
    fn new(path: &Path, line: Option<usize>, message: String) -> Self {
        ModelFileError {
            path: path.to_path_buf(),
            line,
            message,
        }
    }

    /// The same error with another message.
    fn with_message(self, message: String) -> Self {
        ModelFileError { message, ..self }
    }
}

impl fmt::Display for ModelFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ModelFileError {}

#[cfg(test)]
mod tests;
