//! `ima-oracle check`: compare another implementation's arrays with the oracle's.

use crate::args::Args;
use ima_oracle::compare::compare;
use ima_oracle::io::model_file::load_model;
use ima_oracle::io::npy::{read_npy, NpyArray};
use nalgebra::DVector;
use std::fmt::Write;
use std::path::Path;

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

fn load(dir: &Path, name: &str) -> Result<Option<NpyArray>, String> {
    let p = dir.join(name);
    if !p.exists() {
        return Ok(None);
    }
    read_npy(&p).map(Some).map_err(|e| e.to_string())
}

/// The row (first-axis index) of a flat C-order index.
fn row_of(a: &NpyArray, flat: usize) -> usize {
    let per_row: usize = a.shape().iter().skip(1).product();
    flat.checked_div(per_row).unwrap_or(0)
}

pub fn run(raw: &[String]) -> Result<(String, bool), String> {
    let a = Args::parse(raw, &["ours", "theirs", "rtol", "atol", "alpha"], &[])?;
    if a.help {
        return Ok((HELP.into(), true));
    }
    let model = load_model(a.model()?).map_err(|e| e.to_string())?;
    let ours = a.path("ours")?;
    let theirs = a.path("theirs")?;
    for (flag, dir) in [("--ours", &ours), ("--theirs", &theirs)] {
        if !dir.is_dir() {
            return Err(format!("{flag} {}: not a folder", dir.display()));
        }
    }
    let rtol = a.f64_or("rtol", Some(1e-9))?;
    let atol = a.f64_or("atol", Some(1e-12))?;
    let alpha = a.f64_or("alpha", Some(1e-3))?;
    if rtol < 0.0 || atol < 0.0 || !(alpha > 0.0 && alpha < 1.0) {
        return Err("--rtol and --atol must be >= 0 and --alpha in (0, 1)".into());
    }
    let mut names: Vec<String> = std::fs::read_dir(&theirs)
        .map_err(|e| format!("{}: {e}", theirs.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".npy"))
        .collect();
    names.sort();
    let mut report = format!(
        "{:<22} {:>14} {:>11} {:>11} {:>9}  result\n",
        "quantity", "shape", "max abs", "max rel", "worst row"
    );
    let (mut compared, mut all_ok) = (0, true);
    let num = |v: f64| {
        if v.is_nan() {
            "-".to_string()
        } else {
            format!("{v:.3e}")
        }
    };
    let mut line =
        |name: &str, shape: String, abs: f64, rel: f64, worst: String, ok: bool, note: &str| {
            let _ = writeln!(
                report,
                "{name:<22} {shape:>14} {:>11} {:>11} {worst:>9}  {}{note}",
                num(abs),
                num(rel),
                if ok { "agrees" } else { "DIFFERS" }
            );
        };
    for name in &names {
        let stem = name.trim_end_matches(".npy");
        if stem.ends_with("_mc_se") || stem == "z" || stem == "x" {
            continue;
        }
        let th = load(&theirs, name)?.expect("listed");
        if let Some(base) = stem.strip_suffix("_mc") {
            // z-test of a stochastic estimate.
            let se = load(&theirs, &format!("{stem}_se.npy"))?.ok_or_else(|| {
                format!(
                    "{}: a z-test needs {stem}_se.npy beside it",
                    theirs.join(name).display()
                )
            })?;
            let Some(ex) = load(&ours, &format!("{base}.npy"))? else {
                line(
                    stem,
                    format!("{:?}", th.shape()),
                    f64::NAN,
                    f64::NAN,
                    "-".into(),
                    true,
                    "  (no exact value in ours: not tested)",
                );
                continue;
            };
            if th.shape() != ex.shape() || se.shape() != ex.shape() {
                return Err(format!(
                    "{stem}: shapes {:?} (theirs), {:?} (se), {:?} (ours) differ",
                    th.shape(),
                    se.shape(),
                    ex.shape()
                ));
            }
            let m = th.data().len().max(1) as f64;
            let zcrit = (2.0 * (m / alpha).ln()).sqrt();
            let (mut zmax, mut worst) = (0.0f64, 0);
            for (k, ((t, s), e)) in th.data().iter().zip(se.data()).zip(ex.data()).enumerate() {
                let z = if *s > 0.0 {
                    (t - e).abs() / s
                } else if t == e {
                    0.0
                } else {
                    f64::INFINITY
                };
                // NaN (an invalid z) counts as the worst.
                if z.is_nan() || z > zmax {
                    zmax = z;
                    worst = k;
                }
            }
            let ok = zmax <= zcrit;
            compared += 1;
            all_ok &= ok;
            line(
                stem,
                format!("{:?}", th.shape()),
                f64::NAN,
                f64::NAN,
                row_of(&th, worst).to_string(),
                ok,
                &format!("  (z-test: max |z| = {zmax:.2}, limit {zcrit:.2})"),
            );
            continue;
        }
        let Some(ou) = load(&ours, name)? else {
            line(
                stem,
                format!("{:?}", th.shape()),
                f64::NAN,
                f64::NAN,
                "-".into(),
                true,
                "  (not in ours: not compared)",
            );
            continue;
        };
        if th.shape() != ou.shape() {
            compared += 1;
            all_ok = false;
            line(
                stem,
                format!("{:?}", th.shape()),
                f64::NAN,
                f64::NAN,
                "-".into(),
                false,
                &format!("  (ours has shape {:?})", ou.shape()),
            );
            continue;
        }
        // Entries the oracle refused (NaN in ours) cannot be verified unless theirs refused too.
        let (mut t_kept, mut o_kept, mut index) = (Vec::new(), Vec::new(), Vec::new());
        let mut unverified = 0usize;
        for (k, (&t, &o)) in th.data().iter().zip(ou.data()).enumerate() {
            if o.is_nan() {
                unverified += usize::from(!t.is_nan());
            } else {
                t_kept.push(t);
                o_kept.push(o);
                index.push(k);
            }
        }
        let c = compare(&t_kept, &o_kept, rtol, atol);
        let ok = c.agrees && unverified == 0;
        let (amax, rmax) = (c.max_abs, c.max_rel);
        let worst = c.worst.map_or(0, |i| index[i]);
        compared += 1;
        all_ok &= ok;
        let note = if unverified > 0 {
            format!("  ({unverified} entries the oracle refused)")
        } else {
            String::new()
        };
        line(
            stem,
            format!("{:?}", th.shape()),
            amax,
            rmax,
            row_of(&th, worst).to_string(),
            ok,
            &note,
        );
    }
    // Data consistency.
    if let (Some(z), Some(x)) = (load(&theirs, "z.npy")?, load(&theirs, "x.npy")?) {
        let (d, dd) = (model.dim_latent(), model.dim_observed());
        let zm = z.to_matrix().map_err(|k| format!("z.npy: {k:?}"))?;
        let xm = x.to_matrix().map_err(|k| format!("x.npy: {k:?}"))?;
        if zm.ncols() != d || xm.ncols() != dd || zm.nrows() != xm.nrows() {
            return Err(format!(
                "z.npy {:?} and x.npy {:?} do not fit a model with d = {d}, D = {dd}",
                z.shape(),
                x.shape()
            ));
        }
        let (mut worst, mut wi) = (0.0f64, 0);
        for i in 0..zm.nrows() {
            let zi = DVector::from_iterator(d, zm.row(i).iter().copied());
            let xi = DVector::from_iterator(dd, xm.row(i).iter().copied());
            let e = match model.decoder().forward(&zi) {
                Ok(f) => (f - &xi).norm() / (1.0 + xi.norm()),
                Err(_) => f64::INFINITY,
            };
            if e.is_nan() || e > worst {
                worst = e;
                wi = i;
            }
        }
        let ok = worst <= atol + rtol;
        compared += 1;
        all_ok &= ok;
        line(
            "f(z) vs x",
            format!("{:?}", x.shape()),
            f64::NAN,
            worst,
            wi.to_string(),
            ok,
            "  (data consistency: |f(z) - x|/(1 + |x|))",
        );
    }
    if compared == 0 {
        let _ = writeln!(
            report,
            "nothing was compared: no file of {} has a namesake in {}",
            theirs.display(),
            ours.display()
        );
        return Ok((report, false));
    }
    let _ = writeln!(
        report,
        "{}",
        if all_ok {
            "everything agrees"
        } else {
            "some quantities DIFFER"
        }
    );
    Ok((report, all_ok))
}
