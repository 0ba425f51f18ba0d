//! Factorized latent priors p0(z) = Π_k m(z_k) satisfying Assumption 1 (i) of the paper.
//!
//! Assumption 1 (i) asks for a smooth, fully supported m whose log-density has bounded,
//! non-positive second derivative and bounded third derivative. All three families here qualify:
//!
//! | prior | log m(t) | (log m)'' |
//! | --- | --- | --- |
//! | Gaussian, variance v | −t²/(2v) − ½ log(2πv) | −1/v |
//! | logistic, scale s | −log s − |t|/s − 2 log(1 + e^{−|t|/s}) | −2σ(u)(1 − σ(u))/s², u = t/s |
//! | Beta-logistic (a, b) | a log σ(t) + b log σ(−t) − ln B(a, b) | −(a + b) σ(t) σ(−t) |
//!
//! The Beta-logistic law (type-IV logistic) is the law of t = logit(y) for y ~ Beta(a, b): the
//! density of y, y^{a−1}(1 − y)^{b−1}/B(a, b), times dy/dt = σ(t)σ(−t), is σ(t)^a σ(−t)^b / B(a, b).
//! Beta(1, 1) — uniform y — gives the standard logistic. It is what the authors' uniform and Beta
//! priors on (0, 1)ᵈ become when the sigmoid they apply to the Gaussian latent is moved into the
//! decoder (docs/model-format.md, "The authors' uniform and Beta priors").
//!
//! All values and derivatives are closed forms evaluated without cancellation (the logistic forms
//! use |t| or e^{−|t|} so that no exponential overflows), accurate to a few ulps for every finite t
//! (|t| ≥ 700 included) — of the value itself, or, for the Beta-logistic (log m)' = a σ(−t) − b σ(t),
//! which passes through zero at t = ln(a/b), of a + b. The parameters are validated when the prior
//! is built; evaluation cannot fail.

use super::sigmoid::{sigmoid_pair, sigmoid_prime, softplus};
use super::special::{digamma, ln_beta, trigamma};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Gamma, StandardNormal};
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
    /// The Beta-logistic (type-IV logistic) law: the law of logit(y) for y ~ Beta(a, b), density
    /// m(t) = σ(t)^a σ(−t)^b / B(a, b); mean ψ(a) − ψ(b), variance ψ'(a) + ψ'(b). (1, 1) is the
    /// standard logistic.
    BetaLogistic {
        /// The Beta law's first parameter a > 0 (the exponent of σ(t)).
        a: f64,
        /// The Beta law's second parameter b > 0 (the exponent of σ(−t)).
        b: f64,
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

    /// The Beta-logistic prior: logit(y) for y ~ Beta(a, b). Errors unless a and b are finite and
    /// positive.
    pub fn beta_logistic(a: f64, b: f64) -> Result<Self, DistributionError> {
        Ok(Prior::BetaLogistic {
            a: positive("beta-logistic", "a", a)?,
            b: positive("beta-logistic", "b", b)?,
        })
    }

    /// log m(t). Gaussian: −t²/(2v) − ½ log(2πv); logistic: −log s − |t|/s − 2 log1p(e^{−|t|/s});
    /// Beta-logistic: a log σ(t) + b log σ(−t) − ln B(a, b) = −a softplus(−t) − b softplus(t)
    /// − ln B(a, b) (no overflow, no cancellation between the two softplus terms: both are ≤ 0).
    #[inline]
    pub fn log_density(&self, t: f64) -> f64 {
        match *self {
            Prior::Gaussian { variance } => -0.5 * t * t / variance + gaussian_log_norm(variance),
            Prior::Logistic { scale } => {
                let a = t.abs() / scale;
                -scale.ln() - a - 2.0 * softplus(-a)
            }
            Prior::BetaLogistic { a, b } => -a * softplus(-t) - b * softplus(t) - ln_beta(a, b),
        }
    }

    /// (log m)'(t). Gaussian: −t/v; logistic: −(1 − 2σ(−t/s))/s = −tanh(t/(2s))/s;
    /// Beta-logistic: a σ(−t) − b σ(t) (each σ from e^{−|t|}; a few ulps of a + b absolute).
    #[inline]
    pub fn d1(&self, t: f64) -> f64 {
        match *self {
            Prior::Gaussian { variance } => -t / variance,
            Prior::Logistic { scale } => -(0.5 * t / scale).tanh() / scale,
            Prior::BetaLogistic { a, b } => {
                let (s, c) = sigmoid_pair(t);
                a * c - b * s
            }
        }
    }

    /// (log m)''(t) ≤ 0. Gaussian: −1/v; logistic: −2σ(u)(1 − σ(u))/s² with u = t/s
    /// (the derivative of −tanh(u/2)/s), bounded by 1/(2s²); Beta-logistic: −(a + b) σ(t)σ(−t),
    /// bounded by (a + b)/4.
    #[inline]
    pub fn d2(&self, t: f64) -> f64 {
        match *self {
            Prior::Gaussian { variance } => -1.0 / variance,
            Prior::Logistic { scale } => -2.0 * sigmoid_prime(t / scale) / (scale * scale),
            Prior::BetaLogistic { a, b } => -(a + b) * sigmoid_prime(t),
        }
    }

    /// (log m)'''(t). Gaussian: 0; logistic: −2 σ(1 − σ)(1 − 2σ)/s³ with σ = σ(t/s);
    /// Beta-logistic: −(a + b) σ(1 − σ)(1 − 2σ) with σ = σ(t).
    #[inline]
    pub fn d3(&self, t: f64) -> f64 {
        match *self {
            Prior::Gaussian { .. } => 0.0,
            Prior::Logistic { scale } => {
                let u = t / scale;
                // 1 − 2σ(u) = −tanh(u/2), exact in sign and without cancellation.
                2.0 * sigmoid_prime(u) * (0.5 * u).tanh() / (scale * scale * scale)
            }
            Prior::BetaLogistic { a, b } => (a + b) * sigmoid_prime(t) * (0.5 * t).tanh(),
        }
    }

    /// The mean of m: 0 for the Gaussian and the logistic, ψ(a) − ψ(b) for the Beta-logistic
    /// (t = ln G_a − ln G_b with G_a, G_b independent Gamma(a), Gamma(b), and E ln G_a = ψ(a)).
    pub fn mean(&self) -> f64 {
        match *self {
            Prior::Gaussian { .. } | Prior::Logistic { .. } => 0.0,
            Prior::BetaLogistic { a, b } => digamma(a) - digamma(b),
        }
    }

    /// The variance of m: v for the Gaussian, π² s²/3 for the logistic, ψ'(a) + ψ'(b) for the
    /// Beta-logistic (Var ln G_a = ψ'(a)).
    pub fn variance(&self) -> f64 {
        match *self {
            Prior::Gaussian { variance } => variance,
            Prior::Logistic { scale } => PI * PI * scale * scale / 3.0,
            Prior::BetaLogistic { a, b } => trigamma(a) + trigamma(b),
        }
    }

    /// The half-width of the strip |Im t| < w around the real axis in which log m is analytic
    /// (what the trapezoid rule of the prior term converges with): ∞ for the Gaussian, π s for the
    /// logistic, π for the Beta-logistic (log σ(±t) is singular at t = iπ(2k + 1)).
    pub(crate) fn analytic_half_width(&self) -> f64 {
        match *self {
            Prior::Gaussian { .. } => f64::INFINITY,
            Prior::Logistic { scale } => PI * scale,
            Prior::BetaLogistic { .. } => PI,
        }
    }

    /// log p0(z) = Σ_k log m(z_k).
    pub fn log_density_sum(&self, z: &[f64]) -> f64 {
        z.iter().map(|&t| self.log_density(t)).sum()
    }

    /// One draw from m. Gaussian: √v·N(0,1); logistic: s·log(U/(1 − U)), U uniform on (0, 1);
    /// Beta-logistic: ln G_a − ln G_b with G_a ~ Gamma(a), G_b ~ Gamma(b) independent (then
    /// G_a/(G_a + G_b) ~ Beta(a, b), whose logit this is), each logarithm drawn without underflow
    /// (see `ln_gamma_draw`).
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
            Prior::BetaLogistic { a, b } => ln_gamma_draw(a, rng) - ln_gamma_draw(b, rng),
        }
    }

    /// A short name for reports, as in model files: "gaussian", "logistic" or "beta-logistic".
    pub fn name(&self) -> &'static str {
        match self {
            Prior::Gaussian { .. } => "gaussian",
            Prior::Logistic { .. } => "logistic",
            Prior::BetaLogistic { .. } => "beta-logistic",
        }
    }
}

/// ln G for one draw G ~ Gamma(k, 1), k > 0, without underflow: for k ≥ 1 the logarithm of
/// rand_distr's draw (G ≥ 1e-300 with probability 1 − O(1e-300)); for k < 1 by the identity
/// Gamma(k) = Gamma(k + 1)·U^{1/k} (U uniform on (0, 1), independent), i.e.
/// ln G = ln G_{k+1} + ln(U)/k, which stays finite where G itself would underflow to 0 (for small k
/// most of the mass of G lies below 1e-308).
fn ln_gamma_draw<R: Rng + ?Sized>(k: f64, rng: &mut R) -> f64 {
    let shape = if k >= 1.0 { k } else { k + 1.0 };
    // The shape is finite and ≥ 1 (validated at construction), so Gamma::new cannot fail.
    let g = Gamma::new(shape, 1.0).map_or(f64::NAN, |d| d.sample(rng));
    if k >= 1.0 {
        g.ln()
    } else {
        g.ln() + open_unit(rng).ln() / k
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
            Prior::beta_logistic(1.0, 1.0).unwrap(),
            Prior::beta_logistic(2.0, 5.0).unwrap(),
            Prior::beta_logistic(0.5, 3.0).unwrap(),
            Prior::beta_logistic(30.0, 0.7).unwrap(),
        ]
    }

    /// Every prior integrates to 1 and has the documented mean (ψ(a) − ψ(b) for the
    /// Beta-logistic, a textbook identity checked here independently of the closed form of m) and
    /// variance (trapezoid rule on mean ± 60 sd with 200 001 points: the integrands are smooth and
    /// decay at least like e^{−min(a, b)|t|} ≤ e^{−0.5·60·1.6} ≈ 1e-21 at the ends, so the
    /// trapezoid error is far below round-off; 1e-10 — absolute for the mass and the mean,
    /// relative for the variance — allows for the summation of 2e5 terms).
    #[test]
    fn integrates_to_one_with_documented_moments() {
        for p in priors() {
            let (mean, sd) = (p.mean(), p.variance().sqrt());
            let (lo, hi, n) = (mean - 60.0 * sd, mean + 60.0 * sd, 200_000);
            let h = (hi - lo) / n as f64;
            let (mut mass, mut first, mut second) = (0.0, 0.0, 0.0);
            for i in 0..=n {
                let t = lo + h * i as f64;
                let w = if i == 0 || i == n { 0.5 * h } else { h };
                let m = p.log_density(t).exp();
                mass += w * m;
                first += w * m * (t - mean);
                second += w * m * (t - mean) * (t - mean);
            }
            assert_within(
                &format!("{p:?}: mass"),
                &[mass],
                &[1.0],
                Tol::Scaled(1e-10, 1.0),
            );
            assert_within(
                &format!("{p:?}: mean"),
                &[first + mean],
                &[mean],
                Tol::Scaled(1e-10, sd.max(1.0)),
            );
            assert_within(
                &format!("{p:?}: variance"),
                &[second],
                &[p.variance()],
                Tol::Rel(1e-10),
            );
        }
    }

    /// The Beta-logistic density against its definition as the law of logit(y), y ~ Beta(a, b):
    /// m(t) = y^{a−1}(1 − y)^{b−1}/B(a, b) · y(1 − y) with y = σ(t) (independent arithmetic: the
    /// Beta density times the Jacobian, 1e-13 relative for |log m| ≤ 25 here, a few ulps of each
    /// logarithm); and Beta(1, 1) is the standard logistic, value and three derivatives to 4 eps of
    /// max(1, |value|).
    #[test]
    fn beta_logistic_is_the_logit_of_a_beta() {
        for (a, b) in [(2.0, 5.0), (0.5, 3.0), (1.0, 1.0), (7.5, 7.5)] {
            let p = Prior::beta_logistic(a, b).unwrap();
            for i in -24..=24 {
                let t = 0.25 * i as f64;
                let y = 1.0 / (1.0 + (-t).exp());
                let beta_pdf = (a - 1.0) * y.ln() + (b - 1.0) * (1.0 - y).ln() - ln_beta(a, b);
                let reference = beta_pdf + (y * (1.0 - y)).ln();
                assert_within(
                    &format!("log m({t}) for Beta({a}, {b})"),
                    &[p.log_density(t)],
                    &[reference],
                    Tol::Scaled(1e-13, reference.abs().max(1.0)),
                );
            }
        }
        let (bl, lg) = (
            Prior::beta_logistic(1.0, 1.0).unwrap(),
            Prior::logistic(1.0).unwrap(),
        );
        for i in -100..=100 {
            let t = 0.173 * i as f64;
            let tol = Tol::Mixed(4.0 * f64::EPSILON);
            assert_within("log m", &[bl.log_density(t)], &[lg.log_density(t)], tol);
            assert_within("d1", &[bl.d1(t)], &[lg.d1(t)], tol);
            assert_within("d2", &[bl.d2(t)], &[lg.d2(t)], tol);
            assert_within("d3", &[bl.d3(t)], &[lg.d3(t)], tol);
        }
    }

    /// The Beta-logistic far in the tails equals its asymptotes (a t − ln B(a, b) for t → −∞,
    /// −b t − ln B(a, b) for t → +∞; the neglected terms a·e^{−|t|} are below 1e-300) to 1e-13
    /// relative; (log m)' tends to a resp. −b, (log m)'' and (log m)''' to 0; nothing overflows
    /// at |t| = 700 or beyond.
    #[test]
    fn beta_logistic_tails_are_finite() {
        let (a, b) = (2.5, 0.3);
        let p = Prior::beta_logistic(a, b).unwrap();
        for t in [-1e4f64, -700.0, 700.0, 1e4] {
            let (expected, slope) = if t < 0.0 { (a * t, a) } else { (-b * t, -b) };
            assert_within(
                &format!("log m({t})"),
                &[p.log_density(t)],
                &[expected - ln_beta(a, b)],
                Tol::Rel(1e-13),
            );
            assert_within(
                &format!("(log m)'({t})"),
                &[p.d1(t)],
                &[slope],
                Tol::Rel(4.0 * f64::EPSILON),
            );
            assert!(p.d2(t).abs() < 1e-300 && p.d3(t).abs() < 1e-300);
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
            assert!(Prior::beta_logistic(v, 1.0).is_err());
            assert!(Prior::beta_logistic(1.0, v).is_err());
        }
    }

    /// Sample moments against the documented mean and variance: with n = 200 000 draws the
    /// standard error of the sample variance is ≈ var·√(κ−1)/√n, with kurtosis κ = 3, 4.2, and up
    /// to 6.4 for the Beta-logistic (0.5, 3) (excess kurtosis (ψ'''(a) + ψ'''(b))/var² ≈ 97.6/28.4),
    /// i.e. at most 0.52 % of var; allow 2 % (≈ 4 standard errors). The sample mean's standard
    /// error is sd/√n ≈ 0.0022 sd; allow 0.01 sd (≈ 4.5 standard errors).
    #[test]
    fn sampling_matches_moments() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for p in priors() {
            let n = 200_000;
            let (mean, var) = (p.mean(), p.variance());
            let xs: Vec<f64> = (0..n).map(|_| p.sample(&mut rng)).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let s: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            assert_within(
                &format!("{p:?}: sample mean"),
                &[m],
                &[mean],
                Tol::Scaled(0.01, var.sqrt()),
            );
            assert_within(
                &format!("{p:?}: sample variance"),
                &[s],
                &[var],
                Tol::Rel(0.02),
            );
        }
    }

    /// Draws of a Beta-logistic with a tiny parameter stay finite where the Gamma draw itself
    /// underflows (a = 0.01: P(G_a < 1e-308) = P(U^{100} < …) ≈ 0.9): the log-space draw.
    #[test]
    fn beta_logistic_draws_do_not_underflow() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let p = Prior::beta_logistic(0.01, 0.02).unwrap();
        assert!((0..10_000).all(|_| p.sample(&mut rng).is_finite()));
    }
}
