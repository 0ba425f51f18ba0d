//! proofs-check: every claim of the paper's main text, checked numerically with the ima-oracle,
//! with the convergence order actually observed. See proofs-check/README.md for what each check
//! computes and the derivations it relies on.

mod claims;
mod fit;
mod identities;
mod report;
mod svg;
mod sweep;

use claims::{CaseResults, Claim, CLAIMS};
use ima_oracle::batch::{par_map, thread_count};
use ima_oracle::generate::rng;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const HELP: &str = "\
proofs-check — check the claims of 'Embrace the Gap: VAEs perform IMA' numerically

USAGE:
    proofs-check [OPTIONS]

For every claim (Prop. 1, Thm. 1 eq. 12-13, eq. 2, eq. 10-11, the IMA gap, the beta-VAE limit), on
five model families and both priors, over a sweep of the decoder precision gamma^2, it prints the
stated order, the observed order, the largest residual and a verdict, and writes a report.

OPTIONS:
    --quick          3 points per model and gamma^2 = 1e2 .. 1e9 (two per decade) instead of 20
                     points and gamma^2 = 1e1 .. 1e10 (three per decade)
    --claim NAME     check only this claim (repeatable); names: see the table, or --list
    --list           list the claims and exit
    --seed S         seed of the ChaCha generator drawing models and points (default 1)
    --points N       points x per model (default 20, or 3 with --quick)
    --threads T      worker threads (default: all cores)
    --out DIR        output folder (default target/proofs-check): report.md, claims.csv, *.svg
    -h, --help       print this help

Exit status: 0 when every claim holds, 1 when one fails, 2 on a usage or output error.
Progress goes to stderr.";

struct Options {
    quick: bool,
    claims: Vec<String>,
    seed: u64,
    points: Option<usize>,
    threads: Option<usize>,
    out: PathBuf,
    list: bool,
}

fn parse_args() -> Result<Option<Options>, String> {
    let mut o = Options {
        quick: false,
        claims: Vec::new(),
        seed: 1,
        points: None,
        threads: None,
        out: PathBuf::from("target/proofs-check"),
        list: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let int = |name: &str, v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: '{v}' is not a non-negative integer"))
        };
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--quick" => o.quick = true,
            "--list" => o.list = true,
            "--claim" => {
                let v = value("--claim")?;
                if !CLAIMS.iter().any(|c| c.name == v) {
                    let names: Vec<&str> = CLAIMS.iter().map(|c| c.name).collect();
                    return Err(format!(
                        "unknown claim '{v}' (one of: {})",
                        names.join(", ")
                    ));
                }
                o.claims.push(v);
            }
            "--seed" => o.seed = int("--seed", value("--seed")?)?,
            "--points" => o.points = Some(int("--points", value("--points")?)? as usize),
            "--threads" => o.threads = Some(int("--threads", value("--threads")?)? as usize),
            "--out" => o.out = PathBuf::from(value("--out")?),
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
    }
    if o.points == Some(0) {
        return Err("--points must be positive".into());
    }
    Ok(Some(o))
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("proofs-check: {e}");
            return ExitCode::from(2);
        }
    };
    if opts.list {
        for c in &CLAIMS {
            println!("{:<16} {:<28} {}", c.name, c.source, c.statement);
        }
        return ExitCode::SUCCESS;
    }
    let start = Instant::now();
    let threads = thread_count(opts.threads);
    let points = opts.points.unwrap_or(if opts.quick { 3 } else { 20 });
    let grid: Vec<f64> = if opts.quick {
        (0..=14).map(|i| 10f64.powf(2.0 + i as f64 / 2.0)).collect()
    } else {
        (0..=27).map(|i| 10f64.powf(1.0 + i as f64 / 3.0)).collect()
    };
    let which: Vec<Claim> = CLAIMS
        .iter()
        .filter(|c| opts.claims.is_empty() || opts.claims.iter().any(|n| n == c.name))
        .copied()
        .collect();

    // Identities (the foundation).
    let ids = identities::check(opts.seed, 8);

    // The sweep: one task per (model, point), all γ² of the grid in increasing order.
    let cases = sweep::cases(points, &mut rng(opts.seed));
    let tasks: Vec<(usize, usize)> = (0..cases.len())
        .flat_map(|c| (0..points).map(move |p| (c, p)))
        .collect();
    eprintln!(
        "proofs-check: {} models × {points} points × {} values of γ² on {threads} threads",
        cases.len(),
        grid.len()
    );
    let done = AtomicUsize::new(0);
    let results = par_map(
        tasks.len(),
        threads,
        || (),
        |t, _| {
            let (c, p) = tasks[t];
            let case = &cases[c];
            let x = &case.xs[p];
            let mut prng =
                rng(opts.seed ^ ((c as u64) << 32) ^ (p as u64 + 1).wrapping_mul(0x9E37_79B9));
            let st = sweep::point_static(&case.model, x).map_err(|e| e.to_string());
            let res: Vec<_> = grid
                .iter()
                .map(|&g2| match &st {
                    Ok(s) => sweep::point_result(&case.model, x, s, g2, &mut prng)
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                })
                .collect();
            let k = done.fetch_add(1, Ordering::Relaxed) + 1;
            if k % (tasks.len() / 10).max(1) == 0 || k == tasks.len() {
                eprintln!(
                    "  {k}/{} points done ({:.1} s)",
                    tasks.len(),
                    start.elapsed().as_secs_f64()
                );
            }
            (st, res)
        },
    );
    let mut per_case: Vec<CaseResults> = cases
        .iter()
        .map(|case| CaseResults {
            case,
            grid: &grid,
            points: Vec::new(),
        })
        .collect();
    for (t, r) in tasks.iter().zip(results) {
        per_case[t.0].points.push(r);
    }
    let rows: Vec<claims::Row> = per_case
        .iter()
        .flat_map(|cr| cr.rows(&which, threads))
        .collect();

    let elapsed = start.elapsed().as_secs_f64();
    let text = report::table(&rows);
    println!("{}", report::identities_table(&ids));
    println!("{text}");
    let failed = rows.iter().filter(|r| !r.verdict.ok()).count()
        + ids.iter().filter(|r| !r.failures.is_empty()).count();
    let ctx = report::Context {
        quick: opts.quick,
        seed: opts.seed,
        points,
        grid: &grid,
        threads,
        elapsed,
    };
    if let Err(e) = report::write_all(&opts.out, &ctx, &rows, &ids, &per_case, &which) {
        eprintln!(
            "proofs-check: cannot write the report to {}: {e}",
            opts.out.display()
        );
        return ExitCode::from(2);
    }
    eprintln!(
        "proofs-check: {} rows, {failed} failing; report in {} ({elapsed:.1} s)",
        rows.len(),
        opts.out.join("report.md").display()
    );
    for id in &ids {
        for f in &id.failures {
            eprintln!("FAIL identities {}: {f}", id.model);
        }
    }
    if failed == 0 {
        println!("every claim holds");
        ExitCode::SUCCESS
    } else {
        println!("{failed} check(s) FAIL");
        ExitCode::from(1)
    }
}
