//! The lane-blocked form of the step contract: every operation of [`StepOps`] on a block of
//! [`LANES`] activations at once (structure-of-arrays, see [`crate::lanes`]).
//!
//! Each method's default runs the step's scalar form lane by lane (through a [`LaneScratch`]), so
//! every step has a correct block form from the start and gives, lane by lane, exactly the scalar
//! numbers. A step overrides a method with a loop over lanes — the same operations in the same
//! order, so still bit-identical to its scalar form — where the speed matters (affine and leaky
//! softplus: the MLP decoders; the elementwise sigmoid, tanh and leaky ReLU through
//! `elementwise_step!`).

use super::{DecoderError, Step, StepOps};
use crate::lanes::{Block, Lanes, MatBlock, LANES};
use nalgebra::DMatrix;

/// Buffers for running one step's scalar form on one lane at a time, sized for that step and the
/// latent dimension d (the number of columns of the Jacobians carried through the chain).
#[derive(Debug, Clone)]
pub(crate) struct LaneScratch {
    z: Vec<f64>,
    z0: Vec<f64>,
    out: Vec<f64>,
    aux: Vec<f64>,
    aux0: Vec<f64>,
    r: Vec<f64>,
    m: DMatrix<f64>,
    mout: DMatrix<f64>,
    h: DMatrix<f64>,
    scratch: Vec<f64>,
}

impl LaneScratch {
    /// Buffers for `step` in a chain of latent dimension d.
    pub(crate) fn new(step: &impl StepOps, d: usize) -> Self {
        let (n_in, n_out) = (step.dim_in(), step.dim_out());
        LaneScratch {
            z: vec![0.0; n_in],
            z0: vec![0.0; n_in],
            out: vec![0.0; n_out.max(n_in)],
            aux: vec![0.0; step.aux_len()],
            aux0: vec![0.0; step.aux_len()],
            r: vec![0.0; n_out],
            m: DMatrix::zeros(n_in, d),
            mout: DMatrix::zeros(n_out, d),
            h: DMatrix::zeros(d, d),
            scratch: vec![0.0; 2 * n_in.max(n_out) + 2 * d],
        }
    }
}

/// The block contract. `z`, `u`: input activations (dim_in); `out`: outputs (dim_out); `aux`: the
/// step's cache of the input (aux_len); matrices carry d columns.
pub(crate) trait StepBlockOps: StepOps {
    /// out = s(z), lane by lane.
    fn forward_block(&self, z: &Block, out: &mut Block, s: &mut LaneScratch) {
        for l in 0..LANES {
            z.read_lane(l, &mut s.z);
            self.forward(&s.z, &mut s.out[..out.dim()]);
            out.write_lane(l, &s.out[..out.dim()]);
        }
    }

    /// The cache of `u`, lane by lane.
    fn fill_aux_block(&self, u: &Block, aux: &mut Block, s: &mut LaneScratch) {
        if aux.dim() == 0 {
            return;
        }
        for l in 0..LANES {
            u.read_lane(l, &mut s.z);
            self.fill_aux(&s.z, &mut s.aux);
            aux.write_lane(l, &s.aux);
        }
    }

    /// out = s(u0 + du) − s(u0) with the base u0 (and its cache) shared by every lane; fills
    /// `aux`, the cache of u0 + du.
    #[allow(clippy::too_many_arguments)]
    fn forward_diff_block(
        &self,
        u0: &[f64],
        base_aux: &[f64],
        du: &Block,
        out: &mut Block,
        aux: &mut Block,
        s: &mut LaneScratch,
    ) {
        s.z0.copy_from_slice(u0);
        s.aux0.copy_from_slice(base_aux);
        for l in 0..LANES {
            du.read_lane(l, &mut s.z);
            let n = out.dim();
            self.forward_diff(&s.z0, &s.aux0, &s.z, &mut s.out[..n], &mut s.aux);
            out.write_lane(l, &s.out[..n]);
            if aux.dim() > 0 {
                aux.write_lane(l, &s.aux);
            }
        }
    }

    /// out = J(z) m, lane by lane.
    fn jacobian_mul_block(
        &self,
        z: &Block,
        aux: &Block,
        m: &MatBlock,
        out: &mut MatBlock,
        s: &mut LaneScratch,
    ) {
        for l in 0..LANES {
            z.read_lane(l, &mut s.z);
            aux.read_lane(l, &mut s.aux);
            m.read_lane(l, &mut s.m);
            self.jacobian_mul(&s.z, &s.aux, &s.m, &mut s.mout);
            out.write_lane(l, &s.mout);
        }
    }

    /// out = J(z)ᵀ r, lane by lane.
    fn vjp_block(&self, z: &Block, aux: &Block, r: &Block, out: &mut Block, s: &mut LaneScratch) {
        for l in 0..LANES {
            z.read_lane(l, &mut s.z);
            aux.read_lane(l, &mut s.aux);
            r.read_lane(l, &mut s.r);
            let n = out.dim();
            self.vjp(&s.z, &s.aux, &s.r, &mut s.out[..n]);
            out.write_lane(l, &s.out[..n]);
        }
    }

    /// h += Pᵀ (Σ_i r_i ∇²s_i(z)) P, lane by lane.
    #[allow(clippy::too_many_arguments)]
    fn add_hessian_sandwich_block(
        &self,
        z: &Block,
        aux: &Block,
        r: &Block,
        p: &MatBlock,
        h: &mut MatBlock,
        s: &mut LaneScratch,
    ) {
        for l in 0..LANES {
            z.read_lane(l, &mut s.z);
            aux.read_lane(l, &mut s.aux);
            r.read_lane(l, &mut s.r);
            p.read_lane(l, &mut s.m);
            h.read_lane(l, &mut s.h);
            self.add_hessian_sandwich(&s.z, &s.aux, &s.r, &s.m, &mut s.h, &mut s.scratch);
            h.write_lane(l, &s.h);
        }
    }

    /// log|det J(z)| per lane (square steps).
    fn log_abs_det_block(&self, z: &Block, out: &mut Lanes, s: &mut LaneScratch) {
        for (l, o) in out.iter_mut().enumerate() {
            z.read_lane(l, &mut s.z);
            *o = self.log_abs_det(&s.z);
        }
    }

    /// out = s⁻¹(x), lane by lane (square steps); the first lane's error, if any.
    fn inverse_block(
        &self,
        x: &Block,
        out: &mut Block,
        s: &mut LaneScratch,
    ) -> Result<(), DecoderError> {
        inverse_lane_by_lane(self, x, out, s)
    }
}

/// out = s⁻¹(x) by the scalar inverse, lane by lane: the default block form, and the fallback of
/// the lane kernels (which then report the first failing lane's error).
pub(crate) fn inverse_lane_by_lane(
    step: &(impl StepOps + ?Sized),
    x: &Block,
    out: &mut Block,
    s: &mut LaneScratch,
) -> Result<(), DecoderError> {
    for l in 0..LANES {
        x.read_lane(l, &mut s.r);
        step.inverse(&s.r, &mut s.z)?;
        out.write_lane(l, &s.z);
    }
    Ok(())
}

/// Affine and leaky-softplus steps override the block forms (in their own files); the Möbius
/// step runs its scalar form lane by lane.
/// `dispatch_block!(step, s => expr)`: as the scalar `dispatch!`, for the block contract.
macro_rules! dispatch_block {
    ($step:expr, $s:ident => $e:expr) => {
        match $step {
            Step::Affine($s) => $e,
            Step::LeakySoftplus($s) => $e,
            Step::Moebius($s) => $e,
            Step::Sigmoid($s) => $e,
            Step::Tanh($s) => $e,
            Step::LeakyRelu($s) => $e,
        }
    };
}

impl StepBlockOps for Step {
    fn forward_block(&self, z: &Block, out: &mut Block, s: &mut LaneScratch) {
        dispatch_block!(self, st => st.forward_block(z, out, s))
    }
    fn fill_aux_block(&self, u: &Block, aux: &mut Block, s: &mut LaneScratch) {
        dispatch_block!(self, st => st.fill_aux_block(u, aux, s))
    }
    fn forward_diff_block(
        &self,
        u0: &[f64],
        base_aux: &[f64],
        du: &Block,
        out: &mut Block,
        aux: &mut Block,
        s: &mut LaneScratch,
    ) {
        dispatch_block!(self, st => st.forward_diff_block(u0, base_aux, du, out, aux, s))
    }
    fn jacobian_mul_block(
        &self,
        z: &Block,
        aux: &Block,
        m: &MatBlock,
        out: &mut MatBlock,
        s: &mut LaneScratch,
    ) {
        dispatch_block!(self, st => st.jacobian_mul_block(z, aux, m, out, s))
    }
    fn vjp_block(&self, z: &Block, aux: &Block, r: &Block, out: &mut Block, s: &mut LaneScratch) {
        dispatch_block!(self, st => st.vjp_block(z, aux, r, out, s))
    }
    fn add_hessian_sandwich_block(
        &self,
        z: &Block,
        aux: &Block,
        r: &Block,
        p: &MatBlock,
        h: &mut MatBlock,
        s: &mut LaneScratch,
    ) {
        dispatch_block!(self, st => st.add_hessian_sandwich_block(z, aux, r, p, h, s))
    }
    fn log_abs_det_block(&self, z: &Block, out: &mut Lanes, s: &mut LaneScratch) {
        dispatch_block!(self, st => st.log_abs_det_block(z, out, s))
    }
    fn inverse_block(
        &self,
        x: &Block,
        out: &mut Block,
        s: &mut LaneScratch,
    ) -> Result<(), DecoderError> {
        dispatch_block!(self, st => st.inverse_block(x, out, s))
    }
}
