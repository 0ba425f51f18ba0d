//! Tensor products of a Gauss–Hermite rule: E[g(ξ)] for ξ ~ N(0, I_d) with n^d nodes.

use super::{GaussHermite, RuleError};

/// The tensor product of one Gauss–Hermite rule in d dimensions: n^d nodes stored contiguously
/// (node j occupies `nodes[j*d .. (j+1)*d]`), for E[g(ξ)], ξ ~ N(0, I_d). The node order is fixed
/// (last coordinate fastest), so sums over it are reproducible.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorRule {
    dim: usize,
    per_dim: usize,
    nodes: Vec<f64>,
    weights: Vec<f64>,
}

impl TensorRule {
    /// The n^d-node product rule. Errors: [`RuleError::ZeroDimension`] for d = 0,
    /// [`RuleError::TooManyNodes`] when n^d exceeds `max_total` (or overflows), and
    /// [`RuleError::NodesOutOfRange`] from [`GaussHermite::new`].
    pub fn new(n: usize, dim: usize, max_total: usize) -> Result<Self, RuleError> {
        if dim == 0 {
            return Err(RuleError::ZeroDimension);
        }
        let too_many = RuleError::TooManyNodes {
            nodes_per_dim: n,
            dim,
            max_total,
        };
        let total = n.checked_pow(dim as u32).ok_or(too_many.clone())?;
        if total > max_total {
            return Err(too_many);
        }
        let gh = GaussHermite::new(n)?;
        let mut nodes = Vec::with_capacity(total * dim);
        let mut weights = Vec::with_capacity(total);
        let mut idx = vec![0usize; dim];
        for _ in 0..total {
            let mut w = 1.0;
            for &i in &idx {
                nodes.push(gh.nodes()[i]);
                w *= gh.weights()[i];
            }
            weights.push(w);
            for k in (0..dim).rev() {
                idx[k] += 1;
                if idx[k] < n {
                    break;
                }
                idx[k] = 0;
            }
        }
        Ok(TensorRule {
            dim,
            per_dim: n,
            nodes,
            weights,
        })
    }

    /// [`TensorRule::new`], with `Ok(None)` when n^d exceeds `max_total` — the end of a
    /// refinement's budget rather than an error.
    pub fn within_budget(
        n: usize,
        dim: usize,
        max_total: usize,
    ) -> Result<Option<Self>, RuleError> {
        match TensorRule::new(n, dim, max_total) {
            Ok(rule) => Ok(Some(rule)),
            Err(RuleError::TooManyNodes { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The dimension d.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Nodes per dimension n.
    pub fn per_dim(&self) -> usize {
        self.per_dim
    }

    /// The number of nodes n^d.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// Whether the rule has no nodes (never, for a constructed rule).
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// Node j (a slice of length d).
    #[inline]
    pub fn node(&self, j: usize) -> &[f64] {
        &self.nodes[j * self.dim..(j + 1) * self.dim]
    }

    /// Weight j.
    #[inline]
    pub fn weight(&self, j: usize) -> f64 {
        self.weights[j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// The tensor rule: weights sum to 1 and E[ξ_1² ξ_2⁴ ξ_3⁰] = 1·3 exactly in real arithmetic;
    /// to round-off here (1e-15 absolute for the sum of 64 weights, 1e-14 for the moment 3).
    #[test]
    fn tensor_rule() {
        let t = TensorRule::new(4, 3, 1000).unwrap();
        assert_eq!(t.len(), 64);
        let (mut s, mut m) = (0.0, 0.0);
        for j in 0..t.len() {
            let x = t.node(j);
            s += t.weight(j);
            m += t.weight(j) * x[0].powi(2) * x[1].powi(4);
        }
        assert_within("Σw", &[s], &[1.0], Tol::Scaled(1e-15, 1.0));
        assert_within("E[ξ_1² ξ_2⁴]", &[m], &[3.0], Tol::Scaled(1e-14, 1.0));
        assert_eq!(
            TensorRule::new(10, 7, 1_000_000),
            Err(RuleError::TooManyNodes {
                nodes_per_dim: 10,
                dim: 7,
                max_total: 1_000_000
            })
        );
    }
}
