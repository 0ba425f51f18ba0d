//! The exact check: a quantity of theirs against its namesake in `--ours`, entry by entry, with
//! |theirs − ours| ≤ atol + rtol·|ours|. Entries the oracle refused (NaN in ours) are not compared:
//! where theirs has a value there, it is counted as unverified — reported apart, never as a
//! difference ([`Outcome::Refused`]); where theirs is NaN too, both refused and nothing is claimed.

use super::report::{row_of, Line, Outcome};
use super::{load, Settings, Theirs};
use ima_oracle::compare::compare;

/// Compares `theirs` with its namesake in `--ours`.
pub fn compare_entries(s: &Settings, theirs: &Theirs) -> Result<Line, String> {
    let &Theirs {
        stem,
        file,
        ref array,
    } = theirs;
    let Some(ours) = load(&s.ours, file, &s.limits)? else {
        return Ok(Line::not_compared(
            stem,
            array.shape(),
            "not in ours: not compared",
        ));
    };
    if array.shape() != ours.shape() {
        return Ok(Line {
            quantity: stem.into(),
            shape: array.shape().to_vec(),
            max_abs: None,
            max_rel: None,
            worst_row: None,
            outcome: Outcome::Differs,
            note: Some(format!("ours has shape {:?}", ours.shape())),
        });
    }
    let (mut t_kept, mut o_kept, mut index) = (Vec::new(), Vec::new(), Vec::new());
    let mut unverified = 0usize;
    for (k, (&t, &o)) in array.data().iter().zip(ours.data()).enumerate() {
        if o.is_nan() {
            unverified += usize::from(!t.is_nan());
        } else {
            t_kept.push(t);
            o_kept.push(o);
            index.push(k);
        }
    }
    let c = compare(&t_kept, &o_kept, s.rtol, s.atol);
    let worst = c.worst.map_or(0, |i| index[i]);
    let outcome = match (c.agrees, unverified) {
        (false, _) => Outcome::Differs,
        (true, 0) => Outcome::Agrees,
        (true, k) => Outcome::Refused(k),
    };
    Ok(Line {
        quantity: stem.into(),
        shape: array.shape().to_vec(),
        max_abs: Some(c.max_abs),
        max_rel: Some(c.max_rel),
        worst_row: Some(row_of(array.shape(), worst)),
        outcome,
        note: (unverified > 0).then(|| {
            format!(
                "{unverified} entries the oracle refused (NaN in ours) not verified; the other {} compared",
                t_kept.len()
            )
        }),
    })
}
