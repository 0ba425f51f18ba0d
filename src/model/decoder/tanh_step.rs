//! The elementwise hyperbolic tangent (a nonlinearity of the authors' and the IMA paper's code).
//!
//! With th = tanh(t) and sh = sech(t) = 2e/(1 + e²), e = e^{−|t|} (no overflow; cached per
//! activation):
//!
//! | quantity | formula |
//! | --- | --- |
//! | tanh'(t) | sh² |
//! | tanh''(t) | −2 th sh² |
//! | Σ_i r_i ∇²f_i | diag(r_i tanh''(t_i)) |
//! | log|det J| | Σ_i log sech²(t_i) = Σ_i 2(ln 2 − |t_i| − log1p(e^{−2|t_i|})) — finite for every finite t |
//! | inverse | atanh y = ½ log1p(2y/(1 − y)) for y ∈ (−1, 1); any other y is [`DecoderError::OutsideImage`] |
//! | tanh(t + Δ) − tanh(t) | sinh(Δ) sech(t) sech(t + Δ) for |Δ| ≤ [`TANH_DIFF_MAX_STEP`], else the direct difference |
//!
//! The difference form is the exact identity tanh a − tanh b = sinh(a − b)/(cosh a cosh b): a
//! product, so a few ulps relative (plus |t|·eps from rounding t + Δ inside sech, whose relative
//! sensitivity is |tanh| ≤ 1), including where tanh(t) and tanh(t + Δ) both round to ±1 (|t| ≥ 19),
//! where the direct difference would be 0. Beyond |Δ| = 700 (sinh would overflow) the two values
//! lie at least 700 apart in t, and the direct difference has absolute error ≤ eps.
//!
//! Every formula is accurate to a few ulps for every finite t. The inverse is as accurate as y
//! determines t (an ulp of y near ±1 moves t by eps/(2(1 − |y|))); tanh rounds to ±1 for |t| > 19.1,
//! so such points have no inverse in f64.

use super::elementwise::{elementwise_step, Elementwise};
use super::error::DecoderError;
use crate::model::softplus;
use crate::tol::TANH_DIFF_MAX_STEP;
use std::f64::consts::LN_2;

/// The elementwise tanh on R^n.
#[derive(Debug, Clone, PartialEq)]
pub struct Tanh {
    dim: usize,
}

impl Tanh {
    /// The map on R^dim. Errors unless dim ≥ 1.
    pub fn new(dim: usize) -> Result<Self, DecoderError> {
        if dim == 0 {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: "tanh: dimension 0".into(),
            });
        }
        Ok(Tanh { dim })
    }
}

/// sech t = 2e/(1 + e²) with e = e^{−|t|}: no overflow, a few ulps (0 for |t| > 745).
#[inline]
fn sech(t: f64) -> f64 {
    let e = (-t.abs()).exp();
    2.0 * e / (1.0 + e * e)
}

impl Elementwise for Tanh {
    const NAME: &'static str = "tanh";
    const AUX: usize = 2;
    const IMAGE: &'static str = "(-1, 1)";

    fn dim(&self) -> usize {
        self.dim
    }

    #[inline]
    fn value(&self, t: f64) -> f64 {
        t.tanh()
    }

    /// [tanh t, sech t].
    #[inline]
    fn aux(&self, t: f64) -> [f64; 2] {
        [t.tanh(), sech(t)]
    }

    #[inline]
    fn diff(&self, t0: f64, aux0: [f64; 2], dt: f64) -> f64 {
        let t1 = t0 + dt;
        if dt.abs() <= TANH_DIFF_MAX_STEP {
            dt.sinh() * aux0[1] * sech(t1)
        } else {
            t1.tanh() - aux0[0]
        }
    }

    #[inline]
    fn d1(&self, _t: f64, aux: [f64; 2]) -> f64 {
        aux[1] * aux[1]
    }

    #[inline]
    fn d2(&self, _t: f64, aux: [f64; 2]) -> f64 {
        -2.0 * aux[0] * (aux[1] * aux[1])
    }

    /// tanh'''(t) = sech²(t)(6 tanh²(t) − 2) (absolute error a few ulps of sech²).
    #[inline]
    fn d3(&self, _t: f64, aux: [f64; 2]) -> f64 {
        let s2 = aux[1] * aux[1];
        s2 * (6.0 * aux[0] * aux[0] - 2.0)
    }

    /// log sech²(t) = 2(ln 2 − |t| − log1p(e^{−2|t|})).
    #[inline]
    fn log_d1(&self, t: f64) -> f64 {
        let a = t.abs();
        2.0 * (LN_2 - a - softplus(-2.0 * a))
    }

    /// ½ log1p(2y/(1 − y)) for −1 < y < 1.
    fn inverse_scalar(&self, y: f64) -> Option<f64> {
        (y > -1.0 && y < 1.0).then(|| 0.5 * (2.0 * y / (1.0 - y)).ln_1p())
    }
}

elementwise_step!(Tanh);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};
    use crate::model::decoder::StepOps;

    /// tanh(atanh y) = y to 4 eps relative over 30 decades near 0 and near ±1; atanh(tanh t) = t
    /// to 4 eps·max(|t|, 1/(1 − |tanh t|)) (the conditioning of atanh near ±1) for |t| ≤ 15; y ∉
    /// (−1, 1) is an error naming the coordinate.
    #[test]
    fn inverse() {
        let s = Tanh::new(1).unwrap();
        for e in -30..=-1 {
            let small = 10f64.powi(e);
            for y in [
                small,
                -small,
                1.0 - small.max(f64::EPSILON),
                small.max(f64::EPSILON) - 1.0,
            ] {
                let t = s.inverse_scalar(y).unwrap();
                assert_within(
                    &format!("tanh(atanh({y}))"),
                    &[s.value(t)],
                    &[y],
                    Tol::Rel(4.0 * f64::EPSILON),
                );
            }
        }
        for i in -30..=30 {
            let t = 0.5 * i as f64;
            let cond = t.abs().max(1.0 / (1.0 - t.tanh().abs()));
            assert_within(
                &format!("atanh(tanh({t}))"),
                &[s.inverse_scalar(s.value(t)).unwrap()],
                &[t],
                Tol::Scaled(4.0 * f64::EPSILON, cond),
            );
        }
        let mut out = [0.0; 2];
        for bad in [1.0, -1.0, 2.0, f64::NAN] {
            let e = Tanh::new(2)
                .unwrap()
                .inverse(&[bad, 0.1], &mut out)
                .unwrap_err();
            assert!(
                matches!(e, DecoderError::OutsideImage { index: 0, .. }),
                "{e}"
            );
        }
    }

    /// The difference form against independent references: where t and t + Δ have the same sign,
    /// tanh(t + Δ) − tanh(t) = 2[σ(−2t) − σ(−2t − 2Δ)] (for t > 0; mirrored for t < 0), a
    /// difference of small complements, good to ~50 eps for |Δ| ≤ 3 (1e-13 relative); across 0 the
    /// direct difference (two values of opposite signs, no cancellation); for Δ = 1e-12 the Taylor
    /// series (4 eps); and far out (t = 30, 300: tanh(t) = 1 in f64) the asymptote
    /// 2e^{−2t}(1 − e^{−2Δ}) to 1e-15 relative.
    #[test]
    fn difference_form() {
        let s = Tanh::new(1).unwrap();
        let sig_c = |u: f64| crate::model::sigmoid_pair(u).1;
        for i in -40..=40 {
            let t = 0.25 * i as f64;
            let a0 = s.aux(t);
            for dt in [-3.0, -1.0, -0.5, 0.5, 1.0, 3.0] {
                let t1 = t + dt;
                let reference = if t > 0.0 && t1 > 0.0 {
                    2.0 * (sig_c(2.0 * t) - sig_c(2.0 * t1))
                } else if t < 0.0 && t1 < 0.0 {
                    2.0 * (sig_c(-2.0 * t1) - sig_c(-2.0 * t))
                } else {
                    t1.tanh() - t.tanh()
                };
                assert_within(
                    &format!("tanh(t + Δ) − tanh(t) at t={t}, Δ={dt}"),
                    &[s.diff(t, a0, dt)],
                    &[reference],
                    Tol::Rel(1e-13),
                );
            }
            let dt = 1e-12;
            let taylor = s.d1(t, a0) * dt + 0.5 * s.d2(t, a0) * dt * dt;
            assert_within(
                &format!("tanh(t + Δ) − tanh(t) at t={t}, Δ={dt}"),
                &[s.diff(t, a0, dt)],
                &[taylor],
                Tol::Rel(4.0 * f64::EPSILON),
            );
        }
        for t in [30.0f64, 300.0] {
            for dt in [0.5f64, 2.0] {
                let exact = 2.0 * (-2.0 * t).exp() * -(-2.0 * dt).exp_m1();
                assert_within(
                    &format!("tanh(t + Δ) − tanh(t) at t={t}, Δ={dt}"),
                    &[s.diff(t, s.aux(t), dt)],
                    &[exact],
                    Tol::Rel(1e-15),
                );
            }
        }
        assert_eq!(s.diff(-5.0, s.aux(-5.0), 1000.0), 1.0 - (-5.0f64).tanh());
    }

    /// tanh', tanh'', tanh''' against central differences of the next-lower derivative (step 1e-5:
    /// truncation h²·max|tanh⁽ᵏ⁺²⁾|/6 ≤ 1e-10·16/6 < 3e-10 for k ≤ 3, round-off eps/h ≈ 2e-11;
    /// 1e-9 absolute), log tanh' against ln(sech²) where representable
    /// (4 eps of max(1, |log|)), and its asymptote 2 ln 2 − 2|t| at |t| = 800 (1e-15 relative).
    #[test]
    fn derivatives() {
        let s = Tanh::new(1).unwrap();
        let h = 1e-5;
        for i in -60..=60 {
            let t = 0.3 * i as f64;
            let a = s.aux(t);
            let fd1 = (s.value(t + h) - s.value(t - h)) / (2.0 * h);
            let fd2 = (s.d1(t + h, s.aux(t + h)) - s.d1(t - h, s.aux(t - h))) / (2.0 * h);
            assert_within("tanh'", &[s.d1(t, a)], &[fd1], Tol::Scaled(1e-9, 1.0));
            assert_within("tanh''", &[s.d2(t, a)], &[fd2], Tol::Scaled(1e-9, 1.0));
            let fd3 = (s.d2(t + h, s.aux(t + h)) - s.d2(t - h, s.aux(t - h))) / (2.0 * h);
            assert_within("tanh'''", &[s.d3(t, a)], &[fd3], Tol::Scaled(1e-9, 1.0));
            assert_within(
                "log tanh'",
                &[s.log_d1(t)],
                &[(a[1] * a[1]).ln()],
                Tol::Mixed(4.0 * f64::EPSILON),
            );
        }
        for t in [-800.0f64, 800.0] {
            assert_within(
                "log tanh'(±800)",
                &[s.log_d1(t)],
                &[2.0 * LN_2 - 1600.0],
                Tol::Rel(1e-15),
            );
        }
    }
}
