//! Reading `.npy` files: the dtypes `<f8`, `>f8`, `<f4`, `>f4`, C or Fortran order, the data's
//! length checked against the header's shape before anything is allocated from it.

use super::error::err;
use super::header::{parse_header, split_prefix, Header};
use super::{NpyArray, NpyError, NpyErrorKind};
use nalgebra::DMatrix;
use std::fs;
use std::path::Path;

/// Reads an `.npy` file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|e| err(Some(path), NpyErrorKind::Io(e.to_string())))?;
    parse_npy(&bytes).map_err(|kind| err(Some(path), kind))
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

/// The element types read.
#[derive(Clone, Copy)]
enum Dtype {
    F8Le,
    F8Be,
    F4Le,
    F4Be,
}

impl Dtype {
    /// The dtype a `descr` string names, if it is one of ours.
    fn from_descr(descr: String) -> Result<Self, NpyErrorKind> {
        match descr.as_str() {
            "<f8" => Ok(Dtype::F8Le),
            ">f8" => Ok(Dtype::F8Be),
            "<f4" => Ok(Dtype::F4Le),
            ">f4" => Ok(Dtype::F4Be),
            _ => Err(NpyErrorKind::UnsupportedDtype(descr)),
        }
    }

    /// Bytes per element.
    fn size(self) -> usize {
        match self {
            Dtype::F8Le | Dtype::F8Be => 8,
            Dtype::F4Le | Dtype::F4Be => 4,
        }
    }

    /// One element from exactly [`Dtype::size`] bytes (f4 widened exactly).
    fn decode(self, b: &[u8]) -> f64 {
        match self {
            Dtype::F8Le => f64::from_le_bytes(b.try_into().expect("8 bytes")),
            Dtype::F8Be => f64::from_be_bytes(b.try_into().expect("8 bytes")),
            Dtype::F4Le => f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64,
            Dtype::F4Be => f32::from_be_bytes(b.try_into().expect("4 bytes")) as f64,
        }
    }
}

/// Parses the bytes of an `.npy` file.
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray, NpyErrorKind> {
    let total = bytes.len() as u64;
    let (text, data_start) = split_prefix(bytes)?;
    let Header {
        descr,
        fortran_order,
        shape,
    } = parse_header(text)?;
    let dtype = Dtype::from_descr(descr)?;
    let count = shape
        .iter()
        .try_fold(1u64, |a, &s| a.checked_mul(s as u64))
        .ok_or_else(|| NpyErrorKind::BadHeader(format!("shape {shape:?} overflows")))?;
    let needed = count
        .checked_mul(dtype.size() as u64)
        .ok_or_else(|| NpyErrorKind::BadHeader(format!("shape {shape:?} overflows")))?;
    let found = total - data_start;
    if found < needed {
        return Err(NpyErrorKind::Truncated {
            needed: data_start + needed,
            found: total,
        });
    }
    if found > needed {
        return Err(NpyErrorKind::TrailingData {
            expected: needed,
            found,
        });
    }
    // The file's length has confirmed the count: allocating it is now safe.
    let raw = &bytes[data_start as usize..];
    let values: Vec<f64> = raw
        .chunks_exact(dtype.size())
        .map(|b| dtype.decode(b))
        .collect();
    let data = if fortran_order && shape.len() > 1 {
        fortran_to_c(&shape, &values)
    } else {
        values
    };
    Ok(NpyArray::from_parts(shape, data))
}

/// Reorders column-major (Fortran) data of the given shape into row-major (C) order.
fn fortran_to_c(shape: &[usize], f: &[f64]) -> Vec<f64> {
    let rank = shape.len();
    let mut fstride = vec![1usize; rank];
    for k in 1..rank {
        fstride[k] = fstride[k - 1] * shape[k - 1];
    }
    let mut idx = vec![0usize; rank];
    let mut out = Vec::with_capacity(f.len());
    for _ in 0..f.len() {
        out.push(f[idx.iter().zip(&fstride).map(|(i, s)| i * s).sum::<usize>()]);
        // Advance the C-order multi-index (last axis fastest).
        for k in (0..rank).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
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
        assert_eq!(
            parse_npy(&header_file(3, h4, &data4)).unwrap().data(),
            &c_order
        );
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

    #[test]
    fn errors_name_the_file() {
        let e = read_npy("/nonexistent/x.npy").unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/x.npy: "));
    }
}
