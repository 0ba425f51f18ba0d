//! The one-dimensional laws a source coordinate may follow (the model's prior or a `--source`), with
//! what the goodness-of-fit test needs: ln F and ln(1 − F) (accurate in both tails), the mean, the
//! variance and the fourth central moment.

use super::normal;
use ima_oracle::model::special::{ln_incomplete_beta, pentagamma};
use ima_oracle::{Prior, Source};
use std::f64::consts::{LN_2, PI};

/// A law of one source coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Law {
    /// N(0, variance).
    Gaussian { variance: f64 },
    /// Logistic with location 0 and the given scale.
    Logistic { scale: f64 },
    /// Beta-logistic (a, b): logit(y) for y ~ Beta(a, b).
    BetaLogistic { a: f64, b: f64 },
    /// Uniform on [lo, hi].
    Uniform { lo: f64, hi: f64 },
    /// Beta(2, 2) − ½, on (−½, ½).
    Beta22,
    /// Laplace with location 0 and the given scale.
    Laplace { scale: f64 },
}

/// ln(1 + eʸ) without overflow.
fn softplus(y: f64) -> f64 {
    y.max(0.0) + (-y.abs()).exp().ln_1p()
}

impl Law {
    /// The law of each coordinate of `source`; Beta sources other than Beta(2, 2) (which the CLI
    /// does not draw) are not supported.
    pub fn of(source: &Source) -> Result<Law, String> {
        match *source {
            Source::Prior(Prior::Gaussian { variance }) => Ok(Law::Gaussian { variance }),
            Source::Prior(Prior::Logistic { scale }) => Ok(Law::Logistic { scale }),
            Source::Prior(Prior::BetaLogistic { a, b }) => Ok(Law::BetaLogistic { a, b }),
            Source::Uniform { lo, hi } => Ok(Law::Uniform { lo, hi }),
            Source::Beta { alpha, beta, .. } if alpha == 2.0 && beta == 2.0 => Ok(Law::Beta22),
            Source::Laplace { scale } => Ok(Law::Laplace { scale }),
            ref other => Err(format!("no goodness-of-fit test for the source {other:?}")),
        }
    }

    /// The law as the report names it.
    pub fn name(&self) -> String {
        match *self {
            Law::Gaussian { variance } => format!("gaussian(variance {variance})"),
            Law::Logistic { scale } => format!("logistic(scale {scale})"),
            Law::BetaLogistic { a, b } => format!("beta-logistic({a}, {b})"),
            Law::Uniform { lo, hi } => format!("uniform[{lo}, {hi}]"),
            Law::Beta22 => "beta(2, 2) - 1/2".into(),
            Law::Laplace { scale } => format!("laplace(scale {scale})"),
        }
    }

    /// (mean, variance, fourth central moment), from the textbook closed forms.
    pub fn moments(&self) -> (f64, f64, f64) {
        match *self {
            Law::Gaussian { variance: v } => (0.0, v, 3.0 * v * v),
            Law::Logistic { scale: s } => {
                let s4 = s.powi(4);
                (0.0, PI * PI * s * s / 3.0, 7.0 * PI.powi(4) * s4 / 15.0)
            }
            Law::Uniform { lo, hi } => {
                let w = hi - lo;
                (0.5 * (lo + hi), w * w / 12.0, w.powi(4) / 80.0)
            }
            Law::BetaLogistic { a, b } => {
                // t = ln G_a − ln G_b: cumulants κ_n = ψ⁽ⁿ⁻¹⁾(a) + (−1)ⁿ ψ⁽ⁿ⁻¹⁾(b); μ4 = κ4 + 3κ2².
                let p = Prior::BetaLogistic { a, b };
                let var = p.variance();
                (
                    p.mean(),
                    var,
                    pentagamma(a) + pentagamma(b) + 3.0 * var * var,
                )
            }
            Law::Beta22 => (0.0, 1.0 / 20.0, 3.0 / 560.0),
            Law::Laplace { scale: b } => (0.0, 2.0 * b * b, 24.0 * b.powi(4)),
        }
    }

    /// (ln F(x), ln(1 − F(x))), each accurate where it is small: −∞ outside the support.
    pub fn ln_cdf_sf(&self, x: f64) -> (f64, f64) {
        match *self {
            Law::Gaussian { variance } => {
                let t = x / variance.sqrt();
                (normal::ln_cdf(t), normal::ln_cdf(-t))
            }
            Law::Logistic { scale } => {
                let u = x / scale;
                (-softplus(-u), -softplus(u))
            }
            Law::BetaLogistic { a, b } => {
                // F(x) = I_{σ(x)}(a, b), with σ(x) and σ(−x) = 1 − σ(x) both free of cancellation.
                let (s, c) = (1.0 / (1.0 + (-x).exp()), 1.0 / (1.0 + x.exp()));
                ln_incomplete_beta(a, b, s, c).unwrap_or((f64::NAN, f64::NAN))
            }
            Law::Uniform { lo, hi } => {
                let w = hi - lo;
                let f = ((x - lo) / w).clamp(0.0, 1.0);
                let g = ((hi - x) / w).clamp(0.0, 1.0);
                (f.ln(), g.ln())
            }
            Law::Beta22 => {
                // t = x + ½ and 1 − t = ½ − x, each formed without cancellation.
                let (t, s) = ((x + 0.5).clamp(0.0, 1.0), (0.5 - x).clamp(0.0, 1.0));
                (
                    2.0 * t.ln() + (1.0 + 2.0 * s).ln(),
                    2.0 * s.ln() + (1.0 + 2.0 * t).ln(),
                )
            }
            Law::Laplace { scale } => {
                let u = x / scale;
                let near = -u.abs() - LN_2;
                let far = (-0.5 * (-u.abs()).exp()).ln_1p();
                if u < 0.0 {
                    (near, far)
                } else {
                    (far, near)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every law against its density as the library defines it (`Source::log_density_1d`),
    /// integrated independently by the midpoint rule with 2·10⁶ cells: F at a few points, and the
    /// mean, variance and fourth central moment (error of the rule h²/24·|f''| ≲ 1e-10 for these
    /// smooth densities and the Laplace kink on a cell edge; 1e-8 relative allows the sums'
    /// round-off).
    #[test]
    fn laws_match_the_library_densities() {
        let cases = [
            (Source::Prior(Prior::gaussian(2.0).unwrap()), -20.0, 20.0),
            (Source::Prior(Prior::logistic(0.7).unwrap()), -40.0, 40.0),
            (
                Source::Prior(Prior::beta_logistic(2.0, 0.7).unwrap()),
                -40.0,
                80.0,
            ),
            (Source::uniform(-0.5, 0.5).unwrap(), -0.5, 0.5),
            (Source::beta(2.0, 2.0).unwrap(), -0.5, 0.5),
            (Source::laplace(1.3).unwrap(), -60.0, 60.0),
        ];
        for (source, lo, hi) in cases {
            let law = Law::of(&source).unwrap();
            let cells = 2_000_000;
            let h = (hi - lo) / cells as f64;
            let (mean, var, mu4) = law.moments();
            let (mut m, mut f, mut v, mut k) = (0.0, 0.0, 0.0, 0.0);
            let checkpoints = [lo + 0.3 * (hi - lo), 0.5 * (lo + hi), lo + 0.9 * (hi - lo)];
            let mut next = 0;
            for i in 0..cells {
                let t = lo + h * (i as f64 + 0.5);
                if next < 3 && t > checkpoints[next] {
                    // Integrated up to lo + i·h, which is checkpoints[next] to within h.
                    let x = lo + h * i as f64;
                    let (lc, ls) = law.ln_cdf_sf(x);
                    assert!((lc.exp() - f).abs() < 1e-8, "{source:?}: F({x})");
                    assert!(
                        (ls.exp() - (1.0 - f)).abs() < 1e-8,
                        "{source:?}: 1 - F({x})"
                    );
                    next += 1;
                }
                let p = source.log_density_1d(t).exp() * h;
                f += p;
                m += p * t;
                v += p * (t - mean).powi(2);
                k += p * (t - mean).powi(4);
            }
            assert!((m - mean).abs() < 1e-8, "{source:?}: mean {m}");
            assert!(
                ((v - var) / var).abs() < 1e-8,
                "{source:?}: variance {v} vs {var}"
            );
            assert!(
                ((k - mu4) / mu4).abs() < 1e-8,
                "{source:?}: mu4 {k} vs {mu4}"
            );
        }
    }

    /// Outside the support ln F or ln(1 − F) is −∞, so the test's statistic is infinite.
    #[test]
    fn outside_the_support() {
        let u = Law::Uniform { lo: -0.5, hi: 0.5 };
        assert_eq!(u.ln_cdf_sf(0.7).1, f64::NEG_INFINITY);
        assert_eq!(Law::Beta22.ln_cdf_sf(-0.6).0, f64::NEG_INFINITY);
        // Deep in the Gaussian tail both logs stay finite.
        let (lc, ls) = Law::Gaussian { variance: 1.0 }.ln_cdf_sf(-45.0);
        assert!(lc.is_finite() && lc < -1000.0 && ls == 0.0);
    }
}
