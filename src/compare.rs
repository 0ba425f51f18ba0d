//! Comparing another implementation's numbers with the oracle's: |theirs − ours| ≤ atol + rtol·|ours|,
//! the criterion of `ima-oracle check`.

/// Whether `theirs` agrees with `ours` to `atol + rtol·|ours|` (NaN never agrees).
pub fn close(theirs: f64, ours: f64, rtol: f64, atol: f64) -> bool {
    (theirs - ours).abs() <= atol + rtol * ours.abs()
}

/// The comparison of two paired slices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// The largest |theirs − ours| (∞ where theirs is NaN).
    pub max_abs: f64,
    /// The largest |theirs − ours|/|ours|.
    pub max_rel: f64,
    /// The entry closest to (or furthest beyond) `atol + rtol·|ours|`; `None` for empty slices.
    pub worst: Option<usize>,
    /// Whether every entry agrees.
    pub agrees: bool,
}

/// Compares paired slices entry by entry with the criterion of [`close`].
pub fn compare(theirs: &[f64], ours: &[f64], rtol: f64, atol: f64) -> Comparison {
    let mut c = Comparison {
        max_abs: 0.0,
        max_rel: 0.0,
        worst: None,
        agrees: true,
    };
    let mut worst_excess = f64::NEG_INFINITY;
    for (i, (t, o)) in theirs.iter().zip(ours).enumerate() {
        let e = (t - o).abs();
        let e = if e.is_nan() { f64::INFINITY } else { e };
        c.max_abs = c.max_abs.max(e);
        c.max_rel = c.max_rel.max(e / o.abs().max(f64::MIN_POSITIVE));
        let excess = e - (atol + rtol * o.abs());
        if excess > worst_excess {
            worst_excess = excess;
            c.worst = Some(i);
        }
        c.agrees &= excess <= 0.0;
    }
    c
}

/// Panics with a message naming the quantity and the entry unless every entry agrees.
pub fn assert_close(what: &str, theirs: &[f64], ours: &[f64], rtol: f64, atol: f64) {
    assert_eq!(theirs.len(), ours.len(), "{what}: lengths differ");
    let c = compare(theirs, ours, rtol, atol);
    if let (false, Some(i)) = (c.agrees, c.worst) {
        panic!(
            "{what}[{i}] = {} differs from the oracle's {} (max abs error {:e}, max rel error {:e}, rtol {rtol:e}, atol {atol:e})",
            theirs[i], ours[i], c.max_abs, c.max_rel
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
        let c = compare(&[1.0, 2.0 + 1e-6, 3.0], &[1.0, 2.0, 3.0], 1e-9, 0.0);
        assert_eq!((c.worst, c.agrees), (Some(1), false));
        assert!((c.max_abs - 1e-6).abs() < 1e-15);
        let same = compare(&[1.0], &[1.0], 0.0, 0.0);
        assert!(same.agrees && same.max_abs == 0.0);
        assert_eq!(compare(&[], &[], 0.0, 0.0).worst, None);
    }

    #[test]
    #[should_panic(expected = "elbo[1]")]
    fn assert_close_names_the_entry() {
        assert_close("elbo", &[1.0, 2.5], &[1.0, 2.0], 1e-9, 1e-12);
    }
}
