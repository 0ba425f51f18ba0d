//! Everything the oracle knows at one observation x and precision γ², in one call — what
//! `ima-oracle eval` writes, and what a backend's `cargo test` compares against.

use crate::elbo::QuadratureOptions;
use crate::error::{check_vec, OracleError};
use crate::ima;
use crate::marginal::log_marginal;
use crate::model::Model;
use crate::optimal::optimal_encoder;
use crate::theory::eq12_sigma2;
use nalgebra::{DMatrix, DVector};

/// The oracle's quantities at one (x, γ²).
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// g(x) = f⁻¹(x).
    pub g: DVector<f64>,
    /// J_f(g(x)), D × d.
    pub jacobian: DMatrix<f64>,
    /// log|det J_f(g(x))|.
    pub log_abs_det: f64,
    /// c_IMA(f, g(x)) (eq. 6).
    pub c_ima: f64,
    /// log p0(g(x)) − log|det J_f(g(x))| (eq. 4).
    pub log_flow: f64,
    /// log pθ(x) at this γ², and its error estimate.
    pub log_marginal: (f64, f64),
    /// The optimal encoder mean μ̂ (eq. 7).
    pub mu: DVector<f64>,
    /// The optimal encoder variances σ̂².
    pub sigma2: DVector<f64>,
    /// ELBO* (eq. 8) and its error estimate.
    pub elbo_star: (f64, f64),
    /// The right-hand side of eq. 12.
    pub eq12_rhs: DVector<f64>,
}

impl Evaluation {
    /// L_IMA = log p_flow − c_IMA, the γ → ∞ limit of ELBO* (Thm. 1).
    pub fn l_ima(&self) -> f64 {
        self.log_flow - self.c_ima
    }
}

/// Evaluates every quantity at x (square invertible decoders): one error if any of them fails.
///
/// ```
/// use ima_oracle::{evaluate, generate, Model, Prior};
/// let f = generate::mlp_orthogonal(2, 2, 0.2, &mut generate::rng(1)).unwrap();
/// let model = Model::new(Prior::standard_normal(), f).unwrap();
/// let e = evaluate(&model, &[0.3, -0.2], 1e6, &Default::default()).unwrap();
/// // Thm. 1: ELBO* = log p − c_IMA + O(1/γ²).
/// assert!((e.elbo_star.0 - (e.log_marginal.0 - e.c_ima)).abs() < 1e-4);
/// ```
pub fn evaluate(
    model: &Model,
    x: &[f64],
    gamma2: f64,
    opts: &QuadratureOptions,
) -> Result<Evaluation, OracleError> {
    check_vec("x", x, model.dim_observed())?;
    let dec = model.decoder();
    let xv = DVector::from_column_slice(x);
    let g = dec.inverse(&xv)?;
    let opt = optimal_encoder(model, x, gamma2, opts)?;
    let m = log_marginal(model, x, gamma2, opts)?;
    Ok(Evaluation {
        jacobian: dec.jacobian(&g)?,
        log_abs_det: dec.log_abs_det_jacobian(&g)?,
        c_ima: ima::c_ima(dec, &g)?,
        log_flow: ima::log_flow_likelihood(dec, model.prior(), &xv)?,
        log_marginal: (m.value, m.error_estimate),
        mu: opt.mu,
        sigma2: opt.sigma2,
        elbo_star: (opt.elbo, opt.error_estimate),
        eq12_rhs: eq12_sigma2(model, x, gamma2)?,
        g,
    })
}
