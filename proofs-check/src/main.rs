//! proofs-check: the paper's claims, checked numerically.
//!
//! This first version checks the identities the rest of the oracle stands on, for every built-in
//! model family of §4 on a few seeded points: g(f(z)) = z, log|det J| of the chain against the LU
//! determinant of the assembled Jacobian, c_IMA ≥ 0 (Hadamard) and c_IMA = 0 for the Möbius family.
//! It prints one row per model and exits non-zero when an identity fails.

use ima_oracle::generate::{rng, Family};
use ima_oracle::ima;
use nalgebra::DVector;
use rand::RngExt;
use rand_distr::StandardNormal;
use std::process::ExitCode;

const HELP: &str = "\
proofs-check — check the paper's claims numerically

USAGE:
    proofs-check [--seed S] [--points N] [--dim D]

OPTIONS:
    --seed S      seed of the ChaCha generator that draws the models and points (default 1)
    --points N    points per model (default 8)
    --dim D       latent dimension d = D (default 3)
    -h, --help    print this help

Exit status: 0 when every check holds, 1 when one fails, 2 on a usage error.";

/// Round trip g(f(z)) = z: relative to (1 + ‖z‖), a few eps amplified by the steps' conditioning.
const ROUND_TRIP_TOL: f64 = 1e-13;
/// c_IMA of a Möbius map: a sum of d + 1 logarithms of O(1) numbers, each to a few eps.
const ZERO_CONTRAST_TOL: f64 = 1e-13;
/// Chain log|det J| against LU of J: backward-stable LU gives agreement to ~eps·κ(J); 64·eps·κ.
const LOGDET_TOL_PER_KAPPA: f64 = 64.0 * f64::EPSILON;

struct Options {
    seed: u64,
    points: usize,
    dim: usize,
}

fn parse_args() -> Result<Option<Options>, String> {
    let mut o = Options {
        seed: 1,
        points: 8,
        dim: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value"))
                .and_then(|v| {
                    v.parse::<u64>()
                        .map_err(|_| format!("{name}: '{v}' is not a non-negative integer"))
                })
        };
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--seed" => o.seed = value("--seed")?,
            "--points" => o.points = value("--points")? as usize,
            "--dim" => o.dim = value("--dim")? as usize,
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
    }
    if o.dim == 0 || o.points == 0 {
        return Err("--dim and --points must be positive".into());
    }
    Ok(Some(o))
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("proofs-check: {e}");
            return ExitCode::from(2);
        }
    };
    let mut r = rng(opts.seed);
    let mut failures = Vec::new();
    println!(
        "{:<28} {:>13} {:>13} {:>13} {:>13} {:>11}  verdict",
        "model (d = D)", "min c_IMA", "max c_IMA", "max|logdet|", "max inv err", "logdet-LU"
    );
    for fam in Family::ALL {
        let dec = match fam.build(opts.dim, &mut r) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: could not build: {e}", fam.name()));
                continue;
            }
        };
        let (mut cmin, mut cmax, mut ldmax, mut inv, mut lderr) =
            (f64::INFINITY, f64::NEG_INFINITY, 0.0f64, 0.0f64, 0.0f64);
        let mut ok = true;
        for _ in 0..opts.points {
            let z = DVector::from_fn(opts.dim, |_, _| r.sample::<f64, _>(StandardNormal));
            let eval = (|| -> Result<(f64, f64, f64, f64, f64), ima_oracle::DecoderError> {
                let x = dec.forward(&z)?;
                let zz = dec.inverse(&x)?;
                let j = dec.jacobian(&z)?;
                let ld = dec.log_abs_det_jacobian(&z)?;
                let lu = j.clone().lu().determinant().abs().ln();
                let sv = j.singular_values();
                Ok((
                    ima::c_ima(&dec, &z)?,
                    ld,
                    (&zz - &z).norm() / (1.0 + z.norm()),
                    (ld - lu).abs(),
                    sv.max() / sv.min(),
                ))
            })();
            match eval {
                Ok((c, ld, e, dl, kappa)) => {
                    cmin = cmin.min(c);
                    cmax = cmax.max(c);
                    ldmax = ldmax.max(ld.abs());
                    inv = inv.max(e);
                    lderr = lderr.max(dl);
                    let hadamard = c >= -ZERO_CONTRAST_TOL;
                    let zero = !fam.in_ima_class() || c.abs() <= ZERO_CONTRAST_TOL;
                    if e > ROUND_TRIP_TOL || !hadamard || !zero || dl > LOGDET_TOL_PER_KAPPA * kappa
                    {
                        ok = false;
                        failures.push(format!(
                            "{} at z = {:?}: c_IMA {c:e}, inversion error {e:e}, logdet vs LU {dl:e} (κ {kappa:.1e})",
                            fam.name(),
                            z.as_slice()
                        ));
                    }
                }
                Err(e) => {
                    ok = false;
                    failures.push(format!("{} at z = {:?}: {e}", fam.name(), z.as_slice()));
                }
            }
        }
        println!(
            "{:<28} {:>13.5e} {:>13.5e} {:>13.5e} {:>13.3e} {:>11.3e}  {}",
            fam.name(),
            cmin,
            cmax,
            ldmax,
            inv,
            lderr,
            if ok { "holds" } else { "FAILS" }
        );
    }
    if failures.is_empty() {
        println!("all identities hold");
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            eprintln!("FAIL {f}");
        }
        ExitCode::from(1)
    }
}
