//! The buffers of one decoder evaluation: activations, their differences from a base point, the
//! steps' caches, partial Jacobians and cotangents — made once per thread, reused for every point.

use nalgebra::DMatrix;

#[cfg(doc)]
use super::Decoder;

/// Preallocated buffers for evaluating one [`Decoder`] at one point at a time.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Activations u_0 = z, u_1, …, u_L = f(z).
    pub(super) acts: Vec<Vec<f64>>,
    /// Activations at the base point z0 of [`Decoder::set_base`].
    pub(super) base: Vec<Vec<f64>>,
    /// Differences u_l(z) − u_l(z0) of [`Decoder::eval_offset`].
    pub(super) dacts: Vec<Vec<f64>>,
    /// Per step, the cache of its input activation (valid with `has_jacobian`), and of the base's.
    pub(super) aux: Vec<Vec<f64>>,
    pub(super) base_aux: Vec<Vec<f64>>,
    /// Partial Jacobians P_l = J_l ⋯ J_1.
    pub(super) partial: Vec<DMatrix<f64>>,
    /// Cotangents r_l of the second-derivative contraction.
    pub(super) cot: Vec<Vec<f64>>,
    pub(super) scratch: Vec<f64>,
    pub(super) has_jacobian: bool,
}

impl Workspace {
    /// f(z) after [`Decoder::eval`].
    pub fn output(&self) -> &[f64] {
        self.acts
            .last()
            .expect("a workspace has at least one activation")
    }

    /// f(z) − f(z0) after [`Decoder::eval_offset`], computed without cancellation.
    pub fn output_diff(&self) -> &[f64] {
        self.dacts
            .last()
            .expect("a workspace has at least one activation")
    }

    /// f(z0) after [`Decoder::set_base`].
    pub fn base_output(&self) -> &[f64] {
        self.base
            .last()
            .expect("a workspace has at least one activation")
    }

    /// The base point z0 of [`Decoder::set_base`].
    pub fn base_input(&self) -> &[f64] {
        &self.base[0]
    }

    /// The input z of the last evaluation (or the result of the last inverse).
    pub fn input(&self) -> &[f64] {
        &self.acts[0]
    }

    /// J_f(z) (D × d) after [`Decoder::eval`] with `jacobian = true`.
    pub fn jacobian(&self) -> &DMatrix<f64> {
        debug_assert!(self.has_jacobian, "eval was called without jacobian");
        self.partial
            .last()
            .expect("a workspace has at least one matrix")
    }
}
