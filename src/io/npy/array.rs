//! [`NpyArray`]: an n-dimensional f64 array in C order, the in-memory form of an `.npy` file, and
//! its conversions to and from nalgebra matrices and vectors.

use super::NpyErrorKind;
use nalgebra::{DMatrix, DVector};

/// A shape as numpy prints it: `()`, `(3,)`, `(2, 3)`.
pub fn shape_text(shape: &[usize]) -> String {
    match shape {
        [] => "()".into(),
        [n] => format!("({n},)"),
        _ => {
            let axes: Vec<String> = shape.iter().map(|s| s.to_string()).collect();
            format!("({})", axes.join(", "))
        }
    }
}

/// An n-dimensional array of f64 in C (row-major) order, and whether its file stored it as
/// float32 (widened exactly; the values then carry only float32 precision).
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    shape: Vec<usize>,
    data: Vec<f64>,
    stored_as_f32: bool,
}

impl NpyArray {
    /// An array of the given shape with `data` in C order; [`NpyErrorKind::ShapeMismatch`] if the
    /// shape's product is not `data.len()`.
    pub fn new(shape: Vec<usize>, data: Vec<f64>) -> Result<Self, NpyErrorKind> {
        let product = shape.iter().try_fold(1usize, |a, &s| a.checked_mul(s));
        if product == Some(data.len()) {
            Ok(NpyArray {
                shape,
                data,
                stored_as_f32: false,
            })
        } else {
            Err(NpyErrorKind::ShapeMismatch {
                shape,
                product,
                len: data.len(),
            })
        }
    }

    /// An array whose shape the caller has already checked against `data` (the reader has), read
    /// from float32 values if `stored_as_f32`.
    pub(super) fn from_parts(shape: Vec<usize>, data: Vec<f64>, stored_as_f32: bool) -> Self {
        NpyArray {
            shape,
            data,
            stored_as_f32,
        }
    }

    /// Whether the values were read from a float32 file (`<f4`/`>f4`): exact in f64, but rounded to
    /// float32 (relative precision 2⁻²⁴) when they were saved. Arrays built in memory: false.
    pub fn stored_as_f32(&self) -> bool {
        self.stored_as_f32
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The data in C order.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// A rows×cols array from a matrix (rows stay rows, as numpy stores them).
    pub fn from_matrix(m: &DMatrix<f64>) -> Self {
        let (r, c) = m.shape();
        let data = (0..r)
            .flat_map(|i| (0..c).map(move |j| m[(i, j)]))
            .collect();
        NpyArray {
            shape: vec![r, c],
            data,
            stored_as_f32: false,
        }
    }

    /// A 1-d array from a vector.
    pub fn from_vector(v: &DVector<f64>) -> Self {
        NpyArray {
            shape: vec![v.len()],
            data: v.as_slice().to_vec(),
            stored_as_f32: false,
        }
    }

    /// The array as a matrix: a 2-d array as it is, a 1-d array of length n as an n×1 column.
    pub fn to_matrix(&self) -> Result<DMatrix<f64>, NpyErrorKind> {
        match *self.shape.as_slice() {
            [r, c] => Ok(DMatrix::from_row_slice(r, c, &self.data)),
            [n] => Ok(DMatrix::from_column_slice(n, 1, &self.data)),
            _ => Err(NpyErrorKind::WrongShape {
                expected: "a 1-d or 2-d array".into(),
                found: self.shape.clone(),
            }),
        }
    }

    /// The index of the first non-finite entry, if any.
    pub fn first_non_finite(&self) -> Option<usize> {
        self.data.iter().position(|t| !t.is_finite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_the_shape_against_the_data() {
        assert_eq!(
            NpyArray::new(vec![2, 3], vec![0.0; 6]).unwrap().shape(),
            &[2, 3]
        );
        assert_eq!(NpyArray::new(vec![], vec![1.5]).unwrap().data(), &[1.5]);
        assert!(NpyArray::new(vec![0, 4], vec![]).is_ok());
        let e = NpyArray::new(vec![2, 3], vec![0.0; 5]).unwrap_err();
        assert_eq!(
            e,
            NpyErrorKind::ShapeMismatch {
                shape: vec![2, 3],
                product: Some(6),
                len: 5
            }
        );
        assert_eq!(
            e.to_string(),
            "shape [2, 3] holds 6 entries but the data has 5"
        );
        // (2^16)^4 = 2^64 already overflows a 64-bit usize.
        let huge = vec![1 << 16, 1 << 16, 1 << 16, 1 << 16, 2];
        let e = NpyArray::new(huge.clone(), vec![]).unwrap_err();
        assert_eq!(
            e,
            NpyErrorKind::ShapeMismatch {
                shape: huge,
                product: None,
                len: 0
            }
        );
    }
}
