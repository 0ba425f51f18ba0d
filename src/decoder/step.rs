//! One step of a decoder chain, and the operations every step provides.

use super::{Affine, DecoderError, LeakySoftplus, Moebius};
use nalgebra::DMatrix;

/// A step of a decoder: affine, elementwise leaky softplus, or Möbius. Each provides its forward map,
/// the action of its Jacobian, its vector–Jacobian product, the sandwich Pᵀ(Σ_i r_i ∇²f_i)P that the
/// Hessian of ‖x − f(z)‖² needs, log|det J| where square, and its inverse where one exists.
#[derive(Debug, Clone)]
pub enum Step {
    /// W z + b.
    Affine(Affine),
    /// Elementwise α t + (1 − α) log(1 + eᵗ).
    LeakySoftplus(LeakySoftplus),
    /// b + α A (z − a)/‖z − a‖².
    Moebius(Moebius),
}

impl Step {
    /// Input dimension.
    pub fn dim_in(&self) -> usize {
        match self {
            Step::Affine(s) => s.dim_in(),
            Step::LeakySoftplus(s) => s.dim(),
            Step::Moebius(s) => s.dim(),
        }
    }

    /// Output dimension.
    pub fn dim_out(&self) -> usize {
        match self {
            Step::Affine(s) => s.dim_out(),
            Step::LeakySoftplus(s) => s.dim(),
            Step::Moebius(s) => s.dim(),
        }
    }

    /// A short name: "affine", "leaky_softplus" or "moebius".
    pub fn name(&self) -> &'static str {
        match self {
            Step::Affine(_) => "affine",
            Step::LeakySoftplus(_) => "leaky_softplus",
            Step::Moebius(_) => "moebius",
        }
    }

    /// out = f(z).
    #[inline]
    pub(crate) fn forward(&self, z: &[f64], out: &mut [f64]) {
        match self {
            Step::Affine(s) => s.forward(z, out),
            Step::LeakySoftplus(s) => s.forward(z, out),
            Step::Moebius(s) => s.forward(z, out),
        }
    }

    /// The length of the per-activation cache this step keeps (σ(±u) for leaky softplus, else 0).
    pub(crate) fn aux_len(&self) -> usize {
        match self {
            Step::LeakySoftplus(s) => 2 * s.dim(),
            _ => 0,
        }
    }

    /// Fills the cache of input u (see [`Step::aux_len`]).
    #[inline]
    pub(crate) fn fill_aux(&self, u: &[f64], aux: &mut [f64]) {
        if let Step::LeakySoftplus(s) = self {
            s.fill_aux(u, aux);
        }
    }

    /// out = f(u0 + du) − f(u0), computed without cancellation, from the cache `base_aux` of u0;
    /// fills `aux`, the cache of u0 + du.
    #[inline]
    pub(crate) fn forward_diff(
        &self,
        u0: &[f64],
        base_aux: &[f64],
        du: &[f64],
        out: &mut [f64],
        aux: &mut [f64],
    ) {
        match self {
            Step::Affine(s) => s.forward_diff(du, out),
            Step::LeakySoftplus(s) => s.forward_diff(u0, base_aux, du, out, aux),
            Step::Moebius(s) => s.forward_diff(u0, du, out),
        }
    }

    /// out = J(z) m, with `aux` the cache of z.
    #[inline]
    pub(crate) fn jacobian_mul(
        &self,
        z: &[f64],
        aux: &[f64],
        m: &DMatrix<f64>,
        out: &mut DMatrix<f64>,
    ) {
        match self {
            Step::Affine(s) => s.jacobian_mul(m, out),
            Step::LeakySoftplus(s) => s.jacobian_mul(aux, m, out),
            Step::Moebius(s) => s.jacobian_mul(z, m, out),
        }
    }

    /// out = J(z)ᵀ r, with `aux` the cache of z.
    #[inline]
    pub(crate) fn vjp(&self, z: &[f64], aux: &[f64], r: &[f64], out: &mut [f64]) {
        match self {
            Step::Affine(s) => s.vjp(r, out),
            Step::LeakySoftplus(s) => s.vjp(aux, r, out),
            Step::Moebius(s) => s.vjp(z, r, out),
        }
    }

    /// h += Pᵀ (Σ_i r_i ∇²f_i(z)) P, with `aux` the cache of z; `scratch` holds at least
    /// 2·dim_in + 2·p.ncols() entries.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn add_hessian_sandwich(
        &self,
        z: &[f64],
        aux: &[f64],
        r: &[f64],
        p: &DMatrix<f64>,
        h: &mut DMatrix<f64>,
        scratch: &mut [f64],
    ) {
        match self {
            Step::Affine(_) => {}
            Step::LeakySoftplus(s) => s.add_hessian_sandwich(aux, r, p, h),
            Step::Moebius(s) => s.add_hessian_sandwich(z, r, p, h, scratch),
        }
    }

    /// log|det J(z)|; only meaningful for square steps (the chain checks).
    #[inline]
    pub(crate) fn log_abs_det(&self, z: &[f64]) -> f64 {
        match self {
            Step::Affine(s) => s.log_abs_det(),
            Step::LeakySoftplus(s) => s.log_abs_det(z),
            Step::Moebius(s) => s.log_abs_det(z),
        }
    }

    /// out = f⁻¹(x).
    pub(crate) fn inverse(&self, x: &[f64], out: &mut [f64]) -> Result<(), DecoderError> {
        match self {
            Step::Affine(s) => s.inverse(x, out),
            Step::LeakySoftplus(s) => s.inverse(x, out),
            Step::Moebius(s) => s.inverse(x, out),
        }
    }
}

impl From<Affine> for Step {
    fn from(s: Affine) -> Self {
        Step::Affine(s)
    }
}
impl From<LeakySoftplus> for Step {
    fn from(s: LeakySoftplus) -> Self {
        Step::LeakySoftplus(s)
    }
}
impl From<Moebius> for Step {
    fn from(s: Moebius) -> Self {
        Step::Moebius(s)
    }
}
