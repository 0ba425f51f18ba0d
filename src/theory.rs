//! What the paper predicts, and the closed forms of the affine–Gaussian case.
//!
//! | function | formula | paper |
//! | --- | --- | --- |
//! | [`eq12_sigma2`] | σ_k² ≈ (−(log m)''(g_k(x)) + γ² ‖J_f(g(x))[:, k]‖²)⁻¹ | eq. 12 (RHS) |
//! | [`ima_regularised_flow`] | log p0(g(x)) − log|det J_f(g(x))| − c_IMA(f, g(x)) | eq. 13 RHS with eq. 4 |
//! | [`eq13_rhs`] | log pθ(x) − c_IMA(f, g(x)) at finite γ | eq. 13 RHS |
//! | [`AffineGaussian`] | f(z) = W z + b, p0 = N(0, v I): everything in closed form | Appx. (linear case) |
//!
//! For f(z) = W z + b (W of size D × d, full column rank) and p0 = N(0, v I_d), the posterior is
//! Gaussian with precision Λ = γ² WᵀW + I/v and mean m = γ² Λ⁻¹ Wᵀ(x − b); the marginal is
//! x ~ N(b, C), C = v W Wᵀ + γ⁻² I_D. The best factorized Gaussian q (eq. 7) has μ̂ = m and
//! σ̂_k² = 1/Λ_kk, and its gap is KL(q̂ ‖ p(z|x)) = ½(Σ_k log Λ_kk − log det Λ), so
//! ELBO* = log p(x) − ½(Σ_k log Λ_kk − log det Λ). All are computed with Cholesky factorizations
//! (accurate to eps·κ(W)² relative).

use crate::decoder::Step;
use crate::error::{check_gamma2, check_vec, OracleError};
use crate::ima;
use crate::model::Model;
use crate::prior::Prior;
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;

/// RHS of eq. 12: σ_k² = 1/(−(log m)''(g_k(x)) + γ² ‖J_f(g(x))[:, k]‖²), k = 1 … d.
pub fn eq12_sigma2(model: &Model, x: &[f64], gamma2: f64) -> Result<DVector<f64>, OracleError> {
    check_vec("x", x, model.dim_observed())?;
    check_gamma2(gamma2)?;
    let dec = model.decoder();
    let z = dec.inverse(&DVector::from_column_slice(x))?;
    let j = dec.jacobian(&z)?;
    Ok(DVector::from_fn(model.dim_latent(), |k, _| {
        1.0 / (-model.prior().d2(z[k]) + gamma2 * j.column(k).norm_squared())
    }))
}

/// The IMA-regularised flow log-likelihood log p_flow(x) − c_IMA(f, g(x)) = L_IMA with λ = 1: the
/// γ → ∞ limit of ELBO* predicted by Thm. 1 (eq. 13 with eq. 4).
pub fn ima_regularised_flow(model: &Model, x: &[f64]) -> Result<f64, OracleError> {
    check_vec("x", x, model.dim_observed())?;
    Ok(ima::l_ima(
        model.decoder(),
        model.prior(),
        &DVector::from_column_slice(x),
        1.0,
    )?)
}

/// RHS of eq. 13 at finite γ: log pθ(x) − c_IMA(f, g(x)), with the error estimate of log pθ(x).
pub fn eq13_rhs(
    model: &Model,
    x: &[f64],
    gamma2: f64,
    opts: &crate::elbo::QuadratureOptions,
) -> Result<(f64, f64), OracleError> {
    check_vec("x", x, model.dim_observed())?;
    let m = crate::marginal::log_marginal(model, x, gamma2, opts)?;
    let dec = model.decoder();
    let g = dec.inverse(&DVector::from_column_slice(x))?;
    Ok((m.value - ima::c_ima(dec, &g)?, m.error_estimate))
}

/// The closed forms of an affine decoder with a Gaussian prior at one (x, γ²).
#[derive(Debug, Clone, PartialEq)]
pub struct AffineGaussian {
    /// log pθ(x) = log N(x; b, v W Wᵀ + γ⁻² I).
    pub log_marginal: f64,
    /// The posterior mean m = μ̂ (the optimal encoder mean).
    pub posterior_mean: DVector<f64>,
    /// The posterior precision Λ = γ² WᵀW + I/v.
    pub posterior_precision: DMatrix<f64>,
    /// σ̂_k² = 1/Λ_kk, the optimal encoder variances.
    pub sigma2: DVector<f64>,
    /// KL(q̂ ‖ p(z | x)) = ½(Σ_k log Λ_kk − log det Λ).
    pub gap: f64,
    /// ELBO* = log pθ(x) − gap.
    pub elbo_star: f64,
}

/// The affine step and the prior variance of an affine–Gaussian model, or an error.
fn affine_gaussian_parts(model: &Model) -> Result<(&crate::decoder::Affine, f64), OracleError> {
    match (*model.prior(), model.decoder().steps()) {
        (Prior::Gaussian { variance }, [Step::Affine(a)]) => Ok((a, variance)),
        _ => Err(OracleError::InvalidParameter {
            what: "closed forms need a single affine step and a Gaussian prior; steps",
            value: model.decoder().steps().len() as f64,
        }),
    }
}

impl AffineGaussian {
    /// The closed forms for `model`, which must be a single affine step with a Gaussian prior
    /// (else [`OracleError::InvalidParameter`]).
    pub fn new(model: &Model, x: &[f64], gamma2: f64) -> Result<Self, OracleError> {
        check_vec("x", x, model.dim_observed())?;
        check_gamma2(gamma2)?;
        let (a, v) = affine_gaussian_parts(model)?;
        let w = a.weight();
        let (dd, d) = w.shape();
        let e = DVector::from_column_slice(x) - a.bias();
        // Marginal: C = v W Wᵀ + γ⁻² I.
        let c = w * w.transpose() * v + DMatrix::identity(dd, dd) / gamma2;
        let chol_c = c.cholesky().ok_or(OracleError::InvalidParameter {
            what: "marginal covariance not positive definite; gamma2",
            value: gamma2,
        })?;
        let logdet_c: f64 = 2.0 * chol_c.l().diagonal().iter().map(|t| t.ln()).sum::<f64>();
        let log_marginal =
            -0.5 * e.dot(&chol_c.solve(&e)) - 0.5 * logdet_c - 0.5 * dd as f64 * (2.0 * PI).ln();
        // Posterior: Λ = γ² WᵀW + I/v, m = γ² Λ⁻¹ Wᵀ e.
        let lambda = w.transpose() * w * gamma2 + DMatrix::identity(d, d) / v;
        let chol = lambda
            .clone()
            .cholesky()
            .ok_or(OracleError::InvalidParameter {
                what: "posterior precision not positive definite; gamma2",
                value: gamma2,
            })?;
        let posterior_mean = chol.solve(&(w.transpose() * &e * gamma2));
        let logdet_l: f64 = 2.0 * chol.l().diagonal().iter().map(|t| t.ln()).sum::<f64>();
        let gap = 0.5 * ((0..d).map(|k| lambda[(k, k)].ln()).sum::<f64>() - logdet_l);
        Ok(AffineGaussian {
            log_marginal,
            sigma2: DVector::from_fn(d, |k, _| 1.0 / lambda[(k, k)]),
            posterior_mean,
            posterior_precision: lambda,
            gap,
            elbo_star: log_marginal - gap,
        })
    }

    /// The ELBO at any (μ, log σ²) in closed form: E_q‖x − Wz − b‖² = ‖x − Wμ − b‖² + Σ_k σ_k²‖W_:k‖².
    pub fn elbo(
        model: &Model,
        x: &[f64],
        mu: &[f64],
        logvar: &[f64],
        gamma2: f64,
    ) -> Result<f64, OracleError> {
        crate::elbo::check_inputs(model, x, mu, logvar, gamma2)?;
        let (a, v) = affine_gaussian_parts(model)?;
        let w = a.weight();
        let dd = w.nrows() as f64;
        let mu = DVector::from_column_slice(mu);
        let res = DVector::from_column_slice(x) - w * &mu - a.bias();
        let spread: f64 = logvar
            .iter()
            .enumerate()
            .map(|(k, s)| s.exp() * w.column(k).norm_squared())
            .sum();
        let prior: f64 = mu
            .iter()
            .zip(logvar)
            .map(|(m, s)| -0.5 * (m * m + s.exp()) / v - 0.5 * (2.0 * PI * v).ln())
            .sum();
        let entropy: f64 = logvar
            .iter()
            .map(|s| 0.5 * ((2.0 * PI).ln() + 1.0 + s))
            .sum();
        Ok(
            0.5 * dd * (gamma2 / (2.0 * PI)).ln() - 0.5 * gamma2 * (res.norm_squared() + spread)
                + prior
                + entropy,
        )
    }
}
