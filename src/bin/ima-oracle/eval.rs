//! `ima-oracle eval`: every oracle quantity at given observations and γ².

use crate::args::{Args, LIMIT_FLAGS};
use crate::outdir::OutDir;
use crate::output::{check_output_size, read_points, Output};
use crate::pole_note::pole_note;
use ima_oracle::io::model_file::load_model_with;
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
    refused (N)        (only with --allow-refusals) 1 where the oracle refused the point

OPTIONS:
    --x X.npy          observations, shape (N, D)
    --gamma2 G         decoder precision, > 0
    --out DIR          output folder, new or empty (written all or none)
    --force            write into a non-empty DIR: files of the same name are replaced, others stay
    --tol T            quadrature tolerance, relative, in (0, 1e-3] (default 1e-13)
    --threads N        worker threads, 1 to 1024 (default: all cores); results do not depend on it
    --allow-refusals   where the oracle refuses a point (a Moebius pole in reach, a quadrature
                       that cannot meet the tolerance), write NaN for it and mark it in refused.npy
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
    let model = load_model_with(model_path, &limits).map_err(|e| e.to_string())?;
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    let xs = read_points(&x_path, "x", dd, &limits)?;
    let n = xs.nrows();
    // D·d saturates rather than wraps (with --max-dim raised, an identity model may be huge): a
    // saturated product is beyond any limit anyway.
    let per_point = (dd as u64).saturating_mul(d as u64);
    check_output_size("jacobian.npy", n as u64, per_point, &limits)?;
    let results = eval_all(&model, &xs, gamma2, &q, threads);
    let mut refused = vec![0.0; n];
    let mut first_refusal = None;
    for (i, r) in results.iter().enumerate() {
        if let Err(e) = r {
            refused[i] = 1.0;
            first_refusal.get_or_insert_with(|| {
                let x: Vec<f64> = xs.row(i).iter().copied().collect();
                match pole_note(&model, &x) {
                    Some(note) => format!("point {i}: {e}; {note}"),
                    None => format!("point {i}: {e}"),
                }
            });
        }
    }
    if let (Some(msg), false) = (&first_refusal, allow) {
        return Err(format!(
            "{msg} (use --allow-refusals to write NaN for refused points)"
        ));
    }
    if let Some(msg) = &first_refusal {
        eprintln!("note: refused points are NaN in every output; the first: {msg}");
    }
    let mut o = outputs(&results, d, dd);
    if allow {
        o.add("refused", vec![n], refused.clone());
    }
    o.write_into(out.path()).map_err(|e| out.failed(e))?;
    let target = out.target().to_path_buf();
    out.commit()?;
    Ok(summary(&results, gamma2, &target))
}

/// The shape of one output per point.
#[derive(Clone, Copy)]
enum PerPoint {
    /// A number.
    Scalar,
    /// A latent vector (d).
    Latent,
    /// The Jacobian (D, d), row-major.
    Jacobian,
}

/// One output array: its name, its shape per point, and how to read it off an evaluation.
type Column = (&'static str, PerPoint, fn(&Evaluation) -> Vec<f64>);

/// Every array `eval` writes (HELP lists them), in order.
const COLUMNS: [Column; 15] = [
    ("g", PerPoint::Latent, |p| p.g.as_slice().to_vec()),
    ("jacobian", PerPoint::Jacobian, |p| {
        let (dd, d) = p.jacobian.shape();
        (0..dd)
            .flat_map(|i| (0..d).map(move |k| p.jacobian[(i, k)]))
            .collect()
    }),
    ("log_abs_det", PerPoint::Scalar, |p| vec![p.log_abs_det]),
    ("column_norms", PerPoint::Latent, |p| {
        p.jacobian.column_iter().map(|c| c.norm()).collect()
    }),
    ("c_ima", PerPoint::Scalar, |p| vec![p.c_ima]),
    ("log_flow", PerPoint::Scalar, |p| vec![p.log_flow]),
    ("l_ima", PerPoint::Scalar, |p| vec![p.l_ima()]),
    ("log_marginal", PerPoint::Scalar, |p| {
        vec![p.log_marginal.value]
    }),
    ("log_marginal_err", PerPoint::Scalar, |p| {
        vec![p.log_marginal.error_estimate]
    }),
    ("mu_hat", PerPoint::Latent, |p| {
        p.optimal.mu.as_slice().to_vec()
    }),
    ("sigma2_hat", PerPoint::Latent, |p| {
        p.optimal.sigma2.as_slice().to_vec()
    }),
    // The variable Newton solved for (σ̂² = exp of it), not ln(σ̂²) rounded twice.
    ("logvar_hat", PerPoint::Latent, |p| {
        p.optimal.logvar.as_slice().to_vec()
    }),
    ("elbo_star", PerPoint::Scalar, |p| vec![p.optimal.elbo]),
    ("elbo_star_err", PerPoint::Scalar, |p| {
        vec![p.optimal.error_estimate]
    }),
    ("eq12_rhs", PerPoint::Latent, |p| {
        p.eq12_rhs.as_slice().to_vec()
    }),
];

/// The arrays of [`COLUMNS`] over every point; NaN where a point was refused.
fn outputs(results: &[Result<Evaluation, OracleError>], d: usize, dd: usize) -> Output {
    let n = results.len();
    let mut o = Output::default();
    for (name, per_point, get) in COLUMNS {
        let (shape, k) = match per_point {
            PerPoint::Scalar => (vec![n], 1),
            PerPoint::Latent => (vec![n, d], d),
            PerPoint::Jacobian => (vec![n, dd, d], dd * d),
        };
        let data = results
            .iter()
            .flat_map(|r| r.as_ref().map(get).unwrap_or_else(|_| vec![f64::NAN; k]))
            .collect();
        o.add(name, shape, data);
    }
    o
}

/// The summary printed on stdout.
fn summary(
    results: &[Result<Evaluation, OracleError>],
    gamma2: f64,
    out: &std::path::Path,
) -> String {
    let n = results.len();
    let ok: Vec<&Evaluation> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let mean = |f: &dyn Fn(&Evaluation) -> f64| {
        ok.iter().map(|p| f(p)).sum::<f64>() / ok.len().max(1) as f64
    };
    let maxf = |f: &dyn Fn(&Evaluation) -> f64| ok.iter().map(|p| f(p)).fold(0.0, f64::max);
    format!(
        "{n} points at gamma2 = {gamma2:e} ({} refused) -> {}\n  mean c_IMA {:.6e}\n  mean ELBO* {:.12e}   max error estimate {:.1e}\n  mean log p {:.12e}   max error estimate {:.1e}\n  mean ELBO* - (log p - c_IMA) {:.3e}",
        n - ok.len(),
        out.display(),
        mean(&|p| p.c_ima),
        mean(&|p| p.optimal.elbo),
        maxf(&|p| p.optimal.error_estimate),
        mean(&|p| p.log_marginal.value),
        maxf(&|p| p.log_marginal.error_estimate),
        mean(&|p| p.eq13_gap()),
    )
}
