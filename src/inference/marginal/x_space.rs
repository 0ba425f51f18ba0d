//! The x-space route of the marginal likelihood (see the module docs of [`super`]):
//! log pθ(x) = log E_{ξ~N(0, I_D)}[p_flow(x + ξ/γ)], p_flow(y) = p0(g(y))/|det J_f(g(y))| (eq. 4).

use crate::error::OracleError;
use crate::input::Query;
use crate::lanes::{Block, LANES};
use crate::model::{shifted_log_flow, BlockWorkspace, Workspace};
use crate::quadrature::{log_sum_exp, TensorRule};

/// The route at one (x, γ²), with its buffers.
pub(super) struct XSpace<'a> {
    query: &'a Query<'a>,
    gamma: f64,
    max_total: usize,
    /// The largest rule this route may use (its nodes cost an inverse each).
    max_n: usize,
    ws: Workspace,
    bws: BlockWorkspace,
    /// A block of nodes y = x + ξ/γ, one per lane.
    yb: Block,
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
            bws: model.decoder().block_workspace(),
            yb: Block::zeros(model.dim_observed()),
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
        // LANES nodes at a time through the decoder's block inverse, log|det J| and the prior's
        // block log-density: each term bit for bit `shifted_log_flow` at that node. A block with a
        // failing lane is redone node by node, so that the error is the first failing node's.
        let count = rule.len();
        for j0 in (0..count).step_by(LANES) {
            let valid = LANES.min(count - j0);
            // Lanes past the last node repeat it; they are computed, not summed.
            for (i, (yi, xi)) in self
                .yb
                .coords_mut()
                .iter_mut()
                .zip(self.query.x())
                .enumerate()
            {
                for (l, yl) in yi.iter_mut().enumerate() {
                    *yl = xi + rule.node((j0 + l).min(count - 1))[i] / self.gamma;
                }
            }
            if dec.inverse_block(&self.yb, &mut self.bws).is_ok() {
                let log_det = dec.log_abs_det_block(&mut self.bws)?;
                let log_p0 = prior.log_density_sum_block(self.bws.input());
                for l in 0..valid {
                    let log_w = rule.weight(j0 + l).ln();
                    self.terms.push(log_w + log_p0[l] - log_det[l]);
                }
                continue;
            }
            for j in j0..j0 + valid {
                for ((o, xi), u) in self.y.iter_mut().zip(self.query.x()).zip(rule.node(j)) {
                    *o = xi + u / self.gamma;
                }
                dec.inverse_unchecked(&self.y, &mut self.ws)?;
                let log_w = rule.weight(j).ln();
                self.terms
                    .push(shifted_log_flow(dec, prior, &self.ws, log_w));
            }
        }
        Ok(Some(log_sum_exp(&self.terms)))
    }
}
