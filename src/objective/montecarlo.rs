//! An unbiased reparameterised Monte Carlo estimator of the ELBO (eq. 1) and of its gradient — the
//! estimator stochastic implementations use, for checking them with a z-test rather than a tolerance.
//!
//! With ε_j ~ N(0, I_d) i.i.d. (from the caller's seeded generator) and z_j = μ + σ ⊙ ε_j, each sample is
//!
//! L_j = (D/2) log(γ²/2π) − (γ²/2)‖x − f(z_j)‖² + β (P_j + H),
//!
//! with H = Σ_k ½(log 2π + 1 + s_k) the entropy of q and P_j the prior term: exactly
//! Σ_k [−(μ_k² + σ_k²)/(2v) − ½ log 2πv] for the Gaussian prior (the usual "closed-form KL"), and
//! log p0(z_j) otherwise. Gradients per sample, in (μ, s = log σ²):
//! ∂L_j/∂μ = γ² J(z_j)ᵀ r_j + β ∂P_j/∂μ, ∂L_j/∂s_k = (γ² J(z_j)ᵀ r_j)_k ε_jk σ_k/2 + β(∂P_j/∂s_k + ½).
//! The estimate is the sample mean; its standard error is s/√K. β = 1 gives the ELBO.

use super::gaussian::{entropy, log_normaliser};
use super::prior_term::{check_prior_width, prior_term, PriorTerm};
use super::reconstruction::{base_residual, jt_r, residual};
use crate::error::OracleError;
use crate::input::{Beta, Encoder, Query};
use crate::model::generate::OracleRng;
use crate::model::Prior;
use crate::quadrature::SampleMean;
use nalgebra::DVector;
use rand::RngExt;
use rand_distr::StandardNormal;

/// A Monte Carlo estimate of the ELBO (or β-VAE objective) and of its gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct McEstimate {
    /// The objective: mean, standard error, number of samples.
    pub value: SampleMean,
    /// The gradient's sample mean (length 2d: μ then log σ²).
    pub gradient: DVector<f64>,
    /// The standard error of each gradient entry.
    pub gradient_std_err: DVector<f64>,
}

/// K = `samples` samples of the estimator (module docs). Errors: K < 2, an encoder of another
/// dimension, a logistic-prior encoder too wide for the prior term (as [`super::elbo`]), or a
/// decoder failure at a sample (a Möbius pole hit, which has probability zero).
pub fn elbo_monte_carlo(
    query: &Query,
    enc: &Encoder,
    beta: Beta,
    samples: usize,
    rng: &mut OracleRng,
) -> Result<McEstimate, OracleError> {
    if samples < 2 {
        return Err(OracleError::InvalidParameter {
            what: "samples (at least 2, for a standard error)",
            value: samples as f64,
        });
    }
    query.check_encoder(enc)?;
    let model = query.model();
    check_prior_width(model.prior(), enc)?;
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    let (dec, prior, gamma2, beta) = (model.decoder(), model.prior(), query.gamma2(), beta.get());
    let (mu, sigma) = (enc.mu(), enc.sigma());
    // The Gaussian prior's term is exact (the closed-form KL); other priors are sampled.
    let exact_prior: Option<Vec<PriorTerm>> = match prior {
        Prior::Gaussian { .. } => {
            Some((0..d).map(|k| prior_term(prior, mu[k], sigma[k])).collect())
        }
        _ => None,
    };
    let mut ws = dec.workspace();
    dec.set_base(mu.as_slice(), &mut ws)?;
    let mut delta0 = vec![0.0; dd];
    base_residual(query.x(), &ws, &mut delta0);
    let constant = log_normaliser(dd, gamma2) + beta * entropy(enc.logvar());
    let mut eps = vec![0.0; d];
    let mut dz = vec![0.0; d];
    let mut r = vec![0.0; dd];
    let mut jtr = vec![0.0; d];
    let mut values = Vec::with_capacity(samples);
    let mut grads: Vec<DVector<f64>> = Vec::with_capacity(samples);
    for _ in 0..samples {
        for k in 0..d {
            eps[k] = rng.sample(StandardNormal);
            dz[k] = sigma[k] * eps[k];
        }
        let rr = residual(dec, &mut ws, &delta0, &dz, true, &mut r)?;
        jt_r(ws.jacobian(), &r, &mut jtr);
        let mut g = DVector::zeros(2 * d);
        for k in 0..d {
            let gk = jtr[k] * gamma2;
            g[k] = gk;
            g[d + k] = 0.5 * gk * eps[k] * sigma[k] + 0.5 * beta;
        }
        let p = match &exact_prior {
            Some(terms) => {
                for (k, t) in terms.iter().enumerate() {
                    g[k] += beta * t.d_mu;
                    g[d + k] += beta * t.d_s;
                }
                terms.iter().map(|t| t.value).sum::<f64>()
            }
            None => {
                let z = ws.input();
                for k in 0..d {
                    let d1 = prior.d1(z[k]);
                    g[k] += beta * d1;
                    g[d + k] += beta * 0.5 * d1 * eps[k] * sigma[k];
                }
                prior.log_density_sum(z)
            }
        };
        values.push(constant - 0.5 * gamma2 * rr + beta * p);
        grads.push(g);
    }
    let value = SampleMean::from_samples(values);
    let mut gradient = DVector::zeros(2 * d);
    let mut gradient_std_err = DVector::zeros(2 * d);
    for i in 0..2 * d {
        let e = SampleMean::from_samples(grads.iter().map(|g| g[i]));
        gradient[i] = e.mean;
        gradient_std_err[i] = e.std_err;
    }
    Ok(McEstimate {
        value,
        gradient,
        gradient_std_err,
    })
}
