//! Gauss–Legendre rules on [−1, 1]: Σ w_i g(x_i) ≈ ∫_{−1}^{1} g(x) dx, exact for polynomials of
//! degree ≤ 2n − 1 (used by the polar route of the marginal likelihood, in each angle of the sphere).
//!
//! Construction: Newton's method on P_n (three-term recurrence (k + 1) P_{k+1} = (2k + 1) x P_k −
//! k P_{k−1}) from Tricomi's initial guesses cos(π(i − ¼)/(n + ½)), which converge quadratically to
//! the i-th root for every n; iterated until the step is below 4 eps (at most
//! [`GL_NEWTON_STEPS`]). Weights w_i = 2/((1 − x_i²) P_n'(x_i)²). Nodes and weights are accurate to
//! a few ulps (tests: Σ w = 2, the moments ∫x^{2k} = 2/(2k + 1) up to degree 2n − 2).

use super::RuleError;
use crate::tol::{GH_MAX_NODES, GL_NEWTON_STEPS};

/// An n-point Gauss–Legendre rule on [−1, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct GaussLegendre {
    nodes: Vec<f64>,
    weights: Vec<f64>,
}

/// P_n(x) and P_n'(x).
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 1..n {
        let k = k as f64;
        let p2 = ((2.0 * k + 1.0) * x * p1 - k * p0) / (k + 1.0);
        p0 = p1;
        p1 = p2;
    }
    let dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, dp)
}

impl GaussLegendre {
    /// The n-point rule, 1 ≤ n ≤ [`GH_MAX_NODES`] (the same bound as the Hermite rules).
    pub fn new(n: usize) -> Result<Self, RuleError> {
        if n == 0 || n > GH_MAX_NODES {
            return Err(RuleError::NodesOutOfRange {
                nodes: n,
                max: GH_MAX_NODES,
            });
        }
        let mut nodes = vec![0.0; n];
        let mut weights = vec![0.0; n];
        let nf = n as f64;
        for i in 0..n.div_ceil(2) {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
            for _ in 0..GL_NEWTON_STEPS {
                let (p, dp) = legendre(n, x);
                let dx = p / dp;
                x -= dx;
                if dx.abs() <= 4.0 * f64::EPSILON {
                    break;
                }
            }
            let (_, dp) = legendre(n, x);
            let w = 2.0 / ((1.0 - x * x) * dp * dp);
            nodes[i] = -x;
            nodes[n - 1 - i] = x;
            weights[i] = w;
            weights[n - 1 - i] = w;
        }
        if n % 2 == 1 {
            nodes[n / 2] = 0.0;
        }
        Ok(GaussLegendre { nodes, weights })
    }

    /// The nodes, ascending.
    pub fn nodes(&self) -> &[f64] {
        &self.nodes
    }

    /// The weights (Σ = 2).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// Σ w = 2 and ∫_{−1}^{1} x^{2k} dx = 2/(2k + 1) for 2k ≤ 2n − 2, up to n = 200: each a sum
    /// of n positive terms w_i x_i^{2k} ≤ w_i, each computed to ≤ 16 ulps (powi's ≤ 7 products and
    /// the weight's few ulps), so the sum is within 16 eps · Σw ≈ 7e-15 of exact: 1e-14 absolute.
    #[test]
    fn moments() {
        for n in [1usize, 2, 3, 7, 20, 64, 200] {
            let r = GaussLegendre::new(n).unwrap();
            for k in 0..n.min(40) {
                let m: f64 = r
                    .nodes()
                    .iter()
                    .zip(r.weights())
                    .map(|(x, w)| w * x.powi(2 * k as i32))
                    .sum();
                assert_within(
                    &format!("n={n} k={k}"),
                    &[m],
                    &[2.0 / (2 * k + 1) as f64],
                    Tol::Scaled(1e-14, 1.0),
                );
            }
        }
        // The 2-point rule in closed form: ±1/√3, weights 1.
        let r = GaussLegendre::new(2).unwrap();
        assert_within(
            "2-point",
            r.nodes(),
            &[-(1.0f64 / 3.0).sqrt(), (1.0f64 / 3.0).sqrt()],
            Tol::Rel(1e-15),
        );
        assert!(GaussLegendre::new(0).is_err());
    }
}
