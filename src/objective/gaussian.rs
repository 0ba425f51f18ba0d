//! The Gaussian terms of the ELBO that have closed forms (paper eq. 1 and 3): the normaliser of the
//! decoder likelihood and the entropy of q. One definition each, used by the exact ELBO, the
//! Monte Carlo estimator, the Laplace-centred marginal and the affine–Gaussian closed forms.

use std::f64::consts::PI;

/// (D/2) log(γ²/2π): the log normalising constant of p(x | z) = N(f(z), γ⁻² I_D). Accurate to a
/// few ulps.
#[inline]
pub(crate) fn log_normaliser(dim_observed: usize, gamma2: f64) -> f64 {
    0.5 * dim_observed as f64 * (gamma2 / (2.0 * PI)).ln()
}

/// The entropy of q = N(μ, diag e^{s}): Σ_k ½ (log 2π + 1 + s_k). Accurate to a few ulps per term.
pub(crate) fn entropy<'a>(logvar: impl IntoIterator<Item = &'a f64>) -> f64 {
    logvar
        .into_iter()
        .map(|s| 0.5 * ((2.0 * PI).ln() + 1.0 + s))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};
    use crate::quadrature::GaussHermite;

    /// Against their definitions by quadrature: the entropy −E_q[log q] of N(μ, σ²) by 20-point
    /// Gauss–Hermite (exact: the integrand is quadratic), and the normaliser as log N(x; x, γ⁻² I).
    #[test]
    fn closed_forms_match_their_definitions() {
        let gh = GaussHermite::new(20).unwrap();
        for s in [-20.0f64, -1.0, 0.0, 3.0] {
            let sigma = (0.5 * s).exp();
            let h = gh.expect(|xi| {
                let z = sigma * xi;
                0.5 * z * z / (sigma * sigma) + 0.5 * (2.0 * PI * sigma * sigma).ln()
            });
            // The terms are O(1 + |s|); 20 products and sums of that size: 1e-14 relative.
            assert_within("entropy", &[entropy(&[s])], &[h], Tol::Mixed(1e-14));
        }
        let g2 = 1e6f64;
        let direct = 3.0 * (-0.5 * (2.0 * PI / g2).ln());
        assert_within(
            "normaliser",
            &[log_normaliser(3, g2)],
            &[direct],
            Tol::Mixed(1e-15),
        );
    }
}
