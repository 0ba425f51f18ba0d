//! Everything the oracle knows at one observation x and precision γ², in one call — what
//! `ima-oracle eval` writes, and what a backend's `cargo test` compares against.
//!
//! Each quantity is answered on its own: the flow quantities ([`FlowQuantities`]: g, J,
//! log|det J|, c_IMA, the flow log-likelihood, L_IMA) and the RHS of eq. 12 whenever g(x) exists;
//! the optimal encoder (μ̂, σ̂², ELBO*) and log pθ(x) each as a `Result`, so that a refusal of one
//! (a Möbius pole within reach, a quadrature that cannot meet its tolerance) names the quantity it
//! concerns and withholds nothing else. Where the ELBO is −∞ for every encoder (a Möbius step in
//! d ≤ 2, [`OracleError::MinusInfinity`]), ELBO* = −∞ exactly and μ̂, σ̂² are undefined:
//! [`Evaluation::elbo_star`] returns −∞.

use crate::error::OracleError;
use crate::flow_quantities::{flow_quantities, FlowQuantities};
use crate::inference::{
    log_marginal, optimal_encoder, Eq12Terms, MarginalEstimate, OptimalEncoder,
};
use crate::input::Query;
use crate::quadrature::QuadratureOptions;
use nalgebra::DVector;

/// The oracle's quantities at one (x, γ²), each answered on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// g, J, log|det J|, c_IMA and the flow log-likelihood at x (no γ², exact).
    pub flow: FlowQuantities,
    /// The right-hand side of eq. 12 at this γ².
    pub eq12_rhs: DVector<f64>,
    /// The optimal encoder μ̂, σ̂² and ELBO* (eq. 7–8), with its error estimate and the evidence of
    /// optimality; or why not ([`OracleError::MinusInfinity`] where ELBO* = −∞ exactly).
    pub optimal: Result<OptimalEncoder, OracleError>,
    /// log pθ(x) at this γ², with its error estimate and the route that computed it; or why not.
    pub log_marginal: Result<MarginalEstimate, OracleError>,
}

impl Evaluation {
    /// L_IMA = log p_flow − c_IMA, the γ → ∞ limit of ELBO* (Thm. 1).
    pub fn l_ima(&self) -> f64 {
        self.flow.l_ima()
    }

    /// ELBO*: the value at the optimum, or −∞ where the ELBO is −∞ for every encoder (exact);
    /// the refusal otherwise.
    pub fn elbo_star(&self) -> Result<f64, &OracleError> {
        match &self.optimal {
            Ok(o) => Ok(o.elbo),
            Err(OracleError::MinusInfinity { .. }) => Ok(f64::NEG_INFINITY),
            Err(e) => Err(e),
        }
    }

    /// ELBO* − (log pθ(x) − c_IMA): the gap of eq. 13, O(1/γ²) by Thm. 1 (−∞ where ELBO* is).
    pub fn eq13_gap(&self) -> Result<f64, &OracleError> {
        let marginal = self.log_marginal.as_ref()?;
        Ok(self.elbo_star()? - (marginal.value - self.flow.c_ima))
    }
}

/// Evaluates every quantity at the query (square invertible decoders). Errors only when g(x)
/// itself does not exist (then nothing else is computable); the optimal encoder and the marginal
/// carry their own results.
///
/// ```
/// use ima_oracle::{evaluate, generate, Model, Prior, Query};
/// let f = generate::mlp_orthogonal(2, 2, 0.2, &mut generate::rng(1)).unwrap();
/// let model = Model::new(Prior::standard_normal(), f).unwrap();
/// let e = evaluate(&Query::new(&model, &[0.3, -0.2], 1e6).unwrap(), &Default::default()).unwrap();
/// // Thm. 1: ELBO* = log p − c_IMA + O(1/γ²).
/// assert!(e.eq13_gap().unwrap().abs() < 1e-4);
/// ```
pub fn evaluate(query: &Query, opts: &QuadratureOptions) -> Result<Evaluation, OracleError> {
    let model = query.model();
    let flow = flow_quantities(model, query.x().as_slice())?;
    Ok(Evaluation {
        eq12_rhs: Eq12Terms::at(model, flow.g.clone())?.sigma2(query.precision()),
        optimal: optimal_encoder(query, opts),
        log_marginal: log_marginal(query, opts),
        flow,
    })
}
