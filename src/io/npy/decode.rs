//! Decoding the data of an `.npy` file: the element types read ([`Dtype`]: `<f8`, `>f8`, `<f4`,
//! `>f4`, f4 widened exactly) and the reordering of Fortran-order data into C order.

use super::NpyErrorKind;

/// The element types read.
#[derive(Clone, Copy)]
pub(super) enum Dtype {
    F8Le,
    F8Be,
    F4Le,
    F4Be,
}

impl Dtype {
    /// The dtype a `descr` string names, if it is one of ours.
    pub(super) fn from_descr(descr: String) -> Result<Self, NpyErrorKind> {
        match descr.as_str() {
            "<f8" => Ok(Dtype::F8Le),
            ">f8" => Ok(Dtype::F8Be),
            "<f4" => Ok(Dtype::F4Le),
            ">f4" => Ok(Dtype::F4Be),
            _ => Err(NpyErrorKind::UnsupportedDtype(descr)),
        }
    }

    /// Whether the elements are float32.
    pub(super) fn is_f32(self) -> bool {
        matches!(self, Dtype::F4Le | Dtype::F4Be)
    }

    /// Bytes per element.
    pub(super) fn size(self) -> usize {
        match self {
            Dtype::F8Le | Dtype::F8Be => 8,
            Dtype::F4Le | Dtype::F4Be => 4,
        }
    }

    /// One element from exactly [`Dtype::size`] bytes (f4 widened exactly).
    pub(super) fn decode(self, b: &[u8]) -> f64 {
        match self {
            Dtype::F8Le => f64::from_le_bytes(b.try_into().expect("8 bytes")),
            Dtype::F8Be => f64::from_be_bytes(b.try_into().expect("8 bytes")),
            Dtype::F4Le => f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64,
            Dtype::F4Be => f32::from_be_bytes(b.try_into().expect("4 bytes")) as f64,
        }
    }
}

/// Reorders column-major (Fortran) data of the given shape into row-major (C) order. The strides
/// are partial products of the shape: when the array is not empty they are at most its entry count,
/// so they cannot overflow (an empty array returns at once, whatever its other axes).
pub(super) fn fortran_to_c(shape: &[usize], f: &[f64]) -> Vec<f64> {
    if f.is_empty() {
        return Vec::new();
    }
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
