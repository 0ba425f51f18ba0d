//! The exact check: a quantity of theirs against its namesake in `--ours`, entry by entry, with
//! |theirs − ours| ≤ atol + rtol·|ours|; entries the oracle refused (NaN in ours) cannot be verified.

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
    let Some(ours) = load(&s.ours, file)? else {
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
    // Entries the oracle refused (NaN in ours) cannot be verified unless theirs refused too.
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
    Ok(Line {
        quantity: stem.into(),
        shape: array.shape().to_vec(),
        max_abs: Some(c.max_abs),
        max_rel: Some(c.max_rel),
        worst_row: Some(row_of(array.shape(), worst)),
        outcome: Outcome::of(c.agrees && unverified == 0),
        note: (unverified > 0).then(|| format!("{unverified} entries the oracle refused")),
    })
}
