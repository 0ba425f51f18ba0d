//! The Laplace-centred route of the marginal likelihood (see the module docs of
//! [`super`]): Gauss–Hermite in u with z = ẑ + M u, M = L⁻ᵀ diag(widening), H = L Lᵀ.

use crate::error::{OracleError, StopReason};
use crate::inference::PosteriorMode;
use crate::input::Query;
use crate::lanes::{Block, LANES};
use crate::model::{BlockWorkspace, Workspace};
use crate::objective::log_normaliser;
use crate::quadrature::{log_sum_exp, TensorRule};
use crate::tol::{LAPLACE_MAX_WIDEN, LAPLACE_PROBE, LAPLACE_TAIL_EXCESS};
use nalgebra::DMatrix;
use std::f64::consts::PI;

/// The route at one (x, γ²), with its buffers.
pub(super) struct LaplaceCentred<'a> {
    query: &'a Query<'a>,
    mode: PosteriorMode,
    /// L⁻ᵀ diag(widening), so that z = ẑ + M u.
    m: DMatrix<f64>,
    /// The Laplace approximation plus Σ log widening: the offset of log E[e^ψ].
    laplace: f64,
    max_total: usize,
    ws: Workspace,
    /// The same evaluation on blocks of nodes (the node loop of `log_mean`).
    bws: BlockWorkspace,
    dz_block: Block,
    lp0: Vec<f64>,
    dz: Vec<f64>,
    terms: Vec<f64>,
}

impl<'a> LaplaceCentred<'a> {
    /// Factors the curvature at the mode, guards the poles under N(ẑ, H⁻¹), and widens the axes
    /// along which the posterior's tail is heavier than its Laplace Gaussian.
    pub(super) fn new(
        query: &'a Query<'a>,
        mode: PosteriorMode,
        max_total: usize,
    ) -> Result<Self, OracleError> {
        let model = query.model();
        let (d, dd) = (model.dim_latent(), model.dim_observed());
        let not_pd = OracleError::NotConverged {
            what: "posterior mode",
            iterations: mode.iterations,
            grad_norm: f64::NAN,
            reason: StopReason::CurvatureNotPositiveDefinite,
        };
        let chol = mode.hessian.clone().cholesky().ok_or(not_pd.clone())?;
        let l = chol.l();
        model.guard_poles(
            mode.z.as_slice(),
            |v| (l.transpose() * v).norm_squared(),
            false,
        )?;
        let m = l.transpose().try_inverse().ok_or(not_pd)?;
        let mut ws = model.decoder().workspace();
        model.decoder().set_base(mode.z.as_slice(), &mut ws)?;
        let mut bws = model.decoder().block_workspace();
        model
            .decoder()
            .set_base_block(mode.z.as_slice(), &mut bws)?;
        let lp0: Vec<f64> = mode
            .z
            .iter()
            .map(|&t| model.prior().log_density(t))
            .collect();
        let laplace =
            log_normaliser(dd, query.gamma2()) + mode.phi + 0.5 * d as f64 * (2.0 * PI).ln()
                - l.diagonal().iter().map(|t| t.ln()).sum::<f64>();
        let mut route = LaplaceCentred {
            query,
            mode,
            m,
            laplace,
            max_total,
            ws,
            bws,
            dz_block: Block::zeros(d),
            lp0,
            dz: vec![0.0; d],
            terms: Vec::new(),
        };
        route.laplace += route.widen_heavy_axes();
        Ok(route)
    }

    /// φ(ẑ) − φ(ẑ + dz) for dz = `self.dz`, in difference form:
    /// (γ²/2)(‖Δf‖² − 2 r̂·Δf) − Σ_k [log m(ẑ_k + dz_k) − log m(ẑ_k)], Δf = f(ẑ + dz) − f(ẑ).
    fn phi_drop(&mut self) -> Result<f64, OracleError> {
        let model = self.query.model();
        model
            .decoder()
            .eval_offset_unchecked(&self.dz, &mut self.ws, false)?;
        let df = self.ws.output_diff();
        Ok(self.drop_given(|i| df[i]))
    }

    /// φ(ẑ) − φ(ẑ + dz) for dz = `self.dz`, given Δf_i = `df(i)`.
    #[inline]
    fn drop_given(&self, df: impl Fn(usize) -> f64) -> f64 {
        let (mut ff, mut rf) = (0.0, 0.0);
        for (i, r) in self.mode.residual.iter().enumerate() {
            let dfi = df(i);
            ff += dfi * dfi;
            rf += r * dfi;
        }
        let prior = self.query.model().prior();
        let dprior: f64 = (0..self.dz.len())
            .map(|k| prior.log_density(self.mode.z[k] + self.dz[k]) - self.lp0[k])
            .sum();
        0.5 * self.query.gamma2() * (ff - 2.0 * rf) - dprior
    }

    /// Probes φ at u = ±[`LAPLACE_PROBE`] e_k: a Gaussian would drop by PROBE²/2; a smaller drop Δ_k
    /// means a heavier tail, and axis k is widened by min(MAX_WIDEN, PROBE/√(2Δ_k)). Returns the
    /// log-Jacobian of the widening, Σ_k log widening_k, which joins the offset.
    fn widen_heavy_axes(&mut self) -> f64 {
        let d = self.dz.len();
        let mut log_widen = 0.0;
        for k in 0..d {
            let mut widen = 1.0f64;
            for sign in [-1.0, 1.0] {
                for i in 0..d {
                    self.dz[i] = self.m[(i, k)] * sign * LAPLACE_PROBE;
                }
                let drop = self.phi_drop().unwrap_or(f64::INFINITY);
                if drop > 0.0 && drop.is_finite() {
                    widen = widen.max(LAPLACE_PROBE / (2.0 * drop).sqrt());
                }
            }
            let widen = widen.min(LAPLACE_MAX_WIDEN);
            for i in 0..d {
                self.m[(i, k)] *= widen;
            }
            log_widen += widen.ln();
        }
        log_widen
    }

    /// The Laplace approximation (with the widening's log-Jacobian): the offset of
    /// [`LaplaceCentred::log_mean`].
    pub(super) fn offset(&self) -> f64 {
        self.laplace
    }

    /// An estimate of the posterior mass the n-node rule cannot see, relative to the integral
    /// e^{`log_mean`}: along each axis ±e_k of u where the integrand at the rule's outermost node R
    /// is heavier than the Laplace Gaussian (ψ(R e_k) > [`LAPLACE_TAIL_EXCESS`]; a Gaussian-like
    /// tail is integrated by the Gauss–Hermite weights themselves), the integrand
    /// e^{φ(ẑ + M u) − φ(ẑ)} beyond R is extrapolated as a log-linear tail from its values at R − 1 and R
    /// (slope λ = drop(R) − drop(R − 1)), whose mass e^{−drop(R)}/λ is compared with the
    /// integral's one-dimensional section √(2π)·E[e^ψ]. Where a tail decays only exponentially — a
    /// sigmoid or tanh saturating, so that the likelihood turns flat and the prior's e^{−|z|} tail
    /// is all that is left — the rule's nodes end inside the tail and successive rules agree on a
    /// value that misses its mass (observed: 7e-13 with a difference of 7e-15 between rules). A
    /// tail that does not decay (λ ≤ 0) or a decoder failure there gives +∞.
    /// `r` is the rule's outermost node, as [`LaplaceCentred::log_mean`] reports it.
    pub(super) fn tail_beyond_rule(&mut self, r: f64, log_mean: f64) -> f64 {
        let d = self.dz.len();
        let mut mass = 0.0;
        for k in 0..d {
            for sign in [-1.0, 1.0] {
                let mut drops = [0.0; 2];
                for (drop, u) in drops.iter_mut().zip([r - 1.0, r]) {
                    for i in 0..d {
                        self.dz[i] = self.m[(i, k)] * sign * u;
                    }
                    *drop = self.phi_drop().unwrap_or(f64::NAN);
                }
                let slope = drops[1] - drops[0];
                if !(slope > 0.0 && drops[1].is_finite()) {
                    return f64::INFINITY;
                }
                if 0.5 * r * r - drops[1] > LAPLACE_TAIL_EXCESS {
                    mass += (-drops[1] - log_mean).exp() / (slope * (2.0 * PI).sqrt());
                }
            }
        }
        mass
    }

    /// log E_u[e^{ψ(u)}] on the n-node tensor rule, ψ(u) = ½‖u‖² − (φ(ẑ) − φ(ẑ + M u)), and the
    /// rule's outermost node (max |u_k|, for [`LaplaceCentred::tail_beyond_rule`]); `None` past
    /// the node budget.
    pub(super) fn log_mean(&mut self, n: usize) -> Result<Option<(f64, f64)>, OracleError> {
        let d = self.dz.len();
        let Some(rule) = TensorRule::within_budget(n, d, self.max_total)? else {
            return Ok(None);
        };
        // The last coordinate runs fastest: nodes 0 … n − 1 carry the one-dimensional rule there.
        let outermost = (0..n).fold(0.0f64, |a, j| a.max(rule.node(j)[d - 1].abs()));
        self.terms.clear();
        // LANES nodes at a time through the decoder's block form; each lane's ψ is computed as
        // `phi_drop` does for one node (bit for bit), in rule order. Lanes past the end of the
        // rule repeat its last node and are not summed.
        let last = rule.len() - 1;
        for j0 in (0..rule.len()).step_by(LANES) {
            for (k, dz_k) in self.dz_block.coords_mut().iter_mut().enumerate() {
                for (l, dz) in dz_k.iter_mut().enumerate() {
                    let u = rule.node((j0 + l).min(last));
                    *dz = (0..d).map(|i| self.m[(k, i)] * u[i]).sum();
                }
            }
            let dec = self.query.model().decoder();
            dec.eval_offset_block(&self.dz_block, &mut self.bws, false)?;
            for l in 0..LANES.min(rule.len() - j0) {
                let u = rule.node(j0 + l);
                self.dz_block.read_lane(l, &mut self.dz);
                let df = self.bws.output_diff();
                let drop = self.drop_given(|i| df[i][l]);
                let uu: f64 = u.iter().map(|t| t * t).sum();
                self.terms
                    .push(rule.weight(j0 + l).ln() + (-drop + 0.5 * uu));
            }
        }
        Ok(Some((log_sum_exp(&self.terms), outermost)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::posterior_mode;
    use crate::model::generate::{rng, Family};
    use crate::model::{Model, Prior};
    use nalgebra::DVector;

    /// The block node loop of `log_mean` gives, term by term, exactly the node-by-node ψ of
    /// `phi_drop` (the scalar reference), for every family, with a rule size that is not a
    /// multiple of LANES.
    #[test]
    fn block_terms_equal_node_by_node_terms() {
        let mut r = rng(53);
        let mut tested = 0;
        for fam in Family::ALL {
            let model =
                Model::new(Prior::logistic(0.8).unwrap(), fam.build(3, &mut r).unwrap()).unwrap();
            let x = model
                .decoder()
                .forward(&DVector::from_vec(vec![0.2, -0.1, 0.15]))
                .unwrap();
            let query = Query::new(&model, x.as_slice(), 50.0).unwrap();
            let Ok(mode) = posterior_mode(&query, None) else {
                continue;
            };
            let Ok(mut route) = LaplaceCentred::new(&query, mode, 1 << 20) else {
                continue;
            };
            route.log_mean(5).unwrap();
            let block_terms = route.terms.clone();
            tested += 1;
            let rule = TensorRule::new(5, 3, 1 << 20).unwrap();
            for (j, t) in block_terms.iter().enumerate() {
                let u = rule.node(j);
                for k in 0..3 {
                    route.dz[k] = (0..3).map(|i| route.m[(k, i)] * u[i]).sum();
                }
                let uu: f64 = u.iter().map(|t| t * t).sum();
                let psi = -route.phi_drop().unwrap() + 0.5 * uu;
                assert_eq!(*t, rule.weight(j).ln() + psi, "{} node {j}", fam.name());
            }
        }
        // The Möbius families may be refused at this γ² (a pole in reach); the others may not.
        assert!(tested >= 3, "only {tested} families tested");
    }
}
