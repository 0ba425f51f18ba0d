//! The prior's log-density on a block of lanes: log p0(z) = Σ_k log m(z_k) for [`LANES`] points at
//! once, each lane bit for bit [`Prior::log_density_sum`] of that point (the same operations in the
//! same order; the exponentials and logarithms of the logistic forms over all lanes at once,
//! compiled for the vector unit the CPU has).
//!
//! | prior | log m(t), as evaluated |
//! | --- | --- |
//! | Gaussian, variance v | −½ t²/v + (−½ log 2πv) |
//! | logistic, scale s | −log s − u − 2 softplus(−u), u = |t|/s |
//! | Beta-logistic (a, b) | −a softplus(−t) − b softplus(t) − ln B(a, b), both softplus from one e^{−|t|} |
//!
//! The constants (log s, ln B(a, b), the Gaussian normaliser) are computed once per call instead of
//! once per coordinate: the same numbers, since they are pure functions of the parameters.

use super::prior::{gaussian_log_norm, Prior};
use super::special::ln_beta;
use crate::lanes::math::{exp_lanes, ln_1p_lanes};
use crate::lanes::{avx2_kernel, Block, Lanes, LANES};

impl Prior {
    /// Σ_k log m(z_k) for every lane of `z` (module docs): lane by lane the bits of
    /// [`Prior::log_density_sum`].
    pub(crate) fn log_density_sum_block(&self, z: &Block) -> Lanes {
        let mut out = [0.0; LANES];
        log_density_sum_lanes(self, z, &mut out);
        out
    }
}

avx2_kernel! {
    fn log_density_sum_lanes / log_density_sum_lanes_portable(prior: &Prior, z: &Block, out: &mut Lanes) {
        // The scalar sum folds from −0.0 (the neutral element of f64's `Sum`).
        *out = [-0.0; LANES];
        match *prior {
            Prior::Gaussian { variance } => {
                let c = gaussian_log_norm(variance);
                for zi in z.coords() {
                    for (o, &t) in out.iter_mut().zip(zi) {
                        *o += -0.5 * t * t / variance + c;
                    }
                }
            }
            Prior::Logistic { scale } => {
                let ls = scale.ln();
                for zi in z.coords() {
                    let u = zi.map(|t| t.abs() / scale);
                    // softplus(−u) = max(−u, 0) + ln_1p(e^{−|−u|}).
                    let lp = ln_1p_lanes(exp_lanes(u.map(|u| -(-u).abs())));
                    for l in 0..LANES {
                        let sp = (-u[l]).max(0.0) + lp[l];
                        out[l] += -ls - u[l] - 2.0 * sp;
                    }
                }
            }
            Prior::BetaLogistic { a, b } => {
                let lb = ln_beta(a, b);
                for zi in z.coords() {
                    // softplus(±t) share e^{−|t|} and its ln_1p.
                    let lp = ln_1p_lanes(exp_lanes(zi.map(|t| -t.abs())));
                    for l in 0..LANES {
                        let t = zi[l];
                        let (sp_minus, sp_plus) = ((-t).max(0.0) + lp[l], t.max(0.0) + lp[l]);
                        out[l] += -a * sp_minus - b * sp_plus - lb;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lane by lane the bits of the scalar [`Prior::log_density_sum`], compiled for the vector
    /// unit and for the baseline target, for each prior over arguments from −745 to 745, ±0,
    /// tiny and huge ones (where e^{−|t|} underflows).
    #[test]
    fn block_matches_the_scalar_sum_bit_for_bit() {
        check();
        crate::lanes::dispatch::with_avx2_at_most(check);
    }

    /// The body of `block_matches_the_scalar_sum_bit_for_bit`, run once per vector unit.
    fn check() {
        let priors = [
            Prior::gaussian(1.0).unwrap(),
            Prior::gaussian(0.37).unwrap(),
            Prior::logistic(0.6).unwrap(),
            Prior::logistic(1.0).unwrap(),
            Prior::beta_logistic(1.0, 1.0).unwrap(),
            Prior::beta_logistic(2.5, 0.7).unwrap(),
        ];
        let mut args: Vec<f64> = (0..300).map(|i| -745.0 + 4.97 * i as f64).collect();
        args.extend([
            0.0, -0.0, 1e-300, -1e-300, 1e-8, -1e-8, 36.7, -36.7, 1e300, -1e300,
        ]);
        for prior in &priors {
            for n in 1..=3 {
                for chunk in args.chunks(n * LANES) {
                    let mut z = Block::zeros(n);
                    for (k, &t) in chunk.iter().enumerate() {
                        z.coords_mut()[k % n][k / n] = t;
                    }
                    let got = prior.log_density_sum_block(&z);
                    let mut portable = [0.0; LANES];
                    log_density_sum_lanes_portable(prior, &z, &mut portable);
                    let mut lane = vec![0.0; n];
                    for l in 0..LANES {
                        z.read_lane(l, &mut lane);
                        let want = prior.log_density_sum(&lane);
                        assert_eq!(got[l].to_bits(), want.to_bits(), "{prior:?} {lane:?}");
                        assert_eq!(portable[l].to_bits(), want.to_bits(), "{prior:?} {lane:?}");
                    }
                }
            }
        }
    }
}
