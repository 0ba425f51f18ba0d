//! Blocks of lanes: [`LANES`] points (or quadrature nodes) stored structure-of-arrays, so that
//! every loop of a kernel runs over the lanes of one coordinate — contiguous, branch-free, and
//! vectorised by the compiler.
//!
//! | type | holds | layout |
//! | --- | --- | --- |
//! | [`Lanes`] | one number per lane | `[f64; LANES]` |
//! | [`Block`] | a vector of dimension n per lane | coordinate i is `block[i]`, a [`Lanes`] |
//! | [`MatBlock`] | a rows × cols matrix per lane | entry (i, j) is `m[(i, j)]`, a [`Lanes`]; column-major like nalgebra |
//!
//! Each lane is computed by exactly the operations, in exactly the order, of the scalar path for
//! one point, so a result never depends on which lane (or which block width) computed it.

use std::ops::{Index, IndexMut};

/// The number of lanes in a block: 8 — a multiple of every x86 and ARM f64 vector width
/// (2 for SSE2/NEON, 4 for AVX2, 8 for AVX-512), so that a loop over the lanes of one coordinate
/// is a whole number of vector operations on any of them.
pub const LANES: usize = 8;

/// One f64 per lane.
pub type Lanes = [f64; LANES];

/// A vector of dimension n per lane, structure-of-arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    data: Vec<Lanes>,
}

impl Block {
    /// n coordinates, all zero.
    pub fn zeros(n: usize) -> Self {
        Block {
            data: vec![[0.0; LANES]; n],
        }
    }

    /// The dimension n.
    pub fn dim(&self) -> usize {
        self.data.len()
    }

    /// The coordinates, each a run of lanes.
    #[inline]
    pub fn coords(&self) -> &[Lanes] {
        &self.data
    }

    /// The coordinates, mutable.
    #[inline]
    pub fn coords_mut(&mut self) -> &mut [Lanes] {
        &mut self.data
    }

    /// Copies `other` (of the same dimension) into `self`.
    #[inline]
    pub fn copy_from(&mut self, other: &Block) {
        self.data.copy_from_slice(&other.data);
    }

    /// Lane `l` as a vector, into `out` (length n).
    pub fn read_lane(&self, l: usize, out: &mut [f64]) {
        for (o, c) in out.iter_mut().zip(&self.data) {
            *o = c[l];
        }
    }

    /// Sets lane `l` from `v` (length n).
    pub fn write_lane(&mut self, l: usize, v: &[f64]) {
        for (c, &x) in self.data.iter_mut().zip(v) {
            c[l] = x;
        }
    }

    /// Whether every entry of every lane is finite.
    pub fn all_finite(&self) -> bool {
        all_finite(&self.data)
    }
}

/// Whether every entry is finite: Σ x·0 over the entries, lane by lane, is 0 exactly when no entry
/// is ±∞ or NaN (∞·0 and NaN·0 are NaN) — one branch-free pass the compiler vectorises.
#[inline]
fn all_finite(data: &[Lanes]) -> bool {
    let mut acc = [0.0; LANES];
    for c in data {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x * 0.0;
        }
    }
    acc.iter().all(|&a| a == 0.0)
}

impl Index<usize> for Block {
    type Output = Lanes;
    #[inline]
    fn index(&self, i: usize) -> &Lanes {
        &self.data[i]
    }
}

impl IndexMut<usize> for Block {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Lanes {
        &mut self.data[i]
    }
}

/// A rows × cols matrix per lane, structure-of-arrays, column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct MatBlock {
    rows: usize,
    cols: usize,
    data: Vec<Lanes>,
}

impl MatBlock {
    /// All zero.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        MatBlock {
            rows,
            cols,
            data: vec![[0.0; LANES]; rows * cols],
        }
    }

    /// Rows.
    pub fn nrows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn ncols(&self) -> usize {
        self.cols
    }

    /// The identity in every lane (square blocks).
    pub fn fill_with_identity(&mut self) {
        for j in 0..self.cols {
            for i in 0..self.rows {
                self.data[j * self.rows + i] = [if i == j { 1.0 } else { 0.0 }; LANES];
            }
        }
    }

    /// Column j: its rows' lanes, contiguous.
    #[inline]
    pub fn column(&self, j: usize) -> &[Lanes] {
        &self.data[j * self.rows..(j + 1) * self.rows]
    }

    /// Column j, mutable.
    #[inline]
    pub fn column_mut(&mut self, j: usize) -> &mut [Lanes] {
        &mut self.data[j * self.rows..(j + 1) * self.rows]
    }

    /// Every entry, column-major.
    #[inline]
    pub fn entries(&self) -> &[Lanes] {
        &self.data
    }

    /// Every entry, mutable.
    #[inline]
    pub fn entries_mut(&mut self) -> &mut [Lanes] {
        &mut self.data
    }

    /// Lane `l` into the nalgebra matrix `out` (rows × cols).
    pub fn read_lane(&self, l: usize, out: &mut nalgebra::DMatrix<f64>) {
        for (o, e) in out.as_mut_slice().iter_mut().zip(&self.data) {
            *o = e[l];
        }
    }

    /// Sets lane `l` from the nalgebra matrix `m` (rows × cols).
    pub fn write_lane(&mut self, l: usize, m: &nalgebra::DMatrix<f64>) {
        for (e, &x) in self.data.iter_mut().zip(m.as_slice()) {
            e[l] = x;
        }
    }

    /// Whether every entry of every lane is finite.
    pub fn all_finite(&self) -> bool {
        all_finite(&self.data)
    }
}

impl Index<(usize, usize)> for MatBlock {
    type Output = Lanes;
    #[inline]
    fn index(&self, (i, j): (usize, usize)) -> &Lanes {
        &self.data[j * self.rows + i]
    }
}

impl IndexMut<(usize, usize)> for MatBlock {
    #[inline]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut Lanes {
        &mut self.data[j * self.rows + i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lanes round-trip through read/write, and the layouts are the documented ones.
    #[test]
    fn layouts_and_lanes() {
        let mut b = Block::zeros(3);
        b.write_lane(5, &[1.0, 2.0, 3.0]);
        assert_eq!(b[1][5], 2.0);
        let mut v = [0.0; 3];
        b.read_lane(5, &mut v);
        assert_eq!(v, [1.0, 2.0, 3.0]);
        let mut m = MatBlock::zeros(2, 3);
        let a = nalgebra::DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        m.write_lane(7, &a);
        assert_eq!(m[(1, 2)][7], 6.0);
        assert_eq!(m.column(1)[0][7], 2.0);
        let mut back = nalgebra::DMatrix::zeros(2, 3);
        m.read_lane(7, &mut back);
        assert_eq!(back, a);
        let mut id = MatBlock::zeros(2, 2);
        id.fill_with_identity();
        assert_eq!(
            (id[(0, 0)][3], id[(1, 0)][3], id[(1, 1)][0]),
            (1.0, 0.0, 1.0)
        );
        assert!(id.all_finite() && b.all_finite());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut c = b.clone();
            c[2][LANES - 1] = bad;
            assert!(!c.all_finite());
        }
        let mut huge = Block::zeros(1);
        huge[0] = [f64::MAX; LANES];
        assert!(huge.all_finite());
    }
}
