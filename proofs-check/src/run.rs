//! One run of proofs-check: the identities, the sweep over (model, point, γ²) on all threads, and
//! the rows of the verdict table. Printing and writing are the caller's.

use crate::claims::{CaseResults, Claim, Row};
use crate::identities::{self, IdentityRow};
use crate::sweep::{self, Case, PointResult, PointStatic, Refusal};
use ima_oracle::generate::rng;
use ima_oracle::parallel::par_map;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Everything at one point x: its γ-independent part (or why it failed), and per γ² of the grid
/// the results (or why the oracle refused: where ELBO* = −∞ exactly, with the marginal).
pub type PointResults = (
    Result<PointStatic, String>,
    Vec<Result<PointResult, Refusal>>,
);

/// What to run.
pub struct Config {
    /// --quick: the short grid.
    pub quick: bool,
    /// Seed of the generator drawing models and points.
    pub seed: u64,
    /// Points x per model.
    pub points: usize,
    /// Worker threads.
    pub threads: usize,
    /// The claims to check, in registry order.
    pub claims: Vec<Claim>,
}

/// Points per model when none are asked for: 3 with --quick, else 20.
pub fn default_points(quick: bool) -> usize {
    if quick {
        3
    } else {
        20
    }
}

/// The γ² grid: 1e2 .. 1e9, two values per decade, with --quick; else 1e1 .. 1e10, three per
/// decade.
pub fn grid(quick: bool) -> Vec<f64> {
    if quick {
        (0..=14).map(|i| 10f64.powf(2.0 + i as f64 / 2.0)).collect()
    } else {
        (0..=27).map(|i| 10f64.powf(1.0 + i as f64 / 3.0)).collect()
    }
}

/// What a run found.
pub struct Outcome {
    /// The γ² grid.
    pub grid: Vec<f64>,
    /// The models with their points.
    pub cases: Vec<Case>,
    /// Per case, per point: the results over the grid.
    pub results: Vec<Vec<PointResults>>,
    /// The identities, one row per family.
    pub ids: Vec<IdentityRow>,
    /// The verdict rows: per case, one per claim checked.
    pub rows: Vec<Row>,
    /// Seconds taken.
    pub elapsed: f64,
}

impl Outcome {
    /// Each case with its results, as the checks and the figures read them.
    pub fn case_results(&self) -> Vec<CaseResults<'_>> {
        self.cases
            .iter()
            .zip(&self.results)
            .map(|(case, points)| CaseResults {
                case,
                grid: &self.grid,
                points,
            })
            .collect()
    }

    /// How many verdict rows and identity rows fail.
    pub fn failed(&self) -> usize {
        self.rows.iter().filter(|r| !r.verdict.ok()).count()
            + self.ids.iter().filter(|r| !r.failures.is_empty()).count()
    }
}

/// Runs the identities and the sweep, and checks every claim of `cfg` on every case.
pub fn run(cfg: &Config) -> Outcome {
    let start = Instant::now();
    let grid = grid(cfg.quick);
    // Identities (the foundation).
    let ids = identities::check(cfg.seed, 8);
    let cases = sweep::cases(cfg.points, &mut rng(cfg.seed));
    eprintln!(
        "proofs-check: {} models × {} points × {} values of γ² on {} threads",
        cases.len(),
        cfg.points,
        grid.len(),
        cfg.threads
    );
    let results = evaluate(&cases, &grid, cfg, start);
    let mut outcome = Outcome {
        grid,
        cases,
        results,
        ids,
        rows: Vec::new(),
        elapsed: 0.0,
    };
    outcome.rows = outcome
        .case_results()
        .iter()
        .flat_map(|cr| cr.rows(&cfg.claims, cfg.threads))
        .collect();
    outcome.elapsed = start.elapsed().as_secs_f64();
    outcome
}

/// The sweep: one task per (model, point), all γ² of the grid in increasing order; progress to
/// stderr. Each point draws its perturbed encoders from its own generator, so the results do not
/// depend on the thread count.
fn evaluate(cases: &[Case], grid: &[f64], cfg: &Config, start: Instant) -> Vec<Vec<PointResults>> {
    let points = cfg.points;
    let tasks: Vec<(usize, usize)> = (0..cases.len())
        .flat_map(|c| (0..points).map(move |p| (c, p)))
        .collect();
    let done = AtomicUsize::new(0);
    let results = par_map(
        tasks.len(),
        cfg.threads,
        || (),
        |t, _| {
            let (c, p) = tasks[t];
            let case = &cases[c];
            let x = &case.xs[p];
            let mut prng =
                rng(cfg.seed ^ ((c as u64) << 32) ^ (p as u64 + 1).wrapping_mul(0x9E37_79B9));
            let st = sweep::point_static(&case.model, x).map_err(|e| e.to_string());
            let res: Vec<_> = grid
                .iter()
                .map(|&g2| match &st {
                    Ok(s) => sweep::point_result(&case.model, x, s, g2, &mut prng),
                    Err(e) => Err(Refusal::Other(e.clone())),
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
    let mut per_case: Vec<Vec<PointResults>> = cases.iter().map(|_| Vec::new()).collect();
    for (t, r) in tasks.iter().zip(results) {
        per_case[t.0].push(r);
    }
    per_case
}
