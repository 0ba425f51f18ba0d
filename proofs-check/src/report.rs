//! The verdict table (stdout), and the report folder: report.md, claims.csv and SVG figures.

use crate::claims::{CaseResults, Claim, Row, CLAIMS};
use crate::identities::IdentityRow;
use crate::svg::{loglog, Line, Style};
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

fn order_text(r: &Row) -> (String, String) {
    match (&r.stated, &r.fit) {
        (Some(p), Some(f)) => (
            format!("{p}"),
            format!("{:.2} ({:.2})", f.order, f.order_last3),
        ),
        (Some(p), None) => (format!("{p}"), "-".into()),
        (None, _) => ("ineq.".into(), "-".into()),
    }
}

/// The verdict table, one row per claim × model × prior.
pub fn table(rows: &[Row]) -> String {
    let mut s = format!(
        "{:<15} {:<26} {:<9} {:>8} {:>14} {:>11}  verdict\n",
        "claim", "model", "prior", "stated", "observed (3d)", "largest"
    );
    for r in rows {
        let (st, ob) = order_text(r);
        let _ = writeln!(
            s,
            "{:<15} {:<26} {:<9} {:>8} {:>14} {:>11.3e}  {}",
            r.claim, r.model, r.prior, st, ob, r.largest, r.verdict
        );
    }
    s
}

/// The identities table.
pub fn identities_table(ids: &[IdentityRow]) -> String {
    let mut s = format!(
        "{:<26} {:>12} {:>12} {:>12} {:>12}  verdict\n",
        "identities (d = D = 3)", "min c_IMA", "max c_IMA", "inv. error", "logdet-LU"
    );
    for r in ids {
        let _ = writeln!(
            s,
            "{:<26} {:>12.4e} {:>12.4e} {:>12.3e} {:>12.3e}  {}",
            r.model,
            r.c_range.0,
            r.c_range.1,
            r.inversion,
            r.logdet,
            if r.failures.is_empty() {
                "holds"
            } else {
                "FAILS"
            }
        );
    }
    s
}

fn csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "claim,model,prior,stated_order,observed_order,observed_order_last3,observed_order_whole_sweep,gamma2_min,gamma2_max,points_fitted,points_at_floor,gamma2_refused,largest_residual,verdict\n",
    );
    for r in rows {
        let (o, o3, oa, g0, g1, n, fl) = match &r.fit {
            Some(f) => (
                f.order,
                f.order_last3,
                f.order_all,
                f.range.0,
                f.range.1,
                f.n,
                f.floored,
            ),
            None => (f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN, 0, 0),
        };
        let _ = writeln!(
            s,
            "{},{},{},{},{o},{o3},{oa},{g0:e},{g1:e},{n},{fl},{},{:e},\"{}\"",
            r.claim,
            r.model,
            r.prior,
            r.stated.map_or("".into(), |p| p.to_string()),
            r.refused,
            r.largest,
            r.verdict.to_string().replace('"', "'")
        );
    }
    s
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut n) = (0.0, 0);
    for x in v {
        s += x;
        n += 1;
    }
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

/// Mean over the points that succeeded of `f`, per γ², for one case.
fn curve(
    cr: &CaseResults,
    f: impl Fn(usize, &crate::sweep::PointStatic, &crate::sweep::PointResult) -> f64,
) -> Vec<(f64, f64)> {
    (0..cr.grid.len())
        .filter_map(|i| {
            let m = mean(
                cr.points
                    .iter()
                    .filter_map(|(st, res)| match (st, &res[i]) {
                        (Ok(st), Ok(pr)) => Some(f(i, st, pr)),
                        _ => None,
                    }),
            );
            m.is_finite().then_some((cr.grid[i], m))
        })
        .collect()
}

fn figures(cases: &[CaseResults]) -> Vec<(&'static str, String)> {
    let gaussian: Vec<&CaseResults> = cases
        .iter()
        .filter(|c| c.case.model.prior().name() == "gaussian")
        .collect();
    let label = |c: &CaseResults| c.case.family.name().to_string();
    let grid = cases.first().map(|c| c.grid.to_vec()).unwrap_or_default();
    let reference = |name: &str, p: f64, at: f64, y: f64| Line {
        name: name.into(),
        points: grid
            .iter()
            .map(|&g| (g, y * (g / at).powf(-p / 2.0)))
            .collect(),
        style: Style::Dashed,
    };
    let mut out = Vec::new();
    // Fig. 2 left: σ̂² against γ².
    let mut lines: Vec<Line> = gaussian
        .iter()
        .map(|c| Line {
            name: label(c),
            points: curve(c, |_, _, pr| pr.sigma2.max()),
            style: Style::LineMarkers,
        })
        .collect();
    lines.push(reference("1/γ²", 2.0, 1e4, 1e-4));
    out.push((
        "fig2-left-variance.svg",
        loglog(
            "σ̂² → 0 (Prop. 1), Gaussian prior, mean over x of max_k σ̂_k²",
            "γ²",
            "σ̂²",
            &lines,
        ),
    ));
    // Fig. 2 centre: LHS against RHS of eq. 12 (the §4.1 model).
    if let Some(c) = gaussian
        .iter()
        .find(|c| c.case.family.name() == "mlp-orthogonal")
    {
        let mut pts = Vec::new();
        for (i, &g2) in c.grid.iter().enumerate() {
            for (st, res) in c.points {
                if let (Ok(st), Ok(pr)) = (st, &res[i]) {
                    for k in 0..3 {
                        pts.push((1.0 / (st.neg_d2[k] + g2 * st.colnorm2[k]), pr.sigma2[k]));
                    }
                }
            }
        }
        let lo = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let hi = pts.iter().map(|p| p.0).fold(0.0, f64::max);
        let lines = vec![
            Line {
                name: "σ̂_k² (all x, k, γ)".into(),
                points: pts,
                style: Style::Markers,
            },
            Line {
                name: "LHS = RHS".into(),
                points: vec![(lo, lo), (hi, hi)],
                style: Style::Dashed,
            },
        ];
        out.push((
            "fig2-center-eq12.svg",
            loglog(
                "eq. 12: σ̂_k² against its RHS (mlp-orthogonal, §4.1)",
                "RHS of eq. 12",
                "σ̂_k²",
                &lines,
            ),
        ));
    }
    // Fig. 2 right: ‖f(μ̂) − x‖ against γ².
    let mut lines: Vec<Line> = gaussian
        .iter()
        .map(|c| Line {
            name: label(c),
            points: curve(c, |_, _, pr| pr.reconstruction),
            style: Style::LineMarkers,
        })
        .collect();
    lines.push(reference("1/γ", 1.0, 1e4, 1e-2));
    lines.push(reference("1/γ²", 2.0, 1e4, 1e-4));
    out.push((
        "fig2-right-reconstruction.svg",
        loglog(
            "‖f(μ̂(x)) − x‖ → 0 (self-consistency), Gaussian prior",
            "γ²",
            "‖f(μ̂) − x‖",
            &lines,
        ),
    ));
    // Fig. 4: the §4.2 model.
    if let Some(c) = gaussian
        .iter()
        .find(|c| c.case.family.name() == "mlp-triangular")
    {
        let cbar = mean(
            c.points
                .iter()
                .filter_map(|(s, _)| s.as_ref().ok().map(|s| s.c_ima)),
        );
        let lines = vec![
            Line {
                name: "|ELBO* − log pθ|".into(),
                points: curve(c, |_, _, pr| (pr.elbo - pr.log_p).abs()),
                style: Style::LineMarkers,
            },
            Line {
                name: "|ELBO* − (log pθ − c_IMA)|".into(),
                points: curve(c, |_, st, pr| (pr.elbo - pr.log_p + st.c_ima).abs()),
                style: Style::LineMarkers,
            },
            Line {
                name: "|ELBO* − L_IMA (flow)|".into(),
                points: curve(c, |_, st, pr| (pr.elbo - st.log_flow + st.c_ima).abs()),
                style: Style::LineMarkers,
            },
            Line {
                name: "mean c_IMA".into(),
                points: grid.iter().map(|&g| (g, cbar)).collect(),
                style: Style::Dashed,
            },
        ];
        out.push((
            "fig4-gap.svg",
            loglog(
                "Fig. 4: ELBO* → log pθ − c_IMA, not log pθ (mlp-triangular, §4.2)",
                "γ²",
                "mean over x",
                &lines,
            ),
        ));
    }
    out
}

fn claim_figure(claim: &Claim, rows: &[Row]) -> Option<String> {
    claim.order?;
    let lines: Vec<Line> = rows
        .iter()
        .filter(|r| r.claim == claim.name)
        .filter_map(|r| {
            let s = r.series.as_ref()?;
            Some(Line {
                name: format!("{} {}", r.model, r.prior),
                points: s
                    .gamma2
                    .iter()
                    .copied()
                    .zip(s.residual.iter().copied())
                    .collect(),
                style: Style::LineMarkers,
            })
        })
        .collect();
    Some(loglog(
        &format!("{}: {}", claim.name, claim.statement),
        "γ²",
        "largest residual over x",
        &lines,
    ))
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
    let mut figs = figures(cases);
    let mut claim_figs = Vec::new();
    for c in which {
        if let Some(svg) = claim_figure(c, rows) {
            claim_figs.push((format!("claim-{}.svg", c.name), svg));
        }
    }
    for (name, svg) in figs
        .drain(..)
        .map(|(n, s)| (n.to_string(), s))
        .chain(claim_figs.iter().cloned())
    {
        write_atomic(&out.join(&name), svg.as_bytes())?;
    }
    write_atomic(&out.join("claims.csv"), csv(rows).as_bytes())?;
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
    let _ = writeln!(md, "| claim | source | statement |\n| --- | --- | --- |");
    for c in &CLAIMS {
        let _ = writeln!(md, "| {} | {} | {} |", c.name, c.source, c.statement);
    }
    let _ = writeln!(md, "\n## Verdicts\n");
    let _ = writeln!(md, "Observed order: the least-squares slope of log(residual) against log γ over the asymptotic range — the longest tail of the sweep whose slope stays within {STABLE} of the slope over the last three decades (round-off floor excluded); in brackets that last-three-decades slope; *whole sweep* is the slope over every point with γ² ≥ {ASYMPTOTIC_FROM:.0e}, pre-asymptotic ones included. *Refused*: values of γ² at which the oracle refused some point (a Möbius pole within reach of the Gaussian, a quadrature that could not reach its tolerance) — excluded, never approximated.\n");
    let _ = writeln!(md, "| claim | model | prior | stated order | observed (last 3 decades) | whole sweep ≥ 1e2 | γ² fitted | at floor | refused | largest residual (worst margin for inequalities) | verdict |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let (st, ob) = order_text(r);
        let (range, fl) = match &r.fit {
            Some(f) => (
                format!("{:.0e} – {:.0e}", f.range.0, f.range.1),
                f.floored.to_string(),
            ),
            None => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {st} | {ob} | {range} | {fl} | {} | {:.3e} | {} |",
            r.claim, r.model, r.prior, r.refused, r.largest, r.verdict
        );
    }
    let _ = writeln!(md, "\n## Identities\n\n```\n{}```\n", identities_table(ids));
    let _ = writeln!(md, "## Figures\n");
    for name in [
        "fig2-left-variance.svg",
        "fig2-center-eq12.svg",
        "fig2-right-reconstruction.svg",
        "fig4-gap.svg",
    ] {
        let _ = writeln!(md, "![{name}]({name})\n");
    }
    for (name, _) in &claim_figs {
        let _ = writeln!(md, "![{name}]({name})\n");
    }
    write_atomic(&out.join("report.md"), md.as_bytes())
}
