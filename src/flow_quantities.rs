//! The flow quantities at one observation x: what the oracle knows of the mixing f alone, with no
//! γ² and no quadrature — what `ima-oracle flow` writes, and the part of [`crate::evaluate()`]
//! that is defined wherever g(x) is.
//!
//! | quantity | formula | paper |
//! | --- | --- | --- |
//! | g | f⁻¹(x) | Assumption 1 (iv) |
//! | J | J_f(g(x)), D × d | |
//! | log\|det J\| | the sum of the steps' closed forms | eq. 4 |
//! | c_IMA | Σ_k log‖J[:, k]‖ − log\|det J\| | eq. 6 |
//! | log p_flow | log p0(g(x)) − log\|det J\| | eq. 4 |
//! | L_IMA | log p_flow − c_IMA | §2, Thm. 1 |
//!
//! Accuracy: g to the inverse's round-trip accuracy (a few eps·(1 + ‖g‖), see
//! [`crate::Decoder::inverse`]); J, log|det J| and c_IMA to a few eps times the size of their terms
//! (see [`crate::paper::ima`]). Every one of them is finite wherever g(x) exists — also where the
//! quadrature quantities of the same point are refused or −∞ (a Möbius decoder in d ≤ 2).

use crate::error::OracleError;
use crate::input::check_vec;
use crate::model::{Decoder, Model};
use crate::paper::ima;
use nalgebra::{DMatrix, DVector};

/// The flow quantities at one x (square invertible decoders).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowQuantities {
    /// g(x) = f⁻¹(x).
    pub g: DVector<f64>,
    /// J_f(g(x)), D × d.
    pub jacobian: DMatrix<f64>,
    /// log|det J_f(g(x))|.
    pub log_abs_det: f64,
    /// c_IMA(f, g(x)) (eq. 6).
    pub c_ima: f64,
    /// log p0(g(x)) − log|det J_f(g(x))| (eq. 4).
    pub log_flow: f64,
}

impl FlowQuantities {
    /// L_IMA = log p_flow − c_IMA, the γ → ∞ limit of ELBO* (Thm. 1).
    pub fn l_ima(&self) -> f64 {
        self.log_flow - self.c_ima
    }

    /// The column norms ‖J[:, k]‖ (the denominators of eq. 12).
    pub fn column_norms(&self) -> DVector<f64> {
        DVector::from_iterator(
            self.jacobian.ncols(),
            self.jacobian.column_iter().map(|c| c.norm()),
        )
    }
}

/// The flow quantities of `model` at `x` (length D, finite): errors when x has the wrong length or
/// a non-finite entry, when the decoder is not square, or when g(x) does not exist (x outside the
/// range of f, or at the image of a pole).
///
/// ```
/// use ima_oracle::{flow_quantities, generate, Model, Prior};
/// let f = generate::moebius_decoder(2, &mut generate::rng(4)).unwrap();
/// let model = Model::new(Prior::standard_normal(), f).unwrap();
/// let x = model.decoder().forward(&nalgebra::DVector::from_vec(vec![0.1, -0.2])).unwrap();
/// // In d = 2 the Möbius ELBO is −∞, but the flow quantities are finite: c_IMA = 0 (conformal map).
/// let q = flow_quantities(&model, x.as_slice()).unwrap();
/// assert!(q.c_ima.abs() < 1e-13);
/// ```
pub fn flow_quantities(model: &Model, x: &[f64]) -> Result<FlowQuantities, OracleError> {
    check_vec("x", x, model.dim_observed())?;
    let dec: &Decoder = model.decoder();
    let x = DVector::from_column_slice(x);
    let g = dec.inverse(&x)?;
    Ok(FlowQuantities {
        jacobian: dec.jacobian(&g)?,
        log_abs_det: dec.log_abs_det_jacobian(&g)?,
        c_ima: ima::c_ima(dec, &g)?,
        log_flow: ima::log_flow_likelihood(dec, model.prior(), &x)?,
        g,
    })
}
