//! The affine step x = W z + b (any D×d, W stored (out, in) like `torch.nn.Linear.weight`).
//!
//! | quantity | formula |
//! | --- | --- |
//! | Jacobian | W |
//! | Σ_i r_i ∇²f_i | 0 |
//! | log|det J| (D = d) | log|det W|, from the LU factorisation, computed once |
//! | inverse (D = d) | z = W⁻¹(x − b) by LU solve (partial pivoting) |
//! | f(u + Δ) − f(u) | W Δ (no cancellation) |
//!
//! W must have full rank: σ_min/σ_max > [`RCOND_MIN`](crate::tol::RCOND_MIN) (checked with an SVD when the step is built).
//! The inverse is backward stable: ‖g(f(z)) − z‖ ≲ eps·κ(W)·‖z‖.

use super::error::{check_finite, DecoderError};
use super::step_block::{LaneScratch, StepBlockOps};
use super::StepOps;
use crate::lanes::{avx2_kernel, Block, Lanes, MatBlock, LANES};
use crate::tol::RCOND_MIN;
use nalgebra::{DMatrix, DVector, DVectorViewMut, LU};

/// x = W z + b.
#[derive(Debug, Clone)]
pub struct Affine {
    w: DMatrix<f64>,
    b: DVector<f64>,
    /// LU factors when W is square.
    lu: Option<LU<f64, nalgebra::Dyn, nalgebra::Dyn>>,
    log_abs_det: f64,
}

impl Affine {
    /// Builds W z + b; `b = None` means b = 0. Errors on non-finite entries, a bias of the wrong
    /// length, or a W that is not of full rank (σ_min/σ_max ≤ [`RCOND_MIN`](crate::tol::RCOND_MIN)).
    pub fn new(w: DMatrix<f64>, b: Option<DVector<f64>>) -> Result<Self, DecoderError> {
        let (rows, cols) = w.shape();
        if rows == 0 || cols == 0 {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: format!("affine: W has shape {rows}×{cols}"),
            });
        }
        // Report the first bad entry in row-major order, as the file stores it.
        if let Some(k) = (0..rows * cols).find(|&k| !w[(k / cols, k % cols)].is_finite()) {
            return Err(DecoderError::NonFinite {
                what: "affine W".into(),
                index: k,
            });
        }
        let b = b.unwrap_or_else(|| DVector::zeros(rows));
        if b.len() != rows {
            return Err(DecoderError::DimensionMismatch {
                what: "affine bias b".into(),
                expected: rows,
                found: b.len(),
            });
        }
        check_finite("affine bias b", b.as_slice())?;
        let sv = w.clone().singular_values();
        let (smax, smin) = (sv.max(), sv.min());
        let rcond = if smax > 0.0 { smin / smax } else { 0.0 };
        if rcond.is_nan() || rcond <= RCOND_MIN {
            return Err(DecoderError::Singular { step: None, rcond });
        }
        let (lu, log_abs_det) = if rows == cols {
            let lu = w.clone().lu();
            let lad = (0..rows).map(|i| lu.u()[(i, i)].abs().ln()).sum();
            (Some(lu), lad)
        } else {
            (None, f64::NAN)
        };
        Ok(Affine {
            w,
            b,
            lu,
            log_abs_det,
        })
    }

    /// The matrix W (out × in).
    pub fn weight(&self) -> &DMatrix<f64> {
        &self.w
    }

    /// The bias b.
    pub fn bias(&self) -> &DVector<f64> {
        &self.b
    }
}

impl Affine {
    /// out += W v, column by column (contiguous in W's column-major storage).
    #[inline]
    fn add_w_times(&self, v: &[f64], out: &mut [f64]) {
        for (j, &vj) in v.iter().enumerate() {
            for (o, &wij) in out.iter_mut().zip(self.w.column(j).iter()) {
                *o += wij * vj;
            }
        }
    }
}

impl StepOps for Affine {
    fn dim_in(&self) -> usize {
        self.w.ncols()
    }

    fn dim_out(&self) -> usize {
        self.w.nrows()
    }

    fn name(&self) -> &'static str {
        "affine"
    }

    #[inline]
    fn forward(&self, z: &[f64], out: &mut [f64]) {
        out.copy_from_slice(self.b.as_slice());
        self.add_w_times(z, out);
    }

    /// out = f(u0 + du) − f(u0) = W du.
    #[inline]
    fn forward_diff(&self, _u0: &[f64], _base: &[f64], du: &[f64], out: &mut [f64], _: &mut [f64]) {
        out.fill(0.0);
        self.add_w_times(du, out);
    }

    /// out = W m: out_ic = Σ_j W_ij m_jc, summed over j in order from the first term (the order
    /// of nalgebra's product for small matrices, and of the block form).
    #[inline]
    fn jacobian_mul(&self, _z: &[f64], _aux: &[f64], m: &DMatrix<f64>, out: &mut DMatrix<f64>) {
        let (rows, inner) = self.w.shape();
        for c in 0..m.ncols() {
            for i in 0..rows {
                let mut acc = 0.0;
                for j in 0..inner {
                    acc += self.w[(i, j)] * m[(j, c)];
                }
                out[(i, c)] = acc;
            }
        }
    }

    /// out = Wᵀ r: out_j = Σ_i W_ij r_i, summed over i in order.
    #[inline]
    fn vjp(&self, _z: &[f64], _aux: &[f64], r: &[f64], out: &mut [f64]) {
        for (j, o) in out.iter_mut().enumerate() {
            let mut acc = 0.0;
            for (w, r) in self.w.column(j).iter().zip(r) {
                acc += w * r;
            }
            *o = acc;
        }
    }

    /// An affine step has no third derivative: nothing to add.
    fn add_third_sandwich(
        &self,
        _z: &[f64],
        _aux: &[f64],
        _r: &[f64],
        _w: &[f64],
        _p: &DMatrix<f64>,
        _h: &mut DMatrix<f64>,
    ) -> Result<(), DecoderError> {
        Ok(())
    }

    fn log_abs_det(&self, _z: &[f64]) -> f64 {
        self.log_abs_det
    }

    fn inverse(&self, x: &[f64], out: &mut [f64]) -> Result<(), DecoderError> {
        let lu = self
            .lu
            .as_ref()
            .ok_or_else(|| DecoderError::NotInvertible {
                step: None,
                reason: format!(
                    "affine map R^{} → R^{} is not square",
                    self.dim_in(),
                    self.dim_out()
                ),
            })?;
        for ((o, xi), bi) in out.iter_mut().zip(x).zip(self.b.iter()) {
            *o = xi - bi;
        }
        let n = out.len();
        let mut view = DVectorViewMut::from_slice(out, n);
        if lu.solve_mut(&mut view) {
            Ok(())
        } else {
            Err(DecoderError::Singular {
                step: None,
                rcond: 0.0,
            })
        }
    }
}

/// The block forms: the loops of the scalar form with the lanes innermost.
impl StepBlockOps for Affine {
    fn forward_block(&self, z: &Block, out: &mut Block, _: &mut LaneScratch) {
        for (o, &b) in out.coords_mut().iter_mut().zip(self.b.iter()) {
            *o = [b; LANES];
        }
        self.add_w_times_block(z, out);
    }

    fn forward_diff_block(
        &self,
        _u0: &[f64],
        _base_aux: &[f64],
        du: &Block,
        out: &mut Block,
        _aux: &mut Block,
        _: &mut LaneScratch,
    ) {
        for o in out.coords_mut() {
            *o = [0.0; LANES];
        }
        self.add_w_times_block(du, out);
    }

    fn jacobian_mul_block(
        &self,
        _z: &Block,
        _aux: &Block,
        m: &MatBlock,
        out: &mut MatBlock,
        _: &mut LaneScratch,
    ) {
        w_times_mat_lanes(&self.w, m, out);
    }

    fn vjp_block(&self, _z: &Block, _aux: &Block, r: &Block, out: &mut Block, _: &mut LaneScratch) {
        for (j, o) in out.coords_mut().iter_mut().enumerate() {
            let mut acc = [0.0; LANES];
            for (&w, ri) in self.w.column(j).iter().zip(r.coords()) {
                for (a, &x) in acc.iter_mut().zip(ri) {
                    *a += w * x;
                }
            }
            *o = acc;
        }
    }

    /// An affine step has no second derivative: nothing to add.
    fn add_hessian_sandwich_block(
        &self,
        _z: &Block,
        _aux: &Block,
        _r: &Block,
        _p: &MatBlock,
        _h: &mut MatBlock,
        _: &mut LaneScratch,
    ) {
    }

    fn log_abs_det_block(&self, _z: &Block, out: &mut Lanes, _: &mut LaneScratch) {
        *out = [self.log_abs_det; LANES];
    }
}

impl Affine {
    /// out += W v lane by lane, in the scalar form's order (column j of W, then row i).
    #[inline]
    fn add_w_times_block(&self, v: &Block, out: &mut Block) {
        add_w_times_lanes(&self.w, v, out);
    }
}

// The lane kernels, each compiled for AVX2 as well (`avx2_kernel!`; same bits).
avx2_kernel! {
    fn add_w_times_lanes / add_w_times_lanes_portable(w: &DMatrix<f64>, v: &Block, out: &mut Block) {
        for (j, vj) in v.coords().iter().enumerate() {
            for (o, &wij) in out.coords_mut().iter_mut().zip(w.column(j).iter()) {
                for (ol, &x) in o.iter_mut().zip(vj) {
                    *ol += wij * x;
                }
            }
        }
    }
}

avx2_kernel! {
    /// out = W M lane by lane, each entry summed over j in order.
    fn w_times_mat_lanes / w_times_mat_lanes_portable(
        w: &DMatrix<f64>,
        m: &MatBlock,
        out: &mut MatBlock,
    ) {
        let (rows, inner) = w.shape();
        for c in 0..m.ncols() {
            let mc = m.column(c);
            for i in 0..rows {
                let mut acc = [0.0; LANES];
                for (j, mj) in mc.iter().enumerate().take(inner) {
                    let wij = w[(i, j)];
                    for (a, &x) in acc.iter_mut().zip(mj) {
                        *a += wij * x;
                    }
                }
                out[(i, c)] = acc;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lane kernels give the same bits compiled for AVX2 (where this machine has it) and for
    /// the baseline target, on a 4 × 3 W with entries of mixed sign and magnitude (so that the
    /// summation order matters) and lanes over 1e-8 … 1e8.
    #[test]
    fn lane_kernels_match_their_portable_twins_bit_for_bit() {
        check();
        crate::lanes::dispatch::with_avx2_at_most(check);
    }

    /// The body of `lane_kernels_match_their_portable_twins_bit_for_bit`, run once per vector unit.
    fn check() {
        let w = DMatrix::from_fn(4, 3, |i, j| {
            (1.7 * i as f64 - 2.3 * j as f64 + 0.1).powi(3) / 7.0
        });
        let mut v = Block::zeros(3);
        let mut m = MatBlock::zeros(3, 3);
        for j in 0..3 {
            for l in 0..LANES {
                let x = (-1f64).powi((j + l) as i32)
                    * 10f64.powi(l as i32 * 2 - 8)
                    * (1.0 + j as f64 / 3.0);
                v[j][l] = x;
                for c in 0..3 {
                    m[(j, c)][l] = x * (c as f64 - 0.7);
                }
            }
        }
        let (mut o1, mut o2) = (Block::zeros(4), Block::zeros(4));
        for k in 0..4 {
            o1[k] = [0.25 * k as f64; LANES];
            o2[k] = o1[k];
        }
        add_w_times_lanes(&w, &v, &mut o1);
        add_w_times_lanes_portable(&w, &v, &mut o2);
        let (mut p1, mut p2) = (MatBlock::zeros(4, 3), MatBlock::zeros(4, 3));
        w_times_mat_lanes(&w, &m, &mut p1);
        w_times_mat_lanes_portable(&w, &m, &mut p2);
        for l in 0..LANES {
            for i in 0..4 {
                assert_eq!(o1[i][l].to_bits(), o2[i][l].to_bits());
                for c in 0..3 {
                    assert_eq!(p1[(i, c)][l].to_bits(), p2[(i, c)][l].to_bits());
                }
            }
        }
    }
}
