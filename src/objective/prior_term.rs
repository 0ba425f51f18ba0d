//! E_{t ~ N(μ, σ²)}[log m(t)] and its derivatives in (μ, s = log σ²): the prior term of the ELBO
//! (eq. 1), one latent coordinate at a time.
//!
//! | prior | method | accuracy |
//! | --- | --- | --- |
//! | Gaussian N(0, v) | closed form −(μ² + σ²)/(2v) − ½ log 2πv | a few ulps |
//! | logistic, scale s | trapezoid rule in ξ = (t − μ)/σ on [−39, 39], step h = min(½, τ/7) | ≤ e^{−2πτ/h} ≤ e^{−44} relative |
//!
//! The logistic log-density is analytic in the strip |Im t| < πs (its singularities are the zeros of
//! 1 + e^{−t/s}), i.e. |Im ξ| < τ = πs/σ. For such integrands against a Gaussian, the trapezoid rule
//! converges like e^{−2πτ/h} (and the Gaussian factor alone like e^{−2π²/h²}), uniformly in σ — where
//! Gauss–Hermite needs ever more nodes as τ shrinks (it converges only like e^{−cτ√n}). Truncating at
//! |ξ| = [`PRIOR_XI_MAX`] drops mass e^{−760}. The node count is 78/h: 157 for σ ≲ s, ~5 000 for
//! σ = 10 s; beyond σ = [`MAX_SIGMA_OVER_SCALE`]·s the encoder is refused.
//!
//! Derivatives: ∂/∂μ E\[ℓ\] = E\[ℓ'\], ∂/∂s E\[ℓ\] = (σ/2) E\[ℓ' ξ\], ∂²/∂μ² = E\[ℓ''\], ∂²/∂μ∂s = (σ/2) E\[ℓ'' ξ\],
//! ∂²/∂s² = (σ²/4) E[ℓ'' ξ²] + (σ/4) E[ℓ' ξ] — exact derivatives of the discretised expectation.

use crate::error::OracleError;
use crate::input::Encoder;
use crate::model::Prior;
use crate::quadrature::Neumaier;
use crate::tol::{MAX_SIGMA_OVER_SCALE, PRIOR_MAX_STEP, PRIOR_NODES_PER_STRIP, PRIOR_XI_MAX};
use std::f64::consts::PI;

/// E_{N(μ, σ²)}[log m(t)] and its derivatives in (μ, s = log σ²).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PriorTerm {
    /// E[log m(t)].
    pub(crate) value: f64,
    /// ∂/∂μ.
    pub(crate) d_mu: f64,
    /// ∂/∂s.
    pub(crate) d_s: f64,
    /// ∂²/∂μ².
    pub(crate) d_mu_mu: f64,
    /// ∂²/∂μ∂s.
    pub(crate) d_mu_s: f64,
    /// ∂²/∂s².
    pub(crate) d_s_s: f64,
}

/// Refuses an encoder wider than the prior term can integrate: for a logistic prior of scale s,
/// log σ_k² > 2 log([`MAX_SIGMA_OVER_SCALE`]·s) (the trapezoid rule would need ~1e6 nodes or more;
/// [`OracleError::InvalidParameter`], "logvar", with the offending log σ²). The Gaussian prior's
/// term is a closed form: no limit.
pub(crate) fn check_prior_width(prior: &Prior, enc: &Encoder) -> Result<(), OracleError> {
    if let Prior::Logistic { scale } = *prior {
        let limit = 2.0 * (MAX_SIGMA_OVER_SCALE * scale).ln();
        if let Some(&s) = enc.logvar().iter().find(|&&s| s > limit) {
            return Err(OracleError::InvalidParameter {
                what: "logvar (sigma above tol::MAX_SIGMA_OVER_SCALE logistic scales: the prior term would need ~1e6 nodes)",
                value: s,
            });
        }
    }
    Ok(())
}

/// The prior term of one coordinate (module table), for σ within [`check_prior_width`]'s limit.
pub(crate) fn prior_term(prior: &Prior, mu: f64, sigma: f64) -> PriorTerm {
    match *prior {
        Prior::Gaussian { variance } => gaussian_term(variance, mu, sigma),
        Prior::Logistic { scale } => logistic_term(prior, scale, mu, sigma),
    }
}

/// The Gaussian prior N(0, v): closed forms.
fn gaussian_term(variance: f64, mu: f64, sigma: f64) -> PriorTerm {
    let s2 = sigma * sigma;
    PriorTerm {
        value: -0.5 * (mu * mu + s2) / variance + crate::model::gaussian_log_norm(variance),
        d_mu: -mu / variance,
        d_s: -0.5 * s2 / variance,
        d_mu_mu: -1.0 / variance,
        d_mu_s: 0.0,
        d_s_s: -0.5 * s2 / variance,
    }
}

/// The logistic prior: the trapezoid rule of the module docs.
fn logistic_term(prior: &Prior, scale: f64, mu: f64, sigma: f64) -> PriorTerm {
    let tau = PI * scale / sigma;
    let h = (tau / PRIOR_NODES_PER_STRIP).min(PRIOR_MAX_STEP);
    let n = (PRIOR_XI_MAX / h).ceil() as i64;
    let norm = h / (2.0 * PI).sqrt();
    let mut acc = [Neumaier::default(); 6];
    for j in -n..=n {
        let xi = j as f64 * h;
        let w = norm * (-0.5 * xi * xi).exp();
        let t = mu + sigma * xi;
        let (l0, l1, l2) = (prior.log_density(t), prior.d1(t), prior.d2(t));
        acc[0].add(w * l0);
        acc[1].add(w * l1);
        acc[2].add(w * l1 * xi);
        acc[3].add(w * l2);
        acc[4].add(w * l2 * xi);
        acc[5].add(w * l2 * xi * xi);
    }
    let s = acc.map(|a| a.sum());
    PriorTerm {
        value: s[0],
        d_mu: s[1],
        d_s: 0.5 * sigma * s[2],
        d_mu_mu: s[3],
        d_mu_s: 0.5 * sigma * s[4],
        d_s_s: 0.25 * sigma * sigma * s[5] + 0.25 * sigma * s[2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};
    use crate::quadrature::GaussHermite;

    /// For σ ≪ s the integrand is nearly polynomial and 40-point Gauss–Hermite is exact to
    /// round-off: the trapezoid rule must agree to 1e-14 relative.
    #[test]
    fn agrees_with_gauss_hermite_when_sigma_is_small() {
        let p = Prior::logistic(0.7).unwrap();
        let gh = GaussHermite::new(40).unwrap();
        for (mu, sigma) in [(0.0, 0.01), (1.5, 0.05), (-3.0, 0.1)] {
            let got = prior_term(&p, mu, sigma).value;
            let reference = gh.expect(|xi| p.log_density(mu + sigma * xi));
            assert_within(
                &format!("E[log p] at μ={mu}, σ={sigma}"),
                &[got],
                &[reference],
                Tol::Rel(1e-14),
            );
        }
    }

    /// For σ ≫ s the logistic is nearly a Laplace law, E[−|t|/s] − log s − 2E[log1p(e^{−|t|/s})];
    /// halving h must not change the value beyond round-off (1e-14 relative): geometric convergence.
    #[test]
    fn converged_at_large_sigma() {
        let p = Prior::logistic(0.3).unwrap();
        for (mu, sigma) in [(0.2, 1.0), (-1.0, 3.0), (0.0, 10.0)] {
            let got = prior_term(&p, mu, sigma).value;
            let h = (PI * 0.3 / sigma / 14.0).min(0.25);
            let n = (PRIOR_XI_MAX / h).ceil() as i64;
            let fine: f64 = (-n..=n)
                .map(|j| {
                    let xi = j as f64 * h;
                    h / (2.0 * PI).sqrt() * (-0.5 * xi * xi).exp() * p.log_density(mu + sigma * xi)
                })
                .sum();
            assert_within(
                &format!("E[log p] at μ={mu}, σ={sigma}"),
                &[got],
                &[fine],
                Tol::Rel(1e-14),
            );
        }
    }
}
