//! `ima-oracle check`: compare another implementation's arrays with the oracle's.
//!
//! Three kinds of check, one function each, each giving one [`report::Line`] per quantity: the
//! entry-by-entry comparison of a quantity with its namesake in `--ours` ([`exact`]), the z-test of a
//! Monte Carlo estimate `NAME_mc` against the exact `NAME` with its standard errors `NAME_mc_se`
//! ([`ztest`]), and the data consistency f(z) vs x ([`consistency`]). [`report`] renders the lines.

mod consistency;
mod exact;
mod report;
mod ztest;

use crate::args::Args;
use ima_oracle::io::model_file::load_model;
use ima_oracle::io::npy::{read_npy, NpyArray};
use std::path::{Path, PathBuf};

/// The help text.
pub const HELP: &str = "\
ima-oracle check — compare another implementation's arrays with the oracle's

USAGE:
    ima-oracle check MODEL --ours DIR --theirs DIR [--rtol R] [--atol A] [--alpha P]

Every .npy in --theirs with a namesake in --ours (the output folder of `ima-oracle eval` or
`ima-oracle elbo`) is compared entry by entry: an entry agrees when |theirs - ours| <= A + R |ours|.
Per quantity it prints the largest absolute and relative error and the worst point (row).

Stochastic estimates get a z-test instead: for NAME_mc.npy (theirs) with its standard errors
NAME_mc_se.npy, each z = (theirs - ours)/se with ours = NAME.npy (the exact value) must satisfy
|z| <= sqrt(2 ln(M / P)) over the M entries — for an unbiased estimator a false alarm has
probability at most P.

Data consistency: if --theirs holds z.npy (N,d) and x.npy (N,D), the largest
|f(z) - x| / (1 + |x|) under MODEL must be <= A + R.

Entries the oracle refused (NaN in --ours, see eval --allow-refusals) cannot be verified and
count as failures unless theirs is NaN too.

OPTIONS:
    --rtol R     relative tolerance (default 1e-9; f32 code: about 1e-5)
    --atol A     absolute tolerance (default 1e-12)
    --alpha P    false-alarm probability of the z-tests (default 1e-3)

Exit status 0 only when at least one quantity was compared and everything agrees.";

/// The default relative tolerance: 1e-9. An f64 backend computing the same quantities by other
/// (stable) formulas agrees with the oracle to ~1e-12–1e-14; its own quadratures, to their
/// tolerance. 1e-9 leaves room for a backend's looser quadrature while catching any real error.
const DEFAULT_RTOL: f64 = 1e-9;

/// The default absolute tolerance: 1e-12, for quantities near zero (c_IMA of a Möbius map,
/// μ̂ − g(x) at large γ²), where a relative tolerance is meaningless.
const DEFAULT_ATOL: f64 = 1e-12;

/// The default false-alarm probability of the z-tests: 1e-3 over all entries of a quantity.
const DEFAULT_ALPHA: f64 = 1e-3;

/// The folders and tolerances of one run.
struct Settings {
    /// The oracle's outputs.
    ours: PathBuf,
    /// The other implementation's outputs.
    theirs: PathBuf,
    /// Relative tolerance of the exact comparison.
    rtol: f64,
    /// Absolute tolerance of the exact comparison.
    atol: f64,
    /// False-alarm probability of the z-tests.
    alpha: f64,
}

impl Settings {
    /// The folders (which must exist) and the tolerances (which must be in range) from `a`.
    fn from_args(a: &Args) -> Result<Self, String> {
        let ours = a.path("ours")?;
        let theirs = a.path("theirs")?;
        for (flag, dir) in [("--ours", &ours), ("--theirs", &theirs)] {
            if !dir.is_dir() {
                return Err(format!("{flag} {}: not a folder", dir.display()));
            }
        }
        let rtol = a.f64_or("rtol", Some(DEFAULT_RTOL))?;
        let atol = a.f64_or("atol", Some(DEFAULT_ATOL))?;
        let alpha = a.f64_or("alpha", Some(DEFAULT_ALPHA))?;
        if rtol < 0.0 || atol < 0.0 || !(alpha > 0.0 && alpha < 1.0) {
            return Err("--rtol and --atol must be >= 0 and --alpha in (0, 1)".into());
        }
        Ok(Settings {
            ours,
            theirs,
            rtol,
            atol,
            alpha,
        })
    }
}

/// One array of theirs: the quantity it holds, its file and its contents.
struct Theirs<'a> {
    /// The quantity: the file name without `.npy`.
    stem: &'a str,
    /// The file name, in `--theirs`.
    file: &'a str,
    /// The contents.
    array: NpyArray,
}

/// Reads `dir/name`, or `None` if there is no such file.
fn load(dir: &Path, name: &str) -> Result<Option<NpyArray>, String> {
    let p = dir.join(name);
    if !p.exists() {
        return Ok(None);
    }
    read_npy(&p).map(Some).map_err(|e| e.to_string())
}

/// The names of the `.npy` files in `dir`, sorted.
fn npy_names(dir: &Path) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".npy"))
        .collect();
    names.sort();
    Ok(names)
}

/// Runs `check`: the report, and whether everything agrees.
pub fn run(raw: &[String]) -> Result<(String, bool), String> {
    let a = Args::parse(raw, &["ours", "theirs", "rtol", "atol", "alpha"], &[])?;
    if a.help {
        return Ok((HELP.into(), true));
    }
    let model = load_model(a.model()?).map_err(|e| e.to_string())?;
    let s = Settings::from_args(&a)?;
    let mut lines = Vec::new();
    for name in npy_names(&s.theirs)? {
        let stem = name.trim_end_matches(".npy");
        // Standard errors go with their estimate; z and x with the data-consistency check.
        if stem.ends_with("_mc_se") || stem == "z" || stem == "x" {
            continue;
        }
        let theirs = Theirs {
            stem,
            file: &name,
            array: read_npy(s.theirs.join(&name)).map_err(|e| e.to_string())?,
        };
        lines.push(match stem.strip_suffix("_mc") {
            Some(base) => ztest::z_test(&s, &theirs, base)?,
            None => exact::compare_entries(&s, &theirs)?,
        });
    }
    lines.extend(consistency::f_of_z_vs_x(&s, &model)?);
    Ok(report::render(&lines, &s.theirs, &s.ours))
}

#[cfg(test)]
mod defaults {
    use super::*;

    /// The help text states the defaults the code uses.
    #[test]
    fn help_states_the_defaults() {
        for (flag, value) in [
            ("--rtol", DEFAULT_RTOL),
            ("--atol", DEFAULT_ATOL),
            ("--alpha", DEFAULT_ALPHA),
        ] {
            let line = HELP
                .lines()
                .find(|l| l.trim_start().starts_with(flag))
                .unwrap();
            assert!(line.contains(&format!("default {value:e}")), "{line}");
        }
    }
}
