//! The closed forms of the affine–Gaussian case: everything the oracle computes by quadrature and
//! Newton, in closed form — the first test of the general machinery.
//!
//! For f(z) = W z + b (W of size D × d, full column rank) and p0 = N(0, v I_d), the posterior is
//! Gaussian with precision Λ = γ² WᵀW + I/v and mean m = γ² Λ⁻¹ Wᵀ(x − b); the marginal is
//! x ~ N(b, C), C = v W Wᵀ + γ⁻² I_D. The best factorized Gaussian q (eq. 7) has μ̂ = m and
//! σ̂_k² = 1/Λ_kk, and its gap is KL(q̂ ‖ p(z|x)) = ½(Σ_k log Λ_kk − log det Λ), so
//! ELBO* = log p(x) − ½(Σ_k log Λ_kk − log det Λ). All are computed with Cholesky factorizations
//! (accurate to eps·κ(W)² relative).

use crate::error::OracleError;
use crate::input::{Encoder, Query};
use crate::model::{Affine, Model, Prior, Step};
use crate::objective::{entropy, log_normaliser, prior_term};
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;

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
fn affine_gaussian_parts(model: &Model) -> Result<(&Affine, f64), OracleError> {
    match (*model.prior(), model.decoder().steps()) {
        (Prior::Gaussian { variance }, [Step::Affine(a)]) => Ok((a, variance)),
        _ => Err(OracleError::InvalidParameter {
            what: "closed forms need a single affine step and a Gaussian prior; steps",
            value: model.decoder().steps().len() as f64,
        }),
    }
}

impl AffineGaussian {
    /// The closed forms for the query's model, which must be a single affine step with a Gaussian
    /// prior (else [`OracleError::InvalidParameter`]).
    pub fn new(query: &Query) -> Result<Self, OracleError> {
        let (a, v) = affine_gaussian_parts(query.model())?;
        let gamma2 = query.gamma2();
        let w = a.weight();
        let (dd, d) = w.shape();
        let e = query.x() - a.bias();
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

    /// The ELBO at any encoder in closed form: E_q‖x − Wz − b‖² = ‖x − Wμ − b‖² + Σ_k σ_k²‖W_:k‖²,
    /// the prior and entropy terms as in the quadrature ELBO (they are closed forms there too).
    pub fn elbo(query: &Query, enc: &Encoder) -> Result<f64, OracleError> {
        query.check_encoder(enc)?;
        let (a, v) = affine_gaussian_parts(query.model())?;
        let prior = Prior::gaussian(v).expect("the model's prior variance is valid");
        let gamma2 = query.gamma2();
        let w = a.weight();
        let res = query.x() - w * enc.mu() - a.bias();
        let spread: f64 = enc
            .logvar()
            .iter()
            .enumerate()
            .map(|(k, s)| s.exp() * w.column(k).norm_squared())
            .sum();
        let mut prior_sum = 0.0;
        for (&m, &s) in enc.mu().iter().zip(enc.sigma()) {
            prior_sum += prior_term(&prior, m, s).value;
        }
        Ok(
            log_normaliser(w.nrows(), gamma2) - 0.5 * gamma2 * (res.norm_squared() + spread)
                + prior_sum
                + entropy(enc.logvar()),
        )
    }
}
