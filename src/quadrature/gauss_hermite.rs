//! Gauss–Hermite rules for expectations under the standard normal (their tensor products are in
//! `tensor.rs`).
//!
//! Convention (named in the type): [`GaussHermite`] integrates against N(0, 1), i.e. the
//! *probabilists'* weight e^{−ξ²/2}/√(2π), so Σ w_i = 1 and Σ w_i g(ξ_i) ≈ E[g(ξ)], ξ ~ N(0, 1). The
//! n-point rule is exact for polynomials of degree ≤ 2n − 1. (The classical physicists' rule for
//! e^{−x²} has nodes ξ_i/√2 and weights w_i·√π.)
//!
//! Construction: Golub–Welsch — the nodes are the eigenvalues of the symmetric Jacobi matrix with zero
//! diagonal and off-diagonal √k (k = 1 … n − 1), from nalgebra's symmetric eigendecomposition — then
//! each node is polished by Newton steps on the orthonormal Hermite polynomial p_n (three-term
//! recurrence p_{k+1} = (ξ p_k − √k p_{k−1})/√(k+1)), and the weights come from the
//! Christoffel–Darboux form w_i = 1/(n p_{n−1}(ξ_i)²). To avoid overflow for large n the recurrence
//! carries the factor e^{−ξ²/4}. Nodes are accurate to a few ulps, weights to a few ulps relative
//! (tests: Σw = 1, the moments E[ξ^{2k}] = (2k − 1)!!, closed-form rules for n ≤ 4).

use super::RuleError;
use crate::tol::{GH_MAX_NODES, GH_POLISH_STEPS};
use nalgebra::DMatrix;

/// An n-point Gauss–Hermite rule for E[g(ξ)], ξ ~ N(0, 1) (probabilists' convention).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussHermite {
    nodes: Vec<f64>,
    weights: Vec<f64>,
}

/// q_{n−1}(ξ), q_n(ξ) with q_k = p_k(ξ)·e^{−ξ²/4}, p_k orthonormal for N(0, 1).
fn scaled_orthonormal(n: usize, xi: f64) -> (f64, f64) {
    let mut prev = 0.0;
    let mut cur = (-0.25 * xi * xi).exp();
    for k in 0..n {
        let next = (xi * cur - (k as f64).sqrt() * prev) / ((k + 1) as f64).sqrt();
        prev = cur;
        cur = next;
    }
    (prev, cur)
}

impl GaussHermite {
    /// The n-point rule, 1 ≤ n ≤ [`GH_MAX_NODES`]; [`RuleError::NodesOutOfRange`] otherwise.
    pub fn new(n: usize) -> Result<Self, RuleError> {
        if n == 0 || n > GH_MAX_NODES {
            return Err(RuleError::NodesOutOfRange {
                nodes: n,
                max: GH_MAX_NODES,
            });
        }
        if n == 1 {
            return Ok(GaussHermite {
                nodes: vec![0.0],
                weights: vec![1.0],
            });
        }
        let mut jac = DMatrix::zeros(n, n);
        for k in 1..n {
            let b = (k as f64).sqrt();
            jac[(k - 1, k)] = b;
            jac[(k, k - 1)] = b;
        }
        let mut nodes: Vec<f64> = jac.symmetric_eigenvalues().iter().copied().collect();
        nodes.sort_by(f64::total_cmp);
        // Impose exact symmetry (the rule is symmetric) and polish the non-negative half.
        let half = n / 2;
        let mut weights = vec![0.0; n];
        for i in half..n {
            let mut xi = if n % 2 == 1 && i == half {
                0.0
            } else {
                0.5 * (nodes[i] - nodes[n - 1 - i])
            };
            for _ in 0..GH_POLISH_STEPS {
                let (qm1, qn) = scaled_orthonormal(n, xi);
                // p_n' = √n p_{n−1}; the common scale factor cancels in the ratio.
                let step = qn / ((n as f64).sqrt() * qm1);
                if !step.is_finite() {
                    break;
                }
                xi -= step;
            }
            let (qm1, _) = scaled_orthonormal(n, xi);
            let w = (-0.5 * xi * xi).exp() / (n as f64 * qm1 * qm1);
            nodes[i] = xi;
            nodes[n - 1 - i] = -xi;
            weights[i] = w;
            weights[n - 1 - i] = w;
        }
        // Normalise: Σw = 1 exactly in exact arithmetic; this removes the last ulps of drift.
        let total: f64 = weights.iter().sum();
        for w in &mut weights {
            *w /= total;
        }
        Ok(GaussHermite { nodes, weights })
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the rule is empty (never, for a constructed rule).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The nodes ξ_i, ascending.
    pub fn nodes(&self) -> &[f64] {
        &self.nodes
    }

    /// The weights w_i (Σ w_i = 1).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Σ w_i g(ξ_i) ≈ E[g(ξ)], ξ ~ N(0, 1), summed with compensation.
    pub fn expect(&self, mut g: impl FnMut(f64) -> f64) -> f64 {
        let mut acc = super::Neumaier::default();
        for (&x, &w) in self.nodes.iter().zip(&self.weights) {
            acc.add(w * g(x));
        }
        acc.sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// The 2-, 3- and 4-point rules against their closed forms: He_2 = ξ² − 1 (nodes ±1, weights ½);
    /// He_3 = ξ³ − 3ξ (0, ±√3; 2/3, 1/6); He_4 = ξ⁴ − 6ξ² + 3 (±√(3 ∓ √6); (3 ± √6)/12).
    /// Round-off: 2 eps absolute for the 3-point rule (entries ≤ √3), 4 eps of the largest node
    /// and 8 eps relative to each weight for the 4-point rule.
    #[test]
    fn closed_form_rules() {
        let g2 = GaussHermite::new(2).unwrap();
        assert_eq!(g2.nodes(), &[-1.0, 1.0]);
        assert_eq!(g2.weights(), &[0.5, 0.5]);
        let g3 = GaussHermite::new(3).unwrap();
        let s3 = 3f64.sqrt();
        let eps2 = Tol::Scaled(2.0 * f64::EPSILON, 1.0);
        assert_within("3-point nodes", g3.nodes(), &[-s3, 0.0, s3], eps2);
        assert_within(
            "3-point weights",
            g3.weights(),
            &[1.0 / 6.0, 2.0 / 3.0, 1.0 / 6.0],
            eps2,
        );
        let g4 = GaussHermite::new(4).unwrap();
        let s6 = 6f64.sqrt();
        let (x1, x2) = ((3.0 - s6).sqrt(), (3.0 + s6).sqrt());
        let (w1, w2) = ((3.0 + s6) / 12.0, (3.0 - s6) / 12.0);
        let expect_n = [-x2, -x1, x1, x2];
        let expect_w = [w2, w1, w1, w2];
        assert_within(
            "4-point nodes",
            g4.nodes(),
            &expect_n,
            Tol::Scaled(4.0 * f64::EPSILON, x2),
        );
        assert_within(
            "4-point weights",
            g4.weights(),
            &expect_w,
            Tol::Rel(8.0 * f64::EPSILON),
        );
    }

    /// Σw = 1 and E[ξ^{2k}] = (2k − 1)!! for every 2k ≤ 2n − 1, up to n = GH_MAX_NODES; odd moments vanish by
    /// symmetry. Σw to 1e-15 absolute (a few ulps of 1); the even moments to 1e-13 relative: they
    /// are sums of n positive terms, each a few ulps; E[ξ³] to 1e-15·n absolute (n terms that
    /// cancel in pairs, each rounded). Moments are checked up to 2k ≤ min(2n − 2, 40) to stay
    /// clear of overflow in (2k − 1)!!.
    #[test]
    fn moments_are_exact() {
        for n in [1usize, 2, 5, 8, 13, 20, 32, 50, 100, 200, GH_MAX_NODES] {
            let g = GaussHermite::new(n).unwrap();
            assert_within(
                &format!("n={n}: Σw"),
                &[g.weights().iter().sum::<f64>()],
                &[1.0],
                Tol::Scaled(1e-15, 1.0),
            );
            let mut dfact = 1.0;
            for k in 1..=(n - 1).min(20) {
                dfact *= (2 * k - 1) as f64;
                let m = g.expect(|x| x.powi(2 * k as i32));
                assert_within(
                    &format!("n={n} k={k}: E[ξ^2k]"),
                    &[m],
                    &[dfact],
                    Tol::Rel(1e-13),
                );
            }
            assert_within(
                &format!("n={n}: E[ξ³]"),
                &[g.expect(|x| x.powi(3))],
                &[0.0],
                Tol::Scaled(1e-15, n as f64),
            );
        }
    }

    /// E[cos(ξ)] = e^{−1/2}: not a polynomial, so this checks convergence (n = 30 is exact to
    /// round-off, 1e-15 absolute).
    #[test]
    fn smooth_expectation_converges() {
        let g = GaussHermite::new(30).unwrap();
        assert_within(
            "E[cos ξ]",
            &[g.expect(f64::cos)],
            &[(-0.5f64).exp()],
            Tol::Scaled(1e-15, 1.0),
        );
    }
}
