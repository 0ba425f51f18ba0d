//! The data-consistency check: if `--theirs` holds sources z.npy (N, d) and observations x.npy
//! (N, D), the model must reproduce x = f(z): the largest |f(z) − x|/(1 + |x|) must be at most
//! atol + rtol.

use super::report::{Line, Outcome};
use super::{load, Settings};
use ima_oracle::io::npy::shape_text;
use ima_oracle::Model;
use nalgebra::DVector;

/// The line of the check, or `None` when `--theirs` lacks z.npy or x.npy.
pub fn f_of_z_vs_x(s: &Settings, model: &Model) -> Result<Option<Line>, String> {
    let (Some(z), Some(x)) = (
        load(&s.theirs, "z.npy", &s.limits)?,
        load(&s.theirs, "x.npy", &s.limits)?,
    ) else {
        return Ok(None);
    };
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    let fits = matches!((z.shape(), x.shape()), ([n, k], [m, l]) if *k == d && *l == dd && n == m);
    if !fits {
        return Err(format!(
            "{}: z.npy {} and x.npy {} do not fit a model with d = {d}, D = {dd} (expected (N, {d}) and (N, {dd}))",
            s.theirs.display(),
            shape_text(z.shape()),
            shape_text(x.shape())
        ));
    }
    let (zm, xm) = (
        z.to_matrix().map_err(|k| k.to_string())?,
        x.to_matrix().map_err(|k| k.to_string())?,
    );
    // A point the decoder refuses counts as infinitely far; a NaN error as the worst.
    let (mut worst, mut worst_row) = (0.0f64, 0);
    for i in 0..zm.nrows() {
        let zi = DVector::from_iterator(d, zm.row(i).iter().copied());
        let xi = DVector::from_iterator(dd, xm.row(i).iter().copied());
        let e = match model.decoder().forward(&zi) {
            Ok(f) => (f - &xi).norm() / (1.0 + xi.norm()),
            Err(_) => f64::INFINITY,
        };
        if e.is_nan() || e > worst {
            worst = e;
            worst_row = i;
        }
    }
    Ok(Some(Line {
        quantity: "f(z) vs x".into(),
        shape: x.shape().to_vec(),
        max_abs: None,
        max_rel: Some(worst),
        worst_row: Some(worst_row),
        outcome: Outcome::of(worst <= s.atol + s.rtol),
        note: Some("data consistency: |f(z) - x|/(1 + |x|)".into()),
    }))
}
