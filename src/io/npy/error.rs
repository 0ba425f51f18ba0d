//! The errors of reading and writing `.npy` files: what went wrong ([`NpyErrorKind`]) and in which
//! file ([`NpyError`]).

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong reading or writing an `.npy` file (or building an [`NpyArray`]).
///
/// [`NpyArray`]: super::NpyArray
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NpyErrorKind {
    /// The file could not be opened, read or written.
    Io(String),
    /// The file does not start with `\x93NUMPY`.
    BadMagic,
    /// The format version is not 1.0, 2.0 or 3.0.
    UnsupportedVersion(u8, u8),
    /// The file ends before the header or the data does.
    Truncated {
        /// Bytes needed.
        needed: u64,
        /// Bytes present.
        found: u64,
    },
    /// The header is not a dict literal with exactly `descr`, `fortran_order` and `shape`.
    BadHeader(String),
    /// The dtype is not `<f8`, `>f8`, `<f4` or `>f4` (objects, pickles, integers, structs …).
    UnsupportedDtype(String),
    /// The data is longer than the header's shape says.
    TrailingData {
        /// Bytes expected after the header.
        expected: u64,
        /// Bytes present after the header.
        found: u64,
    },
    /// The array's shape does not fit what the caller needs (a matrix, a vector, a given size).
    WrongShape {
        /// What was expected, in words.
        expected: String,
        /// The shape found.
        found: Vec<usize>,
    },
    /// The array holds a NaN or an infinity where finite numbers are required.
    NonFinite {
        /// Flat (C-order) index of the first such entry.
        index: usize,
    },
    /// A shape and a data vector that disagree: the shape's product is not the data's length.
    ShapeMismatch {
        /// The shape given.
        shape: Vec<usize>,
        /// The product of the shape (`None` when it overflows `usize`).
        product: Option<usize>,
        /// The length of the data given.
        len: usize,
    },
}

/// An error about one `.npy` file (or an in-memory buffer, when `path` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct NpyError {
    /// The file concerned.
    pub path: Option<PathBuf>,
    /// What is wrong.
    pub kind: NpyErrorKind,
}

impl fmt::Display for NpyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NpyErrorKind::Io(e) => write!(f, "{e}"),
            NpyErrorKind::BadMagic => write!(f, "not an .npy file (bad magic string)"),
            NpyErrorKind::UnsupportedVersion(a, b) => {
                write!(f, "unsupported .npy format version {a}.{b}")
            }
            NpyErrorKind::Truncated { needed, found } => {
                write!(f, "truncated: needs {needed} bytes, has {found}")
            }
            NpyErrorKind::BadHeader(m) => write!(f, "malformed header: {m}"),
            NpyErrorKind::UnsupportedDtype(d) => write!(
                f,
                "unsupported dtype {d} (only <f8, >f8, <f4, >f4; object arrays and pickles are refused)"
            ),
            NpyErrorKind::TrailingData { expected, found } => write!(
                f,
                "the header's shape implies {expected} data bytes but the file has {found}"
            ),
            NpyErrorKind::WrongShape { expected, found } => {
                write!(f, "shape {found:?} where {expected} was expected")
            }
            NpyErrorKind::NonFinite { index } => {
                write!(f, "entry {index} (C order) is NaN or infinite")
            }
            NpyErrorKind::ShapeMismatch {
                shape,
                product: Some(n),
                len,
            } => write!(f, "shape {shape:?} holds {n} entries but the data has {len}"),
            NpyErrorKind::ShapeMismatch {
                shape,
                product: None,
                len,
            } => write!(
                f,
                "shape {shape:?} holds more entries than usize can count but the data has {len}"
            ),
        }
    }
}

impl std::error::Error for NpyErrorKind {}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.kind),
            None => write!(f, "npy buffer: {}", self.kind),
        }
    }
}

impl std::error::Error for NpyError {}

impl NpyError {
    /// The problem, without the file name.
    pub fn kind_message(&self) -> String {
        self.kind.to_string()
    }
}

/// An error about the file `path` (or a buffer, for `None`).
pub(super) fn err(path: Option<&Path>, kind: NpyErrorKind) -> NpyError {
    NpyError {
        path: path.map(Path::to_path_buf),
        kind,
    }
}
