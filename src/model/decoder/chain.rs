//! A decoder f = s_L ∘ … ∘ s_1 : R^d → R^D, and the chain rule for everything the steps provide.
//!
//! With u_0 = z, u_l = s_l(u_{l−1}) and P_l = J_l(u_{l−1}) ⋯ J_1(u_0) (P_0 = I_d):
//!
//! | quantity | formula |
//! | --- | --- |
//! | f(z) | u_L |
//! | J_f(z) | P_L |
//! | Σ_i r_i ∇²f_i(z) | Σ_l P_{l−1}ᵀ [Σ_j (r_l)_j ∇²(s_l)_j(u_{l−1})] P_{l−1}, r_L = r, r_{l−1} = J_lᵀ r_l |
//! | log|det J_f(z)| (all steps square) | Σ_l log|det J_l(u_{l−1})| |
//! | g(x) = f⁻¹(x) | s_1⁻¹ ∘ … ∘ s_L⁻¹ (x) |
//! | f(z0 + Δ) − f(z0) | Δ_l = s_l(u⁰_{l−1} + Δ_{l−1}) − s_l(u⁰_{l−1}), each by the step's difference form |
//!
//! The difference form ([`Decoder::set_base`], [`Decoder::eval_offset`]) matters when f(z) is close
//! to f(z0) and x: at decoder precision γ² the residual x − f(z) is O(1/γ), and computing it as
//! x − f(z) loses log10(γ) digits to cancellation, while [x − f(z0)] − [f(z) − f(z0)] with the bracket
//! propagated as a difference keeps them (the first bracket is one fixed vector per x).
//!
//! The log-determinant is the sum of the steps' closed forms, so it is as accurate as they are
//! (a few ulps each) and never suffers the cancellation of a determinant of the assembled J.
//!
//! Hot loops use a [`Workspace`] made once per thread by [`Decoder::workspace`]; evaluation with a
//! workspace does not allocate.

use super::error::{check_finite, check_len, DecoderError};
use super::workspace::Workspace;
use super::{Step, StepOps};
use nalgebra::{DMatrix, DVector};

/// A decoder: a chain of steps applied in order to z ∈ R^d.
#[derive(Debug, Clone)]
pub struct Decoder {
    dim_in: usize,
    steps: Vec<Step>,
}

/// P_{l+1} = J_l(u) P_l (the chain rule, step l at input u), checking the result is finite.
fn accumulate_jacobian(
    step: &Step,
    l: usize,
    u: &[f64],
    aux: &[f64],
    partial: &mut [DMatrix<f64>],
) -> Result<(), DecoderError> {
    let (pb, pa) = partial.split_at_mut(l + 1);
    step.jacobian_mul(u, aux, &pb[l], &mut pa[0]);
    if pa[0].iter().any(|t| !t.is_finite()) {
        return Err(DecoderError::Pole {
            step: l,
            what: "jacobian",
        });
    }
    Ok(())
}

impl Decoder {
    /// Builds the chain; errors when a step's input dimension differs from the previous output.
    pub fn new(dim_in: usize, steps: Vec<Step>) -> Result<Self, DecoderError> {
        if dim_in == 0 {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: "decoder: latent dimension 0".into(),
            });
        }
        let mut dim = dim_in;
        for (l, s) in steps.iter().enumerate() {
            if s.dim_in() != dim {
                return Err(DecoderError::DimensionMismatch {
                    what: format!("input of step {l} ({})", s.name()),
                    expected: dim,
                    found: s.dim_in(),
                });
            }
            dim = s.dim_out();
        }
        Ok(Decoder { dim_in, steps })
    }

    /// The latent dimension d.
    pub fn dim_in(&self) -> usize {
        self.dim_in
    }

    /// The observed dimension D.
    pub fn dim_out(&self) -> usize {
        self.steps.last().map_or(self.dim_in, |s| s.dim_out())
    }

    /// The steps, in the order they are applied.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Whether every step is square (so that log|det J| and the inverse are defined).
    pub fn is_square(&self) -> bool {
        self.steps.iter().all(|s| s.dim_in() == s.dim_out())
    }

    /// Buffers for [`Decoder::eval`] and friends.
    pub fn workspace(&self) -> Workspace {
        let d = self.dim_in;
        let mut dims = vec![d];
        dims.extend(self.steps.iter().map(|s| s.dim_out()));
        let maxdim = dims.iter().copied().max().unwrap_or(d);
        Workspace {
            acts: dims.iter().map(|&n| vec![0.0; n]).collect(),
            base: dims.iter().map(|&n| vec![0.0; n]).collect(),
            dacts: dims.iter().map(|&n| vec![0.0; n]).collect(),
            aux: self.steps.iter().map(|s| vec![0.0; s.aux_len()]).collect(),
            base_aux: self.steps.iter().map(|s| vec![0.0; s.aux_len()]).collect(),
            partial: dims.iter().map(|&n| DMatrix::zeros(n, d)).collect(),
            cot: dims.iter().map(|&n| vec![0.0; n]).collect(),
            scratch: vec![0.0; 2 * maxdim + 2 * d],
            has_jacobian: false,
        }
    }

    /// Evaluates f(z) and, if `jacobian`, J_f(z) into `ws` (read them with [`Workspace::output`]
    /// and [`Workspace::jacobian`]). Errors if z has the wrong length or a non-finite entry, or if a
    /// step produces a non-finite value (a pole or an overflow), naming the step.
    pub fn eval(&self, z: &[f64], ws: &mut Workspace, jacobian: bool) -> Result<(), DecoderError> {
        self.check_workspace(ws)?;
        check_len("z", z, self.dim_in)?;
        check_finite("z", z)?;
        ws.acts[0].copy_from_slice(z);
        if jacobian {
            ws.partial[0].fill_with_identity();
        }
        for (l, step) in self.steps.iter().enumerate() {
            let (before, after) = ws.acts.split_at_mut(l + 1);
            step.forward(&before[l], &mut after[0]);
            if after[0].iter().any(|t| !t.is_finite()) {
                return Err(DecoderError::Pole {
                    step: l,
                    what: "forward",
                });
            }
            if jacobian {
                step.fill_aux(&before[l], &mut ws.aux[l]);
                accumulate_jacobian(step, l, &before[l], &ws.aux[l], &mut ws.partial)?;
            }
        }
        ws.has_jacobian = jacobian;
        Ok(())
    }

    /// Evaluates f at the base point z0 and keeps its activations in `ws` for
    /// [`Decoder::eval_offset`]. Errors as [`Decoder::eval`].
    pub fn set_base(&self, z0: &[f64], ws: &mut Workspace) -> Result<(), DecoderError> {
        self.eval(z0, ws, false)?;
        for (b, a) in ws.base.iter_mut().zip(&ws.acts) {
            b.copy_from_slice(a);
        }
        for (l, step) in self.steps.iter().enumerate() {
            step.fill_aux(&ws.base[l], &mut ws.base_aux[l]);
        }
        Ok(())
    }

    /// Evaluates f at z = z0 + dz, z0 the base point of the last [`Decoder::set_base`]: the
    /// difference f(z) − f(z0) by the steps' difference forms (read it with
    /// [`Workspace::output_diff`]), the activations at z, and J_f(z) if `jacobian`. `dz` is not
    /// checked for finiteness (the caller builds it from checked data); a non-finite result is a
    /// [`DecoderError::Pole`].
    pub fn eval_offset(
        &self,
        dz: &[f64],
        ws: &mut Workspace,
        jacobian: bool,
    ) -> Result<(), DecoderError> {
        self.check_workspace(ws)?;
        check_len("dz", dz, self.dim_in)?;
        self.eval_offset_unchecked(dz, ws, jacobian)
    }

    /// [`Decoder::eval_offset`] without its shape checks, for the hot loops over quadrature nodes
    /// and samples: the caller has checked the workspace once ([`Decoder::check_workspace`]) and
    /// builds `dz` of length d. Pole errors are still reported.
    #[inline]
    pub(crate) fn eval_offset_unchecked(
        &self,
        dz: &[f64],
        ws: &mut Workspace,
        jacobian: bool,
    ) -> Result<(), DecoderError> {
        ws.dacts[0].copy_from_slice(dz);
        for ((a, b), d) in ws.acts[0].iter_mut().zip(&ws.base[0]).zip(dz) {
            *a = b + d;
        }
        if jacobian {
            ws.partial[0].fill_with_identity();
        }
        for (l, step) in self.steps.iter().enumerate() {
            let (dbefore, dafter) = ws.dacts.split_at_mut(l + 1);
            step.forward_diff(
                &ws.base[l],
                &ws.base_aux[l],
                &dbefore[l],
                &mut dafter[0],
                &mut ws.aux[l],
            );
            let next = &mut ws.acts[l + 1];
            let mut finite = true;
            for ((a, b), d) in next.iter_mut().zip(&ws.base[l + 1]).zip(&dafter[0]) {
                *a = b + d;
                finite &= a.is_finite();
            }
            if !finite {
                return Err(DecoderError::Pole {
                    step: l,
                    what: "forward",
                });
            }
            if jacobian {
                accumulate_jacobian(step, l, &ws.acts[l], &ws.aux[l], &mut ws.partial)?;
            }
        }
        ws.has_jacobian = jacobian;
        Ok(())
    }

    /// After `eval(z, ws, true)`: h = Σ_i r_i ∇²f_i(z) (d × d, symmetric), by the chain rule of the
    /// module table. `r` must have length D.
    pub fn hessian_contraction_into(
        &self,
        ws: &mut Workspace,
        r: &[f64],
        h: &mut DMatrix<f64>,
    ) -> Result<(), DecoderError> {
        self.check_workspace(ws)?;
        check_len("r", r, self.dim_out())?;
        if h.shape() != (self.dim_in, self.dim_in) {
            return Err(DecoderError::DimensionMismatch {
                what: format!("h ({}×{})", h.nrows(), h.ncols()),
                expected: self.dim_in,
                found: h.nrows(),
            });
        }
        if !ws.has_jacobian {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: "hessian_contraction_into needs eval(.., jacobian = true) or eval_offset(.., true) first".into(),
            });
        }
        self.hessian_contraction_unchecked(ws, r, h);
        Ok(())
    }

    /// [`Decoder::hessian_contraction_into`] without its checks, for the hot loops: the caller
    /// has checked the workspace once, evaluated with the Jacobian, and sized `r` (D) and `h`
    /// (d × d).
    #[inline]
    pub(crate) fn hessian_contraction_unchecked(
        &self,
        ws: &mut Workspace,
        r: &[f64],
        h: &mut DMatrix<f64>,
    ) {
        h.fill(0.0);
        let n = self.steps.len();
        ws.cot[n].copy_from_slice(r);
        for l in (0..n).rev() {
            let step = &self.steps[l];
            let (cb, ca) = ws.cot.split_at_mut(l + 1);
            step.add_hessian_sandwich(
                &ws.acts[l],
                &ws.aux[l],
                &ca[0],
                &ws.partial[l],
                h,
                &mut ws.scratch,
            );
            step.vjp(&ws.acts[l], &ws.aux[l], &ca[0], &mut cb[l]);
        }
    }

    /// After `eval(z, ws, _)`: log|det J_f(z)| as the sum of the steps' closed forms.
    /// Errors when the chain is not square.
    pub fn log_abs_det_from(&self, ws: &Workspace) -> Result<f64, DecoderError> {
        self.require_square()?;
        self.check_workspace(ws)?;
        Ok(self.log_abs_det_unchecked(ws))
    }

    /// [`Decoder::log_abs_det_from`] without its checks (square chain, checked workspace).
    #[inline]
    pub(crate) fn log_abs_det_unchecked(&self, ws: &Workspace) -> f64 {
        self.steps
            .iter()
            .enumerate()
            .map(|(l, s)| s.log_abs_det(&ws.acts[l]))
            .sum()
    }

    /// A workspace belongs to the decoder that made it: its buffers must have this chain's shape.
    /// The checked entry points run this on every call; hot loops run it once, then the
    /// `_unchecked` forms.
    pub(crate) fn check_workspace(&self, ws: &Workspace) -> Result<(), DecoderError> {
        let fits = ws.acts.len() == self.steps.len() + 1
            && ws.acts[0].len() == self.dim_in
            && self
                .steps
                .iter()
                .zip(&ws.acts[1..])
                .all(|(s, a)| a.len() == s.dim_out());
        if fits {
            Ok(())
        } else {
            Err(DecoderError::DimensionMismatch {
                what: "workspace (made by another decoder)".into(),
                expected: self.steps.len() + 1,
                found: ws.acts.len(),
            })
        }
    }

    /// Errors unless every step is square (log|det J| and the inverse need it).
    pub(crate) fn require_square(&self) -> Result<(), DecoderError> {
        match self.steps.iter().position(|s| s.dim_in() != s.dim_out()) {
            None => Ok(()),
            Some(l) => Err(DecoderError::NotInvertible {
                step: Some(l),
                reason: format!(
                    "{} step maps R^{} to R^{}; log|det J| and the inverse need square steps",
                    self.steps[l].name(),
                    self.steps[l].dim_in(),
                    self.steps[l].dim_out()
                ),
            }),
        }
    }

    /// g(x) = f⁻¹(x) into `ws` (read it with [`Workspace::input`]); afterwards the workspace holds
    /// the activations of f at g(x), so `log_abs_det_from` and `eval(.., true)` can follow.
    pub fn inverse_into(&self, x: &[f64], ws: &mut Workspace) -> Result<(), DecoderError> {
        self.require_square()?;
        self.check_workspace(ws)?;
        check_len("x", x, self.dim_out())?;
        check_finite("x", x)?;
        self.inverse_unchecked(x, ws)
    }

    /// [`Decoder::inverse_into`] without its checks, for the x-space quadrature: the caller has
    /// checked squareness and the workspace once, and builds x (length D) from finite data.
    pub(crate) fn inverse_unchecked(
        &self,
        x: &[f64],
        ws: &mut Workspace,
    ) -> Result<(), DecoderError> {
        self.inverse_walk(x, ws, None)
    }

    /// The steps' inverses from the last to the first, into `ws`; with `clamp = Some(m)` every
    /// coordinate entering a step with a bounded image (lo, hi) is first clamped into
    /// [lo + m(hi − lo), hi − m(hi − lo)] ([`Decoder::inverse_clamped`]).
    fn inverse_walk(
        &self,
        x: &[f64],
        ws: &mut Workspace,
        clamp: Option<f64>,
    ) -> Result<(), DecoderError> {
        let n = self.steps.len();
        ws.acts[n].copy_from_slice(x);
        for l in (0..n).rev() {
            let (before, after) = ws.acts.split_at_mut(l + 1);
            if let (Some(margin), Some((lo, hi))) = (clamp, self.steps[l].image_interval()) {
                let m = margin * (hi - lo);
                for t in after[0].iter_mut() {
                    *t = t.clamp(lo + m, hi - m);
                }
            }
            let res = self.steps[l].inverse(&after[0], &mut before[l]);
            res.map_err(|e| match e {
                DecoderError::Pole { what, .. } => DecoderError::Pole { step: l, what },
                e => e.at_step(l),
            })?;
            if before[l].iter().any(|t| !t.is_finite()) {
                return Err(DecoderError::Pole {
                    step: l,
                    what: "inverse",
                });
            }
        }
        ws.has_jacobian = false;
        Ok(())
    }

    /// f(z), allocating. See [`Decoder::eval`] for the allocation-free form.
    pub fn forward(&self, z: &DVector<f64>) -> Result<DVector<f64>, DecoderError> {
        let mut ws = self.workspace();
        self.eval(z.as_slice(), &mut ws, false)?;
        Ok(DVector::from_column_slice(ws.output()))
    }

    /// J_f(z), D × d, J[i, k] = ∂f_i/∂z_k.
    pub fn jacobian(&self, z: &DVector<f64>) -> Result<DMatrix<f64>, DecoderError> {
        let mut ws = self.workspace();
        self.eval(z.as_slice(), &mut ws, true)?;
        Ok(ws.jacobian().clone())
    }

    /// Σ_i r_i ∇²f_i(z), d × d.
    pub fn hessian_contraction(
        &self,
        z: &DVector<f64>,
        r: &DVector<f64>,
    ) -> Result<DMatrix<f64>, DecoderError> {
        let mut ws = self.workspace();
        self.eval(z.as_slice(), &mut ws, true)?;
        let mut h = DMatrix::zeros(self.dim_in, self.dim_in);
        self.hessian_contraction_into(&mut ws, r.as_slice(), &mut h)?;
        Ok(h)
    }

    /// log|det J_f(z)| (square chains only).
    pub fn log_abs_det_jacobian(&self, z: &DVector<f64>) -> Result<f64, DecoderError> {
        self.require_square()?;
        let mut ws = self.workspace();
        self.eval(z.as_slice(), &mut ws, false)?;
        self.log_abs_det_from(&ws)
    }

    /// g(x) = f⁻¹(x) (square chains of invertible steps only).
    pub fn inverse(&self, x: &DVector<f64>) -> Result<DVector<f64>, DecoderError> {
        let mut ws = self.workspace();
        self.inverse_into(x.as_slice(), &mut ws)?;
        Ok(DVector::from_column_slice(ws.input()))
    }

    /// A latent point near the preimage of x for x possibly outside the decoder's image: the
    /// inverse, step by step from the last, with every coordinate entering a step with a bounded
    /// image ([`Step::image_interval`], (lo, hi)) first clamped into
    /// [lo + m, hi − m], m = `margin`·(hi − lo). Equal to [`Decoder::inverse`] where the
    /// coordinates lie inside those bounds. A starting point for a search (the posterior mode of an
    /// x outside a sigmoid model's image), not an inverse. Errors: as [`Decoder::inverse_into`],
    /// except outside a bounded image; `InvalidParameter` for a `margin` outside (0, ½).
    pub fn inverse_clamped(&self, x: &[f64], margin: f64) -> Result<DVector<f64>, DecoderError> {
        self.require_square()?;
        check_len("x", x, self.dim_out())?;
        check_finite("x", x)?;
        if !(margin > 0.0 && margin < 0.5) {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: format!("clamp margin {margin} outside (0, 1/2)"),
            });
        }
        let mut ws = self.workspace();
        self.inverse_walk(x, &mut ws, Some(margin))?;
        Ok(DVector::from_column_slice(ws.input()))
    }
}
