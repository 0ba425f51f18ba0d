//! `ima-oracle check`: compare another implementation's arrays with the oracle's.
//!
//! Four kinds of check, one function each, each giving one [`report::Line`] per quantity: the
//! entry-by-entry comparison of a quantity with its namesake in `--ours` ([`exact`]), the z-test of a
//! Monte Carlo estimate `NAME_mc` against the exact `NAME` with its standard errors `NAME_mc_se`
//! ([`ztest`]), the data consistency f(z) vs x ([`consistency`]), and the goodness of fit of the
//! sources z to the declared law ([`gof`], with [`anderson_darling`], [`law`] and [`normal`]).
//! [`report`] renders the lines and gives the verdict, whose exit status keeps refusals apart from
//! differences.

mod anderson_darling;
mod consistency;
mod exact;
mod gof;
mod law;
mod normal;
mod report;
mod ztest;

use crate::args::{usage, Args, LIMIT_FLAGS};
use crate::model_arg::load_model;
use crate::source_arg::{source, SOURCE_NAMES};
use ima_oracle::io::npy::{read_npy_with, NpyArray};
use ima_oracle::io::Limits;
use ima_oracle::Prior;
use std::path::{Path, PathBuf};

/// The help text.
pub const HELP: &str = "\
ima-oracle check — compare another implementation's arrays with the oracle's

USAGE:
    ima-oracle check MODEL --ours DIR --theirs DIR [--rtol R] [--atol A] [--alpha P]
                       [--allow-refusals] [--source NAME] [--max-elements N] [--max-dim N]

Every .npy in --theirs with a namesake in --ours (the output folder of `ima-oracle eval` or
`ima-oracle elbo`) is compared entry by entry: an entry agrees when |theirs - ours| <= A + R |ours|.
Per quantity it prints the largest absolute and relative error and the worst point (row).

Stochastic estimates get a z-test instead: for NAME_mc.npy (theirs) with its standard errors
NAME_mc_se.npy, each z = (theirs - ours)/se with ours = NAME.npy (the exact value) must satisfy
|z| <= sqrt(2 ln(M / P)) over the M entries — for an unbiased estimator a false alarm has
probability at most P.

Data consistency: if --theirs holds z.npy (N,d) and x.npy (N,D), the largest
|f(z) - x| / (1 + |x|) under MODEL must be <= A + R.

Goodness of fit: if --theirs holds z.npy (N,d) with N >= 8, each coordinate z[:,k] is tested
against the declared law (--source, default the model's prior): Anderson-Darling (p-value by
Marsaglia & Marsaglia 2004, good to ~1e-5), and normal tests of the sample mean and variance
against the law's. Each of the 3d tests runs at P/(3d); the report names every failing coordinate.

Entries the oracle refused (NaN in --ours, see eval --allow-refusals) are not differences: they
are counted apart and reported as unverified where theirs has a value.

OPTIONS:
    --rtol R           relative tolerance, 0 <= R < 1 (default 1e-9; f32 code: about 1e-5)
    --atol A           absolute tolerance, >= 0 (default 1e-12)
    --alpha P          false-alarm probability, in (0, 1) (default 1e-3), of the z-tests and of
                       the goodness-of-fit test
    --source NAME      the law of z: prior (default: the model's) | gaussian | logistic | uniform
                       | beta | laplace, as in `ima-oracle sample`
    --allow-refusals   exit 0 when the only shortfall is entries the oracle refused
    --max-elements N, --max-dim N
                       raise the limits on array entries and model dimension (ima-oracle --help)

EXIT STATUS:
    0  at least one quantity was compared and everything agrees
    1  some quantity differs, nothing was compared, or an error
    2  a usage error
    3  nothing differs, but entries the oracle refused were not verified (0 with --allow-refusals)";

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
    /// False-alarm probability of the z-tests and of the goodness-of-fit test.
    alpha: f64,
    /// Whether unverified refusals pass.
    allow_refusals: bool,
    /// The limits on sizes read from files.
    limits: Limits,
}

impl Settings {
    /// The folders and the tolerances (which must be in range) from `a`; every problem is a
    /// usage error, found before any file is read.
    fn from_args(a: &Args) -> Result<Self, String> {
        let ours = a.path("ours")?;
        let theirs = a.path("theirs")?;
        let rtol = a.f64_or("rtol", Some(DEFAULT_RTOL))?;
        let atol = a.f64_or("atol", Some(DEFAULT_ATOL))?;
        let alpha = a.f64_or("alpha", Some(DEFAULT_ALPHA))?;
        if !(0.0..1.0).contains(&rtol) {
            return Err(usage(format!("--rtol must be in [0, 1), got {rtol}")));
        }
        if atol < 0.0 {
            return Err(usage(format!("--atol must be >= 0, got {atol}")));
        }
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(usage(format!("--alpha must be in (0, 1), got {alpha}")));
        }
        for (flag, dir) in [("--ours", &ours), ("--theirs", &theirs)] {
            if !dir.is_dir() {
                return Err(usage(format!("{flag} {}: not a folder", dir.display())));
            }
        }
        Ok(Settings {
            ours,
            theirs,
            rtol,
            atol,
            alpha,
            allow_refusals: a.switch("allow-refusals"),
            limits: a.limits()?,
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

/// Reads `dir/name` within `limits`, or `None` if there is no such file.
fn load(dir: &Path, name: &str, limits: &Limits) -> Result<Option<NpyArray>, String> {
    let p = dir.join(name);
    if !p.exists() {
        return Ok(None);
    }
    read_npy_with(&p, limits)
        .map(Some)
        .map_err(|e| e.to_string())
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

/// Runs `check`: the report, and the exit status of its verdict.
pub fn run(raw: &[String]) -> Result<(String, u8), String> {
    let mut known = vec!["ours", "theirs", "rtol", "atol", "alpha", "source"];
    known.extend(LIMIT_FLAGS);
    let a = Args::parse(raw, &known, &["allow-refusals"])?;
    if a.help {
        return Ok((HELP.into(), 0));
    }
    let model_path = a.model()?;
    let s = Settings::from_args(&a)?;
    source(a.get("source"), Prior::standard_normal())?;
    let model = load_model(&model_path, &s.limits)?;
    let law = law::Law::of(&source(a.get("source"), *model.prior())?)
        .map_err(|e| usage(format!("--source: {e} ({SOURCE_NAMES})")))?;
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
            array: read_npy_with(s.theirs.join(&name), &s.limits).map_err(|e| e.to_string())?,
        };
        lines.push(match stem.strip_suffix("_mc") {
            Some(base) => ztest::z_test(&s, &theirs, base)?,
            None => exact::compare_entries(&s, &theirs)?,
        });
    }
    lines.extend(consistency::f_of_z_vs_x(&s, &model)?);
    if let Some(z) = load(&s.theirs, "z.npy", &s.limits)? {
        lines.push(gof::z_follows_law(&s, &z, model.dim_latent(), &law)?);
    }
    let (text, verdict) = report::render(&lines, &s.theirs, &s.ours);
    Ok((text, verdict.status(s.allow_refusals)))
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
