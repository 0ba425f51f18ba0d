//! Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
//!
//! Layout: the magic `\x93NUMPY`, the version (major, minor), the header length (u16 little-endian
//! for 1.0, u32 for 2.0 and 3.0), an ASCII (1.0, 2.0) or UTF-8 (3.0) Python dict literal
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }` padded with spaces and a newline,
//! then the raw data.
//!
//! Read: dtypes `<f8`, `>f8`, `<f4`, `>f4` (f4 widened exactly to f64), C or Fortran order, any rank
//! (a 0-d array has shape `()`). The file is read piece by piece: the header (at most
//! [`crate::tol::MAX_NPY_HEADER_BYTES`]) first, then its shape is checked against
//! [`crate::io::Limits`] and the file's length with overflow-checked arithmetic, and only then is
//! the data read — never more than the header promises plus one byte. Object arrays (pickles,
//! refused on purpose), structured or other dtypes, bad magic, truncated files and headers that
//! disagree with the file are errors that name the file and say what to do.
//!
//! Write: version 1.0 (2.0 when the header needs it), `<f8`, C order, the header padded so that the
//! data starts at a multiple of 64 bytes — exactly the bytes `numpy.save` writes for the same array.
//! Files are written to a temporary name in the same folder and renamed, so a failed write never
//! leaves a partial file behind.
//!
//! | file | contents |
//! | --- | --- |
//! | `array.rs` | [`NpyArray`]: shape and C-order data, conversions to and from nalgebra; [`shape_text`] |
//! | `decode.rs` | the element types and the Fortran-to-C reordering of the data |
//! | `error.rs` | [`NpyError`], [`NpyErrorKind`] |
//! | `header.rs` | the fixed prefix and the header dict: parsing and formatting |
//! | `literal.rs` | a lexer for the Python literals of the header dict |
//! | `read.rs` | [`parse_npy`], [`read_npy`], [`read_matrix`] (and `_with` forms taking [`crate::io::Limits`]): the bounded reading of prefix, header and data |
//! | `write.rs` | [`encode_npy`], [`write_npy`], [`write_atomic`] |

mod array;
mod decode;
mod error;
mod header;
mod literal;
mod read;
mod write;

pub use array::{shape_text, NpyArray};
pub use error::{NpyError, NpyErrorKind};
pub use read::{parse_npy, parse_npy_with, read_matrix, read_npy, read_npy_with};
pub use write::{encode_npy, write_atomic, write_npy};

/// The first six bytes of every `.npy` file.
const MAGIC: &[u8; 6] = b"\x93NUMPY";
