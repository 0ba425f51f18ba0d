//! Source distributions for generating data z ~ p(z) in the paper's experiments (§4).
//!
//! The Gaussian, logistic and Beta-logistic sources are the priors of [`Prior`] and satisfy
//! Assumption 1 (i). The others do **not**, and are here only to generate data as the paper's
//! experiments do:
//!
//! | source | density of each coordinate | why outside Assumption 1 (i) |
//! | --- | --- | --- |
//! | uniform on [lo, hi] (centred: [−½, ½]; the authors' unit cube: [`Source::unit_cube`], [0, 1]) | 1/(hi − lo) on the box | not fully supported, not smooth |
//! | Beta(α, β) − ½ (centred) | y^{α−1}(1−y)^{β−1}/B(α, β), y = t + ½ ∈ (0, 1) | support (−½, ½) |
//! | Beta(α, β) on (0, 1) (the authors' draw, [`Source::beta_unit`]) | t^{α−1}(1−t)^{β−1}/B(α, β) | support (0, 1) |
//! | Laplace, scale b | e^{−|t|/b}/(2b) | log-density not differentiable at 0 |
//!
//! The authors draw their sources on (0, 1)ᵈ — uniform in §4.3, Beta in Sprites — and model them
//! with a sigmoid after a Gaussian latent; the oracle's equivalent is the Beta-logistic prior
//! behind a first `sigmoid` step (docs/model-format.md). Data z drawn from [`Source::unit_cube`] or
//! [`Source::beta_unit`] are then the sigmoid's outputs y; the oracle's latents are logit(y).
//!
//! Coordinates are i.i.d.; `log_density` is the sum over coordinates, −∞ outside the support.

use super::prior::{open_unit, positive, DistributionError, Prior};
use super::special::ln_beta;
use rand::{Rng, RngExt};
use rand_distr::{Beta, Distribution};

/// A factorized source distribution: every coordinate i.i.d. from the same one-dimensional law.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// One of the priors (Gaussian or logistic), within Assumption 1 (i).
    Prior(Prior),
    /// Uniform on [lo, hi] in every coordinate (outside Assumption 1 (i)).
    Uniform {
        /// Lower end.
        lo: f64,
        /// Upper end, > lo.
        hi: f64,
    },
    /// Beta(α, β) on (0, 1), unshifted, as the authors draw their Beta sources (outside
    /// Assumption 1 (i)).
    BetaUnit {
        /// α > 0.
        alpha: f64,
        /// β > 0.
        beta: f64,
        /// The validated sampler.
        sampler: Beta<f64>,
    },
    /// Beta(α, β) shifted by −½, supported on (−½, ½) (outside Assumption 1 (i)).
    Beta {
        /// α > 0.
        alpha: f64,
        /// β > 0.
        beta: f64,
        /// The validated sampler.
        sampler: Beta<f64>,
    },
    /// Laplace with location 0 and scale b (outside Assumption 1 (i)).
    Laplace {
        /// b > 0.
        scale: f64,
    },
}

impl Source {
    /// Uniform on [lo, hi]; errors unless both are finite and lo < hi.
    pub fn uniform(lo: f64, hi: f64) -> Result<Self, DistributionError> {
        if !lo.is_finite() {
            return Err(DistributionError::InvalidParameter {
                distribution: "uniform",
                parameter: "lo",
                value: lo,
            });
        }
        positive("uniform", "hi - lo", hi - lo)?;
        Ok(Source::Uniform { lo, hi })
    }

    /// Beta(α, β) − ½; errors unless α, β are finite and positive.
    pub fn beta(alpha: f64, beta: f64) -> Result<Self, DistributionError> {
        let sampler = beta_sampler("beta", alpha, beta)?;
        Ok(Source::Beta {
            alpha,
            beta,
            sampler,
        })
    }

    /// The uniform law on the unit cube [0, 1]ᵈ, as the authors draw their §4.3 sources (each
    /// coordinate u = the generator's uniform double in [0, 1)).
    pub fn unit_cube() -> Self {
        Source::Uniform { lo: 0.0, hi: 1.0 }
    }

    /// Beta(α, β) on (0, 1), as the authors draw their Beta sources (rand_distr's Beta sampler);
    /// errors unless α, β are finite and positive.
    pub fn beta_unit(alpha: f64, beta: f64) -> Result<Self, DistributionError> {
        let sampler = beta_sampler("beta-unit", alpha, beta)?;
        Ok(Source::BetaUnit {
            alpha,
            beta,
            sampler,
        })
    }

    /// Laplace with scale b; errors unless b is finite and positive.
    pub fn laplace(scale: f64) -> Result<Self, DistributionError> {
        Ok(Source::Laplace {
            scale: positive("laplace", "scale", scale)?,
        })
    }

    /// Whether the source satisfies Assumption 1 (i) (smooth, full support, log-concave).
    pub fn satisfies_assumption_1(&self) -> bool {
        matches!(self, Source::Prior(_))
    }

    /// log of the one-dimensional density at t; −∞ outside the support.
    pub fn log_density_1d(&self, t: f64) -> f64 {
        match self {
            Source::Prior(p) => p.log_density(t),
            Source::Uniform { lo, hi } => {
                if (*lo..=*hi).contains(&t) {
                    -(hi - lo).ln()
                } else {
                    f64::NEG_INFINITY
                }
            }
            Source::Beta { alpha, beta, .. } => {
                let y = t + 0.5;
                if y > 0.0 && y < 1.0 {
                    // ln(1 − y) computed as ln(½ − t) to keep digits near the right end.
                    (alpha - 1.0) * y.ln() + (beta - 1.0) * (0.5 - t).ln() - ln_beta(*alpha, *beta)
                } else {
                    f64::NEG_INFINITY
                }
            }
            Source::BetaUnit { alpha, beta, .. } => {
                if t > 0.0 && t < 1.0 {
                    // ln(1 − t) as log1p(−t): full precision near t = 0.
                    (alpha - 1.0) * t.ln() + (beta - 1.0) * (-t).ln_1p() - ln_beta(*alpha, *beta)
                } else {
                    f64::NEG_INFINITY
                }
            }
            Source::Laplace { scale } => -(2.0 * scale).ln() - t.abs() / scale,
        }
    }

    /// log p(z) = Σ_k log p(z_k).
    pub fn log_density(&self, z: &[f64]) -> f64 {
        z.iter().map(|&t| self.log_density_1d(t)).sum()
    }

    /// One coordinate drawn from the source.
    pub fn sample_1d<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Source::Prior(p) => p.sample(rng),
            Source::Uniform { lo, hi } => {
                let u: f64 = rng.random();
                lo + (hi - lo) * u
            }
            Source::Beta { sampler, .. } => sampler.sample(rng) - 0.5,
            Source::BetaUnit { sampler, .. } => sampler.sample(rng),
            Source::Laplace { scale } => {
                // Inverse CDF on a symmetric uniform: t = −b·sign(u)·ln(1 − 2|u|), u ∈ (−½, ½).
                let u = open_unit(rng) - 0.5;
                -scale * u.signum() * (-2.0 * u.abs()).ln_1p()
            }
        }
    }

    /// A short name for reports and the CLI.
    pub fn name(&self) -> &'static str {
        match self {
            Source::Prior(p) => p.name(),
            Source::Uniform { .. } => "uniform",
            Source::Beta { .. } => "beta",
            Source::BetaUnit { .. } => "beta-unit",
            Source::Laplace { .. } => "laplace",
        }
    }
}

/// rand_distr's Beta(α, β) sampler, for α and β finite and positive (`distribution` names the
/// source in errors).
fn beta_sampler(
    distribution: &'static str,
    alpha: f64,
    beta: f64,
) -> Result<Beta<f64>, DistributionError> {
    positive(distribution, "alpha", alpha)?;
    positive(distribution, "beta", beta)?;
    Beta::new(alpha, beta).map_err(|_| DistributionError::InvalidParameter {
        distribution,
        parameter: "alpha/beta",
        value: alpha,
    })
}

impl From<Prior> for Source {
    fn from(p: Prior) -> Self {
        Source::Prior(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};
    use rand::SeedableRng;

    fn sources() -> Vec<(Source, f64, f64)> {
        // (source, mean, variance) from the textbook closed forms.
        vec![
            (Source::uniform(-0.5, 1.5).unwrap(), 0.5, 4.0 / 12.0),
            (
                Source::beta(2.0, 5.0).unwrap(),
                2.0 / 7.0 - 0.5,
                10.0 / (49.0 * 8.0),
            ),
            (Source::laplace(0.7).unwrap(), 0.0, 2.0 * 0.49),
            (Source::unit_cube(), 0.5, 1.0 / 12.0),
            (
                Source::beta_unit(2.0, 5.0).unwrap(),
                2.0 / 7.0,
                10.0 / (49.0 * 8.0),
            ),
            // Beta(3, 1.5): mean 3/4.5, variance αβ/((α + β)²(α + β + 1)) = 4.5/(20.25·5.5).
            (
                Source::beta_unit(3.0, 1.5).unwrap(),
                3.0 / 4.5,
                4.5 / (20.25 * 5.5),
            ),
        ]
    }

    /// Densities integrate to 1 with the closed-form mean and variance (midpoint rule with 1e6
    /// cells on the support, or ±60 scales for Laplace: the Beta(2, 5) and uniform integrands are
    /// polynomial on the support, Laplace has one kink at a cell edge, so 1e-9 absolute is
    /// generous; Beta(3, 1.5) has (1 − t)^{1/2} at the right end, whose midpoint error is
    /// O(h^{3/2}) = 1e-9 with h = 1e-6 — allowed 1e-8 for it).
    #[test]
    fn densities_integrate_to_one() {
        for (s, mean, var) in sources() {
            let (lo, hi) = match &s {
                Source::Uniform { lo, hi } => (*lo, *hi),
                Source::Beta { .. } => (-0.5, 0.5),
                Source::BetaUnit { .. } => (0.0, 1.0),
                Source::Laplace { scale } => (-60.0 * scale, 60.0 * scale),
                Source::Prior(_) => unreachable!(),
            };
            let n = 1_000_000;
            let h = (hi - lo) / n as f64;
            let (mut m0, mut m1, mut m2) = (0.0, 0.0, 0.0);
            for i in 0..n {
                let t = lo + h * (i as f64 + 0.5);
                let p = s.log_density_1d(t).exp() * h;
                m0 += p;
                m1 += p * t;
                m2 += p * t * t;
            }
            let tol = match &s {
                Source::BetaUnit { beta, .. } if *beta < 2.0 => Tol::Scaled(1e-8, 1.0),
                _ => Tol::Scaled(1e-9, 1.0),
            };
            assert_within(&format!("{s:?} mass"), &[m0], &[1.0], tol);
            assert_within(&format!("{s:?} mean"), &[m1], &[mean], tol);
            assert_within(&format!("{s:?} variance"), &[m2 - m1 * m1], &[var], tol);
        }
    }

    /// Sample mean and variance within 5 standard errors of the closed forms (n = 100 000).
    #[test]
    fn samples_match_moments() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for (s, mean, var) in sources() {
            let n = 100_000;
            let xs: Vec<f64> = (0..n).map(|_| s.sample_1d(&mut rng)).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
            let se_mean = (var / n as f64).sqrt();
            assert_within(
                &format!("{s:?} sample mean"),
                &[m],
                &[mean],
                Tol::Scaled(5.0, se_mean),
            );
            // Var of the sample variance ≤ (κ − 1)·var²/n with kurtosis κ ≤ 6 (Laplace).
            let se_var = var * (5.0 / n as f64).sqrt();
            assert_within(
                &format!("{s:?} sample variance"),
                &[v],
                &[var],
                Tol::Scaled(5.0, se_var),
            );
            assert!(xs.iter().all(|&x| s.log_density_1d(x).is_finite()));
        }
    }

    /// The authors' Beta sources seen through the logit are the Beta-logistic prior: for y drawn
    /// from [`Source::beta_unit`], logit(y) has mean ψ(α) − ψ(β) and variance ψ'(α) + ψ'(β)
    /// (n = 100 000: within 5 standard errors, the variance's with kurtosis ≤ 6 as above). The
    /// unit cube's draws lie in [0, 1).
    #[test]
    fn logit_of_unit_beta_is_beta_logistic() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        for (a, b) in [(2.0, 5.0), (0.7, 1.3), (1.0, 1.0)] {
            let src = Source::beta_unit(a, b).unwrap();
            let prior = Prior::beta_logistic(a, b).unwrap();
            let n = 100_000;
            let ts: Vec<f64> = (0..n)
                .map(|_| {
                    let y = src.sample_1d(&mut rng);
                    y.ln() - (-y).ln_1p()
                })
                .collect();
            let m = ts.iter().sum::<f64>() / n as f64;
            let v = ts.iter().map(|t| (t - m).powi(2)).sum::<f64>() / n as f64;
            let var = prior.variance();
            assert_within(
                &format!("logit Beta({a}, {b}) mean"),
                &[m],
                &[prior.mean()],
                Tol::Scaled(5.0, (var / n as f64).sqrt()),
            );
            assert_within(
                &format!("logit Beta({a}, {b}) variance"),
                &[v],
                &[var],
                Tol::Scaled(5.0, var * (5.0 / n as f64).sqrt()),
            );
        }
        let cube = Source::unit_cube();
        assert!((0..1000).all(|_| (0.0..1.0).contains(&cube.sample_1d(&mut rng))));
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(Source::uniform(1.0, 1.0).is_err());
        assert!(Source::uniform(f64::NAN, 1.0).is_err());
        assert!(Source::beta(0.0, 1.0).is_err());
        assert!(Source::beta(1.0, f64::INFINITY).is_err());
        assert!(Source::laplace(-1.0).is_err());
        assert!(Source::beta_unit(-1.0, 1.0).is_err());
        assert!(Source::beta_unit(1.0, f64::NAN).is_err());
    }
}
