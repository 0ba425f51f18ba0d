//! The posterior mode ẑ = argmax_z φ(z), φ(z) = −(γ²/2)‖x − f(z)‖² + log p0(z), and the curvature
//! H = −∇²φ(ẑ) = γ²(JᵀJ − Σ_i r_i ∇²f_i) − diag((log m)'') there: the centre and scale of the
//! Laplace-centred marginal likelihood.
//!
//! Newton (`newton.rs`) from g(x) (or a given start), in natural coordinates scaled by the eq. 12
//! widths at the start ([`Eq12Terms::sigma`]), until the decrement reaches the round-off floor
//! [`newton_decrement_floor`] with the size ‖x‖∞.

use super::newton::{maximize, Eval, NewtonOptions, Termination};
use super::self_consistent::Eq12Terms;
use crate::error::OracleError;
use crate::input::{check_vec, Query};
use crate::model::DecoderError;
use crate::objective::DerivativeOrder;
use crate::tol::{newton_decrement_floor, value_noise, MODE_START_MARGIN};
use nalgebra::{DMatrix, DVector};

/// The posterior mode ẑ = argmax_z [log p(x | z) + log p0(z)] and the curvature there.
#[derive(Debug, Clone, PartialEq)]
pub struct PosteriorMode {
    /// ẑ.
    pub z: DVector<f64>,
    /// H = −∇² log p(x, z) at ẑ (positive definite).
    pub hessian: DMatrix<f64>,
    /// x − f(ẑ).
    pub residual: DVector<f64>,
    /// φ(ẑ) = −(γ²/2)‖x − f(ẑ)‖² + log p0(ẑ) (without the (D/2) log(γ²/2π) normaliser).
    pub phi: f64,
    /// Newton iterations.
    pub iterations: usize,
    /// Why Newton stopped.
    pub termination: Termination,
}

/// The posterior mode, by Newton from `start` (default: g(x)). Errors: a decoder that is not
/// smooth ([`OracleError::NotSmooth`]: Newton's Hessian does not see a leaky ReLU's kinks, and the
/// Laplace route this mode serves refuses such decoders anyway), a start of the wrong length or
/// not finite (checked here, once), a decoder failure, or a Newton solve that does not converge.
pub fn posterior_mode(query: &Query, start: Option<&[f64]>) -> Result<PosteriorMode, OracleError> {
    let model = query.model();
    model.guard_smooth()?;
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    let z0 = match start {
        Some(s) => {
            check_vec("start", s, d)?;
            DVector::from_column_slice(s)
        }
        // g(x), or for an x outside a bounded image (a sigmoid model's observations near a face,
        // with noise) the preimage of a nearby point inside it.
        None => match model.decoder().inverse(query.x()) {
            Err(DecoderError::OutsideImage { .. }) => model
                .decoder()
                .inverse_clamped(query.x().as_slice(), MODE_START_MARGIN)?,
            r => r?,
        },
    };
    let (dec, prior, gamma2, x) = (model.decoder(), model.prior(), query.gamma2(), query.x());
    let mut ws = dec.workspace();
    let mut hc = DMatrix::zeros(d, d);
    let f = |z: &DVector<f64>, order| -> Result<Eval<DVector<f64>>, OracleError> {
        let want = order >= DerivativeOrder::Gradient;
        dec.eval(z.as_slice(), &mut ws, want)?;
        let r = DVector::from_fn(dd, |i, _| x[i] - ws.output()[i]);
        let lp = prior.log_density_sum(z.as_slice());
        let rec = 0.5 * gamma2 * r.norm_squared();
        let mut e = Eval {
            value: lp - rec,
            value_noise: value_noise([rec, lp]),
            gradient: None,
            hessian: None,
            extra: r.clone(),
        };
        if want {
            let j = ws.jacobian();
            let mut g = j.tr_mul(&r) * gamma2;
            for k in 0..d {
                g[k] += prior.d1(z[k]);
            }
            e.gradient = Some(g);
            if order >= DerivativeOrder::Hessian {
                let jtj = j.tr_mul(j);
                dec.hessian_contraction_into(&mut ws, r.as_slice(), &mut hc)?;
                let mut h = (hc.clone() - jtj) * gamma2;
                for k in 0..d {
                    h[(k, k)] += prior.d2(z[k]);
                }
                e.hessian = Some(h);
            }
        }
        Ok(e)
    };
    let scale0 = Eq12Terms::at(model, z0.clone())?.sigma(query.precision());
    let floor = newton_decrement_floor(d, gamma2, x.amax());
    let s = maximize(
        "posterior mode (Newton)",
        f,
        &z0,
        |_| scale0.clone(),
        |_| floor,
        &NewtonOptions::default(),
    )?;
    let hessian = -s.last.hessian.expect("final evaluation has a Hessian");
    Ok(PosteriorMode {
        z: s.theta,
        hessian,
        residual: s.last.extra,
        phi: s.last.value,
        iterations: s.iterations,
        termination: s.termination,
    })
}
