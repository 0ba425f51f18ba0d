//! The report of `check`: one [`Line`] per quantity — name, shape, largest absolute and relative
//! error, worst row, outcome, note — rendered as a fixed-width table with a verdict at the end.

use std::fmt::Write;
use std::path::Path;

/// How one quantity fared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Compared, and within the tolerance.
    Agrees,
    /// Compared, and outside the tolerance (or not comparable: shapes differ).
    Differs,
    /// Not compared (the oracle has no counterpart); shown as "agrees", as nothing failed.
    NotCompared,
    /// Every entry the oracle computed agrees, but this many entries the oracle refused (NaN in
    /// `--ours`) carry values in `--theirs` that could not be verified. Not a difference.
    Refused(usize),
}

/// The verdict of a whole report, and the exit status it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Everything compared agrees (exit 0).
    Agrees,
    /// Some quantity differs (exit 1).
    Differs,
    /// Nothing was compared (exit 1).
    NothingCompared,
    /// Nothing differs, but entries the oracle refused were not verified (exit 3, or 0 with
    /// `--allow-refusals`).
    Refusals,
}

impl Verdict {
    /// The exit status: 0, 1, or for refusals 3 (0 when they are allowed).
    pub fn status(self, allow_refusals: bool) -> u8 {
        match self {
            Verdict::Agrees => 0,
            Verdict::Differs | Verdict::NothingCompared => 1,
            Verdict::Refusals if allow_refusals => 0,
            Verdict::Refusals => 3,
        }
    }
}

impl Outcome {
    /// `Agrees` if `ok`, else `Differs`.
    pub fn of(ok: bool) -> Self {
        if ok {
            Outcome::Agrees
        } else {
            Outcome::Differs
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The quantity (the file's stem, or the name of the check).
    pub quantity: String,
    /// Its shape (theirs).
    pub shape: Vec<usize>,
    /// The largest |theirs − ours|, if the check measures it ("-" otherwise, and for NaN).
    pub max_abs: Option<f64>,
    /// The largest relative error, if the check measures it ("-" otherwise, and for NaN).
    pub max_rel: Option<f64>,
    /// The row (first-axis index) of the worst entry, if there is one.
    pub worst_row: Option<usize>,
    /// How the quantity fared.
    pub outcome: Outcome,
    /// An explanation, shown in parentheses after the outcome.
    pub note: Option<String>,
}

impl Line {
    /// The line of a quantity that was not compared, with the reason.
    pub fn not_compared(quantity: &str, shape: &[usize], reason: &str) -> Self {
        Line {
            quantity: quantity.into(),
            shape: shape.to_vec(),
            max_abs: None,
            max_rel: None,
            worst_row: None,
            outcome: Outcome::NotCompared,
            note: Some(reason.into()),
        }
    }

    /// The line as the table shows it (without the newline).
    fn render(&self) -> String {
        let num = |v: Option<f64>| match v {
            Some(v) if !v.is_nan() => format!("{v:.3e}"),
            _ => "-".to_string(),
        };
        let worst = self.worst_row.map_or("-".to_string(), |r| r.to_string());
        let result = match self.outcome {
            Outcome::Agrees | Outcome::NotCompared => "agrees",
            Outcome::Differs => "DIFFERS",
            Outcome::Refused(_) => "unverified",
        };
        let note = self
            .note
            .as_ref()
            .map_or(String::new(), |n| format!("  ({n})"));
        format!(
            "{:<22} {:>14} {:>11} {:>11} {worst:>9}  {result}{note}",
            self.quantity,
            format!("{:?}", self.shape),
            num(self.max_abs),
            num(self.max_rel),
        )
    }
}

/// The row (first-axis index) of a flat C-order index into an array of `shape`.
pub fn row_of(shape: &[usize], flat: usize) -> usize {
    let per_row: usize = shape.iter().skip(1).product();
    flat.checked_div(per_row).unwrap_or(0)
}

/// The report of `lines` and its verdict: at least one quantity compared, none differing, and
/// whether entries the oracle refused were left unverified.
pub fn render(lines: &[Line], theirs: &Path, ours: &Path) -> (String, Verdict) {
    let mut report = format!(
        "{:<22} {:>14} {:>11} {:>11} {:>9}  result\n",
        "quantity", "shape", "max abs", "max rel", "worst row"
    );
    for line in lines {
        let _ = writeln!(report, "{}", line.render());
    }
    let compared = lines
        .iter()
        .filter(|l| l.outcome != Outcome::NotCompared)
        .count();
    if compared == 0 {
        let _ = writeln!(
            report,
            "nothing was compared: no file of {} has a namesake in {}",
            theirs.display(),
            ours.display()
        );
        return (report, Verdict::NothingCompared);
    }
    let refused: usize = lines
        .iter()
        .map(|l| match l.outcome {
            Outcome::Refused(k) => k,
            _ => 0,
        })
        .sum();
    let (verdict, text) = if lines.iter().any(|l| l.outcome == Outcome::Differs) {
        (Verdict::Differs, "some quantities DIFFER".to_string())
    } else if refused > 0 {
        (
            Verdict::Refusals,
            format!(
                "everything the oracle computed agrees; {refused} entries it refused (NaN in {}) \
                 were not verified (exit status 3; --allow-refusals accepts them)",
                ours.display()
            ),
        )
    } else {
        (Verdict::Agrees, "everything agrees".to_string())
    };
    let _ = writeln!(report, "{text}");
    (report, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        q: &str,
        shape: &[usize],
        abs: Option<f64>,
        rel: Option<f64>,
        row: Option<usize>,
    ) -> Line {
        Line {
            quantity: q.into(),
            shape: shape.to_vec(),
            max_abs: abs,
            max_rel: rel,
            worst_row: row,
            outcome: Outcome::Agrees,
            note: None,
        }
    }

    /// The expected text is what `check` printed before it was split into one function per check
    /// (recorded from that build on the same cases).
    #[test]
    fn lines_render_as_before() {
        let differs = |l: Line, note: Option<&str>| Line {
            outcome: Outcome::Differs,
            note: note.map(String::from),
            ..l
        };
        let cases = [
            (
                line("c_ima", &[6], Some(0.0), Some(0.0), Some(1)),
                "c_ima                             [6]     0.000e0     0.000e0         1  agrees",
            ),
            (
                Line {
                    note: Some("z-test: max |z| = 2.62, limit 4.17".into()),
                    ..line("elbo_mc", &[6], None, None, Some(5))
                },
                "elbo_mc                           [6]           -           -         5  agrees  (z-test: max |z| = 2.62, limit 4.17)",
            ),
            (
                Line::not_compared("grad_mu", &[6, 3], "not in ours: not compared"),
                "grad_mu                        [6, 3]           -           -         -  agrees  (not in ours: not compared)",
            ),
            (
                differs(line("mu_hat", &[6], None, None, None), Some("ours has shape [6, 3]")),
                "mu_hat                            [6]           -           -         -  DIFFERS  (ours has shape [6, 3])",
            ),
            (
                differs(line("mu_hat", &[6, 3], Some(0.2331), Some(0.6537), Some(2)), None),
                "mu_hat                         [6, 3]    2.331e-1    6.537e-1         2  DIFFERS",
            ),
            (
                differs(line("mu_hat", &[6, 3], Some(f64::INFINITY), Some(f64::INFINITY), Some(2)), None),
                "mu_hat                         [6, 3]         inf         inf         2  DIFFERS",
            ),
            (
                line("jacobian", &[6, 3, 3], Some(0.0), Some(0.0), Some(3)),
                "jacobian                    [6, 3, 3]     0.000e0     0.000e0         3  agrees",
            ),
            (
                differs(
                    line("f(z) vs x", &[6, 3], None, Some(0.08597), Some(1)),
                    Some("data consistency: |f(z) - x|/(1 + |x|)"),
                ),
                "f(z) vs x                      [6, 3]           -    8.597e-2         1  DIFFERS  (data consistency: |f(z) - x|/(1 + |x|))",
            ),
        ];
        for (l, want) in &cases {
            assert_eq!(l.render(), *want);
        }
        // As before, a NaN error prints as "-", like an error the check does not measure.
        let nan = line("q", &[1], Some(f64::NAN), None, Some(0));
        assert_eq!(nan.render(), line("q", &[1], None, None, Some(0)).render());
    }

    #[test]
    fn verdicts() {
        let (t, o) = (Path::new("/t"), Path::new("/o"));
        let head =
            "quantity                        shape     max abs     max rel worst row  result\n";
        let skipped = Line::not_compared("x_mc", &[2], "no exact value in ours: not tested");
        let (r, v) = render(std::slice::from_ref(&skipped), t, o);
        assert_eq!(v, Verdict::NothingCompared);
        assert_eq!(
            r,
            format!(
                "{head}{}\nnothing was compared: no file of /t has a namesake in /o\n",
                skipped.render()
            )
        );
        let good = line("a", &[1], Some(0.0), Some(0.0), Some(0));
        let (r, v) = render(&[good.clone(), skipped.clone()], t, o);
        assert!(v == Verdict::Agrees && r.ends_with("\neverything agrees\n"));
        let unverified = Line {
            outcome: Outcome::Refused(200),
            note: Some("200 entries the oracle refused".into()),
            ..good.clone()
        };
        let (r, v) = render(&[good.clone(), unverified.clone()], t, o);
        assert_eq!(v, Verdict::Refusals);
        assert!(r.contains("  unverified  (200 entries") && r.contains("200 entries it refused"));
        assert_eq!((v.status(false), v.status(true)), (3, 0));
        let bad = Line {
            outcome: Outcome::Differs,
            ..good.clone()
        };
        let (r, v) = render(&[good, bad, skipped, unverified], t, o);
        assert!(v == Verdict::Differs && r.ends_with("\nsome quantities DIFFER\n"));
        assert_eq!(v.status(true), 1);
    }

    #[test]
    fn rows_of_flat_indices() {
        assert_eq!(row_of(&[6, 3], 7), 2);
        assert_eq!(row_of(&[6, 3, 3], 26), 2);
        assert_eq!(row_of(&[6], 4), 4);
        assert_eq!(row_of(&[], 0), 0);
        assert_eq!(row_of(&[2, 0], 0), 0);
    }
}
