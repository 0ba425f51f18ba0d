//! proofs-check: every claim of the paper's main text, checked numerically with the ima-oracle,
//! with the convergence order actually observed. This binary parses the command line, runs the
//! library (`proofs_check::run`), prints the tables and writes the report. See
//! proofs-check/README.md for what each check computes and the derivations it relies on.

use ima_oracle::parallel::thread_count;
use proofs_check::claims::{self, CLAIMS};
use proofs_check::experiments::{elbo_gap, moebius, self_consistency, sprites, EXPERIMENTS};
use proofs_check::fit::Verdict;
use proofs_check::{report, run};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
    --experiment NAME
                     instead of the claims, run one of the paper's trained experiments (repeatable):
                     self-consistency (4.1, Fig. 2), elbo-gap (4.2, Fig. 4), moebius and
                     moebius-linear (4.3, Fig. 3), sprites (4.3, Fig. 5). Writes DIR/experiments/: NAME.csv, SVG figures
                     and report.md; progress on stderr. Sizes (defaults: a few minutes on 2 cores):
    --experiments    all of them
    --n N            training points (default 6000; the paper 60000)
    --epochs E       training epochs (default 200)
    --seeds K        seeds per gamma^2 (default 1; the paper 20; sprites: 2, in parallel)
    --gamma2 G       sprites only: the decoder precision (default 1, the paper's; sprites trains
                     5 epochs at 1e3 first, then 55 at G on 6000 images: 5-15 minutes)
    -h, --help       print this help

Exit status: 0 when every claim holds (or some are UNVERIFIED beside others that hold), 1 when one
fails, 2 on a usage or output error, 3 when no check could be confirmed (every one UNVERIFIED or
n/a: the oracle refused too much to check anything).
Progress goes to stderr.";

struct Options {
    quick: bool,
    claims: Vec<String>,
    seed: u64,
    points: Option<usize>,
    threads: Option<usize>,
    out: PathBuf,
    list: bool,
    experiments: Vec<String>,
    n: Option<usize>,
    epochs: Option<usize>,
    seeds: Option<usize>,
    gamma2: Option<f64>,
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
        experiments: Vec::new(),
        n: None,
        epochs: None,
        seeds: None,
        gamma2: None,
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
            "--experiment" => {
                let v = value("--experiment")?;
                if !EXPERIMENTS.contains(&v.as_str()) {
                    return Err(format!(
                        "unknown experiment '{v}' (one of: {})",
                        EXPERIMENTS.join(", ")
                    ));
                }
                o.experiments.push(v);
            }
            "--experiments" => o.experiments = EXPERIMENTS.iter().map(|e| e.to_string()).collect(),
            "--n" => o.n = Some(int("--n", value("--n")?)? as usize),
            "--epochs" => o.epochs = Some(int("--epochs", value("--epochs")?)? as usize),
            "--seeds" => o.seeds = Some(int("--seeds", value("--seeds")?)? as usize),
            "--gamma2" => {
                let v = value("--gamma2")?;
                match v.parse::<f64>() {
                    Ok(g) if g > 0.0 && g.is_finite() => o.gamma2 = Some(g),
                    _ => return Err(format!("--gamma2: '{v}' is not a positive number")),
                }
            }
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
    }
    for (name, v) in [
        ("--points", o.points),
        ("--n", o.n),
        ("--epochs", o.epochs),
        ("--seeds", o.seeds),
    ] {
        if v == Some(0) {
            return Err(format!("{name} must be positive"));
        }
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
    if !opts.experiments.is_empty() {
        return experiments(&opts);
    }
    let cfg = run::Config {
        quick: opts.quick,
        seed: opts.seed,
        points: opts.points.unwrap_or(run::default_points(opts.quick)),
        threads: thread_count(opts.threads),
        claims: claims::select(&opts.claims),
    };
    let outcome = run::run(&cfg);
    println!("{}", report::identities_table(&outcome.ids));
    println!("{}", report::table(&outcome.rows));
    let ctx = report::Context {
        quick: cfg.quick,
        seed: cfg.seed,
        points: cfg.points,
        grid: &outcome.grid,
        threads: cfg.threads,
        elapsed: outcome.elapsed,
    };
    let per_case = outcome.case_results();
    if let Err(e) = report::write_all(
        &opts.out,
        &ctx,
        &outcome.rows,
        &outcome.ids,
        &per_case,
        &cfg.claims,
    ) {
        eprintln!(
            "proofs-check: cannot write the report to {}: {e}",
            opts.out.display()
        );
        return ExitCode::from(2);
    }
    summary(&outcome, &opts.out)
}

/// Tells how it went (stderr: the count and where the report is, each failing identity; stdout:
/// the overall verdict) and returns the exit status.
fn summary(outcome: &run::Outcome, out: &Path) -> ExitCode {
    let failed = outcome.failed();
    eprintln!(
        "proofs-check: {} rows, {failed} failing; report in {} ({:.1} s)",
        outcome.rows.len(),
        out.join("report.md").display(),
        outcome.elapsed
    );
    for id in &outcome.ids {
        for f in &id.failures {
            eprintln!("FAIL identities {}: {f}", id.model);
        }
    }
    let unverified = outcome
        .rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Unverified(_)))
        .count();
    let confirmed = outcome
        .rows
        .iter()
        .filter(|r| {
            matches!(
                r.verdict,
                Verdict::Holds | Verdict::Exact | Verdict::Sharper(_)
            )
        })
        .count();
    let (line, code) = overall(failed, unverified, confirmed);
    println!("{line}");
    ExitCode::from(code)
}

/// The overall verdict line and exit status from the counts of failing, UNVERIFIED and confirmed
/// rows (holds, holds exactly, holds sharper): a failure is 1; a run that confirmed nothing
/// while some rows are UNVERIFIED is 3 (it checked nothing and must not look like a pass);
/// otherwise 0.
fn overall(failed: usize, unverified: usize, confirmed: usize) -> (String, u8) {
    if failed > 0 {
        (format!("{failed} check(s) FAIL"), 1)
    } else if unverified > 0 && confirmed == 0 {
        (
            format!(
                "no claim confirmed: {unverified} check(s) UNVERIFIED (the oracle refused too many \
                 values of γ² to fit an order), none holds"
            ),
            3,
        )
    } else if unverified > 0 {
        (
            format!(
                "no claim fails; {unverified} check(s) UNVERIFIED (the oracle refused too many \
                 values of γ² to fit an order)"
            ),
            0,
        )
    } else {
        ("every claim holds".to_string(), 0)
    }
}

/// Runs the requested experiments and writes DIR/experiments/report.md.
fn experiments(opts: &Options) -> ExitCode {
    let threads = thread_count(opts.threads);
    let out = opts.out.join("experiments");
    let mut report = String::from(
        "# The paper's experiments, trained, with the exact optimum beside them\n\n\
         Written by proofs-check --experiment; every run seeded: the same command gives the same \
         CSV on every machine.\n\n",
    );
    for name in &opts.experiments {
        let section = match name.as_str() {
            "self-consistency" => {
                let mut cfg = self_consistency::Config::default_with(threads, opts.seed);
                cfg.n = opts.n.unwrap_or(cfg.n);
                cfg.epochs = opts.epochs.unwrap_or(cfg.epochs);
                cfg.seeds = opts.seeds.unwrap_or(cfg.seeds);
                self_consistency::run(&cfg, &out)
            }
            "elbo-gap" => {
                let mut cfg = elbo_gap::Config::default_with(threads, opts.seed);
                cfg.n = opts.n.unwrap_or(cfg.n);
                cfg.epochs = opts.epochs.unwrap_or(cfg.epochs);
                cfg.seeds = opts.seeds.unwrap_or(cfg.seeds);
                elbo_gap::run(&cfg, &out)
            }
            "moebius" | "moebius-linear" => {
                let linear = name == "moebius-linear";
                let mut cfg = moebius::Config::default_with(linear, threads, opts.seed);
                cfg.n = opts.n.unwrap_or(cfg.n);
                cfg.epochs = opts.epochs.unwrap_or(cfg.epochs);
                cfg.seeds = opts.seeds.unwrap_or(cfg.seeds);
                moebius::run(&cfg, &out)
            }
            "sprites" => {
                let mut cfg = sprites::Config::default_with(threads, opts.seed);
                cfg.gamma2 = opts.gamma2.unwrap_or(cfg.gamma2);
                cfg.n = opts.n.unwrap_or(cfg.n);
                cfg.epochs = opts.epochs.unwrap_or(cfg.epochs);
                cfg.seeds = opts.seeds.unwrap_or(cfg.seeds);
                sprites::run(&cfg, &out)
            }
            _ => unreachable!("names are checked when parsed"),
        };
        match section {
            Ok(s) => {
                println!("{s}");
                report += &s;
            }
            Err(e) => {
                eprintln!(
                    "proofs-check: {name}: cannot write to {}: {e}",
                    out.display()
                );
                return ExitCode::from(2);
            }
        }
    }
    if let Err(e) = std::fs::write(out.join("report.md"), report) {
        eprintln!(
            "proofs-check: cannot write {}: {e}",
            out.join("report.md").display()
        );
        return ExitCode::from(2);
    }
    eprintln!("proofs-check: experiments written to {}", out.display());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::overall;

    /// Every branch of the overall verdict: a failure wins; all-UNVERIFIED is not a pass.
    #[test]
    fn overall_status() {
        assert_eq!(overall(2, 5, 10).1, 1);
        assert_eq!(overall(0, 5, 0).1, 3);
        assert_eq!(overall(0, 5, 1).1, 0);
        assert_eq!(overall(0, 0, 10), ("every claim holds".to_string(), 0));
    }
}
