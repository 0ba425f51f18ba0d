//! Everything the oracle knows at one observation x and precision γ², in one call — what
//! `ima-oracle eval` writes, and what a backend's `cargo test` compares against.

use crate::error::OracleError;
use crate::inference::{
    log_marginal, optimal_encoder, Eq12Terms, MarginalEstimate, OptimalEncoder,
};
use crate::input::Query;
use crate::paper::ima;
use crate::quadrature::QuadratureOptions;
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
    /// log pθ(x) at this γ², with its error estimate and the route that computed it.
    pub log_marginal: MarginalEstimate,
    /// The optimal encoder μ̂, σ̂² and ELBO* (eq. 7–8), with its error estimate and the evidence of
    /// optimality.
    pub optimal: OptimalEncoder,
    /// The right-hand side of eq. 12.
    pub eq12_rhs: DVector<f64>,
}

impl Evaluation {
    /// L_IMA = log p_flow − c_IMA, the γ → ∞ limit of ELBO* (Thm. 1).
    pub fn l_ima(&self) -> f64 {
        self.log_flow - self.c_ima
    }

    /// ELBO* − (log pθ(x) − c_IMA): the gap of eq. 13, O(1/γ²) by Thm. 1.
    pub fn eq13_gap(&self) -> f64 {
        self.optimal.elbo - (self.log_marginal.value - self.c_ima)
    }
}

/// Evaluates every quantity at the query (square invertible decoders): one error if any of them
/// fails.
///
/// ```
/// use ima_oracle::{evaluate, generate, Model, Prior, Query};
/// let f = generate::mlp_orthogonal(2, 2, 0.2, &mut generate::rng(1)).unwrap();
/// let model = Model::new(Prior::standard_normal(), f).unwrap();
/// let e = evaluate(&Query::new(&model, &[0.3, -0.2], 1e6).unwrap(), &Default::default()).unwrap();
/// // Thm. 1: ELBO* = log p − c_IMA + O(1/γ²).
/// assert!(e.eq13_gap().abs() < 1e-4);
/// ```
pub fn evaluate(query: &Query, opts: &QuadratureOptions) -> Result<Evaluation, OracleError> {
    let model = query.model();
    let dec = model.decoder();
    let g = dec.inverse(query.x())?;
    let optimal = optimal_encoder(query, opts)?;
    let log_marginal = log_marginal(query, opts)?;
    Ok(Evaluation {
        jacobian: dec.jacobian(&g)?,
        log_abs_det: dec.log_abs_det_jacobian(&g)?,
        c_ima: ima::c_ima(dec, &g)?,
        log_flow: ima::log_flow_likelihood(dec, model.prior(), query.x())?,
        log_marginal,
        optimal,
        eq12_rhs: Eq12Terms::at(model, g.clone())?.sigma2(query.precision()),
        g,
    })
}
