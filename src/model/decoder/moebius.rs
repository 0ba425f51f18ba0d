//! The Möbius transformation f(z) = b + α A (z − a)/‖z − a‖² (paper §4.3), a conformal map.
//!
//! With v = z − a and s = ‖v‖²:
//!
//! | quantity | formula |
//! | --- | --- |
//! | Jacobian | J = (α/s) A (I − 2 v vᵀ/s): A times a reflection, so the columns are orthogonal with norm |α|/s and c_IMA = 0 |
//! | log|det J| | n log(|α|/s) |
//! | Σ_i r_i ∇²f_i | ∇²(c·v/s) with c = α Aᵀ r: [−2(c vᵀ + v cᵀ) − 2(c·v) I + 8(c·v) v vᵀ/s]/s² |
//! | Σ_i r_i ∇³f_i[w] | the derivative of the row above along w, see `add_third_sandwich` |
//! | inverse | z = a + α Aᵀ(x − b)/‖x − b‖² (the map is an involution up to A, α, a, b) |
//! | f(z0 + Δ) − f(z0) | α A (s0 Δ − (s − s0) v0)/(s s0), s − s0 = 2 v0·Δ + ‖Δ‖² (no cancellation) |
//!
//! The pole is z = a (and x = b for the inverse); evaluation there is reported as an error by the
//! chain. A must be orthogonal (‖AᵀA − I‖_max ≤ [`ORTHOGONALITY_TOL`]) and α ≠ 0. The closed forms
//! are accurate to a few ulps relative to the size of each term away from the pole; near it they lose
//! digits as ε·‖a‖/‖z − a‖.

use super::error::{check_finite, DecoderError};
use super::step_block::{LaneScratch, StepBlockOps};
use super::StepOps;
use crate::lanes::{avx2_kernel, Block, LANES};
use crate::tol::ORTHOGONALITY_TOL;
use nalgebra::{DMatrix, DVector};

/// f(z) = b + α A (z − a)/‖z − a‖².
#[derive(Debug, Clone)]
pub struct Moebius {
    alpha: f64,
    a_mat: DMatrix<f64>,
    pole: DVector<f64>,
    shift: DVector<f64>,
}

impl Moebius {
    /// Builds the map. `a_mat` must be an n×n orthogonal matrix, `pole` (a) and `shift` (b) of
    /// length n, α finite and non-zero.
    pub fn new(
        alpha: f64,
        a_mat: DMatrix<f64>,
        pole: DVector<f64>,
        shift: DVector<f64>,
    ) -> Result<Self, DecoderError> {
        let n = a_mat.nrows();
        if n == 0 || a_mat.ncols() != n {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: format!(
                    "moebius: A must be square, found {}×{}",
                    a_mat.nrows(),
                    a_mat.ncols()
                ),
            });
        }
        if !(alpha.is_finite() && alpha != 0.0) {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: format!("moebius: alpha = {alpha} must be finite and non-zero"),
            });
        }
        for (what, v) in [("moebius pole a", &pole), ("moebius shift b", &shift)] {
            if v.len() != n {
                return Err(DecoderError::DimensionMismatch {
                    what: what.into(),
                    expected: n,
                    found: v.len(),
                });
            }
            check_finite(what, v.as_slice())?;
        }
        if let Some(k) = (0..n * n).find(|&k| !a_mat[(k / n, k % n)].is_finite()) {
            return Err(DecoderError::NonFinite {
                what: "moebius A".into(),
                index: k,
            });
        }
        let dev = Self::orthogonality_defect(&a_mat);
        if dev > ORTHOGONALITY_TOL {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: format!(
                    "moebius: A is not orthogonal (max |AᵀA − I| = {dev:.3e} > {ORTHOGONALITY_TOL:e}); \
                     orthogonalise it (its polar factor U Vᵀ from an SVD A = U Σ Vᵀ, or the Q of a QR) \
                     and save it in float64"
                ),
            });
        }
        Ok(Moebius {
            alpha,
            a_mat,
            pole,
            shift,
        })
    }

    /// max |AᵀA − I| (entrywise): how far a square A is from orthogonal.
    pub fn orthogonality_defect(a_mat: &DMatrix<f64>) -> f64 {
        let n = a_mat.nrows();
        (a_mat.transpose() * a_mat - DMatrix::identity(n, n)).amax()
    }

    /// The orthogonal matrix nearest to a square, finite `a_mat` (in the Frobenius and the spectral
    /// norm): its polar factor U Vᵀ, from the SVD a_mat = U Σ Vᵀ computed in f64 (nalgebra; U and V
    /// orthogonal to a few n·eps, so the result passes [`ORTHOGONALITY_TOL`]). `None` if the SVD
    /// does not converge (not seen for finite input).
    pub fn nearest_orthogonal(a_mat: &DMatrix<f64>) -> Option<DMatrix<f64>> {
        let svd = a_mat.clone().try_svd(true, true, f64::EPSILON, 0)?;
        Some(svd.u? * svd.v_t?)
    }

    /// α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// The orthogonal matrix A.
    pub fn rotation(&self) -> &DMatrix<f64> {
        &self.a_mat
    }
    /// The pole a.
    pub fn pole(&self) -> &DVector<f64> {
        &self.pole
    }
    /// The shift b.
    pub fn shift(&self) -> &DVector<f64> {
        &self.shift
    }

    /// Distance from z to the pole.
    pub fn distance_to_pole(&self, z: &[f64]) -> f64 {
        self.sq_dist(z).sqrt()
    }

    #[inline]
    fn sq_dist(&self, z: &[f64]) -> f64 {
        z.iter()
            .zip(self.pole.iter())
            .map(|(zi, ai)| (zi - ai) * (zi - ai))
            .sum()
    }
}

impl StepOps for Moebius {
    fn dim_in(&self) -> usize {
        self.a_mat.nrows()
    }

    fn dim_out(&self) -> usize {
        self.a_mat.nrows()
    }

    fn name(&self) -> &'static str {
        "moebius"
    }

    #[inline]
    fn forward(&self, z: &[f64], out: &mut [f64]) {
        let s = self.sq_dist(z);
        let k = self.alpha / s;
        for (i, o) in out.iter_mut().enumerate() {
            let av: f64 = (0..z.len())
                .map(|j| self.a_mat[(i, j)] * (z[j] - self.pole[j]))
                .sum();
            *o = self.shift[i] + k * av;
        }
    }

    /// out = f(u0 + Δ) − f(u0) = α A (v/s − v0/s0) = α A (s0 Δ − (s − s0) v0)/(s s0), with
    /// v0 = u0 − a, s0 = ‖v0‖², s − s0 = 2 v0·Δ + ‖Δ‖²: the exact rational difference, free of the
    /// cancellation of subtracting two evaluations.
    #[inline]
    fn forward_diff(&self, u0: &[f64], _base: &[f64], du: &[f64], out: &mut [f64], _: &mut [f64]) {
        let n = u0.len();
        let s0 = self.sq_dist(u0);
        let (mut vd, mut dd) = (0.0, 0.0);
        for j in 0..n {
            vd += (u0[j] - self.pole[j]) * du[j];
            dd += du[j] * du[j];
        }
        let ds = 2.0 * vd + dd;
        let s = s0 + ds;
        let k = self.alpha / (s * s0);
        for (i, o) in out.iter_mut().enumerate() {
            let mut acc = 0.0;
            for j in 0..n {
                acc += self.a_mat[(i, j)] * (s0 * du[j] - ds * (u0[j] - self.pole[j]));
            }
            *o = k * acc;
        }
    }

    /// out = J(z) m with J = (α/s) A (I − 2 v vᵀ/s), column by column without temporaries:
    /// J m_c = (α/s) (A m_c − (2 v·m_c / s) A v).
    #[inline]
    fn jacobian_mul(&self, z: &[f64], _aux: &[f64], m: &DMatrix<f64>, out: &mut DMatrix<f64>) {
        let n = z.len();
        let s = self.sq_dist(z);
        let k = self.alpha / s;
        for c in 0..m.ncols() {
            let vm: f64 = (0..n).map(|j| (z[j] - self.pole[j]) * m[(j, c)]).sum();
            let coef = 2.0 * vm / s;
            for i in 0..n {
                let mut acc = 0.0;
                for j in 0..n {
                    acc += self.a_mat[(i, j)] * (m[(j, c)] - coef * (z[j] - self.pole[j]));
                }
                out[(i, c)] = k * acc;
            }
        }
    }

    /// out = Jᵀ r = (α/s)(I − 2 v vᵀ/s) Aᵀ r.
    #[inline]
    fn vjp(&self, z: &[f64], _aux: &[f64], r: &[f64], out: &mut [f64]) {
        let n = z.len();
        let s = self.sq_dist(z);
        for (j, o) in out.iter_mut().enumerate() {
            *o = (0..n).map(|i| self.a_mat[(i, j)] * r[i]).sum();
        }
        let vc: f64 = (0..n).map(|j| (z[j] - self.pole[j]) * out[j]).sum();
        let k = self.alpha / s;
        for (j, o) in out.iter_mut().enumerate() {
            *o = k * (*o - 2.0 * vc / s * (z[j] - self.pole[j]));
        }
    }

    /// h += Pᵀ C P with C = Σ_i r_i ∇²f_i (see the module table). `scratch` needs 2n + 2d entries.
    fn add_hessian_sandwich(
        &self,
        z: &[f64],
        _aux: &[f64],
        r: &[f64],
        p: &DMatrix<f64>,
        h: &mut DMatrix<f64>,
        scratch: &mut [f64],
    ) {
        let n = z.len();
        let d = p.ncols();
        let (c, rest) = scratch.split_at_mut(n);
        let (v, rest) = rest.split_at_mut(n);
        let (ptc, rest) = rest.split_at_mut(d);
        let ptv = &mut rest[..d];
        for j in 0..n {
            v[j] = z[j] - self.pole[j];
            c[j] = self.alpha * (0..n).map(|i| self.a_mat[(i, j)] * r[i]).sum::<f64>();
        }
        let s: f64 = v.iter().map(|t| t * t).sum();
        let cv: f64 = c.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
        for k in 0..d {
            ptc[k] = (0..n).map(|i| p[(i, k)] * c[i]).sum();
            ptv[k] = (0..n).map(|i| p[(i, k)] * v[i]).sum();
        }
        let s2 = s * s;
        for k in 0..d {
            for l in 0..d {
                let ptp: f64 = (0..n).map(|i| p[(i, l)] * p[(i, k)]).sum();
                h[(l, k)] += (-2.0 * (ptc[l] * ptv[k] + ptv[l] * ptc[k]) - 2.0 * cv * ptp
                    + 8.0 * cv / s * ptv[l] * ptv[k])
                    / s2;
            }
        }
    }

    /// h += Pᵀ D_w[C] P, the derivative along w of C = Σ_i r_i ∇²f_i = N/s² (module table), with
    /// p = c·w, q = v·w: D_w C = D_w N/s² − 4q N/s³,
    /// D_w N = −2(c wᵀ + w cᵀ) − 2p I + 8[p v vᵀ + (c·v)(w vᵀ + v wᵀ) − 2(c·v) q v vᵀ/s]/s.
    /// Every term is a product of O(‖c‖‖w‖/s³·‖v‖⁰…) closed-form factors: a few ulps relative to the
    /// size of the terms away from the pole.
    fn add_third_sandwich(
        &self,
        z: &[f64],
        _aux: &[f64],
        r: &[f64],
        w: &[f64],
        p: &DMatrix<f64>,
        h: &mut DMatrix<f64>,
    ) -> Result<(), DecoderError> {
        let n = z.len();
        let d = p.ncols();
        let v: Vec<f64> = (0..n).map(|j| z[j] - self.pole[j]).collect();
        let c: Vec<f64> = (0..n)
            .map(|j| self.alpha * (0..n).map(|i| self.a_mat[(i, j)] * r[i]).sum::<f64>())
            .collect();
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let s = dot(&v, &v);
        let cv = dot(&c, &v);
        let pw = dot(&c, w);
        let q = dot(&v, w);
        let proj = |u: &[f64]| -> Vec<f64> {
            (0..d)
                .map(|k| (0..n).map(|i| p[(i, k)] * u[i]).sum())
                .collect()
        };
        let (ptc, ptv, ptw) = (proj(&c), proj(&v), proj(w));
        let (s2, s3) = (s * s, s * s * s);
        for k in 0..d {
            for l in 0..d {
                let ptp: f64 = (0..n).map(|i| p[(i, l)] * p[(i, k)]).sum();
                let nn = -2.0 * (ptc[l] * ptv[k] + ptv[l] * ptc[k]) - 2.0 * cv * ptp
                    + 8.0 * cv / s * ptv[l] * ptv[k];
                let dn = -2.0 * (ptc[l] * ptw[k] + ptw[l] * ptc[k]) - 2.0 * pw * ptp
                    + 8.0
                        * (pw * ptv[l] * ptv[k] + cv * (ptw[l] * ptv[k] + ptv[l] * ptw[k])
                            - 2.0 * cv * q * ptv[l] * ptv[k] / s)
                        / s;
                h[(l, k)] += dn / s2 - 4.0 * q * nn / s3;
            }
        }
        Ok(())
    }

    #[inline]
    fn log_abs_det(&self, z: &[f64]) -> f64 {
        z.len() as f64 * (self.alpha.abs() / self.sq_dist(z)).ln()
    }

    fn inverse(&self, x: &[f64], out: &mut [f64]) -> Result<(), DecoderError> {
        let n = x.len();
        let s: f64 = x
            .iter()
            .zip(self.shift.iter())
            .map(|(xi, bi)| (xi - bi) * (xi - bi))
            .sum();
        if s == 0.0 || !s.is_finite() {
            return Err(DecoderError::Pole {
                step: 0,
                what: "inverse",
            });
        }
        let k = self.alpha / s;
        for (j, o) in out.iter_mut().enumerate() {
            let aty: f64 = (0..n)
                .map(|i| self.a_mat[(i, j)] * (x[i] - self.shift[i]))
                .sum();
            *o = self.pole[j] + k * aty;
        }
        Ok(())
    }
}

/// The block forms: the loops of the scalar form with the lanes innermost, each lane bit for bit
/// the scalar form's (sums from the same starting values, in the same order).
impl StepBlockOps for Moebius {
    fn forward_block(&self, z: &Block, out: &mut Block, _: &mut LaneScratch) {
        forward_lanes(self, z, out);
    }

    fn forward_diff_block(
        &self,
        u0: &[f64],
        _base_aux: &[f64],
        du: &Block,
        out: &mut Block,
        _aux: &mut Block,
        _: &mut LaneScratch,
    ) {
        forward_diff_lanes(self, u0, du, out);
    }
}

avx2_kernel! {
    /// f(z) = b + (α/s) A v, v = z − a, s = ‖v‖², over the lanes (`StepOps::forward`; its sums
    /// fold from −0.0 like f64's `Sum`).
    fn forward_lanes / forward_lanes_portable(m: &Moebius, z: &Block, out: &mut Block) {
        let mut s = [-0.0; LANES];
        for (zj, &aj) in z.coords().iter().zip(m.pole.iter()) {
            for (sl, &t) in s.iter_mut().zip(zj) {
                *sl += (t - aj) * (t - aj);
            }
        }
        let k = s.map(|s| m.alpha / s);
        for (i, o) in out.coords_mut().iter_mut().enumerate() {
            let mut av = [-0.0; LANES];
            for (j, (zj, &aj)) in z.coords().iter().zip(m.pole.iter()).enumerate() {
                let aij = m.a_mat[(i, j)];
                for (al, &t) in av.iter_mut().zip(zj) {
                    *al += aij * (t - aj);
                }
            }
            for l in 0..LANES {
                o[l] = m.shift[i] + k[l] * av[l];
            }
        }
    }
}

avx2_kernel! {
    /// f(u0 + Δ) − f(u0) in the exact rational form of `StepOps::forward_diff`, over the lanes
    /// of Δ with the base u0 shared.
    fn forward_diff_lanes / forward_diff_lanes_portable(m: &Moebius, u0: &[f64], du: &Block, out: &mut Block) {
        let s0 = m.sq_dist(u0);
        let (mut vd, mut dd) = ([0.0; LANES], [0.0; LANES]);
        for ((dj, &u0j), &aj) in du.coords().iter().zip(u0).zip(m.pole.iter()) {
            for l in 0..LANES {
                vd[l] += (u0j - aj) * dj[l];
                dd[l] += dj[l] * dj[l];
            }
        }
        let mut ds = [0.0; LANES];
        let mut k = [0.0; LANES];
        for l in 0..LANES {
            ds[l] = 2.0 * vd[l] + dd[l];
            k[l] = m.alpha / ((s0 + ds[l]) * s0);
        }
        for (i, o) in out.coords_mut().iter_mut().enumerate() {
            let mut acc = [0.0; LANES];
            for (j, (dj, (&u0j, &aj))) in du.coords().iter().zip(u0.iter().zip(m.pole.iter())).enumerate() {
                let aij = m.a_mat[(i, j)];
                for l in 0..LANES {
                    acc[l] += aij * (s0 * dj[l] - ds[l] * (u0j - aj));
                }
            }
            for l in 0..LANES {
                o[l] = k[l] * acc[l];
            }
        }
    }
}
