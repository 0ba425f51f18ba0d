//! `ima-oracle eval`: every oracle quantity at given observations and γ².

use crate::args::{Args, LIMIT_FLAGS};
use crate::flow_cmd::{add_flow_columns, PerPoint};
use crate::model_arg::load_model;
use crate::outdir::OutDir;
use crate::output::{check_output_size, read_points, Output};
use crate::pole_note::pole_note;
use crate::status::{self, is_refusal};
use ima_oracle::parallel::par_map;
use ima_oracle::{evaluate, Evaluation, Model, OracleError, QuadratureOptions, Query};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const HELP: &str = "\
ima-oracle eval — every oracle quantity at observations x and decoder precision gamma^2

USAGE:
    ima-oracle eval MODEL --x X.npy --gamma2 G --out DIR [--tol T] [--threads N] [--allow-refusals]
                    [--force] [--max-elements N] [--max-dim N]

Writes one float64 .npy per quantity into DIR (N = rows of X, d latent, D observed dimension):
    g (N,d)            g(x) = f^-1(x)
    jacobian (N,D,d)   J_f(g(x)), J[i,k] = df_i/dz_k
    log_abs_det (N)    log|det J_f(g(x))|
    column_norms (N,d) |J[:,k]|
    c_ima (N)          local IMA contrast at g(x) (eq. 6)
    log_flow (N)       log p0(g(x)) - log|det J| (eq. 4)
    l_ima (N)          log_flow - c_ima
    log_marginal (N), log_marginal_err (N)     finite-gamma log p(x) and its error estimate
    mu_hat (N,d), sigma2_hat (N,d), logvar_hat (N,d), elbo_star (N), elbo_star_err (N)
                       the optimal encoder and ELBO* (eq. 7-8)
    eq12_rhs (N,d)     the right-hand side of eq. 12
    status_flow (N), status_elbo_star (N), status_log_marginal (N)
                       why a quantity holds no number, per point (docs/outputs.md): 0 computed,
                       1 exact -inf (ELBO* of a Moebius decoder in d <= 2; mu_hat, sigma2_hat NaN),
                       2 a pole within reach, 3 quadrature budget, 4 solver, 5 decoder, 9 other.
                       status_flow covers g, jacobian, log_abs_det, column_norms, c_ima, log_flow,
                       l_ima, eq12_rhs; status_elbo_star covers mu_hat, sigma2_hat, logvar_hat,
                       elbo_star, elbo_star_err.

Each quantity is answered on its own: a refusal of ELBO* withholds nothing else.
OPTIONS:
    --x X.npy          observations, shape (N, D)
    --gamma2 G         decoder precision, > 0
    --out DIR          output folder, new or empty (written all or none)
    --force            write into a non-empty DIR: files of the same name are replaced, others stay
    --tol T            quadrature tolerance, relative, in (0, 1e-3] (default 1e-13)
    --threads N        worker threads, 1 to 1024 (default: all cores); results do not depend on it
    --allow-refusals   where the oracle refuses a quantity (a Moebius pole in reach, a quadrature
                       that cannot meet the tolerance), write NaN for it (its status says why)
                       instead of failing the whole command
    --max-elements N, --max-dim N
                       raise the limits on array entries and model dimension (ima-oracle --help)

A summary goes to stdout, progress to stderr.";

/// Evaluates every row of `xs` in parallel, with progress on stderr.
pub fn eval_all(
    model: &Model,
    xs: &nalgebra::DMatrix<f64>,
    gamma2: f64,
    q: &QuadratureOptions,
    threads: usize,
) -> Vec<Result<Evaluation, OracleError>> {
    let n = xs.nrows();
    let done = AtomicUsize::new(0);
    let start = std::time::Instant::now();
    par_map(
        n,
        threads,
        || (),
        |i, _| {
            let x: Vec<f64> = xs.row(i).iter().copied().collect();
            let r = Query::new(model, &x, gamma2).and_then(|query| evaluate(&query, q));
            let k = done.fetch_add(1, Ordering::Relaxed) + 1;
            if n >= 20 && (k % (n / 10).max(1) == 0) {
                eprintln!("  {k}/{n} points ({:.1} s)", start.elapsed().as_secs_f64());
            }
            r
        },
    )
}

/// Runs `eval` on the arguments after the command name: the summary, or the error.
pub fn run(raw: &[String]) -> Result<String, String> {
    let mut known = vec!["x", "gamma2", "out", "tol", "threads"];
    known.extend(LIMIT_FLAGS);
    let a = Args::parse(raw, &known, &["allow-refusals", "force"])?;
    if a.help {
        return Ok(HELP.into());
    }
    // Every flag first, then the files, then the work.
    let model_path = a.model()?;
    let x_path = a.path("x")?;
    let gamma2 = a.gamma2()?;
    let q = a.quadrature()?;
    let threads = a.threads()?;
    let limits = a.limits()?;
    let allow = a.switch("allow-refusals");
    let out = OutDir::prepare(&a.path("out")?, a.switch("force"))?;
    let model = load_model(&model_path, &limits)?;
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    let xs = read_points(&x_path, "x", dd, &limits)?;
    let n = xs.nrows();
    // D·d saturates rather than wraps (with --max-dim raised, an identity model may be huge): a
    // saturated product is beyond any limit anyway.
    let per_point = (dd as u64).saturating_mul(d as u64);
    check_output_size("jacobian.npy", n as u64, per_point, &limits)?;
    let results = eval_all(&model, &xs, gamma2, &q, threads);
    let first_refusal = results.iter().enumerate().find_map(|(i, r)| {
        let (what, e) = refusal(r)?;
        let x: Vec<f64> = xs.row(i).iter().copied().collect();
        Some(match pole_note(&model, &x) {
            Some(note) => format!("point {i}: {what}: {e}; {note}"),
            None => format!("point {i}: {what}: {e}"),
        })
    });
    if let (Some(msg), false) = (&first_refusal, allow) {
        return Err(format!(
            "{msg} (use --allow-refusals to write NaN for refused quantities)"
        ));
    }
    if let Some(msg) = &first_refusal {
        eprintln!(
            "note: refused quantities are NaN (their status_*.npy says why); the first: {msg}"
        );
    }
    let o = outputs(&results, d, dd);
    o.write_into(out.path()).map_err(|e| out.failed(e))?;
    let target = out.target().to_path_buf();
    out.commit()?;
    Ok(summary(&results, gamma2, &target))
}

/// The first refused quantity of a point (not an exact −∞), named as in the outputs.
fn refusal(r: &Result<Evaluation, OracleError>) -> Option<(&'static str, &OracleError)> {
    match r {
        Err(e) => Some(("g(x)", e)),
        Ok(p) => [
            ("elbo_star", p.optimal.as_ref().err()),
            ("log_marginal", p.log_marginal.as_ref().err()),
        ]
        .into_iter()
        .find_map(|(what, e)| {
            e.filter(|e| is_refusal(status::error_code(e)))
                .map(|e| (what, e))
        }),
    }
}

/// One output array: its name, its shape per point, and how to read it off an evaluation (`None`:
/// not a number here, written as NaN).
type Column = (&'static str, PerPoint, fn(&Evaluation) -> Option<Vec<f64>>);

/// The arrays `eval` writes after the flow columns of `flow` (HELP lists them all), in order.
const COLUMNS: [Column; 10] = [
    ("log_marginal", PerPoint::Scalar, |p| {
        p.log_marginal.as_ref().ok().map(|m| vec![m.value])
    }),
    ("log_marginal_err", PerPoint::Scalar, |p| {
        p.log_marginal.as_ref().ok().map(|m| vec![m.error_estimate])
    }),
    ("mu_hat", PerPoint::Latent, |p| {
        p.optimal.as_ref().ok().map(|o| o.mu.as_slice().to_vec())
    }),
    ("sigma2_hat", PerPoint::Latent, |p| {
        p.optimal
            .as_ref()
            .ok()
            .map(|o| o.sigma2.as_slice().to_vec())
    }),
    // The variable Newton solved for (σ̂² = exp of it), not ln(σ̂²) rounded twice.
    ("logvar_hat", PerPoint::Latent, |p| {
        p.optimal
            .as_ref()
            .ok()
            .map(|o| o.logvar.as_slice().to_vec())
    }),
    // −∞ where it is exact (its error estimate is then 0).
    ("elbo_star", PerPoint::Scalar, |p| {
        p.elbo_star().ok().map(|v| vec![v])
    }),
    ("elbo_star_err", PerPoint::Scalar, |p| match &p.optimal {
        Ok(o) => Some(vec![o.error_estimate]),
        Err(_) => p.elbo_star().ok().map(|_| vec![0.0]),
    }),
    ("eq12_rhs", PerPoint::Latent, |p| {
        Some(p.eq12_rhs.as_slice().to_vec())
    }),
    ("status_elbo_star", PerPoint::Scalar, |p| {
        Some(vec![status::code(&p.optimal)])
    }),
    ("status_log_marginal", PerPoint::Scalar, |p| {
        Some(vec![status::code(&p.log_marginal)])
    }),
];

/// The flow arrays and those of [`COLUMNS`] over every point; NaN where a quantity has no number, and where g(x)
/// itself failed, NaN everywhere with that failure's code in every status.
fn outputs(results: &[Result<Evaluation, OracleError>], d: usize, dd: usize) -> Output {
    let n = results.len();
    let mut o = Output::default();
    let flows: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().map(|p| &p.flow))
        .collect();
    add_flow_columns(&mut o, &flows, d, dd);
    for (name, per_point, get) in COLUMNS {
        let (k, shape) = per_point.layout(n, d, dd);
        let data = results
            .iter()
            .flat_map(|r| match r {
                Ok(p) => get(p).unwrap_or_else(|| vec![f64::NAN; k]),
                Err(e) if name.starts_with("status_") => vec![status::error_code(e)],
                Err(_) => vec![f64::NAN; k],
            })
            .collect();
        o.add(name, shape, data);
    }
    o
}

/// The summary printed on stdout: means over the points where each quantity is finite.
fn summary(
    results: &[Result<Evaluation, OracleError>],
    gamma2: f64,
    out: &std::path::Path,
) -> String {
    let n = results.len();
    let ok: Vec<&Evaluation> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let refused = results.iter().filter(|r| refusal(r).is_some()).count();
    let minus_inf = ok
        .iter()
        .filter(|p| p.elbo_star() == Ok(f64::NEG_INFINITY))
        .count();
    // (mean, count) over the points where `f` gives a finite number.
    let mean = |f: &dyn Fn(&Evaluation) -> Option<f64>| {
        let v: Vec<f64> = ok
            .iter()
            .filter_map(|p| f(p))
            .filter(|v| v.is_finite())
            .collect();
        (v.iter().sum::<f64>() / v.len().max(1) as f64, v.len())
    };
    let maxf =
        |f: &dyn Fn(&Evaluation) -> Option<f64>| ok.iter().filter_map(|p| f(p)).fold(0.0, f64::max);
    let (c, _) = mean(&|p| Some(p.flow.c_ima));
    let (elbo, n_elbo) = mean(&|p| p.elbo_star().ok());
    let (logp, n_logp) = mean(&|p| p.log_marginal.as_ref().ok().map(|m| m.value));
    let (gap, n_gap) = mean(&|p| p.eq13_gap().ok());
    format!(
        "{n} points at gamma2 = {gamma2:e} ({refused} with a refused quantity, {minus_inf} with ELBO* = -inf exactly) -> {}\n  mean c_IMA {c:.6e} ({} points)\n  mean ELBO* {elbo:.12e} ({n_elbo} finite)   max error estimate {:.1e}\n  mean log p {logp:.12e} ({n_logp})   max error estimate {:.1e}\n  mean ELBO* - (log p - c_IMA) {gap:.3e} ({n_gap})",
        out.display(),
        ok.len(),
        maxf(&|p| p.optimal.as_ref().ok().map(|o| o.error_estimate)),
        maxf(&|p| p.log_marginal.as_ref().ok().map(|m| m.error_estimate)),
    )
}
