//! The polar route of the marginal likelihood around a decoder pole (see the module docs of
//! [`super`]): log pθ(x) = (D/2) log(γ²/2π) + log ∫ p0(z) e^{−(γ²/2)‖x − f(z)‖²} dz in the
//! coordinates z = a + e^ρ ω (a the latent pole, ρ ∈ ℝ, ω ∈ S^{d−1}), dz = e^{dρ} dρ dω.
//!
//! In these coordinates the integrand is analytic: the pole is the end ρ → −∞, where f(z) → ∞ and
//! the likelihood factor vanishes (with e^{dρ} besides), so no node comes near it and nothing is
//! guarded. ρ: the trapezoid rule with step h = [`POLAR_STEP_TIMES_NODES`]/n (geometric
//! convergence for an integrand analytic in a strip, decaying at both ends), walked outward and
//! inward from log(‖a‖ + σ_p) until a shell's contribution is below e^{−[`POLAR_MARGIN`]} of the
//! running sum for [`POLAR_QUIET_SHELLS`] shells in a row — outward only past the prior's bulk
//! ‖a‖ + [`POLAR_BULK`]·σ_p, inward only inside ‖a‖. ω: a product rule in hyperspherical angles —
//! n Gauss–Legendre nodes in each polar angle θ_k ∈ (0, π) (with the surface factor
//! sin^{d−1−k} θ_k) and 2n trapezoid nodes in the azimuth φ (periodic: geometric convergence).
//! The n-rule is compared with the next by the refinement loop, which gives the error estimate.

use crate::error::OracleError;
use crate::input::Query;
use crate::model::Workspace;
use crate::objective::log_normaliser;
use crate::quadrature::{log_sum_exp, GaussLegendre};
use crate::tol::{
    POLAR_BULK, POLAR_MARGIN, POLAR_MAX_SHELLS, POLAR_QUIET_SHELLS, POLAR_STEP_TIMES_NODES,
};
use std::f64::consts::PI;

/// The route at one (x, γ²), with its buffers.
pub(super) struct Polar<'a> {
    query: &'a Query<'a>,
    pole: Vec<f64>,
    max_total: usize,
    ws: Workspace,
    z: Vec<f64>,
    terms: Vec<f64>,
    shells: Vec<f64>,
    /// The prior's standard deviation.
    sigma_p: f64,
}

/// The product rule on S^{d−1} with n nodes per polar angle and 2n in the azimuth: directions
/// (d per node, concatenated) and log-weights; Σ weights = |S^{d−1}| = 2π^{d/2}/Γ(d/2).
pub(super) fn sphere_rule(d: usize, n: usize) -> Result<(Vec<f64>, Vec<f64>), OracleError> {
    if d == 1 {
        return Ok((vec![-1.0, 1.0], vec![0.0, 0.0]));
    }
    let gl = GaussLegendre::new(n)?;
    let thetas: Vec<(f64, f64)> = gl
        .nodes()
        .iter()
        .zip(gl.weights())
        .map(|(x, w)| (0.5 * PI * (x + 1.0), 0.5 * PI * w))
        .collect();
    let nphi = 2 * n;
    let (mut dirs, mut logw) = (Vec::new(), Vec::new());
    let mut idx = vec![0usize; d - 2];
    loop {
        // One combination of polar angles θ_1 … θ_{d−2}.
        let mut prefix = 1.0; // Π sin θ so far
        let mut lw = (2.0 * PI / nphi as f64).ln();
        let mut head = Vec::with_capacity(d);
        for (k, &i) in idx.iter().enumerate() {
            let (th, w) = thetas[i];
            head.push(prefix * th.cos());
            lw += w.ln() + (d - 2 - k) as f64 * th.sin().ln();
            prefix *= th.sin();
        }
        for j in 0..nphi {
            let phi = 2.0 * PI * j as f64 / nphi as f64;
            dirs.extend_from_slice(&head);
            dirs.push(prefix * phi.cos());
            dirs.push(prefix * phi.sin());
            logw.push(lw);
        }
        // Next combination (odometer); done after the last.
        let mut k = 0;
        loop {
            if k == idx.len() {
                return Ok((dirs, logw));
            }
            idx[k] += 1;
            if idx[k] < n {
                break;
            }
            idx[k] = 0;
            k += 1;
        }
    }
}

impl<'a> Polar<'a> {
    /// The route for a model with exactly one latent pole (one Möbius step); an error otherwise.
    /// A decoder with a kink is refused first (`NotSmooth`), as by every other route: the
    /// refinement's error estimate does not see kinks.
    pub(super) fn new(query: &'a Query<'a>, max_total: usize) -> Result<Self, OracleError> {
        let model = query.model();
        model.guard_smooth()?;
        let [(_, pole)] = model.poles() else {
            return Err(OracleError::InvalidParameter {
                what: "model (the polar route needs exactly one Moebius pole)",
                value: model.poles().len() as f64,
            });
        };
        Ok(Polar {
            query,
            pole: pole.as_slice().to_vec(),
            max_total,
            ws: model.decoder().workspace(),
            z: vec![0.0; model.dim_latent()],
            terms: Vec::new(),
            shells: Vec::new(),
            sigma_p: model.prior().variance().sqrt(),
        })
    }

    /// log of the shell at radius e^ρ: log Σ_ω w_ω p0(z) e^{−(γ²/2)‖x − f(z)‖²} + dρ.
    fn log_shell(&mut self, rho: f64, dirs: &[f64], logw: &[f64]) -> Result<f64, OracleError> {
        let model = self.query.model();
        let (dec, prior) = (model.decoder(), model.prior());
        let d = self.z.len();
        let r = rho.exp();
        let half_g2 = 0.5 * self.query.gamma2();
        self.terms.clear();
        for (omega, &lw) in dirs.chunks_exact(d).zip(logw) {
            for ((z, a), o) in self.z.iter_mut().zip(&self.pole).zip(omega) {
                *z = a + r * o;
            }
            dec.eval(&self.z, &mut self.ws, false)?;
            let rr: f64 = self
                .query
                .x()
                .iter()
                .zip(self.ws.output())
                .map(|(x, f)| (x - f) * (x - f))
                .sum();
            self.terms
                .push(lw + prior.log_density_sum(&self.z) - half_g2 * rr);
        }
        Ok(log_sum_exp(&self.terms) + d as f64 * rho)
    }

    /// log pθ(x) on the n-rule (module docs); `None` past the budget of `max_total` evaluations.
    pub(super) fn log_marginal(&mut self, n: usize) -> Result<Option<f64>, OracleError> {
        let d = self.z.len();
        let (dirs, logw) = sphere_rule(d, n)?;
        let h = POLAR_STEP_TIMES_NODES / n as f64;
        let norm_a = self.pole.iter().map(|a| a * a).sum::<f64>().sqrt();
        let rho0 = (norm_a + self.sigma_p).ln();
        let (r_out, r_in) = (norm_a + POLAR_BULK * self.sigma_p, norm_a);
        self.shells.clear();
        let mut evaluations = 0usize;
        for dir in [1.0, -1.0] {
            let mut quiet = 0;
            let mut j: i64 = if dir > 0.0 { 0 } else { -1 };
            loop {
                evaluations += logw.len();
                if evaluations > self.max_total {
                    return Ok(None);
                }
                if self.shells.len() > POLAR_MAX_SHELLS {
                    return Err(OracleError::QuadratureNotConverged {
                        what: "log marginal (polar): the radial integrand does not decay",
                        requested: POLAR_MARGIN,
                        achieved: f64::NAN,
                        nodes_per_dim: n,
                    });
                }
                let rho = rho0 + j as f64 * h;
                let s = self.log_shell(rho, &dirs, &logw)?;
                self.shells.push(s);
                let running = log_sum_exp(&self.shells);
                let past = if dir > 0.0 {
                    rho.exp() >= r_out
                } else {
                    rho.exp() <= r_in
                };
                quiet = if past && s < running - POLAR_MARGIN {
                    quiet + 1
                } else {
                    0
                };
                if quiet >= POLAR_QUIET_SHELLS {
                    break;
                }
                j += if dir > 0.0 { 1 } else { -1 };
            }
        }
        let dd = self.query.model().dim_observed();
        Ok(Some(
            log_normaliser(dd, self.query.gamma2()) + h.ln() + log_sum_exp(&self.shells),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// Σ weights = |S^{d−1}| = 2π^{d/2}/Γ(d/2) (2, 2π, 4π, 2π², d ≤ 4), and ∫ ω_1² dω = |S|/d,
    /// ∫ ω_d⁴ dω = 3|S|/(d(d + 2)). In the angles these are trigonometric polynomials times
    /// sin^k θ: the azimuth's trapezoid is exact, Gauss–Legendre in θ (entire integrands) converges
    /// super-geometrically (for sin^k(mθ), k, m ≤ 5, with n = 24 below 1e-16). The weights are
    /// exponentials of sums of up to d logarithms (~1e-14 relative each), summed plainly — up to
    /// 24²·48 ≈ 3·10⁴ of them in d = 4, √N·eps ≈ 4e-14 typical: 1e-12 relative.
    #[test]
    fn sphere_rule_integrates_polynomials() {
        let areas = [2.0, 2.0 * PI, 4.0 * PI, 2.0 * PI * PI, 8.0 * PI * PI / 3.0];
        for d in 1..=4 {
            let (dirs, logw) = sphere_rule(d, 24).unwrap();
            let w: Vec<f64> = logw.iter().map(|l| l.exp()).collect();
            let area: f64 = w.iter().sum();
            assert_within(
                &format!("area d={d}"),
                &[area],
                &[areas[d - 1]],
                Tol::Rel(1e-12),
            );
            let m2: f64 = dirs
                .chunks_exact(d)
                .zip(&w)
                .map(|(o, w)| w * o[0] * o[0])
                .sum();
            let m4: f64 = dirs
                .chunks_exact(d)
                .zip(&w)
                .map(|(o, w)| w * o[d - 1].powi(4))
                .sum();
            let df = d as f64;
            assert_within(
                &format!("omega_1^2 d={d}"),
                &[m2],
                &[area / df],
                Tol::Rel(1e-12),
            );
            assert_within(
                &format!("omega_d^4 d={d}"),
                &[m4],
                &[3.0 * area / (df * (df + 2.0))],
                Tol::Rel(1e-12),
            );
        }
    }
}

#[cfg(test)]
mod reference_tests {
    use super::*;
    use crate::compare::{assert_within, Tol};
    use crate::generate::{family_cases, rng, Family};
    use crate::inference::log_marginal;
    use crate::model::Prior;
    use crate::quadrature::QuadratureOptions;

    /// log pθ(x) at γ² from 1e-2 to 1e1 — refused before (the pole within reach of both other
    /// routes) — against a larger polar rule, n = 176 (an angular rule a tenth larger than the
    /// largest the refinement uses, and a radial step 10 % finer), on Möbius and
    /// Möbius + volume-preserving with a Gaussian prior and Möbius with a logistic prior. Both converge
    /// geometrically (Gaussian) or like e^{−c√n} (logistic, ~1e-13 at n = 96): 1e-12 relative to
    /// max(1, |log p|) is the default tolerance's scale with a decade for the reference's own error.
    /// At γ² = 1e3, where the x-space and Laplace routes answer, the polar route alone agrees with
    /// them to the same tolerance.
    #[test]
    fn against_a_larger_polar_rule_and_the_other_routes() {
        let priors = [Prior::standard_normal(), Prior::logistic(0.6).unwrap()];
        let cases = family_cases(3, &priors, 1, &mut rng(11)).unwrap();
        let opts = QuadratureOptions::default();
        for case in cases.iter().filter(|c| match c.family {
            Family::Moebius => true,
            Family::MoebiusVolumePreserving => c.model.prior().name() == "gaussian",
            _ => false,
        }) {
            let x = &case.xs[0];
            let what = format!("{} {}", case.family.name(), case.model.prior().name());
            // Möbius + volume-preserving at γ² ≳ 1 can need more than the largest rule (an
            // ill-conditioned V narrows the likelihood along one axis; such points stay refused).
            let g2s: &[f64] = if case.family == Family::Moebius {
                &[1e-2, 1e1]
            } else {
                &[1e-2]
            };
            for &g2 in g2s {
                let q = Query::new(&case.model, x.as_slice(), g2).unwrap();
                let e = log_marginal(&q, &opts).unwrap_or_else(|e| {
                    panic!(
                        "{what} {g2:e}: {e}; polar: {:?}",
                        crate::inference::log_marginal_polar(&q, &opts)
                    )
                });
                assert_eq!(e.route, super::super::Route::PolarAroundPole, "{what}");
                assert!(e.error_estimate <= 1e-13 * e.value.abs().max(1.0), "{what}");
                let reference = Polar::new(&q, usize::MAX)
                    .unwrap()
                    .log_marginal(176)
                    .unwrap()
                    .unwrap();
                assert_within(
                    &format!("{what} gamma2={g2:e}"),
                    &[e.value],
                    &[reference],
                    Tol::Scaled(1e-12, reference.abs().max(1.0)),
                );
            }
            if case.family == Family::Moebius && case.model.prior().name() == "gaussian" {
                let q = Query::new(&case.model, x.as_slice(), 1e3).unwrap();
                let other = log_marginal(&q, &opts).unwrap();
                assert_ne!(other.route, super::super::Route::PolarAroundPole);
                let polar = crate::inference::log_marginal_polar(&q, &opts).unwrap();
                assert_within(
                    &format!("{what} gamma2=1e3"),
                    &[polar.value],
                    &[other.value],
                    Tol::Scaled(1e-12, other.value.abs().max(1.0)),
                );
            }
        }
    }
}
