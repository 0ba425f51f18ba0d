//! The third derivative of a decoder chain, as the contraction
//!
//! T(z; r, v) = Σ_i r_i ∇³f_i(z)[v, ·, ·] = D_v [Σ_i r_i ∇²f_i](z)  (r held fixed),
//!
//! a symmetric d × d matrix: the derivative along v of the second-derivative contraction of
//! [`Decoder::hessian_contraction`]. It is what the leading coefficients of the γ → ∞ expansions
//! need ([`crate::paper::asymptotics`]): T[e_a, e_b] contracted with a column of J, and
//! tr(J⁻¹ ∂_a ∂_c J).
//!
//! # Chain rule (forward tangent of the second-derivative chain)
//!
//! With u_l, P_l, r_l and C_l(r) = Σ_j r_j ∇²(s_l)_j(u_{l−1}) as in the chain's module table,
//! Σ_i r_i ∇²f_i = Σ_l P_{l−1}ᵀ C_l(r_l) P_{l−1}. Along v:
//!
//! | tangent | formula |
//! | --- | --- |
//! | du_{l−1} | P_{l−1} v |
//! | dP_l | dJ_l P_{l−1} + J_l dP_{l−1}, dP_0 = 0, (dJ_l M)_j = du_{l−1}ᵀ ∇²(s_l)_j M |
//! | dr_{l−1} | C_l(r_l) du_{l−1} + J_lᵀ dr_l, dr_L = 0 |
//! | T | Σ_l [dP_{l−1}ᵀ C_l(r_l) P_{l−1} + P_{l−1}ᵀ C_l(r_l) dP_{l−1} + P_{l−1}ᵀ C_l(dr_l) P_{l−1} + P_{l−1}ᵀ (Σ_j (r_l)_j ∇³(s_l)_j[du_{l−1}]) P_{l−1}] |
//!
//! Every step provides C_l (its second-derivative sandwich) and its own third-derivative sandwich
//! (`StepOps::add_third_sandwich`); a step that does not provide the latter makes this an error.
//! The products are dense and allocate: this is a reference computation made a few times per
//! point, not a hot loop. Accuracy: sums of products of the steps' closed forms, so a few ulps
//! times the chain's condition (the size of the largest term over the result), as the
//! second-derivative contraction.

use super::error::{check_finite, check_len, DecoderError};
use super::{Decoder, Step, StepOps};
use nalgebra::{DMatrix, DVector};

/// C(r) = Σ_j r_j ∇²s_j(u), n × n, from the step's sandwich with P = I.
fn step_hessian(step: &Step, u: &[f64], aux: &[f64], r: &[f64]) -> DMatrix<f64> {
    let n = step.dim_in();
    let eye = DMatrix::identity(n, n);
    let mut h = DMatrix::zeros(n, n);
    let mut scratch = vec![0.0; 4 * n];
    step.add_hessian_sandwich(u, aux, r, &eye, &mut h, &mut scratch);
    h
}

/// dJ M with (dJ M)_{j,c} = duᵀ ∇²s_j(u) M_{:,c}: output j from the sandwich of r = e_j with
/// P = [du | M], whose entry (0, 1 + c) is duᵀ ∇²s_j M_{:,c}.
fn dj_mul(step: &Step, u: &[f64], aux: &[f64], du: &[f64], m: &DMatrix<f64>) -> DMatrix<f64> {
    let (n_in, n_out, k) = (step.dim_in(), step.dim_out(), m.ncols());
    let mut p = DMatrix::zeros(n_in, k + 1);
    p.column_mut(0).copy_from_slice(du);
    p.columns_mut(1, k).copy_from(m);
    let mut out = DMatrix::zeros(n_out, k);
    let mut e = vec![0.0; n_out];
    let mut scratch = vec![0.0; 2 * n_in + 2 * (k + 1)];
    let mut h = DMatrix::zeros(k + 1, k + 1);
    for j in 0..n_out {
        e.fill(0.0);
        e[j] = 1.0;
        h.fill(0.0);
        step.add_hessian_sandwich(u, aux, &e, &p, &mut h, &mut scratch);
        for c in 0..k {
            out[(j, c)] = h[(0, c + 1)];
        }
    }
    out
}

impl Decoder {
    /// T = Σ_i r_i ∇³f_i(z)[v, ·, ·] (d × d, symmetric), by the chain rule of the module table in
    /// `third.rs`. `r` has length D, `v` length d. Errors on wrong lengths, non-finite inputs, a
    /// pole, or a step without third derivatives (named by its index).
    pub fn third_contraction(
        &self,
        z: &DVector<f64>,
        r: &DVector<f64>,
        v: &DVector<f64>,
    ) -> Result<DMatrix<f64>, DecoderError> {
        check_len("r", r.as_slice(), self.dim_out())?;
        check_len("v", v.as_slice(), self.dim_in())?;
        check_finite("r", r.as_slice())?;
        check_finite("v", v.as_slice())?;
        let d = self.dim_in();
        let mut ws = self.workspace();
        self.eval(z.as_slice(), &mut ws, true)?;
        let steps = self.steps();
        // Forward tangents du_l = P_l v and dP_l.
        let mut du: Vec<DVector<f64>> = Vec::with_capacity(steps.len() + 1);
        let mut dp: Vec<DMatrix<f64>> = Vec::with_capacity(steps.len() + 1);
        du.push(v.clone());
        dp.push(DMatrix::zeros(d, d));
        for (l, step) in steps.iter().enumerate() {
            let (u, aux) = (&ws.acts[l], &ws.aux[l]);
            let mut jdp = DMatrix::zeros(step.dim_out(), d);
            step.jacobian_mul(u, aux, &dp[l], &mut jdp);
            let next = dj_mul(step, u, aux, du[l].as_slice(), &ws.partial[l]) + jdp;
            du.push(&ws.partial[l + 1] * v);
            dp.push(next);
        }
        // Backward: cotangents r_l, their tangents dr_l, and the sum.
        let mut rl = r.as_slice().to_vec();
        let mut drl = vec![0.0; r.len()];
        let mut t = DMatrix::zeros(d, d);
        for l in (0..steps.len()).rev() {
            let step = &steps[l];
            let (u, aux, p) = (&ws.acts[l], &ws.aux[l], &ws.partial[l]);
            let c = step_hessian(step, u, aux, &rl);
            let cp = &c * p;
            t += dp[l].transpose() * &cp + cp.transpose() * &dp[l];
            let mut scratch = vec![0.0; 2 * step.dim_in() + 2 * d];
            step.add_hessian_sandwich(u, aux, &drl, p, &mut t, &mut scratch);
            step.add_third_sandwich(u, aux, &rl, du[l].as_slice(), p, &mut t)
                .map_err(|e| e.at_step(l))?;
            let mut rn = vec![0.0; step.dim_in()];
            let mut drn = vec![0.0; step.dim_in()];
            step.vjp(u, aux, &rl, &mut rn);
            step.vjp(u, aux, &drl, &mut drn);
            let cdu = &c * &du[l];
            for (a, b) in drn.iter_mut().zip(cdu.iter()) {
                *a += b;
            }
            rl = rn;
            drl = drn;
        }
        if let Some(k) = t.iter().position(|x| !x.is_finite()) {
            return Err(DecoderError::NonFinite {
                what: "third-derivative contraction".into(),
                index: k,
            });
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step that provides only the required methods (as a newly added step would before it gets
    /// third derivatives).
    struct Bare;

    impl StepOps for Bare {
        fn dim_in(&self) -> usize {
            1
        }
        fn dim_out(&self) -> usize {
            1
        }
        fn name(&self) -> &'static str {
            "bare"
        }
        fn forward(&self, z: &[f64], out: &mut [f64]) {
            out.copy_from_slice(z);
        }
        fn forward_diff(&self, _: &[f64], _: &[f64], du: &[f64], out: &mut [f64], _: &mut [f64]) {
            out.copy_from_slice(du);
        }
        fn jacobian_mul(&self, _: &[f64], _: &[f64], m: &DMatrix<f64>, out: &mut DMatrix<f64>) {
            out.copy_from(m);
        }
        fn vjp(&self, _: &[f64], _: &[f64], r: &[f64], out: &mut [f64]) {
            out.copy_from_slice(r);
        }
        fn log_abs_det(&self, _: &[f64]) -> f64 {
            0.0
        }
        fn inverse(&self, x: &[f64], out: &mut [f64]) -> Result<(), DecoderError> {
            out.copy_from_slice(x);
            Ok(())
        }
    }

    /// The default third-derivative sandwich is a typed error naming the step, not a silent zero,
    /// and leaves h untouched.
    #[test]
    fn default_third_sandwich_is_an_error() {
        let mut h = DMatrix::zeros(1, 1);
        let e = Bare
            .add_third_sandwich(
                &[0.5],
                &[],
                &[1.0],
                &[1.0],
                &DMatrix::identity(1, 1),
                &mut h,
            )
            .unwrap_err();
        assert!(matches!(
            &e,
            DecoderError::InvalidParameter { message, .. } if message.contains("bare")
        ));
        assert_eq!(h[(0, 0)], 0.0);
    }
}
