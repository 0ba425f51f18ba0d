//! Correlation matrices between the columns of two samples (rows are observations): Pearson's
//! r_kl = Σ_t (a_tk − ā_k)(b_tl − b̄_l) / √(Σ_t (a_tk − ā_k)² Σ_t (b_tl − b̄_l)²), and Spearman's ρ =
//! Pearson's r of the ranks, ties given their average rank (`scipy.stats.rankdata`'s "average", as
//! `scipy.stats.spearmanr`). Means are subtracted before the products (two passes), so the
//! result is accurate to a few ulps times the number of rows for any offset of the data.

use super::MetricError;
use nalgebra::DMatrix;

/// Which correlation coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correlation {
    /// Pearson's product-moment correlation.
    Pearson,
    /// Spearman's rank correlation (ties averaged).
    Spearman,
}

/// The ranks 1 … N of the entries of `v`, ties given the average of the ranks they span.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut out = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]] == v[order[start]] {
            end += 1;
        }
        // Ranks start + 1 … end share their mean.
        let mean = (start + 1 + end) as f64 / 2.0;
        for &k in &order[start..end] {
            out[k] = mean;
        }
        start = end;
    }
    out
}

/// Checks a sample: finite entries; returns its columns, centred, and their norms (errors on a
/// constant column).
fn centred_columns(
    m: &DMatrix<f64>,
    input: &'static str,
    kind: Correlation,
) -> Result<Vec<(Vec<f64>, f64)>, MetricError> {
    let (n, d) = m.shape();
    if let Some(k) = m.iter().position(|t| !t.is_finite()) {
        return Err(MetricError::NonFinite {
            input,
            at: (k % n, k / n),
        });
    }
    (0..d)
        .map(|k| {
            let col: Vec<f64> = m.column(k).iter().copied().collect();
            let col = match kind {
                Correlation::Pearson => col,
                Correlation::Spearman => ranks(&col),
            };
            let mean = col.iter().sum::<f64>() / n as f64;
            let c: Vec<f64> = col.iter().map(|t| t - mean).collect();
            let norm = c.iter().map(|t| t * t).sum::<f64>().sqrt();
            if norm == 0.0 {
                return Err(MetricError::Constant { input, column: k });
            }
            Ok((c, norm))
        })
        .collect()
}

/// The d_a × d_b matrix of correlations between the columns of `a` (N × d_a) and `b` (N × d_b).
/// Errors when the row counts differ, N < 2, an entry is not finite, or a column is constant.
pub fn correlation_matrix(
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    kind: Correlation,
) -> Result<DMatrix<f64>, MetricError> {
    if a.nrows() != b.nrows() || a.nrows() < 2 {
        return Err(MetricError::Shape {
            what: format!(
                "correlation: both samples need the same number N >= 2 of rows, found {} and {}",
                a.nrows(),
                b.nrows()
            ),
        });
    }
    let ca = centred_columns(a, "sources", kind)?;
    let cb = centred_columns(b, "latents", kind)?;
    Ok(DMatrix::from_fn(ca.len(), cb.len(), |k, l| {
        let (x, nx) = &ca[k];
        let (y, ny) = &cb[l];
        let dot: f64 = x.iter().zip(y).map(|(s, t)| s * t).sum();
        (dot / (nx * ny)).clamp(-1.0, 1.0)
    }))
}
