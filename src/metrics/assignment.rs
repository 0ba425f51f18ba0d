//! The maximum-weight assignment of rows to distinct columns (the linear assignment problem;
//! `scipy.optimize.linear_sum_assignment(-w)`), by the Hungarian algorithm in its shortest
//! augmenting path form (Jonker–Volgenant; Kuhn 1955, Munkres 1957): O(n² m) for an n × m matrix,
//! n ≤ m.
//!
//! Costs c = max(w) − w ≥ 0 are minimised: each row in turn is added by a Dijkstra search over
//! reduced costs c_ij − u_i − v_j ≥ 0 (the dual potentials u, v keep them non-negative), which finds
//! the cheapest augmenting path; complementary slackness certifies optimality when every row is
//! assigned. (The formulation of e-maxx.ru's "Hungarian algorithm", rows added one at a time.) Exact in exact arithmetic; in f64, the total weight is optimal up to round-off of
//! the sums (n ulps of the largest weight), so near-ties may pick either of two optimal matchings.

use super::MetricError;
use nalgebra::DMatrix;

/// The column assigned to each row of `w` (n × m, n ≤ m, finite) so that Σ_i w[i, col(i)] is
/// largest; distinct columns. Errors on n > m or a non-finite weight.
pub fn max_weight_assignment(w: &DMatrix<f64>) -> Result<Vec<usize>, MetricError> {
    let (n, m) = w.shape();
    if n > m {
        return Err(MetricError::Shape {
            what: format!("assignment: {n} rows cannot go to distinct columns of {m}"),
        });
    }
    if let Some(k) = w.iter().position(|t| !t.is_finite()) {
        return Err(MetricError::NonFinite {
            input: "weights",
            at: (k % n.max(1), k / n.max(1)),
        });
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let top = w.max();
    // Rows and columns 1-based below; column 0 is the search's virtual start.
    let cost = |i: usize, j: usize| top - w[(i - 1, j - 1)];
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; m + 1];
    // row_of[j]: the row assigned to column j (0: none); way[j]: the column before j on the
    // shortest path.
    let mut row_of = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    let mut min_to = vec![0.0; m + 1];
    let mut used = vec![false; m + 1];
    for i in 1..=n {
        row_of[0] = i;
        let mut j0 = 0;
        min_to.fill(f64::INFINITY);
        used.fill(false);
        // Dijkstra over reduced costs until a free column is reached.
        loop {
            used[j0] = true;
            let i0 = row_of[j0];
            let (mut delta, mut j1) = (f64::INFINITY, 0);
            for j in 1..=m {
                if !used[j] {
                    let reduced = cost(i0, j) - u[i0] - v[j];
                    if reduced < min_to[j] {
                        min_to[j] = reduced;
                        way[j] = j0;
                    }
                    // Ties: the lowest column, so that the matching is reproducible.
                    if min_to[j] < delta {
                        delta = min_to[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_to[j] -= delta;
                }
            }
            j0 = j1;
            if row_of[j0] == 0 {
                break;
            }
        }
        // Augment along the path back to the virtual column.
        while j0 != 0 {
            let j1 = way[j0];
            row_of[j0] = row_of[j1];
            j0 = j1;
        }
    }
    let mut col_of_row = vec![0; n];
    for j in 1..=m {
        if row_of[j] != 0 {
            col_of_row[row_of[j] - 1] = j - 1;
        }
    }
    Ok(col_of_row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::generate::rng;
    use rand::RngExt;

    /// The best total weight over all injections of n rows into m columns, by enumeration.
    fn brute_force(w: &DMatrix<f64>) -> f64 {
        fn go(w: &DMatrix<f64>, i: usize, used: &mut Vec<bool>) -> f64 {
            if i == w.nrows() {
                return 0.0;
            }
            let mut best = f64::NEG_INFINITY;
            for j in 0..w.ncols() {
                if !used[j] {
                    used[j] = true;
                    best = best.max(w[(i, j)] + go(w, i + 1, used));
                    used[j] = false;
                }
            }
            best
        }
        go(w, 0, &mut vec![false; w.ncols()])
    }

    fn total(w: &DMatrix<f64>, cols: &[usize]) -> f64 {
        cols.iter().enumerate().map(|(i, &j)| w[(i, j)]).sum()
    }

    /// Against enumeration of all permutations (d ≤ 7: 5040 of them) and injections (3 × 6), on
    /// random matrices and on matrices with many ties (entries from {0, 1, 2}): the totals agree to
    /// the round-off of a 7-term sum (1e-15 relative), the columns are distinct.
    #[test]
    fn optimal_against_brute_force() {
        let mut r = rng(7);
        for (n, m) in [
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 4),
            (5, 5),
            (6, 6),
            (7, 7),
            (3, 6),
            (2, 5),
        ] {
            for trial in 0..20 {
                let w = DMatrix::from_fn(n, m, |_, _| {
                    if trial % 2 == 0 {
                        r.random_range(-1.0..1.0)
                    } else {
                        r.random_range(0..3) as f64
                    }
                });
                let cols = max_weight_assignment(&w).unwrap();
                let mut seen = cols.clone();
                seen.sort();
                seen.dedup();
                assert_eq!(seen.len(), n, "{w}");
                let (got, want) = (total(&w, &cols), brute_force(&w));
                assert!(
                    (got - want).abs() <= 1e-15 * want.abs().max(1.0) * 8.0,
                    "{w}: {got} vs {want}"
                );
            }
        }
    }

    /// Hand-made cases: the identity is optimal on a diagonal-dominant matrix; the anti-diagonal
    /// when it holds the weight; a greedy choice (the largest entry first) is wrong here.
    #[test]
    fn hand_made_cases() {
        let w = DMatrix::from_row_slice(2, 2, &[10.0, 9.0, 9.0, 0.0]);
        // Greedy takes 10 then 0 (total 10); the optimum is 9 + 9.
        assert_eq!(max_weight_assignment(&w).unwrap(), vec![1, 0]);
        let w = DMatrix::from_row_slice(3, 3, &[0.9, 0.1, 0.2, 0.3, 0.8, 0.1, 0.2, 0.2, 0.7]);
        assert_eq!(max_weight_assignment(&w).unwrap(), vec![0, 1, 2]);
        let w = DMatrix::from_row_slice(2, 3, &[0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        assert_eq!(max_weight_assignment(&w).unwrap(), vec![2, 1]);
        assert!(max_weight_assignment(&DMatrix::zeros(3, 2)).is_err());
        let mut bad = DMatrix::zeros(2, 2);
        bad[(1, 0)] = f64::NAN;
        assert_eq!(
            max_weight_assignment(&bad).unwrap_err(),
            MetricError::NonFinite {
                input: "weights",
                at: (1, 0)
            }
        );
    }
}
