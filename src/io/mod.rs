//! Files: NumPy `.npy` arrays and model folders — the boundary where outside data is parsed and
//! validated once: arrays of checked shape and finite entries, and [`crate::model::Model`]s whose
//! every step was validated when built (observations and encoders read from arrays still become
//! [`crate::Query`] and [`crate::Encoder`] before any computation).
//!
//! Every size a file states is checked against [`Limits`] with overflow-checked arithmetic before
//! anything is allocated from it, and no file is read beyond what its header promises (plus one
//! byte, to tell that there is more).
//!
//! | file | contents |
//! | --- | --- |
//! | `limits.rs` | [`Limits`]: the largest array and dimension a file may claim |
//! | `shown.rs` | [`shown`], [`invisible_note`]: text from files with invisible characters escaped |
//! | `npy/` | `.npy` read and write |
//! | `model_file/` | model folders and VAE folders |

mod limits;
pub mod model_file;
pub mod npy;
mod shown;

pub use limits::{Limits, RAISE_DIM, RAISE_ELEMENTS};
pub use shown::{invisible_note, shown};
