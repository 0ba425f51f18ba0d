//! The x-space route of the marginal likelihood (see the module docs of [`super`]):
//! log pθ(x) = log E_{ξ~N(0, I_D)}[p_flow(x + ξ/γ)], p_flow(y) = p0(g(y))/|det J_f(g(y))| (eq. 4).

use crate::error::OracleError;
use crate::input::Query;
use crate::model::{shifted_log_flow, Workspace};
use crate::quadrature::{log_sum_exp, TensorRule};

/// The route at one (x, γ²), with its buffers.
pub(super) struct XSpace<'a> {
    query: &'a Query<'a>,
    gamma: f64,
    max_total: usize,
    /// The largest rule this route may use (its nodes cost an inverse each).
    max_n: usize,
    ws: Workspace,
    y: Vec<f64>,
    terms: Vec<f64>,
}

impl<'a> XSpace<'a> {
    /// Guards the singularities of g under N(x, γ⁻² I) (an error when one is within reach), and
    /// refuses a decoder whose image is bounded ([`OracleError::BoundedImage`]).
    pub(super) fn new(
        query: &'a Query<'a>,
        max_total: usize,
        max_n: usize,
    ) -> Result<Self, OracleError> {
        let model = query.model();
        model.decoder().require_square()?;
        if let Some(step) = model.first_bounded_step() {
            return Err(OracleError::BoundedImage { step });
        }
        model.guard_x_poles(query.x(), query.gamma2())?;
        Ok(XSpace {
            query,
            gamma: query.gamma2().sqrt(),
            max_total,
            max_n,
            ws: model.decoder().workspace(),
            y: vec![0.0; model.dim_observed()],
            terms: Vec::new(),
        })
    }

    /// log E_ξ[p_flow(x + ξ/γ)] on the n-node tensor rule; `None` past the route's budget.
    pub(super) fn log_mean(&mut self, n: usize) -> Result<Option<f64>, OracleError> {
        if n > self.max_n {
            return Ok(None);
        }
        let Some(rule) = TensorRule::within_budget(n, self.y.len(), self.max_total)? else {
            return Ok(None);
        };
        let (dec, prior) = (self.query.model().decoder(), self.query.model().prior());
        self.terms.clear();
        for j in 0..rule.len() {
            for ((o, xi), u) in self.y.iter_mut().zip(self.query.x()).zip(rule.node(j)) {
                *o = xi + u / self.gamma;
            }
            dec.inverse_unchecked(&self.y, &mut self.ws)?;
            let log_w = rule.weight(j).ln();
            self.terms
                .push(shifted_log_flow(dec, prior, &self.ws, log_w));
        }
        Ok(Some(log_sum_exp(&self.terms)))
    }
}
