//! The errors of reading and writing `.npy` files: what went wrong ([`NpyErrorKind`]) and in which
//! file ([`NpyError`]).

use super::shape_text;
use crate::io::{shown, RAISE_ELEMENTS};
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
    /// The dtype is not `<f8`, `>f8`, `<f4` or `>f4` (objects — pickles —, integers, complex …);
    /// the message says what the dtype is and how to save the array instead.
    UnsupportedDtype(String),
    /// The dtype is a structured (record) dtype: a list of fields.
    StructuredDtype,
    /// The data is longer than the header's shape says.
    TrailingData {
        /// Bytes expected after the header.
        expected: u64,
        /// Bytes present after the header; `None` for a stream (a pipe, a device), which is read
        /// only up to one byte past what the header promises.
        found: Option<u64>,
    },
    /// The header's shape holds more entries than the limit allows (or more than u64 counts).
    TooLarge {
        /// The shape the header states.
        shape: Vec<usize>,
        /// The limit on entries ([`crate::io::Limits::max_elements`]).
        limit: u64,
    },
    /// The header is longer than [`crate::tol::MAX_NPY_HEADER_BYTES`].
    HeaderTooLong {
        /// The header length the prefix states.
        len: u64,
        /// The limit.
        limit: u64,
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
            NpyErrorKind::UnsupportedDtype(d) => write!(f, "{}", dtype_message(d)),
            NpyErrorKind::StructuredDtype => write!(
                f,
                "unsupported dtype: a structured (record) array; save each field as its own float64 \
                 array, e.g. np.save('x.npy', np.asarray(a['x'], dtype=np.float64))"
            ),
            NpyErrorKind::TrailingData {
                expected,
                found: Some(found),
            } => write!(
                f,
                "the header's shape implies {expected} data bytes but the file has {found}"
            ),
            NpyErrorKind::TrailingData {
                expected,
                found: None,
            } => write!(
                f,
                "the header's shape implies {expected} data bytes but the stream has more (reading stopped there)"
            ),
            NpyErrorKind::TooLarge { shape, limit } => {
                let count = shape
                    .iter()
                    .try_fold(1u64, |a, &s| a.checked_mul(s as u64))
                    .map_or("more than 2^64".to_string(), |c| c.to_string());
                write!(
                    f,
                    "the header's shape {} holds {count} entries, more than the limit of {limit} \
                     ({RAISE_ELEMENTS}); nothing was allocated",
                    shape_text(shape)
                )
            }
            NpyErrorKind::HeaderTooLong { len, limit } => write!(
                f,
                "the header is {len} bytes long, more than {limit} (tol::MAX_NPY_HEADER_BYTES, \
                 numpy's own max_header_size): a damaged file, or not an array numpy wrote"
            ),
            NpyErrorKind::WrongShape { expected, found } => {
                write!(f, "shape {} where {expected} was expected", shape_text(found))
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

/// What a dtype numpy wrote is, why it is not read, and how to save the array instead.
fn dtype_message(descr: &str) -> String {
    let kind = descr
        .trim_start_matches(['<', '>', '|', '='])
        .chars()
        .next();
    let what = match kind {
        Some('O') => {
            return format!(
                "unsupported dtype {}: a pickled Python object (what np.save or jnp.save write for \
                 a dict, a list or a ragged array). Pickles are refused on purpose: loading one can \
                 run arbitrary code. Save each array on its own as float64: \
                 np.save('x.npy', np.asarray(x, dtype=np.float64))",
                shown(descr)
            )
        }
        Some('f') => "floats of a width other than 4 or 8 bytes",
        Some('i') | Some('u') => "integers",
        Some('b') | Some('?') => "booleans",
        Some('c') => "complex numbers (save the real and imaginary parts as two float64 arrays)",
        _ => "not numbers (strings, dates, raw bytes …)",
    };
    format!(
        "unsupported dtype {}: {what}; only <f8, >f8, <f4 and >f4 are read — convert first: \
         np.save('x.npy', np.asarray(x, dtype=np.float64))",
        shown(descr)
    )
}

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
