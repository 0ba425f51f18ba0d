//! The numbers behind every claim: for each model, point x and γ², the optimal encoder, the
//! finite-γ marginal, and the paper's right-hand sides.

use crate::tol;
use ima_oracle::elbo::{beta_vae, elbo, QuadratureOptions};
use ima_oracle::generate::{Family, OracleRng};
use ima_oracle::marginal::log_marginal;
use ima_oracle::optimal::optimal_encoder;
use ima_oracle::{ima, Model, OracleError, Prior, Source};
use nalgebra::DVector;
use rand::RngExt;
use rand_distr::StandardNormal;

/// One model with its points.
pub struct Case {
    /// The family.
    pub family: Family,
    /// The model.
    pub model: Model,
    /// Observations x = f(z).
    pub xs: Vec<DVector<f64>>,
}

impl Case {
    /// "family/prior", for tables.
    pub fn label(&self) -> (String, String) {
        (
            self.family.name().to_string(),
            self.model.prior().name().to_string(),
        )
    }
}

/// The priors every family is checked under: the standard normal and the logistic with scale 0.6.
pub fn priors() -> [Prior; 2] {
    [
        Prior::standard_normal(),
        Prior::logistic(0.6).expect("valid"),
    ]
}

/// Builds the cases: every family in d = 3 with each of [`priors`], `points` observations each.
/// Sources: the prior for the MLP and affine families; uniform on [−½, ½]³ for the Möbius families
/// (§4.3), which keeps the data away from the pole.
pub fn cases(points: usize, rng: &mut OracleRng) -> Vec<Case> {
    let mut out = Vec::new();
    for family in Family::ALL {
        for prior in priors() {
            let dec = family
                .build(3, rng)
                .expect("the generators build valid decoders");
            let model = Model::new(prior, dec).expect("no Möbius step after a non-invertible one");
            let source = if family.name().starts_with("moebius") {
                Source::uniform(-0.5, 0.5).expect("valid")
            } else {
                Source::Prior(prior)
            };
            let xs = (0..points)
                .map(|_| {
                    let z = DVector::from_fn(3, |_, _| source.sample_1d(rng));
                    model
                        .decoder()
                        .forward(&z)
                        .expect("finite away from the pole")
                })
                .collect();
            out.push(Case { family, model, xs });
        }
    }
    out
}

/// What does not depend on γ at one x.
#[derive(Debug, Clone)]
pub struct PointStatic {
    /// g(x).
    pub g: DVector<f64>,
    /// ‖J_f(g(x))[:, k]‖².
    pub colnorm2: DVector<f64>,
    /// −(log m)''(g_k(x)).
    pub neg_d2: DVector<f64>,
    /// κ(J_f(g(x))).
    pub kappa: f64,
    /// c_IMA(f, g(x)).
    pub c_ima: f64,
    /// log p_flow(x) (eq. 4).
    pub log_flow: f64,
}

/// The results at one (x, γ²).
#[derive(Debug, Clone)]
pub struct PointResult {
    /// γ².
    pub gamma2: f64,
    /// μ̂.
    pub mu: DVector<f64>,
    /// σ̂².
    pub sigma2: DVector<f64>,
    /// ELBO*.
    pub elbo: f64,
    /// Σ of the sizes of ELBO*'s four terms (for round-off floors).
    pub elbo_scale: f64,
    /// Error estimate of ELBO*.
    pub elbo_err: f64,
    /// log pθ(x) at this γ.
    pub log_p: f64,
    /// Its error estimate.
    pub log_p_err: f64,
    /// ‖f(μ̂) − x‖.
    pub reconstruction: f64,
    /// ELBO of the self-consistent encoder μ = g(x), σ² = RHS(12), and its error estimate.
    pub elbo_self_consistent: (f64, f64),
    /// ELBO of a perturbed encoder, and its error estimate (for eq. 2).
    pub elbo_perturbed: (f64, f64),
    /// The β-VAE objective at (γ0², β = γ0²/γ²) evaluated at q̂(γ²), and its error estimate.
    pub beta_objective: (f64, f64),
}

/// The fixed γ0² of the β-VAE sweep: β = γ0²/γ² runs to 0 as γ² grows.
pub const BETA_GAMMA0_SQ: f64 = 10.0;

/// γ-independent quantities at x.
pub fn point_static(model: &Model, x: &DVector<f64>) -> Result<PointStatic, OracleError> {
    let dec = model.decoder();
    let g = dec.inverse(x)?;
    let j = dec.jacobian(&g)?;
    let sv = j.singular_values();
    Ok(PointStatic {
        colnorm2: DVector::from_fn(3, |k, _| j.column(k).norm_squared()),
        neg_d2: g.map(|t| -model.prior().d2(t)),
        kappa: sv.max() / sv.min(),
        c_ima: ima::c_ima(dec, &g)?,
        log_flow: ima::log_flow_likelihood(dec, model.prior(), x)?,
        g,
    })
}

/// Everything at (x, γ²); `rng` draws the perturbed encoder of eq. 2.
pub fn point_result(
    model: &Model,
    x: &DVector<f64>,
    st: &PointStatic,
    gamma2: f64,
    rng: &mut OracleRng,
) -> Result<PointResult, OracleError> {
    let q = QuadratureOptions {
        tol: tol::quadrature(gamma2),
        ..Default::default()
    };
    let xs = x.as_slice();
    let o = optimal_encoder(model, xs, gamma2, &q)?;
    let m = log_marginal(model, xs, gamma2, &q)?;
    let p = &o.parts;
    let f_mu = model.decoder().forward(&o.mu)?;
    let sc_lv: Vec<f64> = (0..3)
        .map(|k| -(st.neg_d2[k] + gamma2 * st.colnorm2[k]).ln())
        .collect();
    let sc = elbo(model, xs, st.g.as_slice(), &sc_lv, gamma2, &q)?;
    let pert_mu: Vec<f64> = (0..3)
        .map(|k| o.mu[k] + 0.5 * o.sigma2[k].sqrt() * rng.sample::<f64, _>(StandardNormal))
        .collect();
    let pert_lv: Vec<f64> = (0..3)
        .map(|k| o.logvar[k] + 0.5 * rng.sample::<f64, _>(StandardNormal))
        .collect();
    let pert = elbo(model, xs, &pert_mu, &pert_lv, gamma2, &q)?;
    let beta = BETA_GAMMA0_SQ / gamma2;
    let b = beta_vae(
        model,
        xs,
        o.mu.as_slice(),
        o.logvar.as_slice(),
        BETA_GAMMA0_SQ,
        beta,
        &q,
    )?;
    Ok(PointResult {
        gamma2,
        reconstruction: (&f_mu - x).norm(),
        elbo_scale: p.log_normaliser.abs()
            + p.reconstruction.abs()
            + p.prior.abs()
            + p.entropy.abs(),
        elbo: o.elbo,
        elbo_err: o.error_estimate,
        mu: o.mu,
        sigma2: o.sigma2,
        log_p: m.value,
        log_p_err: m.error_estimate,
        elbo_self_consistent: (sc.value, sc.error_estimate),
        elbo_perturbed: (pert.value, pert.error_estimate),
        beta_objective: (b.value, b.error_estimate),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases are every family under every prior, each pair once — the count the integration
    /// tests rely on (families × priors), checked against the cases actually built.
    #[test]
    fn cases_are_families_times_priors() {
        let cases = cases(0, &mut ima_oracle::generate::rng(1));
        assert_eq!(cases.len(), Family::ALL.len() * priors().len());
        for family in Family::ALL {
            for prior in priors() {
                let n = cases
                    .iter()
                    .filter(|c| c.family == family && c.model.prior().name() == prior.name())
                    .count();
                assert_eq!(n, 1, "{} {}", family.name(), prior.name());
            }
        }
    }
}
