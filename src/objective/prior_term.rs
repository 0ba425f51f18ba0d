//! E_{t ~ N(μ, σ²)}[log m(t)] and its derivatives in (μ, s = log σ²): the prior term of the ELBO
//! (eq. 1), one latent coordinate at a time.
//!
//! | prior | method | accuracy |
//! | --- | --- | --- |
//! | Gaussian N(0, v) | closed form −(μ² + σ²)/(2v) − ½ log 2πv | a few ulps |
//! | logistic, scale s | trapezoid rule in ξ = (t − μ)/σ on [−39, 39], step h = min(½, τ/7) | ≤ e^{−2πτ/h} ≤ e^{−44} relative |
//! | Beta-logistic (a, b) | the same trapezoid rule, τ = π/σ | the same |
//!
//! The logistic log-density is analytic in the strip |Im t| < πs (its singularities are the zeros of
//! 1 + e^{−t/s}), i.e. |Im ξ| < τ = πs/σ; the Beta-logistic one, a log σ(t) + b log σ(−t) − ln B,
//! in |Im t| < π (the same zeros with s = 1) — [`Prior::analytic_half_width`]. For such integrands against a Gaussian, the trapezoid rule
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
/// [`OracleError::InvalidParameter`], "logvar", with the offending log σ²); the Beta-logistic's
/// strip is that of the logistic of scale 1, so s = 1. The Gaussian prior's term is a closed form:
/// no limit.
pub(crate) fn check_prior_width(prior: &Prior, enc: &Encoder) -> Result<(), OracleError> {
    let scale = match *prior {
        Prior::Gaussian { .. } => None,
        Prior::Logistic { scale } => Some(scale),
        Prior::BetaLogistic { .. } => Some(1.0),
    };
    if let Some(scale) = scale {
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
        Prior::Logistic { .. } | Prior::BetaLogistic { .. } => logistic_term(prior, mu, sigma),
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

/// The logistic and Beta-logistic priors: the trapezoid rule of the module docs, with the strip
/// half-width π s resp. π of [`Prior::analytic_half_width`] (π s is computed as before, so the
/// logistic's numbers are unchanged bit for bit).
fn logistic_term(prior: &Prior, mu: f64, sigma: f64) -> PriorTerm {
    let tau = prior.analytic_half_width() / sigma;
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

    /// The Beta-logistic term against two independent references: 40-point Gauss–Hermite where
    /// σ ≪ 1 (the integrand is nearly polynomial; 1e-14 relative, as above), and for wide q a
    /// Simpson rule in t = μ + σξ on μ ± 39σ with 400 001 points (error h⁴·max|f''''|/180 with
    /// h ≈ 2e-4 σ: below 1e-15 relative; 1e-12 allows for summing 4e5 terms). Every derivative is
    /// checked against central differences of the value in μ and s = log σ² (step 1e-4:
    /// truncation 1e-8·|third derivative|, round-off eps·|value|/1e-4 ≈ 1e-11; 1e-7 of
    /// max(1, |value|)).
    #[test]
    fn beta_logistic_term() {
        let gh = GaussHermite::new(40).unwrap();
        for (a, b) in [(1.0, 1.0), (2.0, 5.0), (0.5, 3.0)] {
            let p = Prior::beta_logistic(a, b).unwrap();
            for (mu, sigma) in [(0.0, 0.01), (1.5, 0.05), (-3.0, 0.1)] {
                let got = prior_term(&p, mu, sigma).value;
                let reference = gh.expect(|xi| p.log_density(mu + sigma * xi));
                assert_within(
                    &format!("E[log m] at μ={mu}, σ={sigma}, ({a}, {b})"),
                    &[got],
                    &[reference],
                    Tol::Rel(1e-14),
                );
            }
            for (mu, sigma) in [(0.3, 1.0), (-2.0, 4.0), (1.0, 20.0)] {
                let n = 400_000;
                let h = 78.0 / n as f64;
                let mut acc = 0.0;
                for i in 0..=n {
                    let xi = -39.0 + h * i as f64;
                    let w = if i == 0 || i == n {
                        1.0
                    } else if i % 2 == 1 {
                        4.0
                    } else {
                        2.0
                    };
                    acc += w * (-0.5 * xi * xi).exp() * p.log_density(mu + sigma * xi);
                }
                let reference = acc * h / 3.0 / (2.0 * PI).sqrt();
                let t = prior_term(&p, mu, sigma);
                assert_within(
                    &format!("E[log m] at μ={mu}, σ={sigma}, ({a}, {b})"),
                    &[t.value],
                    &[reference],
                    Tol::Rel(1e-12),
                );
                let e = 1e-4;
                let f = |m: f64, s: f64| prior_term(&p, m, (0.5 * s).exp());
                let s0 = 2.0 * sigma.ln();
                let fd = |g: &dyn Fn(f64, f64) -> f64| {
                    (
                        (g(mu + e, s0) - g(mu - e, s0)) / (2.0 * e),
                        (g(mu, s0 + e) - g(mu, s0 - e)) / (2.0 * e),
                    )
                };
                let (dm, ds) = fd(&|m, s| f(m, s).value);
                let (dmm, dms) = fd(&|m, s| f(m, s).d_mu);
                let (_, dss) = fd(&|m, s| f(m, s).d_s);
                let tol = Tol::Scaled(1e-7, t.value.abs().max(1.0));
                for (what, got, want) in [
                    ("d_mu", t.d_mu, dm),
                    ("d_s", t.d_s, ds),
                    ("d_mu_mu", t.d_mu_mu, dmm),
                    ("d_mu_s", t.d_mu_s, dms),
                    ("d_s_s", t.d_s_s, dss),
                ] {
                    assert_within(
                        &format!("{what} at μ={mu}, σ={sigma}, ({a}, {b})"),
                        &[got],
                        &[want],
                        tol,
                    );
                }
            }
        }
    }
}
