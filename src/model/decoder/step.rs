//! One step of a decoder chain: the contract every step implements ([`StepOps`]), and the closed
//! set of steps ([`Step`]) that dispatches to it.

use super::{Affine, DecoderError, LeakyRelu, LeakySoftplus, Moebius, Sigmoid, Tanh};
use nalgebra::DMatrix;

/// What a decoder step provides to the chain (see the module docs of [`crate::model::decoder`] for
/// the choice of a trait for the contract and an enum for the set). Slices are the step's input
/// activation `z` (length `dim_in`), its output `out` (length `dim_out`) and the step's cache `aux`
/// of `z` (length `aux_len`, filled by `fill_aux` or `forward_diff`).
pub(crate) trait StepOps {
    /// Input dimension.
    fn dim_in(&self) -> usize;
    /// Output dimension.
    fn dim_out(&self) -> usize;
    /// A short name, as in model files: "affine", "leaky_softplus", "moebius", "sigmoid", "tanh",
    /// "leaky_relu".
    fn name(&self) -> &'static str;
    /// out = s(z).
    fn forward(&self, z: &[f64], out: &mut [f64]);
    /// The length of the per-activation cache the step keeps (0: none).
    fn aux_len(&self) -> usize {
        0
    }
    /// Fills the cache of input `u`.
    fn fill_aux(&self, _u: &[f64], _aux: &mut [f64]) {}
    /// out = s(u0 + du) − s(u0), computed without cancellation, from the cache `base_aux` of u0;
    /// fills `aux`, the cache of u0 + du.
    fn forward_diff(
        &self,
        u0: &[f64],
        base_aux: &[f64],
        du: &[f64],
        out: &mut [f64],
        aux: &mut [f64],
    );
    /// out = J(z) m.
    fn jacobian_mul(&self, z: &[f64], aux: &[f64], m: &DMatrix<f64>, out: &mut DMatrix<f64>);
    /// out = J(z)ᵀ r.
    fn vjp(&self, z: &[f64], aux: &[f64], r: &[f64], out: &mut [f64]);
    /// h += Pᵀ (Σ_i r_i ∇²s_i(z)) P; `scratch` holds at least 2·dim_in + 2·p.ncols() entries.
    /// The default adds nothing: the step is affine.
    #[allow(clippy::too_many_arguments)]
    fn add_hessian_sandwich(
        &self,
        _z: &[f64],
        _aux: &[f64],
        _r: &[f64],
        _p: &DMatrix<f64>,
        _h: &mut DMatrix<f64>,
        _scratch: &mut [f64],
    ) {
    }
    /// h += Pᵀ (Σ_i r_i ∇³s_i(z)[w, ·, ·]) P: the third derivative contracted with the cotangent
    /// `r` (length dim_out) and the direction `w` (length dim_in), sandwiched by P (dim_in × m).
    /// The chain's third-derivative contraction ([`crate::model::Decoder::third_contraction`])
    /// is built from it. The default reports that the step does not provide third derivatives (a
    /// typed error, never a silent zero): affine steps override it with "add nothing".
    ///
    /// An elementwise step t ↦ a(t) adds Pᵀ diag(r_i a'''(z_i) w_i) P. Its a''': leaky softplus
    /// (1 − α)σ(1 − σ)(1 − 2σ); sigmoid σ'(1 − 6σ + 6σ²) with σ' = σ(1 − σ); tanh
    /// −2(1 − t²)(1 − 3t²) with t = tanh z; leaky ReLU 0 away from the kink (undefined at it).
    #[allow(clippy::too_many_arguments)]
    fn add_third_sandwich(
        &self,
        _z: &[f64],
        _aux: &[f64],
        _r: &[f64],
        _w: &[f64],
        _p: &DMatrix<f64>,
        _h: &mut DMatrix<f64>,
    ) -> Result<(), DecoderError> {
        Err(DecoderError::InvalidParameter {
            step: None,
            message: format!("{}: third derivatives not provided", self.name()),
        })
    }
    /// log|det J(z)|; only meaningful for square steps (the chain checks).
    fn log_abs_det(&self, z: &[f64]) -> f64;
    /// out = s⁻¹(x).
    fn inverse(&self, x: &[f64], out: &mut [f64]) -> Result<(), DecoderError>;
}

/// h += Pᵀ diag(c_0 … c_{n−1}) P for an elementwise step on R^n, P of shape n × d: the second- and
/// third-derivative sandwiches of every elementwise step, `coeff(i)` giving c_i (rows with c_i = 0
/// are skipped). Each entry of h adds its terms in the order i = 0, 1, ….
#[inline]
pub(crate) fn add_diagonal_sandwich(
    p: &DMatrix<f64>,
    h: &mut DMatrix<f64>,
    coeff: impl Fn(usize) -> f64,
) {
    let (n, d) = (p.nrows(), p.ncols());
    let ps = p.as_slice();
    let hs = h.as_mut_slice();
    for i in 0..n {
        let c = coeff(i);
        if c == 0.0 {
            continue;
        }
        for (k, h_k) in hs.chunks_exact_mut(d).enumerate() {
            let pk = c * ps[k * n + i];
            for (l, h_kl) in h_k.iter_mut().enumerate() {
                *h_kl += pk * ps[l * n + i];
            }
        }
    }
}

/// A step of a decoder: affine, elementwise leaky softplus, Möbius, or one of the elementwise
/// sigmoid, tanh and leaky ReLU.
#[derive(Debug, Clone)]
pub enum Step {
    /// W z + b.
    Affine(Affine),
    /// Elementwise α t + (1 − α) log(1 + eᵗ).
    LeakySoftplus(LeakySoftplus),
    /// b + α A (z − a)/‖z − a‖².
    Moebius(Moebius),
    /// Elementwise 1/(1 + e^{−t}).
    Sigmoid(Sigmoid),
    /// Elementwise tanh t.
    Tanh(Tanh),
    /// Elementwise max(t, k t): piecewise linear, not smooth at t = 0 ([`Step::is_smooth`]).
    LeakyRelu(LeakyRelu),
}

/// `dispatch!(step, s => expr)`: `expr` with `s` bound to the step inside whichever variant it is.
/// Adding a step adds one line here.
macro_rules! dispatch {
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

/// The public face of the (crate-internal) contract.
impl Step {
    /// Input dimension.
    pub fn dim_in(&self) -> usize {
        StepOps::dim_in(self)
    }

    /// Output dimension.
    pub fn dim_out(&self) -> usize {
        StepOps::dim_out(self)
    }

    /// A short name: "affine", "leaky_softplus", "moebius", "sigmoid", "tanh" or "leaky_relu".
    pub fn name(&self) -> &'static str {
        StepOps::name(self)
    }

    /// Whether the step is C^∞ (every step but the piecewise-linear leaky ReLU). The Gaussian
    /// quadratures' error estimates assume a smooth decoder, so they refuse a chain with a
    /// non-smooth step (`OracleError::NotSmooth`).
    pub fn is_smooth(&self) -> bool {
        !matches!(self, Step::LeakyRelu(_))
    }

    /// Whether the step's image is bounded (a sigmoid onto (0, 1), a tanh onto (−1, 1)): then no
    /// chain through it maps onto the whole observation space, and the flow density p_flow (eq. 4)
    /// jumps to 0 at the image's boundary. The x-space marginal (a Gauss–Hermite mean of p_flow
    /// around x) assumes p_flow smooth on all of R^D, so it refuses such a chain
    /// (`OracleError::BoundedImage`).
    pub fn bounds_image(&self) -> bool {
        self.image_interval().is_some()
    }

    /// The open interval (lo, hi) onto which an elementwise step with a bounded image maps each
    /// coordinate ((0, 1) for a sigmoid, (−1, 1) for a tanh); `None` for the other steps.
    pub fn image_interval(&self) -> Option<(f64, f64)> {
        match self {
            Step::Sigmoid(_) => Some((0.0, 1.0)),
            Step::Tanh(_) => Some((-1.0, 1.0)),
            _ => None,
        }
    }
}

/// The enum is itself a step: every operation dispatches statically (a `match` the compiler
/// inlines into the chain's loops; no virtual call).
impl StepOps for Step {
    fn dim_in(&self) -> usize {
        dispatch!(self, s => s.dim_in())
    }
    fn dim_out(&self) -> usize {
        dispatch!(self, s => s.dim_out())
    }
    fn name(&self) -> &'static str {
        dispatch!(self, s => s.name())
    }
    #[inline]
    fn forward(&self, z: &[f64], out: &mut [f64]) {
        dispatch!(self, s => s.forward(z, out))
    }
    #[inline]
    fn aux_len(&self) -> usize {
        dispatch!(self, s => s.aux_len())
    }
    #[inline]
    fn fill_aux(&self, u: &[f64], aux: &mut [f64]) {
        dispatch!(self, s => s.fill_aux(u, aux))
    }
    #[inline]
    fn forward_diff(
        &self,
        u0: &[f64],
        base_aux: &[f64],
        du: &[f64],
        out: &mut [f64],
        aux: &mut [f64],
    ) {
        dispatch!(self, s => s.forward_diff(u0, base_aux, du, out, aux))
    }
    #[inline]
    fn jacobian_mul(&self, z: &[f64], aux: &[f64], m: &DMatrix<f64>, out: &mut DMatrix<f64>) {
        dispatch!(self, s => s.jacobian_mul(z, aux, m, out))
    }
    #[inline]
    fn vjp(&self, z: &[f64], aux: &[f64], r: &[f64], out: &mut [f64]) {
        dispatch!(self, s => s.vjp(z, aux, r, out))
    }
    #[inline]
    fn add_hessian_sandwich(
        &self,
        z: &[f64],
        aux: &[f64],
        r: &[f64],
        p: &DMatrix<f64>,
        h: &mut DMatrix<f64>,
        scratch: &mut [f64],
    ) {
        dispatch!(self, s => s.add_hessian_sandwich(z, aux, r, p, h, scratch))
    }
    fn add_third_sandwich(
        &self,
        z: &[f64],
        aux: &[f64],
        r: &[f64],
        w: &[f64],
        p: &DMatrix<f64>,
        h: &mut DMatrix<f64>,
    ) -> Result<(), DecoderError> {
        dispatch!(self, s => s.add_third_sandwich(z, aux, r, w, p, h))
    }
    #[inline]
    fn log_abs_det(&self, z: &[f64]) -> f64 {
        dispatch!(self, s => s.log_abs_det(z))
    }
    fn inverse(&self, x: &[f64], out: &mut [f64]) -> Result<(), DecoderError> {
        dispatch!(self, s => s.inverse(x, out))
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
impl From<Sigmoid> for Step {
    fn from(s: Sigmoid) -> Self {
        Step::Sigmoid(s)
    }
}
impl From<Tanh> for Step {
    fn from(s: Tanh) -> Self {
        Step::Tanh(s)
    }
}
impl From<LeakyRelu> for Step {
    fn from(s: LeakyRelu) -> Self {
        Step::LeakyRelu(s)
    }
}
