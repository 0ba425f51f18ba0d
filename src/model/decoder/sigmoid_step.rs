//! The elementwise logistic sigmoid σ(t) = 1/(1 + e^{−t}) — what the authors apply to the Gaussian
//! latent before a uniform or Beta prior on (0, 1)ᵈ (docs/model-format.md, "The authors' uniform
//! and Beta priors").
//!
//! With s = σ(t), c = σ(−t) = 1 − s (both from e^{−|t|}, no cancellation; cached per activation):
//!
//! | quantity | formula |
//! | --- | --- |
//! | σ'(t) | s c |
//! | σ''(t) | s c (c − s) = −s c tanh(t/2) |
//! | Σ_i r_i ∇²f_i | diag(r_i σ''(t_i)) |
//! | log|det J| | Σ_i log(s c) = −Σ_i (|t_i| + 2 log1p(e^{−|t_i|})) — finite for every finite t |
//! | inverse | t = ln y − log1p(−y) for y ∈ (0, 1); any other y is [`DecoderError::OutsideImage`] |
//! | σ(t + Δ) − σ(t) | s c (1 − e^{−Δ})/(s + c e^{−Δ}) for Δ ≥ 0, s c (e^Δ − 1)/(c + s e^Δ) for Δ < 0 |
//!
//! The difference form is an exact identity whose numerator is a product and whose denominator a
//! sum of non-negative terms (1 − e^{−Δ} = −expm1(−Δ) and e^Δ − 1 = expm1(Δ)), so it has a few
//! ulps of relative error for every Δ — including where σ(t) and σ(t + Δ) both round to 1 (t ≥ 37),
//! where the direct difference would be 0. Where s c is subnormal (|t| > 708) it falls back to the
//! difference of the complements (c − c' for t ≥ 0, s' − s below), whose absolute error is below
//! the smallest normal number.
//!
//! Every formula is accurate to a few ulps for every finite t. The inverse is as accurate as y
//! determines t: near y = 1 an ulp of y is 1.1e-16, so t = ln(y/(1 − y)) is known only to
//! 1.1e-16/(1 − y) absolutely, and σ(t) rounds to 1 for t > 36.7 — such points have no inverse in
//! f64 (y = 1 exactly is outside the image).

use super::elementwise::{elementwise_step, Elementwise};
use super::error::DecoderError;
use crate::model::{sigmoid_pair, softplus};

/// The elementwise logistic sigmoid on R^n.
#[derive(Debug, Clone, PartialEq)]
pub struct Sigmoid {
    dim: usize,
}

impl Sigmoid {
    /// The map on R^dim. Errors unless dim ≥ 1.
    pub fn new(dim: usize) -> Result<Self, DecoderError> {
        if dim == 0 {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: "sigmoid: dimension 0".into(),
            });
        }
        Ok(Sigmoid { dim })
    }
}

impl Elementwise for Sigmoid {
    const NAME: &'static str = "sigmoid";
    const AUX: usize = 2;
    const IMAGE: &'static str = "(0, 1)";

    fn dim(&self) -> usize {
        self.dim
    }

    #[inline]
    fn value(&self, t: f64) -> f64 {
        sigmoid_pair(t).0
    }

    /// [σ(t), σ(−t)].
    #[inline]
    fn aux(&self, t: f64) -> [f64; 2] {
        let (s, c) = sigmoid_pair(t);
        [s, c]
    }

    /// The difference form of the module table.
    #[inline]
    fn diff(&self, t0: f64, aux0: [f64; 2], dt: f64) -> f64 {
        let [s, c] = aux0;
        let sc = s * c;
        if sc >= f64::MIN_POSITIVE {
            if dt >= 0.0 {
                sc * -(-dt).exp_m1() / (s + c * (-dt).exp())
            } else {
                sc * dt.exp_m1() / (c + s * dt.exp())
            }
        } else {
            let (s1, c1) = sigmoid_pair(t0 + dt);
            if t0 >= 0.0 {
                c - c1
            } else {
                s1 - s
            }
        }
    }

    #[inline]
    fn d1(&self, _t: f64, aux: [f64; 2]) -> f64 {
        aux[0] * aux[1]
    }

    #[inline]
    fn d2(&self, t: f64, aux: [f64; 2]) -> f64 {
        -(aux[0] * aux[1]) * (0.5 * t).tanh()
    }

    /// σ'''(t) = s c (1 − 6 s c) (s c ≤ ¼, so 1 − 6 s c ∈ [−½, 1): absolute error a few ulps of
    /// s c).
    #[inline]
    fn d3(&self, _t: f64, aux: [f64; 2]) -> f64 {
        let sc = aux[0] * aux[1];
        sc * (1.0 - 6.0 * sc)
    }

    /// log(σ(t)σ(−t)) = −|t| − 2 log1p(e^{−|t|}).
    #[inline]
    fn log_d1(&self, t: f64) -> f64 {
        let a = t.abs();
        -a - 2.0 * softplus(-a)
    }

    /// ln y − log1p(−y) for 0 < y < 1.
    fn inverse_scalar(&self, y: f64) -> Option<f64> {
        (y > 0.0 && y < 1.0).then(|| y.ln() - (-y).ln_1p())
    }
}

elementwise_step!(Sigmoid);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};
    use crate::model::decoder::StepOps;

    /// σ(σ⁻¹(y)) = y to 4 eps·max(1, |t|) relative for y over 30 decades (both ends of (0, 1)),
    /// and σ⁻¹(σ(t)) = t to 4 eps·max(|t|, 1 + eᵗ) (the conditioning of the logit at y = σ(t)) for
    /// |t| ≤ 30; y ∉ (0, 1) is an error naming the coordinate.
    #[test]
    fn inverse() {
        let s = Sigmoid::new(1).unwrap();
        for e in -30..=-1 {
            for y in [10f64.powi(e), 1.0 - 10f64.powi(e).max(f64::EPSILON)] {
                let t = s.inverse_scalar(y).unwrap();
                // The rounding of t (≤ eps·|t|) moves σ by a relative σ(−t)·eps·|t| ≤ eps·|t|.
                assert_within(
                    &format!("σ(σ⁻¹({y}))"),
                    &[s.value(t)],
                    &[y],
                    Tol::Rel(4.0 * f64::EPSILON * t.abs().max(1.0)),
                );
            }
        }
        for i in -60..=60 {
            let t = 0.5 * i as f64;
            // dt/dy = 1/(y(1 − y)): an ulp of y (≤ eps·y) moves t by ≤ eps/(1 − y) ≤ eps·(1 + e^{t}).
            let cond = 1.0 + t.exp();
            assert_within(
                &format!("σ⁻¹(σ({t}))"),
                &[s.inverse_scalar(s.value(t)).unwrap()],
                &[t],
                Tol::Scaled(4.0 * f64::EPSILON, cond.max(t.abs())),
            );
        }
        let mut out = [0.0; 3];
        for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
            let e = s_3().inverse(&[0.5, bad, 0.2], &mut out).unwrap_err();
            assert!(
                matches!(e, DecoderError::OutsideImage { index: 1, .. }),
                "{e}"
            );
        }
    }

    fn s_3() -> Sigmoid {
        Sigmoid::new(3).unwrap()
    }

    /// The difference form against an independent reference: where t and t + Δ are both positive,
    /// σ(t + Δ) − σ(t) = σ(−t) − σ(−t − Δ), the difference of the small complements; elsewhere the
    /// direct difference of two values ≤ ½ or of opposite sides of ½. Either reference then subtracts
    /// numbers at most ~e^{|Δ|} ≤ 21 times the result (|Δ| ≤ 3), so it is good to ~50 eps; 1e-13
    /// relative. And the Taylor series σ'Δ + σ''Δ²/2 for Δ = 1e-12 (error |σ'''|Δ³/6 < 1e-37; 4 eps
    /// relative). Far out (t = 40, 60, where σ(t) = 1 in f64) the form keeps full relative
    /// accuracy: σ(t + Δ) − σ(t) = e^{−t}(1 − e^{−Δ})(1 + O(e^{−t})) to 1e-15.
    #[test]
    fn difference_form() {
        let s = Sigmoid::new(1).unwrap();
        for i in -40..=40 {
            let t = 0.25 * i as f64;
            let a0 = s.aux(t);
            for dt in [-3.0, -1.0, -0.5, 0.5, 1.0, 3.0] {
                let direct = if t > 0.0 && t + dt > 0.0 {
                    sigmoid_pair(t).1 - sigmoid_pair(t + dt).1
                } else {
                    s.value(t + dt) - s.value(t)
                };
                assert_within(
                    &format!("σ(t + Δ) − σ(t) at t={t}, Δ={dt}"),
                    &[s.diff(t, a0, dt)],
                    &[direct],
                    Tol::Rel(1e-13),
                );
            }
            let dt = 1e-12;
            let taylor = s.d1(t, a0) * dt + 0.5 * s.d2(t, a0) * dt * dt;
            assert_within(
                &format!("σ(t + Δ) − σ(t) at t={t}, Δ={dt}"),
                &[s.diff(t, a0, dt)],
                &[taylor],
                Tol::Rel(4.0 * f64::EPSILON),
            );
        }
        for t in [40.0f64, 60.0] {
            for dt in [0.5f64, 2.0, -0.5] {
                let exact = (-t).exp() * -(-dt).exp_m1();
                assert_within(
                    &format!("σ(t + Δ) − σ(t) at t={t}, Δ={dt}"),
                    &[s.diff(t, s.aux(t), dt)],
                    &[exact],
                    Tol::Rel(1e-15),
                );
            }
        }
        // Beyond |t| = 708 (s c subnormal): the fallback, finite and of the right sign.
        let far = s.diff(800.0, s.aux(800.0), -790.0);
        assert_within(
            "σ(10) − σ(800)",
            &[far],
            &[-sigmoid_pair(10.0).1],
            Tol::Rel(4.0 * f64::EPSILON),
        );
    }

    /// σ', σ'', σ''' against central differences of the next-lower derivative (step 1e-5:
    /// truncation h²·max|σ⁽ᵏ⁺²⁾|/6 ≤ 1e-10·(1/4)/6 < 1e-11 for k ≤ 3, round-off eps/h ≈ 2e-11;
    /// 1e-9 absolute), log σ' = log(s c) where that is representable
    /// (4 eps of max(1, |log|)), and finite at |t| = 800 (the asymptote −|t| to 1e-15 relative).
    #[test]
    fn derivatives() {
        let s = Sigmoid::new(1).unwrap();
        let h = 1e-5;
        for i in -60..=60 {
            let t = 0.3 * i as f64;
            let a = s.aux(t);
            let fd1 = (s.value(t + h) - s.value(t - h)) / (2.0 * h);
            let fd2 = (s.d1(t + h, s.aux(t + h)) - s.d1(t - h, s.aux(t - h))) / (2.0 * h);
            assert_within("σ'", &[s.d1(t, a)], &[fd1], Tol::Scaled(1e-9, 1.0));
            assert_within("σ''", &[s.d2(t, a)], &[fd2], Tol::Scaled(1e-9, 1.0));
            let fd3 = (s.d2(t + h, s.aux(t + h)) - s.d2(t - h, s.aux(t - h))) / (2.0 * h);
            assert_within("σ'''", &[s.d3(t, a)], &[fd3], Tol::Scaled(1e-9, 1.0));
            let l = (a[0] * a[1]).ln();
            assert_within(
                "log σ'",
                &[s.log_d1(t)],
                &[l],
                Tol::Mixed(4.0 * f64::EPSILON),
            );
        }
        for t in [-800.0f64, 800.0] {
            assert_within("log σ'(±800)", &[s.log_d1(t)], &[-800.0], Tol::Rel(1e-15));
        }
    }

    #[test]
    fn bad_dimension() {
        assert!(Sigmoid::new(0).is_err());
    }
}
