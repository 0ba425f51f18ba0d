//! Blaming a pole: when the oracle refuses a point whose x lies where the decoder is singular — g(x)
//! within [`POLE_NEAR`] of a Möbius step's latent pole (so x is enormous), or x within
//! [`POLE_NEAR`] of a point where g = f⁻¹ is singular (the image of z = ∞) — the message says so,
//! naming the step, instead of leaving the user with a solver's symptom.

use ima_oracle::tol::POLE_NEAR;
use ima_oracle::Model;
use nalgebra::DVector;

/// The explanation to add to a refusal at `x`, if a pole is the cause.
pub fn pole_note(model: &Model, x: &[f64]) -> Option<String> {
    let x = DVector::from_column_slice(x);
    for (step, xp) in model.x_poles() {
        let dist = (&x - xp).norm();
        if dist <= POLE_NEAR * (1.0 + xp.norm()) {
            return Some(format!(
                "the cause is a pole: x lies {dist:.3e} from the point where g = f^-1 of the Moebius \
                 step {step} is singular (its shift b, carried through the later steps); no finite z \
                 maps there"
            ));
        }
    }
    let z = model.decoder().inverse(&x).ok()?;
    for (step, pole) in model.poles() {
        let dist = (&z - pole).norm();
        if dist <= POLE_NEAR * (1.0 + pole.norm()) {
            return Some(format!(
                "the cause is a pole: g(x) lies {dist:.3e} from the pole a of the Moebius step \
                 {step}, where f is infinite (|x| = {:.3e}); f and its derivatives there exceed \
                 f64's precision, and no sample of this model lies this far out",
                x.norm()
            ));
        }
    }
    None
}

/// The first refused point of a per-point computation (`what` names it): with `allow`, a note on
/// stderr (`nan_note` says what is written instead) and Ok; otherwise the error, naming the point
/// and blaming a pole when one is the cause.
pub fn first_refusal<T, E: std::fmt::Display>(
    model: &Model,
    xs: &nalgebra::DMatrix<f64>,
    results: &[Result<T, E>],
    (what, nan_note): (&str, &str),
    allow: bool,
) -> Result<(), String> {
    let failed = results
        .iter()
        .enumerate()
        .find_map(|(i, r)| r.as_ref().err().map(|e| (i, e)));
    let Some((i, e)) = failed else {
        return Ok(());
    };
    let x: Vec<f64> = xs.row(i).iter().copied().collect();
    let msg = match pole_note(model, &x) {
        Some(note) => format!("point {i}: {what}: {e}; {note}"),
        None => format!("point {i}: {what}: {e}"),
    };
    if !allow {
        return Err(format!("{msg} (use --allow-refusals to write NaN there)"));
    }
    eprintln!("note: {nan_note}; the first: {msg}");
    Ok(())
}
