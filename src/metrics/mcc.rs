//! The mean correlation coefficient (MCC) of the identifiability literature (used in the paper's
//! §4.3 and Fig. 5; the authors' `mean_corr_coef`): with C the matrix of absolute correlations
//! |corr(s_k, ẑ_l)| between the true sources s (N × d) and the learned latents ẑ (N × d'),
//! d ≤ d', MCC = (1/d) max_π Σ_k C[k, π(k)] over injections π — the components matched by the
//! assignment of largest total correlation ([`max_weight_assignment`]).

use super::{correlation_matrix, max_weight_assignment, Correlation, MetricError};
use nalgebra::DMatrix;

/// An MCC with its matching.
#[derive(Debug, Clone, PartialEq)]
pub struct Mcc {
    /// The mean of the matched absolute correlations, in [0, 1].
    pub score: f64,
    /// The latent matched to each source.
    pub matching: Vec<usize>,
    /// The matched absolute correlations, per source (the per-factor numbers of Fig. 5).
    pub per_source: Vec<f64>,
    /// The whole matrix of absolute correlations (sources × latents).
    pub abs_corr: DMatrix<f64>,
}

/// MCC between the sources (N × d) and the latents (N × d', d ≤ d'). Errors as
/// [`correlation_matrix`], and when d > d'.
pub fn mcc(
    sources: &DMatrix<f64>,
    latents: &DMatrix<f64>,
    kind: Correlation,
) -> Result<Mcc, MetricError> {
    let c = correlation_matrix(sources, latents, kind)?.abs();
    let matching = max_weight_assignment(&c)?;
    let per_source: Vec<f64> = matching
        .iter()
        .enumerate()
        .map(|(k, &l)| c[(k, l)])
        .collect();
    Ok(Mcc {
        score: per_source.iter().sum::<f64>() / per_source.len() as f64,
        matching,
        per_source,
        abs_corr: c,
    })
}
