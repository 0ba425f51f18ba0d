//! Source distributions for generating data z ~ p(z) in the paper's experiments (§4).
//!
//! The Gaussian and logistic sources are the priors of [`Prior`] and satisfy Assumption 1 (i).
//! The other three do **not**, and are here only to generate data as the paper's experiments do:
//!
//! | source | density of each coordinate | why outside Assumption 1 (i) |
//! | --- | --- | --- |
//! | uniform on [lo, hi] | 1/(hi − lo) on the box | not fully supported, not smooth |
//! | Beta(α, β) − ½ (as in the authors' code) | y^{α−1}(1−y)^{β−1}/B(α, β), y = t + ½ ∈ (0, 1) | support (−½, ½) |
//! | Laplace, scale b | e^{−|t|/b}/(2b) | log-density not differentiable at 0 |
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
        positive("beta", "alpha", alpha)?;
        positive("beta", "beta", beta)?;
        let sampler = Beta::new(alpha, beta).map_err(|_| DistributionError::InvalidParameter {
            distribution: "beta",
            parameter: "alpha/beta",
            value: alpha,
        })?;
        Ok(Source::Beta {
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
            Source::Laplace { .. } => "laplace",
        }
    }
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
        ]
    }

    /// Densities integrate to 1 with the closed-form mean and variance (midpoint rule with 1e6
    /// cells on the support, or ±60 scales for Laplace: the Beta(2, 5) and uniform integrands are
    /// polynomial on the support, Laplace has one kink at a cell edge, so 1e-9 absolute is
    /// generous).
    #[test]
    fn densities_integrate_to_one() {
        for (s, mean, var) in sources() {
            let (lo, hi) = match &s {
                Source::Uniform { lo, hi } => (*lo, *hi),
                Source::Beta { .. } => (-0.5, 0.5),
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
            let tol = Tol::Scaled(1e-9, 1.0);
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

    #[test]
    fn bad_parameters_are_errors() {
        assert!(Source::uniform(1.0, 1.0).is_err());
        assert!(Source::uniform(f64::NAN, 1.0).is_err());
        assert!(Source::beta(0.0, 1.0).is_err());
        assert!(Source::beta(1.0, f64::INFINITY).is_err());
        assert!(Source::laplace(-1.0).is_err());
    }
}
