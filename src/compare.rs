//! Comparing numbers with the oracle's: one criterion, named tolerances, and a failure message that
//! names the quantity and the entry. `ima-oracle check` uses [`compare`] (|theirs − ours| ≤
//! atol + rtol·|ours|); tests and backends use [`assert_within`] with whichever [`Tol`] their
//! argument supports.

/// How far a number may be from the reference `ours`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tol {
    /// |theirs − ours| ≤ atol + rtol·|ours| — the criterion of `ima-oracle check`.
    AbsRel {
        /// Absolute part.
        atol: f64,
        /// Relative part.
        rtol: f64,
    },
    /// |theirs − ours| ≤ tol·max(1, |ours|): relative for |ours| ≥ 1, absolute below.
    Mixed(f64),
    /// |theirs − ours| ≤ tol·|ours|: purely relative.
    Rel(f64),
    /// |theirs − ours| ≤ tol·scale, for a scale the caller argues for (a norm, a condition number,
    /// the size of the terms a value was summed from …). `Scaled(tol, 1.0)` is absolute.
    Scaled(f64, f64),
}

impl Tol {
    /// The largest |theirs − ours| this tolerance allows.
    pub fn bound(&self, ours: f64) -> f64 {
        match *self {
            Tol::AbsRel { atol, rtol } => atol + rtol * ours.abs(),
            Tol::Mixed(t) => t * ours.abs().max(1.0),
            Tol::Rel(t) => t * ours.abs(),
            Tol::Scaled(t, scale) => t * scale,
        }
    }
}

/// Whether `theirs` agrees with `ours` to `atol + rtol·|ours|` (NaN never agrees).
pub fn close(theirs: f64, ours: f64, rtol: f64, atol: f64) -> bool {
    (theirs - ours).abs() <= Tol::AbsRel { atol, rtol }.bound(ours)
}

/// The comparison of two paired slices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// The largest |theirs − ours| (∞ where theirs is NaN).
    pub max_abs: f64,
    /// The largest |theirs − ours|/|ours|.
    pub max_rel: f64,
    /// The entry closest to (or furthest beyond) its bound; `None` for empty slices.
    pub worst: Option<usize>,
    /// Whether every entry agrees.
    pub agrees: bool,
}

/// Compares paired slices entry by entry against `tol`. Slices of different lengths never agree
/// (`worst` is then the first unpaired index); an entry whose difference or bound is NaN (a NaN
/// value, reference or scale) never agrees and counts as the worst. Equal infinities agree (−∞ is
/// an exact answer: ELBO* of a Möbius decoder in d ≤ 2); an infinity against anything else does not.
pub fn compare_within(theirs: &[f64], ours: &[f64], tol: Tol) -> Comparison {
    let mut c = Comparison {
        max_abs: 0.0,
        max_rel: 0.0,
        worst: None,
        agrees: true,
    };
    let mut worst_excess = f64::NEG_INFINITY;
    for (i, (t, o)) in theirs.iter().zip(ours).enumerate() {
        // Equal values agree exactly, infinities included (−∞ is an exact answer: ELBO* of a Möbius
        // decoder in d ≤ 2); any other pair with an infinity or a NaN is the worst difference.
        let e = if t == o { 0.0 } else { (t - o).abs() };
        let e = if e.is_nan() { f64::INFINITY } else { e };
        c.max_abs = c.max_abs.max(e);
        c.max_rel = c.max_rel.max(e / o.abs().max(f64::MIN_POSITIVE));
        // A NaN bound, or ∞ against an infinite bound: no agreement, the worst possible excess.
        let excess = e - tol.bound(*o);
        let excess = if t == o && o.is_infinite() {
            0.0
        } else if excess.is_nan() {
            f64::INFINITY
        } else {
            excess
        };
        if excess > worst_excess || c.worst.is_none() {
            worst_excess = excess;
            c.worst = Some(i);
        }
        c.agrees &= excess <= 0.0;
    }
    if theirs.len() != ours.len() {
        c.agrees = false;
        c.worst = c.worst.or(Some(theirs.len().min(ours.len())));
    }
    c
}

/// Compares paired slices with the criterion of [`close`] (that of `ima-oracle check`).
pub fn compare(theirs: &[f64], ours: &[f64], rtol: f64, atol: f64) -> Comparison {
    compare_within(theirs, ours, Tol::AbsRel { atol, rtol })
}

/// Panics with a message naming the quantity, the entry, both values and the tolerance unless
/// every entry of `theirs` is within `tol` of `ours` (and the lengths agree).
#[track_caller]
pub fn assert_within(what: &str, theirs: &[f64], ours: &[f64], tol: Tol) {
    assert_eq!(theirs.len(), ours.len(), "{what}: lengths differ");
    let c = compare_within(theirs, ours, tol);
    if !c.agrees {
        let i = c.worst.unwrap_or(0);
        panic!(
            "{what}[{i}] = {:e} differs from the reference {:e} by {:e} > {:e} ({tol:?}; max abs error {:e}, max rel error {:e})",
            theirs[i],
            ours[i],
            (theirs[i] - ours[i]).abs(),
            tol.bound(ours[i]),
            c.max_abs,
            c.max_rel
        );
    }
}

/// [`assert_within`] with the criterion of `ima-oracle check`: atol + rtol·|ours|.
#[track_caller]
pub fn assert_close(what: &str, theirs: &[f64], ours: &[f64], rtol: f64, atol: f64) {
    assert_within(what, theirs, ours, Tol::AbsRel { atol, rtol });
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

    /// The bounds of each kind, at |ours| below and above 1.
    #[test]
    fn tolerance_kinds() {
        assert_eq!(Tol::Mixed(1e-3).bound(0.5), 1e-3);
        assert_eq!(Tol::Mixed(1e-3).bound(-4.0), 4e-3);
        assert_eq!(Tol::Rel(1e-3).bound(-4.0), 4e-3);
        assert_eq!(Tol::Rel(1e-3).bound(0.0), 0.0);
        assert_eq!(Tol::Scaled(1e-3, 8.0).bound(1e9), 8e-3);
        assert_eq!(
            Tol::AbsRel {
                atol: 1.0,
                rtol: 0.5
            }
            .bound(-2.0),
            2.0
        );
        assert!(compare_within(&[1.5], &[1.0], Tol::Rel(0.5)).agrees);
        assert!(!compare_within(&[1.5], &[1.0], Tol::Rel(0.49)).agrees);
    }

    /// NaN never agrees, whether it is the value, the reference or the scale of the bound; and
    /// slices of different lengths never agree.
    #[test]
    fn nan_and_lengths_never_agree() {
        let nan = f64::NAN;
        assert!(!compare_within(&[nan], &[1.0], Tol::Rel(1.0)).agrees);
        assert!(!compare_within(&[1.0], &[nan], Tol::Rel(1.0)).agrees);
        assert!(
            !compare_within(
                &[1.0],
                &[nan],
                Tol::AbsRel {
                    atol: 1.0,
                    rtol: 1.0
                }
            )
            .agrees
        );
        assert!(!compare_within(&[1.0], &[1.0], Tol::Scaled(1e-6, nan)).agrees);
        assert!(!compare_within(&[nan], &[1.0], Tol::Scaled(1e-6, 1.0 + nan)).agrees);
        assert!(!compare_within(&[f64::INFINITY], &[1.0], Tol::Scaled(1.0, f64::INFINITY)).agrees);
        let c = compare_within(&[1.0, nan, 3.0], &[1.0, 2.0, 3.0], Tol::Rel(1.0));
        assert_eq!((c.agrees, c.worst), (false, Some(1)));
        assert!(!compare(&[1.0, 2.0], &[1.0], 1.0, 1.0).agrees);
        assert!(!compare(&[], &[1.0], 1.0, 1.0).agrees);
    }

    /// −∞ is an exact answer (ELBO* of a Möbius decoder in d ≤ 2): equal infinities agree under every
    /// tolerance, an infinity against anything else never does.
    #[test]
    fn equal_infinities_agree() {
        let (ninf, inf) = (f64::NEG_INFINITY, f64::INFINITY);
        assert!(compare_within(&[ninf], &[ninf], Tol::Rel(1e-12)).agrees);
        assert!(compare_within(&[inf, 1.0], &[inf, 1.0], Tol::Mixed(0.0)).agrees);
        assert!(!compare_within(&[ninf], &[-1e308], Tol::Rel(1.0)).agrees);
        assert!(!compare_within(&[-1e308], &[ninf], Tol::Rel(1.0)).agrees);
        assert!(!compare_within(&[inf], &[ninf], Tol::Rel(1.0)).agrees);
    }

    #[test]
    #[should_panic(expected = "differs")]
    fn assert_within_fails_on_a_nan_scale() {
        assert_within("x", &[1.0], &[1.0], Tol::Scaled(1e-6, f64::NAN));
    }

    #[test]
    #[should_panic(expected = "elbo[1]")]
    fn assert_close_names_the_entry() {
        assert_close("elbo", &[1.0, 2.5], &[1.0, 2.0], 1e-9, 1e-12);
    }
}
