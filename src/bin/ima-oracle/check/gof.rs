//! The goodness-of-fit check: if `--theirs` holds sources z.npy (N, d), every coordinate z[:, k] must
//! follow the declared law (`--source`, default the model's prior) — it catches, for example, a
//! Gaussian drawn with the variance passed where the standard deviation was meant. Per coordinate
//! three tests: Anderson–Darling against the law's distribution function, and normal (CLT) tests of
//! the sample mean and of the sample variance against the law's (the latter with the exact variance
//! of s², (μ4 − σ⁴(N − 3)/(N − 1))/N). All 3d tests share the false-alarm probability `--alpha`
//! (Bonferroni: each is run at alpha/(3d)); the report names every coordinate that fails and why.

use super::anderson_darling::{p_value, statistic, MIN_POINTS};
use super::law::Law;
use super::normal::two_sided;
use super::report::{Line, Outcome};
use super::Settings;
use ima_oracle::io::npy::NpyArray;

/// The three tests of one coordinate.
struct Coordinate {
    /// The Anderson–Darling statistic and its p-value.
    a2: (f64, f64),
    /// The sample mean and the p-value of its test.
    mean: (f64, f64),
    /// The sample variance (unbiased) and the p-value of its test.
    variance: (f64, f64),
}

impl Coordinate {
    /// The tests of the sample `z` (any order) against `law`.
    fn test(z: &[f64], law: &Law) -> Self {
        let n = z.len() as f64;
        let (mu, var, mu4) = law.moments();
        let mean = z.iter().sum::<f64>() / n;
        let s2 = z.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let var_s2 = (mu4 - var * var * (n - 3.0) / (n - 1.0)) / n;
        let mut sorted = z.to_vec();
        sorted.sort_by(f64::total_cmp);
        let (lc, ls): (Vec<f64>, Vec<f64>) = sorted.iter().map(|&t| law.ln_cdf_sf(t)).unzip();
        let a2 = statistic(&lc, &ls);
        Coordinate {
            a2: (a2, p_value(z.len(), a2)),
            mean: (mean, two_sided((mean - mu) / (var / n).sqrt())),
            variance: (s2, two_sided((s2 - var) / var_s2.sqrt())),
        }
    }

    /// The smallest of the three p-values.
    fn min_p(&self) -> f64 {
        self.a2.1.min(self.mean.1).min(self.variance.1)
    }

    /// The three results in words, against the law's moments.
    fn describe(&self, k: usize, law: &Law) -> String {
        let (mu, var, _) = law.moments();
        let p = |p: f64| {
            if p < 1e-5 {
                "p < 1e-5".to_string()
            } else {
                format!("p = {p:.2e}")
            }
        };
        format!(
            "z[:, {k}]: Anderson-Darling A2 = {:.3} ({}), mean {:.4} vs {mu} ({}), variance {:.4} vs {var} ({})",
            self.a2.0,
            p(self.a2.1),
            self.mean.0,
            p(self.mean.1),
            self.variance.0,
            p(self.variance.1),
        )
    }
}

/// The line of the check of `z` (theirs) against `law`, for a model of latent dimension `d`.
pub fn z_follows_law(s: &Settings, z: &NpyArray, d: usize, law: &Law) -> Result<Line, String> {
    let quantity = format!("z ~ {}", law.name());
    let n = match *z.shape() {
        [n, k] if k == d => n,
        _ => {
            return Err(format!(
                "{}: the sources must have shape (N, {d}), found {}",
                s.theirs.join("z.npy").display(),
                ima_oracle::io::npy::shape_text(z.shape())
            ))
        }
    };
    if let Some(i) = z.first_non_finite() {
        return Err(format!(
            "{}: z[{}, {}] is NaN or infinite",
            s.theirs.join("z.npy").display(),
            i / d,
            i % d
        ));
    }
    if n < MIN_POINTS {
        let reason = format!("N = {n} < {MIN_POINTS}: too few points for a goodness-of-fit test");
        return Ok(Line::not_compared(&quantity, z.shape(), &reason));
    }
    let level = s.alpha / (3 * d) as f64;
    let coords: Vec<Coordinate> = (0..d)
        .map(|k| {
            let column: Vec<f64> = (0..n).map(|i| z.data()[i * d + k]).collect();
            Coordinate::test(&column, law)
        })
        .collect();
    let failing: Vec<String> = coords
        .iter()
        .enumerate()
        .filter(|(_, c)| c.min_p() < level)
        .map(|(k, c)| c.describe(k, law))
        .collect();
    let (worst, c) = coords
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.min_p().total_cmp(&b.1.min_p()))
        .expect("d >= 1");
    let note = if failing.is_empty() {
        format!(
            "goodness of fit: smallest p = {:.2e} (coordinate {worst}), each test at alpha/(3d) = {level:.1e}",
            c.min_p()
        )
    } else {
        format!(
            "goodness of fit FAILS at alpha/(3d) = {level:.1e}: {}",
            failing.join("; ")
        )
    };
    Ok(Line {
        quantity,
        shape: z.shape().to_vec(),
        max_abs: None,
        max_rel: None,
        worst_row: None,
        outcome: Outcome::of(failing.is_empty()),
        note: Some(note),
    })
}
