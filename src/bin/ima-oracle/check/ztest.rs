//! The z-test of a Monte Carlo estimate `NAME_mc` (theirs, with standard errors `NAME_mc_se`)
//! against the exact `NAME` in `--ours`: every |z| = |theirs − ours|/se must be at most
//! sqrt(2 ln(M/α)) over the M entries, so that for an unbiased estimator a false alarm has
//! probability at most α (a union bound over Gaussian tails). Entries the oracle refused (NaN in
//! the exact value) are not tested and are reported apart, as for the exact check.

use super::report::{row_of, Line, Outcome};
use super::{load, Settings, Theirs};

/// Tests `theirs` (the quantity `base` + `_mc`) against `base` in `--ours`.
pub fn z_test(s: &Settings, theirs: &Theirs, base: &str) -> Result<Line, String> {
    let &Theirs {
        stem,
        file,
        ref array,
    } = theirs;
    let se = load(&s.theirs, &format!("{stem}_se.npy"), &s.limits)?.ok_or_else(|| {
        format!(
            "{}: a z-test needs {stem}_se.npy beside it",
            s.theirs.join(file).display()
        )
    })?;
    let Some(exact) = load(&s.ours, &format!("{base}.npy"), &s.limits)? else {
        return Ok(Line::not_compared(
            stem,
            array.shape(),
            "no exact value in ours: not tested",
        ));
    };
    if array.shape() != exact.shape() || se.shape() != exact.shape() {
        return Err(format!(
            "{stem}: shapes {:?} (theirs), {:?} (se), {:?} (ours) differ",
            array.shape(),
            se.shape(),
            exact.shape()
        ));
    }
    let m = array.data().len().max(1) as f64;
    let zcrit = (2.0 * (m / s.alpha).ln()).sqrt();
    let (zmax, worst, refused) = largest_z(array.data(), se.data(), exact.data());
    let outcome = match (zmax <= zcrit, refused) {
        (false, _) => Outcome::Differs,
        (true, 0) => Outcome::Agrees,
        (true, k) => Outcome::Refused(k),
    };
    let refusals = match refused {
        0 => String::new(),
        k => format!("; {k} entries the oracle refused (NaN in ours) not tested"),
    };
    Ok(Line {
        quantity: stem.into(),
        shape: array.shape().to_vec(),
        max_abs: None,
        max_rel: None,
        worst_row: Some(row_of(array.shape(), worst)),
        outcome,
        note: Some(format!(
            "z-test: max |z| = {zmax:.2}, limit {zcrit:.2}{refusals}"
        )),
    })
}

/// The largest |z| = |estimate − exact|/se, its index, and the number of entries the oracle
/// refused (exact NaN; skipped): z = 0 where se = 0 and the two are equal, ∞ where se = 0 and they
/// are not; a NaN z (invalid input) counts as the worst.
fn largest_z(estimate: &[f64], se: &[f64], exact: &[f64]) -> (f64, usize, usize) {
    let (mut zmax, mut worst, mut refused) = (0.0f64, 0, 0);
    for (k, ((t, s), e)) in estimate.iter().zip(se).zip(exact).enumerate() {
        if e.is_nan() {
            refused += usize::from(!t.is_nan());
            continue;
        }
        let z = if *s > 0.0 {
            (t - e).abs() / s
        } else if t == e {
            0.0
        } else {
            f64::INFINITY
        };
        if z.is_nan() || z > zmax {
            zmax = z;
            worst = k;
        }
    }
    (zmax, worst, refused)
}
