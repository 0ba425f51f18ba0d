//! Shared test helpers: seeded draws, central finite differences, and the one approximate
//! comparison every test uses ([`assert_near`] / [`assert_within`], built on
//! `ima_oracle::compare`).
#![allow(dead_code)]

pub use ima_oracle::compare::{assert_within, Tol};

use ima_oracle::generate::{rng, Family, OracleRng};
use ima_oracle::Decoder;
use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_distr::StandardNormal;

/// The seed of every randomised test; override with IMA_TEST_SEED to replay a failure.
pub fn seed() -> u64 {
    std::env::var("IMA_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20221128)
}

/// A generator for test `salt`, printing the seed so a failure can be replayed.
pub fn test_rng(salt: u64) -> OracleRng {
    let s = seed() ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    eprintln!("test rng: IMA_TEST_SEED={} salt={salt}", seed());
    rng(s)
}

/// A standard normal vector of length d scaled by `scale`.
pub fn normal_vector(d: usize, scale: f64, r: &mut OracleRng) -> DVector<f64> {
    DVector::from_fn(d, |_, _| scale * r.sample::<f64, _>(StandardNormal))
}

/// Every family, in d = 1, 2, 3, 5.
pub fn all_models(r: &mut OracleRng) -> Vec<(String, Decoder)> {
    let mut out = Vec::new();
    for d in [1usize, 2, 3, 5] {
        for fam in Family::ALL {
            out.push((format!("{} d={d}", fam.name()), fam.build(d, r).unwrap()));
        }
    }
    out
}

/// Central-difference Jacobian of `f` at z with step h: error h²|f'''|/6 + eps|f|/h.
pub fn fd_jacobian(
    f: impl Fn(&DVector<f64>) -> DVector<f64>,
    z: &DVector<f64>,
    h: f64,
) -> DMatrix<f64> {
    let d = z.len();
    let cols: Vec<DVector<f64>> = (0..d)
        .map(|k| {
            let mut zp = z.clone();
            let mut zm = z.clone();
            zp[k] += h;
            zm[k] -= h;
            (f(&zp) - f(&zm)) / (2.0 * h)
        })
        .collect();
    DMatrix::from_columns(&cols)
}

/// Panics unless |got − want| is within `tol` of the reference `want` (see [`Tol`]), with a message
/// naming `what`, both values, the difference and the bound. Every approximate assertion of the
/// tests goes through here (or [`assert_within`] for slices).
#[track_caller]
pub fn assert_near(what: &str, got: f64, want: f64, tol: Tol) {
    assert_within(what, &[got], &[want], tol);
}
