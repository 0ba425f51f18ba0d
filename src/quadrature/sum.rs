//! Sums that keep their digits: Neumaier's compensated sum, log-sum-exp, and the sample mean with
//! its standard error (Welford).

use crate::lanes::math::{exp, exp_lanes};
use crate::lanes::{avx2_kernel, LANES};

/// Neumaier's compensated summation: the error of a sum of N terms is ~2 eps·Σ|terms| independent of
/// N (instead of ~N eps·Σ|terms| for the naive loop).
#[derive(Debug, Clone, Copy, Default)]
pub struct Neumaier {
    sum: f64,
    comp: f64,
}

impl Neumaier {
    /// Adds a term.
    #[inline(always)]
    pub fn add(&mut self, x: f64) {
        // The rounding error e = (sum + x) − t, exactly, by Knuth's branch-free TwoSum; it is the
        // same number Neumaier's branch on |sum| ≥ |x| computes (both are exact), without the
        // unpredictable branch in the quadratures' node loops.
        let t = self.sum + x;
        let bb = t - self.sum;
        self.comp += (self.sum - (t - bb)) + (x - bb);
        self.sum = t;
    }

    /// The compensated sum.
    #[inline]
    pub fn sum(&self) -> f64 {
        self.sum + self.comp
    }
}

/// log Σ_j e^{a_j}, shifted by the maximum and summed with compensation: no overflow, and the
/// result is accurate to a few ulps of its size plus eps·log(n). −∞ for an empty or all −∞ input.
/// The exponentials are the crate's (< 1 ulp, [`crate::lanes::math::exp`]), [`LANES`] at a time
/// on the vector unit, summed in input order: the same bits on every machine.
pub fn log_sum_exp(a: &[f64]) -> f64 {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    let mut acc = Neumaier::default();
    add_exp_shifted(a, m, &mut acc);
    m + acc.sum().ln()
}

avx2_kernel! {
    /// Adds e^{a_j − m} to `acc` in the order of `a`, the exponentials over blocks of lanes.
    fn add_exp_shifted / add_exp_shifted_portable(a: &[f64], m: f64, acc: &mut Neumaier) {
        let mut blocks = a.chunks_exact(LANES);
        for block in &mut blocks {
            let mut x = [0.0; LANES];
            for (xl, &v) in x.iter_mut().zip(block) {
                *xl = v - m;
            }
            for e in exp_lanes(x) {
                acc.add(e);
            }
        }
        for &v in blocks.remainder() {
            acc.add(exp(v - m));
        }
    }
}

/// The mean of i.i.d. samples with its standard error: a Monte Carlo estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleMean {
    /// The sample mean.
    pub mean: f64,
    /// The standard error of the mean, s/√n with the unbiased sample standard deviation s.
    pub std_err: f64,
    /// The number of samples.
    pub n: usize,
}

impl SampleMean {
    /// The mean and standard error of `values` (Welford's algorithm, stable for any n ≥ 2; the
    /// standard error is NaN for n < 2).
    pub fn from_samples(values: impl IntoIterator<Item = f64>) -> Self {
        let (mut n, mut mean, mut m2) = (0usize, 0.0, 0.0);
        for v in values {
            n += 1;
            let delta = v - mean;
            mean += delta / n as f64;
            m2 += delta * (v - mean);
        }
        let var = if n > 1 { m2 / (n - 1) as f64 } else { f64::NAN };
        SampleMean {
            mean,
            std_err: (var / n as f64).sqrt(),
            n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// Compensation: 1 + 1e-16·k summed naively loses every small term; Neumaier keeps them all
    /// (the exact sum 1 + 1e-10 is representable to 1 ulp).
    #[test]
    fn compensated_sum_keeps_small_terms() {
        let mut acc = Neumaier::default();
        acc.add(1.0);
        for _ in 0..1_000_000 {
            acc.add(1e-16);
        }
        assert_within("Σ", &[acc.sum()], &[1.0 + 1e-10], Tol::Rel(f64::EPSILON));
    }

    /// log-sum-exp against the direct form where that is safe, and at magnitudes where e^a
    /// overflows (log(e^1000 + e^1000) = 1000 + log 2).
    #[test]
    fn log_sum_exp_identities() {
        let a = [0.3, -1.2, 2.5, 0.0];
        let direct = a.iter().map(|t: &f64| t.exp()).sum::<f64>().ln();
        assert_within(
            "lse",
            &[log_sum_exp(&a)],
            &[direct],
            Tol::Rel(4.0 * f64::EPSILON),
        );
        let big = log_sum_exp(&[1000.0, 1000.0]);
        assert_within(
            "lse big",
            &[big],
            &[1000.0 + 2f64.ln()],
            Tol::Rel(f64::EPSILON),
        );
        assert_eq!(log_sum_exp(&[]), f64::NEG_INFINITY);
    }

    /// The blocked exponentials: a long input (whole blocks and a remainder) against the same sum
    /// with the standard library's e^x term by term — each term differs by < 1 ulp between the
    /// two (both < 1 ulp from the true value), the compensated sums by ~eps, and log of a sum ≥ 1
    /// adds ~eps: 4 eps relative. The AVX-512, AVX2 and portable compilations give the same bits.
    #[test]
    fn log_sum_exp_in_blocks() {
        let a: Vec<f64> = (0..1003)
            .map(|i| -50.0 * ((i * 37 % 1003) as f64 / 1003.0) + 3.0)
            .collect();
        let m = 3.0;
        let mut libm = Neumaier::default();
        for &v in &a {
            libm.add((v - m).exp());
        }
        let want = m + libm.sum().ln();
        let got = log_sum_exp(&a);
        assert_within("lse blocks", &[got], &[want], Tol::Rel(4.0 * f64::EPSILON));
        let run = |f: fn(&[f64], f64, &mut Neumaier)| {
            let mut acc = Neumaier::default();
            f(&a, m, &mut acc);
            acc.sum().to_bits()
        };
        let dispatched = run(add_exp_shifted);
        assert_eq!(dispatched, run(add_exp_shifted_portable));
        let avx2 = crate::lanes::dispatch::with_avx2_at_most(|| run(add_exp_shifted));
        assert_eq!(dispatched, avx2);
    }

    /// Welford against the two-pass textbook formulas on data with a large offset (where the
    /// one-pass Σx² − n x̄² form would lose every digit). The two-pass sums are exact here
    /// (integers below 2⁵³). Welford's running mean takes one rounding of size ≤ eps·|mean| per
    /// sample (≤ 1000 eps relative in all: 1e-12). An error ε in the mean enters the sum of squared
    /// deviations only at second order (Σ(x − m − ε)² = Σ(x − m)² + nε² when Σ(x − m) = 0), so
    /// the variance, and the standard error, keep far better than the 1e-7 allowed.
    #[test]
    fn sample_mean_and_standard_error() {
        let xs: Vec<f64> = (0..1000).map(|i| 1e8 + (i % 7) as f64).collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let m = SampleMean::from_samples(xs.iter().copied());
        assert_eq!(m.n, 1000);
        assert_within("mean", &[m.mean], &[mean], Tol::Rel(1e-12));
        assert_within("s.e.", &[m.std_err], &[(var / n).sqrt()], Tol::Rel(1e-7));
    }
}
