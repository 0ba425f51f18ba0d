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

use crate::lanes::{Block, Lanes, LANES};
use crate::model::generate::OracleRng;
use crate::model::{
    shifted_log_flow, BlockWorkspace, Decoder, DecoderError, Prior, Source, Workspace,
};
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

/// Σ_k log‖J[:, k]‖, each norm √(Σ_i J_ik²) summed over i in order (the order of the block form).
pub fn log_column_norms(j: &DMatrix<f64>) -> f64 {
    j.column_iter()
        .map(|c| {
            let mut s = 0.0;
            for x in c.iter() {
                s += x * x;
            }
            s.sqrt().ln()
        })
        .sum()
}

/// c_IMA(f, z) (eq. 6) at many points: the points run through the decoder's block form
/// ([`crate::lanes::LANES`] at a time), each value equal bit for bit to [`c_ima`] at that point.
/// A block in which some point fails (a pole) is redone point by point, so each point gets its
/// own result.
pub fn c_ima_many(decoder: &Decoder, zs: &[DVector<f64>]) -> Vec<Result<f64, DecoderError>> {
    let mut bws = decoder.block_workspace();
    let mut ws = decoder.workspace();
    let d = decoder.dim_in();
    let mut zb = Block::zeros(d);
    let mut jac = DMatrix::zeros(decoder.dim_out(), d);
    let mut out = Vec::with_capacity(zs.len());
    for chunk in zs.chunks(LANES) {
        // A wrong-length point sends its chunk to the scalar path, which reports it; lanes past
        // the end of the points repeat the first.
        let block = match chunk.iter().all(|z| z.len() == d) {
            true => {
                for l in 0..LANES {
                    zb.write_lane(l, chunk.get(l).unwrap_or(&chunk[0]).as_slice());
                }
                c_ima_block(decoder, &zb, &mut bws, &mut jac).ok()
            }
            false => None,
        };
        match block {
            Some(values) => out.extend(values.iter().take(chunk.len()).map(|&v| Ok(v))),
            None => out.extend(
                chunk
                    .iter()
                    .map(|z| c_ima_with(decoder, z.as_slice(), &mut ws)),
            ),
        }
    }
    out
}

/// c_IMA per lane of a block of points.
fn c_ima_block(
    decoder: &Decoder,
    zb: &Block,
    bws: &mut BlockWorkspace,
    jac: &mut DMatrix<f64>,
) -> Result<Lanes, DecoderError> {
    decoder.eval_block(zb, bws, true)?;
    let mut c = [0.0; LANES];
    if decoder.is_square() {
        let logdet = decoder.log_abs_det_block(bws)?;
        let j = bws.jacobian();
        for (l, cl) in c.iter_mut().enumerate() {
            let cols: f64 = (0..j.ncols())
                .map(|k| {
                    let mut s = 0.0;
                    for e in j.column(k) {
                        s += e[l] * e[l];
                    }
                    s.sqrt().ln()
                })
                .sum();
            *cl = cols - logdet[l];
        }
    } else {
        for (l, cl) in c.iter_mut().enumerate() {
            bws.jacobian().read_lane(l, jac);
            *cl = c_ima_of_jacobian(jac);
        }
    }
    Ok(c)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::generate::{rng, Family};
    use rand::RngExt;
    use rand_distr::StandardNormal;

    /// The block path equals the point-by-point path bit for bit, for every family in d = 2, 3, 5,
    /// with a number of points that is not a multiple of the block width; a point on a Möbius pole
    /// gets its own error and leaves its block's other points their values.
    #[test]
    fn many_points_equal_one_at_a_time() {
        let mut r = rng(47);
        for d in [2usize, 3, 5] {
            for fam in Family::ALL {
                let dec = fam.build(d, &mut r).unwrap();
                let mut zs: Vec<DVector<f64>> = (0..2 * LANES + 3)
                    .map(|_| DVector::from_fn(d, |_, _| 0.4 * r.sample::<f64, _>(StandardNormal)))
                    .collect();
                if let crate::model::Step::Moebius(m) = &dec.steps()[0] {
                    zs[5] = m.pole().clone();
                }
                let many = c_ima_many(&dec, &zs);
                assert_eq!(many.len(), zs.len());
                for (z, v) in zs.iter().zip(&many) {
                    match (c_ima(&dec, z), v) {
                        (Ok(a), Ok(b)) => assert_eq!(a, *b, "{} d={d}", fam.name()),
                        (Err(a), Err(b)) => assert_eq!(a, *b),
                        (a, b) => panic!("{} d={d}: {a:?} vs {b:?}", fam.name()),
                    }
                }
            }
        }
    }
}
