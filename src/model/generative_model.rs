//! A model: a prior and a decoder (paper eq. 3), plus where the decoder's poles lie in latent space.

use super::decoder::{Decoder, DecoderError, Step, Workspace};
use super::prior::Prior;
use crate::tol::POLE_MASS_TOL;
use nalgebra::DVector;
use std::fmt;

/// Why a Gaussian expectation of the decoder is refused near a pole (it becomes
/// `OracleError::MinusInfinity` or `OracleError::PoleTooClose`), or at all because the decoder is
/// not smooth (`OracleError::NotSmooth`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum PoleRefusal {
    /// E‖f‖² = ∞ for a Möbius step in d ≤ 2: the exact ELBO is −∞.
    MinusInfinity {
        /// The Möbius step.
        step: usize,
    },
    /// The pole carries Gaussian mass above [`POLE_MASS_TOL`].
    PoleTooClose {
        /// The Möbius step.
        step: usize,
        /// The pole's Mahalanobis distance from the Gaussian's centre.
        mahalanobis: f64,
        /// The Chernoff bound on the mass at least that far out.
        mass_bound: f64,
    },
    /// The decoder has a non-smooth step (a leaky ReLU: kinks where a coordinate is 0). The
    /// Gaussian quadratures converge only algebraically across a kink and their error estimates
    /// (differences of successive rules) cannot be trusted there, so no value is returned.
    NotSmooth {
        /// The first non-smooth step.
        step: usize,
    },
}

impl fmt::Display for PoleRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoleRefusal::MinusInfinity { step } => write!(
                f,
                "the exact value is -inf: E_q|f(z)|^2 diverges at the pole of the Moebius step {step} in dimension d <= 2"
            ),
            PoleRefusal::PoleTooClose {
                step,
                mahalanobis,
                mass_bound,
            } => write!(
                f,
                "the pole of step {step} lies {mahalanobis:.3} standard deviations from the Gaussian's centre \
                 (mass that far out <= {mass_bound:.3e}); the quadrature cannot be trusted there"
            ),
            PoleRefusal::NotSmooth { step } => write!(
                f,
                "step {step} is not smooth (leaky_relu: kinks at 0); the Gaussian quadratures' error \
                 estimates assume a smooth decoder, so no expectation over q is computed (the flow \
                 quantities g, J, log|det J|, c_IMA are exact off the kinks)"
            ),
        }
    }
}

impl std::error::Error for PoleRefusal {}

/// The generative model p0(z) = Π m(z_k), x | z ~ N(f(z), γ⁻² I). γ² is not part of the model:
/// every routine takes it as an argument, since the paper sweeps it.
#[derive(Debug, Clone)]
pub struct Model {
    prior: Prior,
    decoder: Decoder,
    /// (step, z-space preimage of the step's pole) for every Möbius step.
    poles: Vec<(usize, DVector<f64>)>,
    /// (step, x-space image of the step's inverse pole b) for every Möbius step of a square chain.
    x_poles: Vec<(usize, DVector<f64>)>,
}

impl Model {
    /// Builds the model and locates the latent-space preimage of every Möbius pole (through the
    /// inverses of the steps before it). Errors when a Möbius step follows a non-invertible step,
    /// since its pole could then not be located (and guarded against).
    ///
    /// A pole outside the image of the steps before it (e.g. outside (0, 1)ᵈ after a sigmoid, as
    /// in the authors' §4.3 model) has no preimage: the decoder never reaches it, and it is not
    /// guarded against.
    pub fn new(prior: Prior, decoder: Decoder) -> Result<Self, DecoderError> {
        let mut poles = Vec::new();
        for (l, step) in decoder.steps().iter().enumerate() {
            if let Step::Moebius(m) = step {
                let head = Decoder::new(decoder.dim_in(), decoder.steps()[..l].to_vec())?;
                match head.inverse(m.pole()) {
                    Ok(z) => poles.push((l, z)),
                    Err(DecoderError::OutsideImage { .. }) => {}
                    Err(e) => {
                        return Err(DecoderError::NotInvertible {
                            step: Some(l),
                            reason: format!(
                                "cannot locate the latent preimage of this Möbius pole: {e}"
                            ),
                        })
                    }
                }
            }
        }
        // Where g = f⁻¹ is singular: the inverse pole b of each Möbius step, pushed through the steps
        // after it (only meaningful, and only needed, for square chains).
        let mut x_poles = Vec::new();
        if decoder.is_square() {
            for (l, step) in decoder.steps().iter().enumerate() {
                if let Step::Moebius(m) = step {
                    let tail = Decoder::new(step.dim_out(), decoder.steps()[l + 1..].to_vec())?;
                    if let Ok(y) = tail.forward(m.shift()) {
                        x_poles.push((l, y));
                    }
                }
            }
        }
        Ok(Model {
            prior,
            decoder,
            poles,
            x_poles,
        })
    }

    /// The prior.
    pub fn prior(&self) -> &Prior {
        &self.prior
    }

    /// The decoder.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Latent dimension d.
    pub fn dim_latent(&self) -> usize {
        self.decoder.dim_in()
    }

    /// Observed dimension D.
    pub fn dim_observed(&self) -> usize {
        self.decoder.dim_out()
    }

    /// The latent-space poles: (Möbius step, z with f singular at z).
    pub fn poles(&self) -> &[(usize, DVector<f64>)] {
        &self.poles
    }

    /// The observation-space points where g = f⁻¹ is singular: (Möbius step, x).
    pub fn x_poles(&self) -> &[(usize, DVector<f64>)] {
        &self.x_poles
    }

    /// The first step that is not smooth ([`Step::is_smooth`]: a leaky ReLU), if any.
    pub fn first_non_smooth_step(&self) -> Option<usize> {
        self.decoder.steps().iter().position(|s| !s.is_smooth())
    }

    /// The first step whose image is bounded ([`Step::bounds_image`]: a sigmoid or a tanh), if
    /// any: the decoder then does not map onto R^D.
    pub fn first_bounded_step(&self) -> Option<usize> {
        self.decoder.steps().iter().position(|s| s.bounds_image())
    }

    /// Refuses a decoder with a non-smooth step ([`PoleRefusal::NotSmooth`]): the guards of every
    /// Gaussian expectation run it first.
    pub(crate) fn guard_smooth(&self) -> Result<(), PoleRefusal> {
        match self.first_non_smooth_step() {
            Some(step) => Err(PoleRefusal::NotSmooth { step }),
            None => Ok(()),
        }
    }

    /// Guards a Gaussian expectation over N(centre, Σ) in latent space against the poles, where
    /// `mahalanobis2(v)` returns vᵀ Σ⁻¹ v. For d ≤ 2 with `square_integrable_needed` (E‖f‖² — the
    /// ELBO), the exact value is −∞: [`PoleRefusal::MinusInfinity`]. Otherwise refuses with
    /// [`PoleRefusal::PoleTooClose`] when the Chernoff bound on the Gaussian mass beyond the pole's
    /// Mahalanobis radius exceeds [`POLE_MASS_TOL`]. Before all that, a decoder that is not
    /// smooth is refused ([`PoleRefusal::NotSmooth`]).
    pub(crate) fn guard_poles(
        &self,
        centre: &[f64],
        mahalanobis2: impl Fn(&DVector<f64>) -> f64,
        square_integrable_needed: bool,
    ) -> Result<(), PoleRefusal> {
        self.guard_smooth()?;
        let d = self.dim_latent();
        for (step, pole) in &self.poles {
            if square_integrable_needed && d <= 2 {
                return Err(PoleRefusal::MinusInfinity { step: *step });
            }
            let v = pole - DVector::from_column_slice(centre);
            check_pole_mass(*step, d, mahalanobis2(&v))?;
        }
        Ok(())
    }

    /// Guards the blur N(x, γ⁻² I_D) of the x-space marginal against the observation-space
    /// singularities of g = f⁻¹ ([`Model::x_poles`]), as [`Model::guard_poles`] does in latent space
    /// (a non-smooth decoder first: p_flow jumps where log|det J| does).
    pub(crate) fn guard_x_poles(&self, x: &DVector<f64>, gamma2: f64) -> Result<(), PoleRefusal> {
        self.guard_smooth()?;
        for (step, xp) in &self.x_poles {
            check_pole_mass(*step, self.dim_observed(), gamma2 * (xp - x).norm_squared())?;
        }
        Ok(())
    }
}

/// offset + log p0(z) − log|det J_f(z)|: the flow log-density (eq. 4) at the z = g(x) that `ws`
/// holds after a successful [`Decoder::inverse_into`] (which checked squareness and the
/// workspace), plus `offset` (0 for the density itself; a quadrature's
/// log-weight for the x-space marginal — added first, so that one definition serves both with the
/// same summation order).
pub(crate) fn shifted_log_flow(
    decoder: &Decoder,
    prior: &Prior,
    ws: &Workspace,
    offset: f64,
) -> f64 {
    offset + prior.log_density_sum(ws.input()) - decoder.log_abs_det_unchecked(ws)
}

/// Refuses a pole at squared Mahalanobis distance `t` from the centre of a Gaussian in `dim`
/// dimensions when the Chernoff bound on the mass that far out exceeds [`POLE_MASS_TOL`].
fn check_pole_mass(step: usize, dim: usize, t: f64) -> Result<(), PoleRefusal> {
    let bound = chi2_tail_bound(dim, t);
    if bound > POLE_MASS_TOL {
        return Err(PoleRefusal::PoleTooClose {
            step,
            mahalanobis: t.sqrt(),
            mass_bound: bound,
        });
    }
    Ok(())
}

/// The Chernoff bound P(χ²_d ≥ t) ≤ (t/d)^{d/2} e^{−(t − d)/2} for t > d (1 otherwise): the Gaussian
/// mass at Mahalanobis distance ≥ √t in d dimensions.
pub fn chi2_tail_bound(d: usize, t: f64) -> f64 {
    let d = d as f64;
    if t <= d {
        1.0
    } else {
        (0.5 * d * (t / d).ln() - 0.5 * (t - d)).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound holds against exact tails: d = 2, P(χ² ≥ t) = e^{−t/2}; d = 1, via the erfc
    /// upper bound P = erfc(√(t/2)) ≤ √(2/(π t)) e^{−t/2}.
    #[test]
    fn chi2_bound_is_an_upper_bound() {
        for t in [3.0, 5.0, 10.0, 50.0, 200.0] {
            assert!(chi2_tail_bound(2, t) >= (-0.5 * t).exp());
            let erfc_like = (2.0 / (std::f64::consts::PI * t)).sqrt() * (-0.5 * t).exp();
            assert!(chi2_tail_bound(1, t) >= erfc_like);
        }
        assert_eq!(chi2_tail_bound(3, 2.0), 1.0);
    }
}
