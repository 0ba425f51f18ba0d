//! The Laplace-centred route of the marginal likelihood (see the module docs of
//! [`super`]): Gauss–Hermite in u with z = ẑ + M u, M = L⁻ᵀ diag(widening), H = L Lᵀ.

use crate::error::{OracleError, StopReason};
use crate::inference::PosteriorMode;
use crate::input::Query;
use crate::model::Workspace;
use crate::objective::log_normaliser;
use crate::quadrature::{log_sum_exp, TensorRule};
use crate::tol::{LAPLACE_MAX_WIDEN, LAPLACE_PROBE};
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
        let (mut ff, mut rf) = (0.0, 0.0);
        for (df, r) in self.ws.output_diff().iter().zip(self.mode.residual.iter()) {
            ff += df * df;
            rf += r * df;
        }
        let dprior: f64 = (0..self.dz.len())
            .map(|k| model.prior().log_density(self.mode.z[k] + self.dz[k]) - self.lp0[k])
            .sum();
        Ok(0.5 * self.query.gamma2() * (ff - 2.0 * rf) - dprior)
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

    /// log E_u[e^{ψ(u)}] on the n-node tensor rule, ψ(u) = ½‖u‖² − (φ(ẑ) − φ(ẑ + M u)); `None`
    /// past the node budget.
    pub(super) fn log_mean(&mut self, n: usize) -> Result<Option<f64>, OracleError> {
        let d = self.dz.len();
        let Some(rule) = TensorRule::within_budget(n, d, self.max_total)? else {
            return Ok(None);
        };
        self.terms.clear();
        for j in 0..rule.len() {
            let u = rule.node(j);
            for k in 0..d {
                self.dz[k] = (0..d).map(|i| self.m[(k, i)] * u[i]).sum();
            }
            let uu: f64 = u.iter().map(|t| t * t).sum();
            let psi = -self.phi_drop()? + 0.5 * uu;
            self.terms.push(rule.weight(j).ln() + psi);
        }
        Ok(Some(log_sum_exp(&self.terms)))
    }
}
