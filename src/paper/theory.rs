//! What Thm. 1 predicts, as functions: the right-hand sides of eq. 12 and eq. 13.
//!
//! | function | formula | paper |
//! | --- | --- | --- |
//! | [`eq12_sigma2`] | σ_k² ≈ (−(log m)''(g_k(x)) + γ² ‖J_f(g(x))[:, k]‖²)⁻¹ | eq. 12 (RHS) |
//! | [`ima_regularised_flow`] | log p0(g(x)) − log\|det J_f(g(x))\| − c_IMA(f, g(x)) | eq. 13 RHS with eq. 4 (γ → ∞) |
//! | [`eq13_rhs`] | log pθ(x) − c_IMA(f, g(x)) at finite γ | eq. 13 RHS |
//!
//! The eq. 12 width is defined once, in [`crate::inference::Eq12Terms`] (the solvers start from
//! it); this is its statement. Accuracy: eq. 12 to a few ulps (closed forms); the flow terms as
//! [`crate::paper::ima`]; eq. 13 as the marginal likelihood (its error estimate is returned).

use super::ima;
use crate::error::OracleError;
use crate::inference::{log_marginal, Eq12Terms};
use crate::input::Query;
use crate::quadrature::QuadratureOptions;
use nalgebra::DVector;

/// RHS of eq. 12: σ_k² = 1/(−(log m)''(g_k(x)) + γ² ‖J_f(g(x))[:, k]‖²), k = 1 … d.
pub fn eq12_sigma2(query: &Query) -> Result<DVector<f64>, OracleError> {
    Ok(Eq12Terms::at_observation(query.model(), query.x())?.sigma2(query.precision()))
}

/// The IMA-regularised flow log-likelihood log p_flow(x) − c_IMA(f, g(x)) = L_IMA with λ = 1: the
/// γ → ∞ limit of ELBO* predicted by Thm. 1 (eq. 13 with eq. 4), at the query's x (its γ² is not
/// used). Errors if x cannot be inverted.
pub fn ima_regularised_flow(query: &Query) -> Result<f64, OracleError> {
    let model = query.model();
    Ok(ima::l_ima(model.decoder(), model.prior(), query.x(), 1.0)?)
}

/// The RHS of eq. 13 at finite γ, with the error estimate of the log pθ(x) it contains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eq13Rhs {
    /// log pθ(x) − c_IMA(f, g(x)).
    pub value: f64,
    /// The error estimate of log pθ(x).
    pub error_estimate: f64,
}

/// RHS of eq. 13 at finite γ: log pθ(x) − c_IMA(f, g(x)). Errors as
/// [`crate::inference::log_marginal`], or if x cannot be inverted.
pub fn eq13_rhs(query: &Query, opts: &QuadratureOptions) -> Result<Eq13Rhs, OracleError> {
    let m = log_marginal(query, opts)?;
    let dec = query.model().decoder();
    let g = dec.inverse(query.x())?;
    Ok(Eq13Rhs {
        value: m.value - ima::c_ima(dec, &g)?,
        error_estimate: m.error_estimate,
    })
}
