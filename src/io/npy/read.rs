//! Reading `.npy` files: the dtypes `<f8`, `>f8`, `<f4`, `>f4`, C or Fortran order. The file is read
//! piece by piece — prefix, header, data — and every size it states is checked (overflow-checked,
//! against [`Limits`]) before anything is allocated from it or read after it: a file is never read
//! beyond the length its header promises plus one byte (to tell that there is more), so a device
//! such as `/dev/zero` or a stray multi-gigabyte file costs nothing.

use super::decode::{fortran_to_c, Dtype};
use super::error::err;
use super::header::{check_magic, header_len, header_text, parse_header, Header};
use super::{NpyArray, NpyError, NpyErrorKind};
use crate::io::Limits;
use crate::tol::MAX_NPY_HEADER_BYTES;
use nalgebra::DMatrix;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Reads an `.npy` file within the default [`Limits`].
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    read_npy_with(path, &Limits::default())
}

/// Reads an `.npy` file whose array holds at most `limits.max_elements` entries.
pub fn read_npy_with(path: impl AsRef<Path>, limits: &Limits) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let io = |e: std::io::Error| err(Some(path), NpyErrorKind::Io(e.to_string()));
    let file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(err(
            Some(path),
            NpyErrorKind::Io("is a folder, not an .npy file".into()),
        ));
    }
    let total = meta.is_file().then_some(meta.len());
    read_from(file, total, limits).map_err(|kind| err(Some(path), kind))
}

/// Reads an `.npy` file that must hold a 2-d array of finite numbers (a 1-d array is read as a column).
pub fn read_matrix(path: impl AsRef<Path>) -> Result<DMatrix<f64>, NpyError> {
    let path = path.as_ref();
    let a = read_npy(path)?;
    if let Some(index) = a.first_non_finite() {
        return Err(err(Some(path), NpyErrorKind::NonFinite { index }));
    }
    a.to_matrix().map_err(|k| err(Some(path), k))
}

/// Parses the bytes of an `.npy` file within the default [`Limits`].
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray, NpyErrorKind> {
    parse_npy_with(bytes, &Limits::default())
}

/// Parses the bytes of an `.npy` file whose array holds at most `limits.max_elements` entries.
pub fn parse_npy_with(bytes: &[u8], limits: &Limits) -> Result<NpyArray, NpyErrorKind> {
    read_from(bytes, Some(bytes.len() as u64), limits)
}

/// At most `n` bytes from `r` (fewer at its end).
fn read_up_to(r: &mut impl Read, n: u64) -> Result<Vec<u8>, NpyErrorKind> {
    read_into(r, n, Vec::new())
}

/// At most `n` bytes from `r` appended to `v` (whose capacity the caller may have reserved).
fn read_into(r: &mut impl Read, n: u64, mut v: Vec<u8>) -> Result<Vec<u8>, NpyErrorKind> {
    r.take(n)
        .read_to_end(&mut v)
        .map_err(|e| NpyErrorKind::Io(e.to_string()))?;
    Ok(v)
}

/// What the prefix and the header say: where the data starts, its dtype, order and shape, and how
/// many bytes it takes — every size checked against `limits`.
struct Layout {
    /// Bytes before the data.
    data_start: u64,
    /// The element type.
    dtype: Dtype,
    /// Column-major data.
    fortran_order: bool,
    /// The shape.
    shape: Vec<usize>,
    /// Bytes of data the shape implies (at most 8 × `limits.max_elements`).
    data_len: u64,
}

/// Reads the prefix and the header from `r`, which has already given nothing: the magic and
/// version, the header length (at most [`MAX_NPY_HEADER_BYTES`]), then the header itself.
fn read_layout(r: &mut impl Read, limits: &Limits) -> Result<Layout, NpyErrorKind> {
    let first = read_up_to(r, 8)?;
    let version = check_magic(&first)?;
    let prefix = 8 + version.len_size as u64;
    let field = read_up_to(r, version.len_size as u64)?;
    if field.len() < version.len_size {
        return Err(NpyErrorKind::Truncated {
            needed: prefix,
            found: 8 + field.len() as u64,
        });
    }
    let len = header_len(&field);
    if len > MAX_NPY_HEADER_BYTES {
        return Err(NpyErrorKind::HeaderTooLong {
            len,
            limit: MAX_NPY_HEADER_BYTES,
        });
    }
    let data_start = prefix + len;
    let text = read_up_to(r, len)?;
    if (text.len() as u64) < len {
        return Err(NpyErrorKind::Truncated {
            needed: data_start,
            found: prefix + text.len() as u64,
        });
    }
    let Header {
        descr,
        fortran_order,
        shape,
    } = parse_header(header_text(&text, &version)?)?;
    let dtype = Dtype::from_descr(descr)?;
    let too_large = || NpyErrorKind::TooLarge {
        shape: shape.clone(),
        limit: limits.max_elements,
    };
    // Every axis and the product within the limit: then no index computed from the shape (strides
    // included) can overflow.
    let count = shape
        .iter()
        .try_fold(1u64, |a, &s| {
            let s = u64::try_from(s)
                .ok()
                .filter(|&s| s <= limits.max_elements)?;
            a.checked_mul(s)
        })
        .filter(|&c| c <= limits.max_elements)
        .ok_or_else(too_large)?;
    let data_len = count
        .checked_mul(dtype.size() as u64)
        .filter(|&n| usize::try_from(n).is_ok())
        .ok_or_else(too_large)?;
    data_start.checked_add(data_len).ok_or_else(too_large)?;
    Ok(Layout {
        data_start,
        dtype,
        fortran_order,
        shape,
        data_len,
    })
}

/// Reads an `.npy` file from `r`; `total` is its length when known (a regular file, a buffer), so
/// that a truncated or overlong file is refused before its data is read.
fn read_from(
    mut r: impl Read,
    total: Option<u64>,
    limits: &Limits,
) -> Result<NpyArray, NpyErrorKind> {
    let layout = read_layout(&mut r, limits)?;
    let (start, len) = (layout.data_start, layout.data_len);
    // start + len does not overflow: read_layout checked it.
    if let Some(total) = total {
        let present = total.saturating_sub(start);
        if present < len {
            return Err(NpyErrorKind::Truncated {
                needed: start + len,
                found: total,
            });
        }
        if present > len {
            return Err(NpyErrorKind::TrailingData {
                expected: len,
                found: Some(present),
            });
        }
    }
    // A file of known length holds exactly `len` data bytes (checked above): reserve them, so
    // that the buffer does not grow by doubling to twice its size. A stream grows as data comes.
    let reserve = if total.is_some() { len as usize } else { 0 };
    let raw = read_into(&mut r, len + 1, Vec::with_capacity(reserve))?;
    let got = raw.len() as u64;
    if got < len {
        return Err(NpyErrorKind::Truncated {
            needed: start + len,
            found: start + got,
        });
    }
    if got > len {
        return Err(NpyErrorKind::TrailingData {
            expected: len,
            found: None,
        });
    }
    let size = layout.dtype.size();
    let values: Vec<f64> = raw
        .chunks_exact(size)
        .map(|b| layout.dtype.decode(b))
        .collect();
    let data = if layout.fortran_order && layout.shape.len() > 1 {
        fortran_to_c(&layout.shape, &values)
    } else {
        values
    };
    Ok(NpyArray::from_parts(
        layout.shape,
        data,
        layout.dtype.is_f32(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::MAGIC;
    use super::*;

    fn header_file(version: u8, header: &str, data: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[version, 0]);
        if version == 1 {
            b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            b.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn fortran_big_endian_and_f4() {
        // shape (2, 3) in Fortran order holds the columns one after the other.
        let c_order = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let f_order = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0];
        let data: Vec<u8> = f_order.iter().flat_map(|v| v.to_be_bytes()).collect();
        let h = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }\n";
        let a = parse_npy(&header_file(2, h, &data)).unwrap();
        assert_eq!(a.data(), &c_order);
        let data4: Vec<u8> = c_order
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect();
        let h4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
        let a4 = parse_npy(&header_file(3, h4, &data4)).unwrap();
        assert_eq!(a4.data(), &c_order);
        assert!(a4.stored_as_f32() && !a.stored_as_f32());
    }

    #[test]
    fn malformed_files_are_errors() {
        let good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n";
        let d16 = [0u8; 16];
        assert!(parse_npy(&header_file(1, good, &d16)).is_ok());
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"hello world".to_vec(), "magic"),
            (MAGIC[..4].to_vec(), "magic"),
            (header_file(1, good, &d16[..15]), "truncated"),
            (header_file(1, good, &[0u8; 24]), "trailing"),
            (header_file(1, good, &d16)[..20].to_vec(), "truncated header"),
            (
                header_file(1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", &d16),
                "object",
            ),
            (
                header_file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", &d16),
                "int",
            ),
            (
                header_file(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", &d16),
                "struct",
            ),
            (
                header_file(
                    1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 3), }",
                    &d16,
                ),
                "overflow",
            ),
            (
                header_file(
                    1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }",
                    &d16,
                ),
                "huge claim",
            ),
            (header_file(1, "{'descr': '<f8', 'shape': (2,), }", &d16), "missing key"),
            (header_file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}", &d16), "extra key"),
            (header_file(1, "not a dict", &d16), "garbage"),
        ];
        for (bytes, what) in cases {
            assert!(parse_npy(&bytes).is_err(), "{what} was accepted");
        }
        let mut v4 = header_file(1, good, &d16);
        v4[6] = 4;
        assert_eq!(parse_npy(&v4), Err(NpyErrorKind::UnsupportedVersion(4, 0)));
    }

    /// An endless stream (length unknown) is read only up to one byte past what its header
    /// promises: a trailing-data error, not a read until memory runs out; a stream that ends early
    /// is truncated at the length it had.
    #[test]
    fn streams_are_read_no_further_than_promised() {
        let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n";
        let endless = std::io::Cursor::new(header_file(1, h, &[])).chain(std::io::repeat(0));
        let e = read_from(endless, None, &Limits::default()).unwrap_err();
        assert_eq!(
            e,
            NpyErrorKind::TrailingData {
                expected: 16,
                found: None
            }
        );
        assert!(e.to_string().contains("stream has more"));
        let short = std::io::Cursor::new(header_file(1, h, &[0; 5]));
        let e = read_from(short, None, &Limits::default()).unwrap_err();
        let start = 10 + h.len() as u64;
        assert_eq!(
            e,
            NpyErrorKind::Truncated {
                needed: start + 16,
                found: start + 5
            }
        );
        let exact = std::io::Cursor::new(header_file(1, h, &[0; 16]));
        assert_eq!(
            read_from(exact, None, &Limits::default()).unwrap().data(),
            &[0.0, 0.0]
        );
        assert_eq!(
            read_from(std::io::repeat(0), None, &Limits::default()),
            Err(NpyErrorKind::BadMagic)
        );
    }

    #[test]
    fn errors_name_the_file() {
        let e = read_npy("/nonexistent/x.npy").unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/x.npy: "));
    }
}
