//! The elementwise leaky ReLU a(t) = t for t ≥ 0, k t for t < 0 (slope k > 0) — piecewise linear,
//! with a kink at t = 0 in every coordinate.
//!
//! | quantity | formula |
//! | --- | --- |
//! | a'(t) | 1 for t ≥ 0, k for t < 0 (at the kink: the right derivative, 1) |
//! | a''(t) | 0 (off the kink; the distributional (1 − k)δ(t) at it is not represented) |
//! | log|det J| | Σ_{t_i < 0} ln k |
//! | inverse | y for y ≥ 0, y/k for y < 0 (the image is R) |
//! | a(t + Δ) − a(t) | a'·Δ when t and t + Δ lie on the same side of 0; else a(t + Δ) − a(t), two terms of opposite signs (no cancellation) |
//!
//! Everything is exact off the kink set {t : some t_i = 0} (up to one rounding). A decoder with
//! this step is not smooth, so the Gaussian expectations of the ELBO, the optimal encoder and the
//! marginal likelihood (whose quadratures assume smoothness for their error estimates) refuse it
//! with `NotSmooth`; the flow quantities g, J, log|det J|, c_IMA are exact off the kinks.

use super::elementwise::{elementwise_step, Elementwise};
use super::error::DecoderError;

/// The elementwise leaky ReLU t ↦ max(t, k t) (k ≤ 1) or the general two-slope map (k > 1).
#[derive(Debug, Clone, PartialEq)]
pub struct LeakyRelu {
    dim: usize,
    slope: f64,
}

impl LeakyRelu {
    /// The map on R^dim with negative-side slope k. Errors unless k is finite and positive (k ≤ 0
    /// is not invertible) and dim ≥ 1.
    pub fn new(dim: usize, slope: f64) -> Result<Self, DecoderError> {
        if !(slope.is_finite() && slope > 0.0) {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: format!(
                    "leaky relu: slope = {slope} must be finite and positive (invertibility)"
                ),
            });
        }
        if dim == 0 {
            return Err(DecoderError::InvalidParameter {
                step: None,
                message: "leaky relu: dimension 0".into(),
            });
        }
        Ok(LeakyRelu { dim, slope })
    }

    /// The slope k on t < 0.
    pub fn slope(&self) -> f64 {
        self.slope
    }

    #[inline]
    fn d1_at(&self, t: f64) -> f64 {
        if t >= 0.0 {
            1.0
        } else {
            self.slope
        }
    }
}

impl Elementwise for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    const AUX: usize = 0;
    const IMAGE: &'static str = "R";

    fn dim(&self) -> usize {
        self.dim
    }

    #[inline]
    fn value(&self, t: f64) -> f64 {
        if t >= 0.0 {
            t
        } else {
            self.slope * t
        }
    }

    #[inline]
    fn aux(&self, _t: f64) -> [f64; 2] {
        [0.0; 2]
    }

    #[inline]
    fn diff(&self, t0: f64, _aux0: [f64; 2], dt: f64) -> f64 {
        let t1 = t0 + dt;
        if (t0 >= 0.0) == (t1 >= 0.0) {
            self.d1_at(t0) * dt
        } else {
            self.value(t1) - self.value(t0)
        }
    }

    #[inline]
    fn d1(&self, t: f64, _aux: [f64; 2]) -> f64 {
        self.d1_at(t)
    }

    #[inline]
    fn d2(&self, _t: f64, _aux: [f64; 2]) -> f64 {
        0.0
    }

    #[inline]
    fn d3(&self, _t: f64, _aux: [f64; 2]) -> f64 {
        0.0
    }

    #[inline]
    fn log_d1(&self, t: f64) -> f64 {
        if t >= 0.0 {
            0.0
        } else {
            self.slope.ln()
        }
    }

    fn inverse_scalar(&self, y: f64) -> Option<f64> {
        if y >= 0.0 {
            Some(y)
        } else if y < 0.0 {
            Some(y / self.slope)
        } else {
            None
        }
    }
}

elementwise_step!(LeakyRelu);

#[cfg(test)]
mod tests {
    use super::*;

    /// The closed forms are exact here (one rounding at most): values, inverse round trips on
    /// binary fractions (exact), derivatives on both sides, the difference form on and across the
    /// kink (exact for these binary fractions: every operation is exact), and bad slopes.
    #[test]
    fn closed_forms() {
        let a = LeakyRelu::new(1, 0.25).unwrap();
        assert_eq!(a.value(2.0), 2.0);
        assert_eq!(a.value(-2.0), -0.5);
        assert_eq!(a.inverse_scalar(-0.5), Some(-2.0));
        assert_eq!(a.inverse_scalar(3.0), Some(3.0));
        assert_eq!(a.inverse_scalar(f64::NAN), None);
        assert_eq!((a.d1(1.0, [0.0; 2]), a.d1(-1.0, [0.0; 2])), (1.0, 0.25));
        assert_eq!(a.d2(-1.0, [0.0; 2]), 0.0);
        assert_eq!(a.d3(-1.0, [0.0; 2]), 0.0);
        assert_eq!((a.log_d1(1.0), a.log_d1(-1.0)), (0.0, 0.25f64.ln()));
        assert_eq!(a.diff(1.0, [0.0; 2], 0.5), 0.5);
        assert_eq!(a.diff(-1.0, [0.0; 2], -0.5), -0.125);
        assert_eq!(a.diff(-1.0, [0.0; 2], 3.0), 2.0 + 0.25);
        assert_eq!(a.diff(2.0, [0.0; 2], -4.0), -0.5 - 2.0);
        for k in [0.0, -0.1, f64::NAN, f64::INFINITY] {
            assert!(LeakyRelu::new(2, k).is_err());
        }
        assert!(LeakyRelu::new(0, 0.1).is_err());
    }
}
