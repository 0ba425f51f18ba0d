//! The self-consistent encoder of Prop. 1 and Thm. 1: μ = g(x) and σ_k² from eq. 12,
//!
//! σ_k² = 1/P_k,  P_k = −(log m)''(z_k) + γ² ‖J_f(z)[:, k]‖²,  z = g(x)  (eq. 12, RHS).
//!
//! P_k is the k-th diagonal entry of the leading-order posterior precision γ² JᵀJ − ∇² log p0 at z.
//! It is the one definition of the eq. 12 width in the crate: the optimal encoder starts from it,
//! the posterior mode scales its Newton steps by it, and the paper layer states it.
//!
//! Its terms do not depend on γ, so a sweep over γ² builds [`Eq12Terms`] once per point.
//! Accuracy: −(log m)'' and ‖J_:k‖² are closed forms to a few ulps; P_k then to a few ulps.

use crate::error::OracleError;
use crate::input::{Encoder, Gamma2};
use crate::model::Model;
use nalgebra::DVector;

/// The γ-independent terms of eq. 12 at a latent point z: −(log m)''(z_k) and ‖J_f(z)[:, k]‖².
#[derive(Debug, Clone, PartialEq)]
pub struct Eq12Terms {
    /// The point z (g(x) for [`Eq12Terms::at_observation`]).
    pub z: DVector<f64>,
    /// −(log m)''(z_k) ≥ 0.
    pub neg_d2: DVector<f64>,
    /// ‖J_f(z)[:, k]‖².
    pub colnorm2: DVector<f64>,
}

impl Eq12Terms {
    /// The terms at the latent point z. Errors if the decoder fails at z.
    pub fn at(model: &Model, z: DVector<f64>) -> Result<Self, OracleError> {
        let j = model.decoder().jacobian(&z)?;
        Ok(Eq12Terms {
            neg_d2: z.map(|t| -model.prior().d2(t)),
            colnorm2: DVector::from_fn(z.len(), |k, _| j.column(k).norm_squared()),
            z,
        })
    }

    /// The terms at z = g(x). Errors if x cannot be inverted or the decoder fails at g(x).
    pub fn at_observation(model: &Model, x: &DVector<f64>) -> Result<Self, OracleError> {
        Eq12Terms::at(model, model.decoder().inverse(x)?)
    }

    /// P_k = −(log m)''(z_k) + γ² ‖J_:k‖², the precision of eq. 12.
    #[inline]
    pub fn precision(&self, k: usize, gamma2: Gamma2) -> f64 {
        self.neg_d2[k] + gamma2.get() * self.colnorm2[k]
    }

    /// σ_k² = 1/P_k, k = 1 … d: the RHS of eq. 12.
    pub fn sigma2(&self, gamma2: Gamma2) -> DVector<f64> {
        DVector::from_fn(self.z.len(), |k, _| 1.0 / self.precision(k, gamma2))
    }

    /// The self-consistent encoder μ = z (= g(x)), log σ_k² = log of the RHS of eq. 12. Errors if
    /// σ² leaves the range an [`Encoder`] accepts.
    pub fn encoder(&self, gamma2: Gamma2) -> Result<Encoder, OracleError> {
        let logvar = self.sigma2(gamma2).map(f64::ln);
        Encoder::new(self.z.as_slice(), logvar.as_slice())
    }

    /// σ_k = 1/√P_k: the natural length scale of coordinate k of the posterior.
    pub fn sigma(&self, gamma2: Gamma2) -> DVector<f64> {
        DVector::from_fn(self.z.len(), |k, _| 1.0 / self.precision(k, gamma2).sqrt())
    }
}
