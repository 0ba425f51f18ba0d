//! The verdict table (stdout), and the report folder: report.md, claims.csv and SVG figures.

use crate::claims::{CaseResults, Claim, Row, CLAIMS};
use crate::figures::{claim_figure, paper_figures};
use crate::fit::Fit;
use crate::identities::IdentityRow;
use crate::table::{aligned, csv, markdown, Column};
use crate::tol::{ASYMPTOTIC_FROM, STABLE};
use ima_oracle::io::npy::write_atomic;
use std::fmt::Write;
use std::path::Path;

/// What the run was.
pub struct Context<'a> {
    /// --quick.
    pub quick: bool,
    /// The seed.
    pub seed: u64,
    /// Points per model.
    pub points: usize,
    /// The γ² grid.
    pub grid: &'a [f64],
    /// Threads used.
    pub threads: usize,
    /// Seconds taken.
    pub elapsed: f64,
}

/// Stated order: p, or "ineq." for an inequality.
fn stated(r: &Row) -> String {
    r.stated.map_or("ineq.".into(), |p| format!("{p}"))
}

/// Observed order over the asymptotic range, and in brackets over the last three decades.
fn observed(r: &Row) -> String {
    match (&r.stated, &r.fit) {
        (Some(_), Some(f)) => format!("{:.2} ({:.2})", f.order, f.order_last3),
        _ => "-".into(),
    }
}

/// A field of the fit, or "-" without one.
fn fitted(r: &Row, field: impl Fn(&Fit) -> String) -> String {
    r.fit.as_ref().map_or("-".into(), field)
}

/// A number of the fit for the CSV (NaN without one).
fn fit_number(r: &Row, field: impl Fn(&Fit) -> f64) -> f64 {
    r.fit.as_ref().map_or(f64::NAN, field)
}

/// A count of the fit for the CSV (0 without one).
fn fit_count(r: &Row, field: impl Fn(&Fit) -> usize) -> String {
    r.fit.as_ref().map_or(0, field).to_string()
}

/// The verdict table on stdout.
const VERDICT_TEXT: [Column<Row>; 7] = [
    Column::left("claim", 15, |r| r.claim.to_string()),
    Column::left("model", 30, |r| r.model.clone()),
    Column::left("prior", 9, |r| r.prior.clone()),
    Column::right("stated", 8, stated),
    Column::right("observed (3d)", 14, observed),
    Column::right("largest", 11, |r| format!("{:.3e}", r.largest)),
    Column::new("verdict", |r| r.verdict.to_string()),
];

/// The verdict table of report.md.
const VERDICT_MARKDOWN: [Column<Row>; 11] = [
    Column::new("claim", |r| r.claim.to_string()),
    Column::new("model", |r| r.model.clone()),
    Column::new("prior", |r| r.prior.clone()),
    Column::new("stated order", stated),
    Column::new("observed (last 3 decades)", observed),
    Column::new("whole sweep ≥ 1e2", |r| {
        fitted(r, |f| format!("{:.2}", f.order_all))
    }),
    Column::new("γ² fitted", |r| {
        fitted(r, |f| format!("{:.0e} – {:.0e}", f.range.0, f.range.1))
    }),
    Column::new("at floor", |r| fitted(r, |f| f.floored.to_string())),
    Column::new("refused", |r| r.refused.to_string()),
    Column::new("largest residual (worst margin for inequalities)", |r| {
        format!("{:.3e}", r.largest)
    }),
    Column::new("verdict", |r| r.verdict.to_string()),
];

/// claims.csv: every number at full precision (NaN or 0 where there is no fit).
const VERDICT_CSV: [Column<Row>; 14] = [
    Column::new("claim", |r| r.claim.to_string()),
    Column::new("model", |r| r.model.clone()),
    Column::new("prior", |r| r.prior.clone()),
    Column::new("stated_order", |r| {
        r.stated.map_or("".into(), |p| p.to_string())
    }),
    Column::new("observed_order", |r| fit_number(r, |f| f.order).to_string()),
    Column::new("observed_order_last3", |r| {
        fit_number(r, |f| f.order_last3).to_string()
    }),
    Column::new("observed_order_whole_sweep", |r| {
        fit_number(r, |f| f.order_all).to_string()
    }),
    Column::new("gamma2_min", |r| {
        format!("{:e}", fit_number(r, |f| f.range.0))
    }),
    Column::new("gamma2_max", |r| {
        format!("{:e}", fit_number(r, |f| f.range.1))
    }),
    Column::new("points_fitted", |r| fit_count(r, |f| f.n)),
    Column::new("points_at_floor", |r| fit_count(r, |f| f.floored)),
    Column::new("gamma2_refused", |r| r.refused.to_string()),
    Column::new("largest_residual", |r| format!("{:e}", r.largest)),
    Column::new("verdict", |r| {
        format!("\"{}\"", r.verdict.to_string().replace('"', "'"))
    }),
];

/// The identities table (stdout and report.md).
const IDENTITIES: [Column<IdentityRow>; 6] = [
    Column::left("identities (d = D)", 30, |r| r.model.to_string()),
    Column::right("min c_IMA", 12, |r| format!("{:.4e}", r.c_range.0)),
    Column::right("max c_IMA", 12, |r| format!("{:.4e}", r.c_range.1)),
    Column::right("inv. error", 12, |r| format!("{:.3e}", r.inversion)),
    Column::right("logdet-LU", 12, |r| format!("{:.3e}", r.logdet)),
    Column::new("verdict", |r| {
        if r.failures.is_empty() {
            "holds"
        } else {
            "FAILS"
        }
        .to_string()
    }),
];

/// The claims table of report.md.
const CLAIMS_MARKDOWN: [Column<Claim>; 3] = [
    Column::new("claim", |c| c.name.to_string()),
    Column::new("source", |c| c.source.to_string()),
    Column::new("statement", |c| c.statement.to_string()),
];

/// The verdict table, one row per claim × model × prior.
pub fn table(rows: &[Row]) -> String {
    aligned(&VERDICT_TEXT, rows)
}

/// The identities table.
pub fn identities_table(ids: &[IdentityRow]) -> String {
    aligned(&IDENTITIES, ids)
}

/// The verdict table of report.md.
pub fn verdict_markdown(rows: &[Row]) -> String {
    markdown(&VERDICT_MARKDOWN, rows)
}

/// claims.csv.
pub fn claims_csv(rows: &[Row]) -> String {
    csv(&VERDICT_CSV, rows)
}

/// Writes report.md, claims.csv and the figures into `out` (each file atomically).
pub fn write_all(
    out: &Path,
    ctx: &Context,
    rows: &[Row],
    ids: &[IdentityRow],
    cases: &[CaseResults],
    which: &[Claim],
) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut figures: Vec<(String, String)> = paper_figures(cases)
        .into_iter()
        .map(|(name, svg)| (name.to_string(), svg))
        .collect();
    for c in which {
        if let Some(svg) = claim_figure(c, rows) {
            figures.push((format!("claim-{}.svg", c.name), svg));
        }
    }
    for (name, svg) in &figures {
        write_atomic(&out.join(name), svg.as_bytes())?;
    }
    write_atomic(&out.join("claims.csv"), claims_csv(rows).as_bytes())?;
    let names: Vec<&str> = figures.iter().map(|(name, _)| name.as_str()).collect();
    let md = report_markdown(ctx, rows, ids, &names);
    write_atomic(&out.join("report.md"), md.as_bytes())
}

/// report.md: the run, the claims, the verdicts, the identities, and links to `figures`.
fn report_markdown(ctx: &Context, rows: &[Row], ids: &[IdentityRow], figures: &[&str]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# proofs-check report\n");
    let _ = writeln!(
        md,
        "Seed {}, {} points per model, {} values of γ² from {:.0e} to {:.0e}{}, {} threads, {:.1} s.\n",
        ctx.seed,
        ctx.points,
        ctx.grid.len(),
        ctx.grid.first().copied().unwrap_or(f64::NAN),
        ctx.grid.last().copied().unwrap_or(f64::NAN),
        if ctx.quick { " (--quick)" } else { "" },
        ctx.threads,
        ctx.elapsed
    );
    let _ = writeln!(
        md,
        "How each check works, and the derivations behind it: `proofs-check/README.md`.\n"
    );
    let _ = writeln!(md, "## Claims\n");
    md += &markdown(&CLAIMS_MARKDOWN, &CLAIMS);
    let _ = writeln!(md, "\n## Verdicts\n");
    let _ = writeln!(md, "Observed order: the least-squares slope of log(residual) against log γ over the asymptotic range — the longest tail of the sweep whose slope stays within {STABLE} of the slope over the last three decades (round-off floor excluded); in brackets that last-three-decades slope; *whole sweep* is the slope over every point with γ² ≥ {ASYMPTOTIC_FROM:.0e}, pre-asymptotic ones included. *Refused*: values of γ² at which the oracle refused some point (a Möbius pole within reach of the Gaussian, a quadrature that could not reach its tolerance) — excluded, never approximated.\n");
    md += &verdict_markdown(rows);
    let _ = writeln!(md, "\n## Identities\n\n```\n{}```\n", identities_table(ids));
    let _ = writeln!(md, "## Figures\n");
    for name in figures {
        let _ = writeln!(md, "![{name}]({name})\n");
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::Verdict;
    use ima_oracle::compare::{assert_within, Tol};

    /// Three rows unlike each other: an order claim whose three slopes differ (so a column read
    /// under the wrong header shows), an inequality whose failure text holds a bar, a comma and a
    /// quote, and an order claim exact to round-off (no fit).
    fn rows() -> Vec<Row> {
        let fit = Fit {
            order: 1.11,
            order_last3: 2.22,
            order_all: 3.33,
            range: (1e2, 1e9),
            n: 12,
            floored: 3,
            decreasing: true,
        };
        let row = |claim, stated, fit, verdict, refused| Row {
            claim,
            model: "moebius+volume-preserving".into(),
            prior: "logistic".into(),
            stated,
            fit,
            largest: 1.5e-3,
            verdict,
            refused,
            series: None,
        };
        vec![
            row("eq13", Some(2.0), Some(fit), Verdict::Holds, 2),
            row(
                "ima-gap",
                None,
                None,
                Verdict::Fails("min |ELBO* − log p|/c_IMA = 0.1, \"closed\"".into()),
                0,
            ),
            row("eq12", Some(3.0), None, Verdict::Exact, 1),
        ]
    }

    /// The cells of a markdown table line: split at bars not escaped as `\|`, trimmed.
    fn markdown_cells(line: &str) -> Vec<String> {
        let inner = line
            .strip_prefix('|')
            .and_then(|l| l.strip_suffix('|'))
            .unwrap_or_else(|| panic!("not a table line: {line}"));
        let mut cells = vec![String::new()];
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'|') => {
                    chars.next();
                    cells.last_mut().unwrap().push('|');
                }
                '|' => cells.push(String::new()),
                c => cells.last_mut().unwrap().push(c),
            }
        }
        cells.iter().map(|c| c.trim().to_string()).collect()
    }

    /// The fields of a CSV line: split at commas outside double quotes, quotes dropped.
    fn csv_fields(line: &str) -> Vec<String> {
        let mut fields = vec![String::new()];
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => fields.push(String::new()),
                c => fields.last_mut().unwrap().push(c),
            }
        }
        fields
    }

    /// report.md's verdict table has exactly as many cells in every line as headers, and each
    /// column shows what its header says: the whole-sweep column the row's order_all (printed to
    /// two decimals, so within 0.005), the verdict column the verdict.
    #[test]
    fn markdown_rows_match_the_header() {
        let rows = rows();
        let md = verdict_markdown(&rows);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines.len(), 2 + rows.len(), "{md}");
        let header = markdown_cells(lines[0]);
        let col = |name: &str| header.iter().position(|h| h.starts_with(name)).unwrap();
        for line in &lines[1..] {
            assert_eq!(markdown_cells(line).len(), header.len(), "{line}");
        }
        for (r, line) in rows.iter().zip(&lines[2..]) {
            let cells = markdown_cells(line);
            let whole = &cells[col("whole sweep")];
            match &r.fit {
                Some(f) => {
                    let shown: f64 = whole.parse().unwrap();
                    assert_within(
                        &format!("whole-sweep order in {line}"),
                        &[shown],
                        &[f.order_all],
                        Tol::Scaled(0.005, 1.0),
                    );
                }
                None => assert_eq!(whole, "-"),
            }
            assert_eq!(cells[col("claim")], r.claim);
            assert_eq!(cells[col("refused")], r.refused.to_string());
            assert_eq!(cells[col("verdict")], r.verdict.to_string());
        }
        // The header names the threshold the whole-sweep slope starts from.
        assert!(header[col("whole sweep")].contains(&format!("{ASYMPTOTIC_FROM:.0e}")));
    }

    /// claims.csv has as many fields in every line as in its header, and the whole-sweep field is
    /// the row's order_all exactly (f64 Display round-trips), the verdict field its verdict (with
    /// `"` turned into `'` so the quoting holds).
    #[test]
    fn csv_rows_match_the_header() {
        let rows = rows();
        let text = claims_csv(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + rows.len());
        let header = csv_fields(lines[0]);
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        for (r, line) in rows.iter().zip(&lines[1..]) {
            let fields = csv_fields(line);
            assert_eq!(fields.len(), header.len(), "{line}");
            let whole: f64 = fields[col("observed_order_whole_sweep")].parse().unwrap();
            match &r.fit {
                Some(f) => assert_eq!(whole, f.order_all),
                None => assert!(whole.is_nan()),
            }
            let largest: f64 = fields[col("largest_residual")].parse().unwrap();
            assert_eq!(largest, r.largest);
            let verdict = r.verdict.to_string().replace('"', "'");
            assert_eq!(fields[col("verdict")], verdict);
        }
    }

    /// In the aligned tables every row's verdict starts under the header's "verdict".
    #[test]
    fn aligned_verdicts_sit_under_their_header() {
        let at = |line: &str, text: &str| line.find(text).map(|b| line[..b].chars().count());
        let text = table(&rows());
        let mut lines = text.lines();
        let start = at(lines.next().unwrap(), "verdict");
        for (r, line) in rows().iter().zip(lines) {
            assert_eq!(at(line, &r.verdict.to_string()), start, "{line}");
        }
        let ids = [IdentityRow {
            model: "mlp-orthogonal".to_string(),
            c_range: (0.0, 0.3),
            inversion: 1e-16,
            logdet: 2e-16,
            failures: vec!["round trip".into()],
        }];
        let text = identities_table(&ids);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(at(lines[1], "FAILS"), at(lines[0], "verdict"), "{text}");
    }
}
