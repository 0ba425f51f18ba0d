//! The IMA quantities of the paper: the local contrast c_IMA (eq. 6), its global mean C_IMA, the flow
//! log-likelihood (eq. 4) and the IMA-regularised objective L_IMA (§2).
//!
//! | quantity | formula | paper |
//! | --- | --- | --- |
//! | c_IMA(f, z) | Σ_k log‖J_f(z)[:, k]‖ − log|det J_f(z)| | eq. 6 |
//! | c_IMA, D ≥ d | ½ log det diag(JᵀJ) − ½ log det(JᵀJ) = Σ_k log‖J[:, k]‖ − Σ_k log|R_kk|, J = QR | eq. 6 extended |
//! | C_IMA(f, p0) | E_{p0}[c_IMA(f, z)], by Monte Carlo with its standard error | eq. 6 |
//! | log p_flow(x) | log p0(g(x)) − log|det J_f(g(x))| | eq. 4 |
//! | L_IMA(x) | log p_flow(x) − λ c_IMA(f, g(x)) | §2 |
//!
//! c_IMA ≥ 0 by Hadamard's inequality, with equality iff the columns of J are orthogonal; it is
//! invariant under rescaling and permuting the columns. For square decoders log|det J| is the sum
//! of the steps' closed forms (see [`crate::model::Decoder`]), so c_IMA carries an absolute error of a few
//! eps times Σ_k |log‖J[:, k]‖| + Σ_l |log|det J_l||, and is exactly 0 to that accuracy for Möbius maps.

use crate::model::generate::OracleRng;
use crate::model::{shifted_log_flow, Decoder, DecoderError, Prior, Source, Workspace};
use crate::quadrature::SampleMean;
use nalgebra::{DMatrix, DVector};

/// Σ_k log‖J[:, k]‖ − ½ log det(JᵀJ) for a D×d matrix J with D ≥ d and full column rank, the
/// determinant from a Householder QR (backward stable: error ~ eps·κ(J)). Returns +∞ when J is
/// rank deficient with non-zero columns (an R_kk of zero), and NaN when a column is zero (then
/// both sums are −∞: c_IMA is undefined).
pub fn c_ima_of_jacobian(j: &DMatrix<f64>) -> f64 {
    let cols = log_column_norms(j);
    let r = j.clone().qr().r();
    let logdet: f64 = (0..j.ncols()).map(|k| r[(k, k)].abs().ln()).sum();
    cols - logdet
}

/// Σ_k log‖J[:, k]‖.
pub fn log_column_norms(j: &DMatrix<f64>) -> f64 {
    j.column_iter().map(|c| c.norm().ln()).sum()
}

/// c_IMA(f, z) (eq. 6). Square decoders use the chain's log|det J|; D > d uses the QR form.
pub fn c_ima(decoder: &Decoder, z: &DVector<f64>) -> Result<f64, DecoderError> {
    let mut ws = decoder.workspace();
    c_ima_with(decoder, z.as_slice(), &mut ws)
}

/// c_IMA(f, z) with a caller-owned workspace (allocation-free for square decoders).
pub fn c_ima_with(decoder: &Decoder, z: &[f64], ws: &mut Workspace) -> Result<f64, DecoderError> {
    decoder.eval(z, ws, true)?;
    if decoder.is_square() {
        Ok(log_column_norms(ws.jacobian()) - decoder.log_abs_det_from(ws)?)
    } else {
        Ok(c_ima_of_jacobian(ws.jacobian()))
    }
}

/// C_IMA(f, p) = E_{z∼p}[c_IMA(f, z)] (eq. 6) by Monte Carlo over `n` draws from `source` (the prior,
/// or a data source), with its standard error. Errors on the first z at which c_IMA fails.
pub fn global_c_ima(
    decoder: &Decoder,
    source: &Source,
    n: usize,
    rng: &mut OracleRng,
) -> Result<SampleMean, DecoderError> {
    let mut ws = decoder.workspace();
    let mut z = vec![0.0; decoder.dim_in()];
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        for t in z.iter_mut() {
            *t = source.sample_1d(rng);
        }
        values.push(c_ima_with(decoder, &z, &mut ws)?);
    }
    Ok(SampleMean::from_samples(values))
}

/// The flow log-likelihood log p0(g(x)) − log|det J_f(g(x))| (eq. 4): the γ → ∞ limit of log pθ(x).
pub fn log_flow_likelihood(
    decoder: &Decoder,
    prior: &Prior,
    x: &DVector<f64>,
) -> Result<f64, DecoderError> {
    let mut ws = decoder.workspace();
    decoder.inverse_into(x.as_slice(), &mut ws)?;
    Ok(shifted_log_flow(decoder, prior, &ws, 0.0))
}

/// L_IMA(x) = log p_flow(x) − λ c_IMA(f, g(x)) (§2; Thm. 1 has λ = 1).
pub fn l_ima(
    decoder: &Decoder,
    prior: &Prior,
    x: &DVector<f64>,
    lambda: f64,
) -> Result<f64, DecoderError> {
    let mut ws = decoder.workspace();
    decoder.inverse_into(x.as_slice(), &mut ws)?;
    let z = ws.input().to_vec();
    let c = c_ima_with(decoder, &z, &mut ws)?;
    Ok(shifted_log_flow(decoder, prior, &ws, 0.0) - lambda * c)
}
