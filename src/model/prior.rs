//! Factorized latent priors p0(z) = Π_k m(z_k) satisfying Assumption 1 (i) of the paper.
//!
//! Assumption 1 (i) asks for a smooth, fully supported m whose log-density has bounded,
//! non-positive second derivative and bounded third derivative. Both families here qualify:
//!
//! | prior | log m(t) | (log m)'' |
//! | --- | --- | --- |
//! | Gaussian, variance v | −t²/(2v) − ½ log(2πv) | −1/v |
//! | logistic, scale s | −log s − |t|/s − 2 log(1 + e^{−|t|/s}) | −2σ(u)(1 − σ(u))/s², u = t/s |
//!
//! All values and derivatives are closed forms evaluated without cancellation (the logistic form
//! above uses |t| so that no exponential overflows), accurate to a few ulps for every finite t.
//! The parameters are validated when the prior is built; evaluation cannot fail.

use super::sigmoid::{sigmoid_prime, softplus};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use std::f64::consts::PI;
use std::fmt;

/// Error building a prior or a source distribution (a [`Prior`] or a [`crate::model::Source`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DistributionError {
    /// A parameter was not finite and strictly positive (or outside its documented range).
    InvalidParameter {
        /// The distribution being built.
        distribution: &'static str,
        /// The parameter's name.
        parameter: &'static str,
        /// The value received.
        value: f64,
    },
}

impl fmt::Display for DistributionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DistributionError::InvalidParameter {
                distribution,
                parameter,
                value,
            } => write!(
                f,
                "{distribution} distribution: parameter {parameter} = {value} is not allowed"
            ),
        }
    }
}

impl std::error::Error for DistributionError {}

pub(crate) fn positive(
    distribution: &'static str,
    parameter: &'static str,
    value: f64,
) -> Result<f64, DistributionError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(DistributionError::InvalidParameter {
            distribution,
            parameter,
            value,
        })
    }
}

/// A one-dimensional factor m of the prior p0(z) = Π_k m(z_k) (paper eq. 3 and Assumption 1 (i)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prior {
    /// N(0, v): the Gaussian prior with variance `variance`.
    Gaussian {
        /// The variance v > 0.
        variance: f64,
    },
    /// The logistic distribution with location 0 and scale s: m(t) = e^{−t/s} / (s (1 + e^{−t/s})²),
    /// variance π² s² / 3.
    Logistic {
        /// The scale s > 0.
        scale: f64,
    },
}

impl Prior {
    /// The Gaussian prior N(0, v). Errors unless v is finite and positive.
    pub fn gaussian(variance: f64) -> Result<Self, DistributionError> {
        Ok(Prior::Gaussian {
            variance: positive("gaussian", "variance", variance)?,
        })
    }

    /// The standard normal prior N(0, 1), the paper's default.
    pub fn standard_normal() -> Self {
        Prior::Gaussian { variance: 1.0 }
    }

    /// The logistic prior with scale s. Errors unless s is finite and positive.
    pub fn logistic(scale: f64) -> Result<Self, DistributionError> {
        Ok(Prior::Logistic {
            scale: positive("logistic", "scale", scale)?,
        })
    }

    /// log m(t). Gaussian: −t²/(2v) − ½ log(2πv); logistic: −log s − |t|/s − 2 log1p(e^{−|t|/s}).
    #[inline]
    pub fn log_density(&self, t: f64) -> f64 {
        match *self {
            Prior::Gaussian { variance } => -0.5 * t * t / variance + gaussian_log_norm(variance),
            Prior::Logistic { scale } => {
                let a = t.abs() / scale;
                -scale.ln() - a - 2.0 * softplus(-a)
            }
        }
    }

    /// (log m)'(t). Gaussian: −t/v; logistic: −(1 − 2σ(−t/s))/s = −tanh(t/(2s))/s.
    #[inline]
    pub fn d1(&self, t: f64) -> f64 {
        match *self {
            Prior::Gaussian { variance } => -t / variance,
            Prior::Logistic { scale } => -(0.5 * t / scale).tanh() / scale,
        }
    }

    /// (log m)''(t) ≤ 0. Gaussian: −1/v; logistic: −2σ(u)(1 − σ(u))/s² with u = t/s
    /// (the derivative of −tanh(u/2)/s), bounded by 1/(2s²).
    #[inline]
    pub fn d2(&self, t: f64) -> f64 {
        match *self {
            Prior::Gaussian { variance } => -1.0 / variance,
            Prior::Logistic { scale } => -2.0 * sigmoid_prime(t / scale) / (scale * scale),
        }
    }

    /// (log m)'''(t). Gaussian: 0; logistic: −2 σ(1 − σ)(1 − 2σ)/s³ with σ = σ(t/s).
    #[inline]
    pub fn d3(&self, t: f64) -> f64 {
        match *self {
            Prior::Gaussian { .. } => 0.0,
            Prior::Logistic { scale } => {
                let u = t / scale;
                // 1 − 2σ(u) = −tanh(u/2), exact in sign and without cancellation.
                2.0 * sigmoid_prime(u) * (0.5 * u).tanh() / (scale * scale * scale)
            }
        }
    }

    /// The variance of m: v for the Gaussian, π² s²/3 for the logistic.
    pub fn variance(&self) -> f64 {
        match *self {
            Prior::Gaussian { variance } => variance,
            Prior::Logistic { scale } => PI * PI * scale * scale / 3.0,
        }
    }

    /// log p0(z) = Σ_k log m(z_k).
    pub fn log_density_sum(&self, z: &[f64]) -> f64 {
        z.iter().map(|&t| self.log_density(t)).sum()
    }

    /// One draw from m. Gaussian: √v·N(0,1); logistic: s·log(U/(1 − U)), U uniform on (0, 1).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            Prior::Gaussian { variance } => {
                let n: f64 = rng.sample(StandardNormal);
                variance.sqrt() * n
            }
            Prior::Logistic { scale } => {
                let u = open_unit(rng);
                scale * (u / (1.0 - u)).ln()
            }
        }
    }

    /// A short name for reports: "gaussian" or "logistic".
    pub fn name(&self) -> &'static str {
        match self {
            Prior::Gaussian { .. } => "gaussian",
            Prior::Logistic { .. } => "logistic",
        }
    }
}

/// −½ log(2πv): the log normalising constant of N(0, v), shared by the density and its
/// expectation under q (`objective::prior_term`).
#[inline]
pub(crate) fn gaussian_log_norm(variance: f64) -> f64 {
    -0.5 * (2.0 * PI * variance).ln()
}

/// A uniform draw on the open interval (0, 1): never 0, never 1.
pub(crate) fn open_unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    loop {
        let u: f64 = rng.random();
        if u > 0.0 && u < 1.0 {
            return u;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    fn priors() -> Vec<Prior> {
        vec![
            Prior::gaussian(1.0).unwrap(),
            Prior::gaussian(0.3).unwrap(),
            Prior::logistic(1.0).unwrap(),
            Prior::logistic(0.4).unwrap(),
        ]
    }

    /// Every prior integrates to 1 and has the documented variance (trapezoid rule on [−60σ, 60σ]
    /// with 200 001 points: the integrands are smooth and decay exponentially, so the trapezoid
    /// error is far below round-off; 1e-10 — absolute for the mass, relative for the variance —
    /// allows for the summation of 2e5 terms).
    #[test]
    fn integrates_to_one_with_documented_variance() {
        for p in priors() {
            let sd = p.variance().sqrt();
            let (lo, hi, n) = (-60.0 * sd, 60.0 * sd, 200_000);
            let h = (hi - lo) / n as f64;
            let (mut mass, mut second) = (0.0, 0.0);
            for i in 0..=n {
                let t = lo + h * i as f64;
                let w = if i == 0 || i == n { 0.5 * h } else { h };
                let m = p.log_density(t).exp();
                mass += w * m;
                second += w * m * t * t;
            }
            assert_within(
                &format!("{p:?}: mass"),
                &[mass],
                &[1.0],
                Tol::Scaled(1e-10, 1.0),
            );
            assert_within(
                &format!("{p:?}: variance"),
                &[second],
                &[p.variance()],
                Tol::Rel(1e-10),
            );
        }
    }

    /// d1, d2, d3 against central differences of the next-lower derivative, step h = 1e-5:
    /// truncation error h²·|f'''|/6 ≲ 1e-9 and round-off eps·|f|/h. For f = d1, d2 (|d1| ≤ 50
    /// here) the round-off is ≲ 1e-9, so 1e-8 absolute is safe for d2 and d3; for f = log p it
    /// grows with |log p| (≈ 365 at σ² = 0.3, t = 14.8: ≈ 8e-9), so d1's bound is 1e-8·(1 + |d1|).
    #[test]
    fn derivatives_match_finite_differences() {
        let h = 1e-5;
        for p in priors() {
            for i in -40..=40 {
                let t = 0.37 * i as f64;
                let fd1 = (p.log_density(t + h) - p.log_density(t - h)) / (2.0 * h);
                let fd2 = (p.d1(t + h) - p.d1(t - h)) / (2.0 * h);
                let fd3 = (p.d2(t + h) - p.d2(t - h)) / (2.0 * h);
                let scale = 1.0 + p.d1(t).abs();
                assert_within(
                    &format!("{p:?} d1 at {t}"),
                    &[p.d1(t)],
                    &[fd1],
                    Tol::Scaled(1e-8, scale),
                );
                assert_within(
                    &format!("{p:?} d2 at {t}"),
                    &[p.d2(t)],
                    &[fd2],
                    Tol::Scaled(1e-8, 1.0),
                );
                assert_within(
                    &format!("{p:?} d3 at {t}"),
                    &[p.d3(t)],
                    &[fd3],
                    Tol::Scaled(1e-8, 1.0),
                );
                assert!(p.d2(t) <= 0.0);
            }
        }
    }

    /// The logistic log-density far in the tails equals its asymptote −log s − |t|/s to round-off:
    /// no overflow at |t|/s = 700 or beyond.
    #[test]
    fn logistic_tails_are_finite() {
        let p = Prior::logistic(0.5).unwrap();
        for t in [-1e4f64, -700.0, 700.0, 1e4] {
            let expected = -(0.5f64).ln() - t.abs() / 0.5;
            assert_within(
                &format!("log p({t})"),
                &[p.log_density(t)],
                &[expected],
                Tol::Rel(1e-12),
            );
            assert!(p.d1(t).is_finite() && p.d2(t).is_finite() && p.d3(t).is_finite());
        }
    }

    #[test]
    fn bad_parameters_are_errors() {
        for v in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Prior::gaussian(v).is_err());
            assert!(Prior::logistic(v).is_err());
        }
    }

    /// Sample moments against the documented variance: with n = 200 000 draws the standard error
    /// of the sample variance is ≈ var·√(κ−1)/√n (κ = 3 or 4.2), below 0.5 % of var; allow 2 %.
    #[test]
    fn sampling_matches_variance() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for p in priors() {
            let n = 200_000;
            let s: f64 = (0..n).map(|_| p.sample(&mut rng).powi(2)).sum::<f64>() / n as f64;
            assert_within(
                &format!("{p:?}: sample variance"),
                &[s],
                &[p.variance()],
                Tol::Rel(0.02),
            );
        }
    }
}
