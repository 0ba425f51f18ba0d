//! Comparing another implementation's numbers with the oracle's: |theirs − ours| ≤ atol + rtol·|ours|,
//! the criterion of `ima-oracle check`.

/// Whether `theirs` agrees with `ours` to `atol + rtol·|ours|` (NaN never agrees).
pub fn close(theirs: f64, ours: f64, rtol: f64, atol: f64) -> bool {
    (theirs - ours).abs() <= atol + rtol * ours.abs()
}

/// The largest |theirs − ours| and |theirs − ours|/|ours| over paired slices, and the index of the
/// entry that exceeds `atol + rtol·|ours|` the most (`None` when all agree).
pub fn worst(theirs: &[f64], ours: &[f64], rtol: f64, atol: f64) -> (f64, f64, Option<usize>) {
    let (mut amax, mut rmax, mut bad, mut excess) = (0.0f64, 0.0f64, None, 0.0f64);
    for (i, (t, o)) in theirs.iter().zip(ours).enumerate() {
        let e = (t - o).abs();
        let e = if e.is_nan() { f64::INFINITY } else { e };
        amax = amax.max(e);
        rmax = rmax.max(e / o.abs().max(f64::MIN_POSITIVE));
        let x = e - (atol + rtol * o.abs());
        if x > excess {
            excess = x;
            bad = Some(i);
        }
    }
    (amax, rmax, bad)
}

/// Panics with a message naming the quantity and the entry unless every entry agrees.
pub fn assert_close(what: &str, theirs: &[f64], ours: &[f64], rtol: f64, atol: f64) {
    assert_eq!(theirs.len(), ours.len(), "{what}: lengths differ");
    let (a, r, bad) = worst(theirs, ours, rtol, atol);
    if let Some(i) = bad {
        panic!(
            "{what}[{i}] = {} differs from the oracle's {} (max abs error {a:e}, max rel error {r:e}, rtol {rtol:e}, atol {atol:e})",
            theirs[i], ours[i]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criterion() {
        assert!(close(1.0 + 1e-10, 1.0, 1e-9, 0.0));
        assert!(!close(1.0 + 1e-8, 1.0, 1e-9, 0.0));
        assert!(close(1e-13, 0.0, 0.0, 1e-12));
        assert!(!close(f64::NAN, 1.0, 1.0, 1.0));
        let (a, _, bad) = worst(&[1.0, 2.0 + 1e-6, 3.0], &[1.0, 2.0, 3.0], 1e-9, 0.0);
        assert_eq!(bad, Some(1));
        assert!((a - 1e-6).abs() < 1e-15);
        assert_eq!(worst(&[1.0], &[1.0], 0.0, 0.0).2, None);
    }

    #[test]
    #[should_panic(expected = "elbo[1]")]
    fn assert_close_names_the_entry() {
        assert_close("elbo", &[1.0, 2.5], &[1.0, 2.0], 1e-9, 1e-12);
    }
}
