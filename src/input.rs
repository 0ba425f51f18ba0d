//! Validated inputs: the types every numerical routine takes. Each is checked once, when it is
//! built (at the boundary: the CLI, a test, a backend's call), and cannot hold a bad value
//! afterwards, so the numerical core never re-checks it.
//!
//! | type | holds | checked |
//! | --- | --- | --- |
//! | [`Gamma2`] | the decoder precision γ² of p(x \| z) = N(f(z), γ⁻² I) | finite, > 0 |
//! | [`Beta`] | the β of the β-VAE objective (§6) | finite, ≥ 0 |
//! | [`Encoder`] | q(z \| x) = N(μ, diag σ²) as (μ, log σ²), the backends' parameterisation | equal lengths ≥ 1, finite, \|log σ²\| ≤ [`LOGVAR_MAX`] |
//! | [`Query`] | one question: a model, an observation x, a precision γ² | x of length D and finite |

use crate::error::OracleError;
use crate::model::Model;
use crate::tol::LOGVAR_MAX;
use nalgebra::DVector;

/// The decoder precision γ² > 0 (finite) of p(x | z) = N(f(z), γ⁻² I) (paper eq. 3).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Gamma2(f64);

impl Gamma2 {
    /// Errors ([`OracleError::InvalidParameter`], "gamma2") unless γ² is finite and positive.
    pub fn new(gamma2: f64) -> Result<Self, OracleError> {
        if gamma2.is_finite() && gamma2 > 0.0 {
            Ok(Gamma2(gamma2))
        } else {
            Err(OracleError::InvalidParameter {
                what: "gamma2",
                value: gamma2,
            })
        }
    }

    /// γ².
    #[inline]
    pub fn get(self) -> f64 {
        self.0
    }
}

/// The weight β ≥ 0 (finite) of the KL term in the β-VAE objective E_q[log p(x|z)] − β KL(q ‖ p0)
/// (§6). β = 1 is the ELBO.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Beta(f64);

impl Beta {
    /// β = 1: the ELBO itself.
    pub const ONE: Beta = Beta(1.0);

    /// Errors ([`OracleError::InvalidParameter`], "beta") unless β is finite and ≥ 0.
    pub fn new(beta: f64) -> Result<Self, OracleError> {
        if beta >= 0.0 && beta.is_finite() {
            Ok(Beta(beta))
        } else {
            Err(OracleError::InvalidParameter {
                what: "beta",
                value: beta,
            })
        }
    }

    /// β.
    #[inline]
    pub fn get(self) -> f64 {
        self.0
    }
}

/// Checks length and finiteness of a vector argument (the one check of raw vectors at the
/// boundary: [`Query::new`], [`Encoder::new`], a Newton start).
pub(crate) fn check_vec(what: &'static str, v: &[f64], expected: usize) -> Result<(), OracleError> {
    if v.len() != expected {
        return Err(OracleError::DimensionMismatch {
            what,
            expected,
            found: v.len(),
        });
    }
    match v.iter().position(|t| !t.is_finite()) {
        Some(index) => Err(OracleError::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// A factorized Gaussian encoder output q(z | x) = N(μ, diag σ²), stored as backends produce it:
/// μ and s = log σ² (paper eq. 3), with σ = e^{s/2} precomputed.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoder {
    mu: DVector<f64>,
    logvar: DVector<f64>,
    sigma: DVector<f64>,
}

impl Encoder {
    /// Errors: `mu` empty, `logvar` of another length ([`OracleError::DimensionMismatch`]),
    /// a NaN or infinite entry, or |log σ²| > [`LOGVAR_MAX`] (σ² would overflow or leave the
    /// normal range; [`OracleError::NonFinite`] naming the entry).
    pub fn new(mu: &[f64], logvar: &[f64]) -> Result<Self, OracleError> {
        if mu.is_empty() {
            return Err(OracleError::DimensionMismatch {
                what: "mu (the latent dimension is at least 1)",
                expected: 1,
                found: 0,
            });
        }
        check_vec("mu", mu, mu.len())?;
        check_vec("logvar", logvar, mu.len())?;
        if let Some(index) = logvar.iter().position(|s| s.abs() > LOGVAR_MAX) {
            return Err(OracleError::NonFinite {
                what: "logvar (exp overflows or underflows)",
                index,
            });
        }
        Ok(Encoder {
            mu: DVector::from_column_slice(mu),
            logvar: DVector::from_column_slice(logvar),
            sigma: DVector::from_iterator(mu.len(), logvar.iter().map(|s| (0.5 * s).exp())),
        })
    }

    /// The encoder θ = (μ_1 … μ_d, s_1 … s_d) of a Newton iterate (length 2d); errors as
    /// [`Encoder::new`].
    pub fn from_theta(theta: &DVector<f64>) -> Result<Self, OracleError> {
        let d = theta.len() / 2;
        if theta.len() != 2 * d {
            return Err(OracleError::DimensionMismatch {
                what: "theta (mu then logvar)",
                expected: 2 * d,
                found: theta.len(),
            });
        }
        Encoder::new(&theta.as_slice()[..d], &theta.as_slice()[d..])
    }

    /// The latent dimension d.
    #[inline]
    pub fn dim(&self) -> usize {
        self.mu.len()
    }

    /// μ.
    #[inline]
    pub fn mu(&self) -> &DVector<f64> {
        &self.mu
    }

    /// s = log σ².
    #[inline]
    pub fn logvar(&self) -> &DVector<f64> {
        &self.logvar
    }

    /// σ = e^{s/2}.
    #[inline]
    pub fn sigma(&self) -> &DVector<f64> {
        &self.sigma
    }

    /// σ² = e^s.
    pub fn sigma2(&self) -> DVector<f64> {
        self.logvar.map(f64::exp)
    }

    /// θ = (μ, log σ²), length 2d: the variables of the ELBO's gradient and Hessian.
    pub fn theta(&self) -> DVector<f64> {
        DVector::from_iterator(2 * self.dim(), self.mu.iter().chain(&self.logvar).copied())
    }
}

/// One question to the oracle: a model, an observation x ∈ R^D and a decoder precision γ².
/// Every routine that takes a query can trust it: x has the model's observed dimension and
/// finite entries.
#[derive(Debug, Clone)]
pub struct Query<'m> {
    model: &'m Model,
    x: DVector<f64>,
    gamma2: Gamma2,
}

impl<'m> Query<'m> {
    /// Errors: x of the wrong length ([`OracleError::DimensionMismatch`]), a NaN or infinite
    /// entry of x ([`OracleError::NonFinite`]), γ² not finite and positive.
    pub fn new(model: &'m Model, x: &[f64], gamma2: f64) -> Result<Self, OracleError> {
        check_vec("x", x, model.dim_observed())?;
        Ok(Query {
            model,
            x: DVector::from_column_slice(x),
            gamma2: Gamma2::new(gamma2)?,
        })
    }

    /// The same model and x at another precision (a γ² sweep, or the β-VAE's γ0²).
    pub fn at_gamma2(&self, gamma2: Gamma2) -> Query<'m> {
        Query {
            model: self.model,
            x: self.x.clone(),
            gamma2,
        }
    }

    /// The model.
    #[inline]
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// The observation x (length D).
    #[inline]
    pub fn x(&self) -> &DVector<f64> {
        &self.x
    }

    /// γ² (the value; [`Query::precision`] for the validated type).
    #[inline]
    pub fn gamma2(&self) -> f64 {
        self.gamma2.get()
    }

    /// γ², as the validated type.
    #[inline]
    pub fn precision(&self) -> Gamma2 {
        self.gamma2
    }

    /// An encoder for this query's latent dimension: [`Encoder::new`], plus
    /// [`OracleError::DimensionMismatch`] unless μ has length d.
    pub fn encoder(&self, mu: &[f64], logvar: &[f64]) -> Result<Encoder, OracleError> {
        let d = self.model.dim_latent();
        if mu.len() != d {
            return Err(OracleError::DimensionMismatch {
                what: "mu",
                expected: d,
                found: mu.len(),
            });
        }
        Encoder::new(mu, logvar)
    }

    /// Errors unless `encoder` has this query's latent dimension (a constant-time check).
    #[inline]
    pub(crate) fn check_encoder(&self, encoder: &Encoder) -> Result<(), OracleError> {
        if encoder.dim() == self.model.dim_latent() {
            Ok(())
        } else {
            Err(OracleError::DimensionMismatch {
                what: "encoder (built for another latent dimension)",
                expected: self.model.dim_latent(),
                found: encoder.dim(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{generate, Prior};

    #[test]
    fn bad_values_are_refused_once() {
        for v in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Gamma2::new(v).is_err());
        }
        for v in [-1e-300, f64::NAN, f64::INFINITY] {
            assert!(Beta::new(v).is_err());
        }
        assert!(Beta::new(0.0).is_ok());
        assert!(matches!(
            Encoder::new(&[0.0, 1.0], &[0.0]),
            Err(OracleError::DimensionMismatch { what: "logvar", .. })
        ));
        assert!(matches!(
            Encoder::new(&[0.0, f64::NAN], &[0.0, 0.0]),
            Err(OracleError::NonFinite {
                what: "mu",
                index: 1
            })
        ));
        assert!(matches!(
            Encoder::new(&[0.0], &[-701.0]),
            Err(OracleError::NonFinite { index: 0, .. })
        ));
        assert!(Encoder::new(&[], &[]).is_err());
        let f = generate::mlp_orthogonal(2, 1, 0.2, &mut generate::rng(1)).unwrap();
        let model = Model::new(Prior::standard_normal(), f).unwrap();
        assert!(matches!(
            Query::new(&model, &[1.0], 1.0),
            Err(OracleError::DimensionMismatch { what: "x", .. })
        ));
        assert!(Query::new(&model, &[1.0, f64::INFINITY], 1.0).is_err());
        assert!(Query::new(&model, &[1.0, 2.0], 0.0).is_err());
        let q = Query::new(&model, &[1.0, 2.0], 3.0).unwrap();
        assert!(q.encoder(&[0.0], &[0.0]).is_err());
        let e = Encoder::new(&[0.5, 1.0, 2.0], &[0.0, 0.0, 0.0]).unwrap();
        assert!(q.check_encoder(&e).is_err());
    }

    /// σ = e^{s/2}, σ² = e^s and θ round-trip exactly (the same exponentials).
    #[test]
    fn encoder_parameterisation() {
        let e = Encoder::new(&[0.5, -1.0], &[-3.0, 2.0]).unwrap();
        assert_eq!(e.sigma()[0], (-1.5f64).exp());
        assert_eq!(e.sigma2()[1], 2f64.exp());
        assert_eq!(Encoder::from_theta(&e.theta()).unwrap(), e);
    }
}
