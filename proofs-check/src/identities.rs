//! The identities the oracle stands on, per model family: g(f(z)) = z, log|det J| of the chain
//! against the LU determinant of the assembled Jacobian, c_IMA ≥ 0 (Hadamard), c_IMA = 0 for Möbius.

use ima_oracle::generate::{rng, Family};
use ima_oracle::paper::ima;
use ima_oracle::DecoderError;
use nalgebra::DVector;
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::tol::{LOGDET_PER_KAPPA, ROUND_TRIP, ZERO_CONTRAST};

/// One family's row.
pub struct IdentityRow {
    /// Family name (with " d=2" for the two-dimensional cases).
    pub model: String,
    /// min and max c_IMA over the points.
    pub c_range: (f64, f64),
    /// Largest relative round-trip error.
    pub inversion: f64,
    /// Largest |log det (chain) − log det (LU)|.
    pub logdet: f64,
    /// Failures, in words.
    pub failures: Vec<String>,
}

/// Checks every family of [`Family::WITH_AUTHORS`] in d = 3, then the Möbius families in d = 2,
/// on `points` standard-normal points each.
pub fn check(seed: u64, points: usize) -> Vec<IdentityRow> {
    let mut r = rng(seed ^ 0x1D);
    let which = Family::WITH_AUTHORS
        .iter()
        .map(|f| (f, 3))
        .chain(Family::MOEBIUS.iter().map(|f| (f, 2)));
    which
        .map(|(fam, d)| {
            let mut row = IdentityRow {
                model: if d == 3 {
                    fam.name().to_string()
                } else {
                    format!("{} d={d}", fam.name())
                },
                c_range: (f64::INFINITY, f64::NEG_INFINITY),
                inversion: 0.0,
                logdet: 0.0,
                failures: Vec::new(),
            };
            let dec = match fam.build(d, &mut r) {
                Ok(d) => d,
                Err(e) => {
                    row.failures.push(format!("could not build: {e}"));
                    return row;
                }
            };
            for _ in 0..points {
                let z = DVector::from_fn(d, |_, _| r.sample::<f64, _>(StandardNormal));
                let eval = || -> Result<(f64, f64, f64, f64), DecoderError> {
                    let zz = dec.inverse(&dec.forward(&z)?)?;
                    let j = dec.jacobian(&z)?;
                    let lu = j.clone().lu().determinant().abs().ln();
                    let sv = j.singular_values();
                    Ok((
                        ima::c_ima(&dec, &z)?,
                        (&zz - &z).norm() / (1.0 + z.norm()),
                        (dec.log_abs_det_jacobian(&z)? - lu).abs(),
                        sv.max() / sv.min(),
                    ))
                };
                match eval() {
                    Ok((c, e, dl, kappa)) => {
                        row.c_range = (row.c_range.0.min(c), row.c_range.1.max(c));
                        row.inversion = row.inversion.max(e);
                        row.logdet = row.logdet.max(dl);
                        if e > ROUND_TRIP {
                            row.failures
                                .push(format!("round trip error {e:e} at {z:?}"));
                        }
                        if c < -ZERO_CONTRAST || (fam.in_ima_class() && c.abs() > ZERO_CONTRAST) {
                            row.failures.push(format!("c_IMA = {c:e} at {z:?}"));
                        }
                        if dl > LOGDET_PER_KAPPA * kappa {
                            row.failures
                                .push(format!("log det differs from LU by {dl:e} (κ {kappa:.1e})"));
                        }
                    }
                    Err(e) => row.failures.push(format!("{e} at {z:?}")),
                }
            }
            row
        })
        .collect()
}
