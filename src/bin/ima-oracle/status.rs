//! Per-quantity status codes: why a quantity of `eval`/`golden` holds no number (docs/outputs.md).
//! Written as float64 arrays `status_<quantity>.npy` beside the values, one code per point.

use ima_oracle::OracleError;

/// Computed: the value is good to its documented accuracy.
pub const COMPUTED: f64 = 0.0;
/// The exact value is −∞ (ELBO* of a Möbius decoder in d ≤ 2); μ̂ and σ̂² are undefined (NaN).
pub const MINUS_INFINITY: f64 = 1.0;
/// Refused: a decoder pole carries Gaussian mass the quadrature cannot see.
pub const POLE: f64 = 2.0;
/// Refused: the quadrature did not meet the tolerance within its node budget.
pub const QUADRATURE: f64 = 3.0;
/// Refused: the Newton solver did not converge.
pub const SOLVER: f64 = 4.0;
/// The decoder failed (g(x) does not exist, a pole at a node, …).
pub const DECODER: f64 = 5.0;
/// Refused: the decoder is not smooth (a leaky ReLU step), so no expectation over q is computed.
pub const NOT_SMOOTH: f64 = 6.0;
/// Any other refusal (the message says which).
pub const OTHER: f64 = 9.0;

/// The code of one quantity's result.
pub fn code<T>(r: &Result<T, OracleError>) -> f64 {
    match r {
        Ok(_) => COMPUTED,
        Err(e) => error_code(e),
    }
}

/// The code of a refusal.
pub fn error_code(e: &OracleError) -> f64 {
    match e {
        OracleError::MinusInfinity { .. } => MINUS_INFINITY,
        OracleError::PoleTooClose { .. } => POLE,
        OracleError::QuadratureNotConverged { .. } | OracleError::Rule(_) => QUADRATURE,
        OracleError::NotConverged { .. } => SOLVER,
        OracleError::Decoder(_) => DECODER,
        OracleError::NotSmooth { .. } => NOT_SMOOTH,
        _ => OTHER,
    }
}

/// Whether a code marks a refusal (no number where one exists), as opposed to a computed or exact
/// value.
pub fn is_refusal(code: f64) -> bool {
    code != COMPUTED && code != MINUS_INFINITY
}
