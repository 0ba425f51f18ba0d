//! `ima-oracle elbo`: the exact ELBO (or β-VAE objective) and its gradient for given encoder
//! outputs, and optionally the Monte Carlo estimate.

use crate::args::{usage, Args, LIMIT_FLAGS};
use crate::model_arg::load_model;
use crate::outdir::OutDir;
use crate::output::{check_output_size, read_points, Output};
use ima_oracle::generate::rng;
use ima_oracle::objective::{
    beta_vae, beta_vae_on_rule, elbo_monte_carlo, moebius_elbo, DerivativeOrder, ElboEstimate,
    ElboWorkspace, McEstimate,
};
use ima_oracle::parallel::par_map;
use ima_oracle::quadrature::TensorRule;
use ima_oracle::tol::{MAX_MC_DRAWS, MAX_MC_SAMPLES};
use ima_oracle::{Beta, Model, OracleError, QuadratureOptions, Query};
use nalgebra::{DMatrix, DVector};

pub const HELP: &str = "\
ima-oracle elbo — the exact ELBO and its gradient for given encoder outputs

USAGE:
    ima-oracle elbo MODEL --x X.npy --mu MU.npy --logvar LV.npy --gamma2 G --out DIR
                    [--beta B] [--samples K --seed S] [--tol T] [--threads N] [--force]
                    [--max-samples N] [--max-draws N] [--max-elements N] [--max-dim N]

Writes (N rows, d latent dimensions), float64:
    elbo (N), elbo_err (N)            ELBO(x; mu, logvar) (eq. 1) and its quadrature error estimate;
                                      with --beta, the beta-VAE objective E_q log p(x|z) - B KL(q||p0)
    grad_mu (N,d), grad_logvar (N,d)  its exact gradient with respect to mu and log sigma^2
    with --samples K, the reparameterised Monte Carlo estimate from K samples per point:
    elbo_mc, elbo_mc_se (N)           estimate and standard error
    grad_mu_mc, grad_mu_mc_se, grad_logvar_mc, grad_logvar_mc_se (N,d)

OPTIONS:
    --x X.npy, --mu MU.npy, --logvar LV.npy   shapes (N,D), (N,d), (N,d); logvar = log sigma^2
    --gamma2 G       decoder precision, > 0
    --beta B         beta >= 0 (default 1: the ELBO)
    --samples K      Monte Carlo samples per point, 2 <= K <= 1e6 (--max-samples raises it; the
                     estimator keeps every sample); the Gaussian prior's KL term is exact, other
                     priors' log p0(z) is sampled. N x K is at most 1e9 (--max-draws raises it)
    --seed S         seed (default 0); point i uses stream i of ChaCha8 seeded with S, so results
                     do not depend on the thread count
    --tol T          quadrature tolerance, relative, in (0, 1e-3] (default 1e-13)
    --threads N      worker threads, 1 to 1024 (default: all cores)
    --out DIR        output folder, new or empty (written all or none)
    --force          write into a non-empty DIR: files of the same name are replaced, others stay
    --max-elements N, --max-dim N
                     raise the limits on array entries and model dimension (ima-oracle --help)";

/// What `elbo` computes at one point.
struct PointOut {
    /// The exact objective and its error estimate.
    exact: ElboEstimate,
    /// Its gradient in (μ, log σ²), on the rule that converged.
    gradient: DVector<f64>,
    /// The Monte Carlo estimate, with --samples.
    mc: Option<McEstimate>,
}

/// The inputs shared by every point.
struct Job<'a> {
    model: &'a Model,
    xs: DMatrix<f64>,
    mus: DMatrix<f64>,
    lvs: DMatrix<f64>,
    gamma2: f64,
    beta: Beta,
    q: QuadratureOptions,
    samples: Option<usize>,
    seed: u64,
}

impl Job<'_> {
    /// The exact objective and gradient at row i, and the Monte Carlo estimate from stream i.
    fn point(&self, i: usize, ws: &mut ElboWorkspace) -> Result<PointOut, OracleError> {
        let row = |m: &DMatrix<f64>| -> Vec<f64> { m.row(i).iter().copied().collect() };
        let query = Query::new(self.model, &row(&self.xs), self.gamma2)?;
        let enc = query.encoder(&row(&self.mus), &row(&self.lvs))?;
        let exact = beta_vae(&query, &enc, self.beta, &self.q)?;
        // nodes_per_dim = 0: the Möbius integral route answered (no tensor rule); its gradient.
        let gradient = if exact.nodes_per_dim == 0 {
            moebius_elbo(&query, &enc, self.beta, DerivativeOrder::Gradient)?.gradient
        } else {
            let rule = TensorRule::new(exact.nodes_per_dim, enc.dim(), self.q.max_total())?;
            beta_vae_on_rule(
                &query,
                &enc,
                self.beta,
                &rule,
                DerivativeOrder::Gradient,
                ws,
            )?
            .gradient
        };
        let mc = match self.samples {
            Some(k) => {
                let mut r = rng(self.seed);
                r.set_stream(i as u64);
                Some(elbo_monte_carlo(&query, &enc, self.beta, k, &mut r)?)
            }
            None => None,
        };
        Ok(PointOut {
            exact,
            gradient: gradient.expect("requested"),
            mc,
        })
    }
}

/// The arrays of the HELP text.
fn outputs(points: &[PointOut], d: usize, with_mc: bool) -> Output {
    let n = points.len();
    let mut o = Output::default();
    let split = |v: &DVector<f64>, mu: bool| {
        let v = v.as_slice();
        if mu {
            v[..d].to_vec()
        } else {
            v[d..].to_vec()
        }
    };
    let per_point = |f: &dyn Fn(&PointOut) -> Vec<f64>| points.iter().flat_map(f).collect();
    o.add("elbo", vec![n], per_point(&|p| vec![p.exact.value]));
    o.add(
        "elbo_err",
        vec![n],
        per_point(&|p| vec![p.exact.error_estimate]),
    );
    o.add(
        "grad_mu",
        vec![n, d],
        per_point(&|p| split(&p.gradient, true)),
    );
    o.add(
        "grad_logvar",
        vec![n, d],
        per_point(&|p| split(&p.gradient, false)),
    );
    if with_mc {
        fn mc(p: &PointOut) -> &McEstimate {
            p.mc.as_ref().expect("requested")
        }
        o.add("elbo_mc", vec![n], per_point(&|p| vec![mc(p).value.mean]));
        o.add(
            "elbo_mc_se",
            vec![n],
            per_point(&|p| vec![mc(p).value.std_err]),
        );
        o.add(
            "grad_mu_mc",
            vec![n, d],
            per_point(&|p| split(&mc(p).gradient, true)),
        );
        o.add(
            "grad_logvar_mc",
            vec![n, d],
            per_point(&|p| split(&mc(p).gradient, false)),
        );
        o.add(
            "grad_mu_mc_se",
            vec![n, d],
            per_point(&|p| split(&mc(p).gradient_std_err, true)),
        );
        o.add(
            "grad_logvar_mc_se",
            vec![n, d],
            per_point(&|p| split(&mc(p).gradient_std_err, false)),
        );
    }
    o
}

/// `--samples K` within `--max-samples` (default [`MAX_MC_SAMPLES`]), if given.
fn samples(a: &Args) -> Result<Option<u64>, String> {
    if a.get("samples").is_none() {
        return Ok(None);
    }
    let max = a.count_in("max-samples", Some(MAX_MC_SAMPLES), (2, u64::MAX), "")?;
    let raise =
        "raise it with --max-samples N; tol::MAX_MC_SAMPLES, the estimator keeps every sample";
    a.count_in("samples", None, (2, max), raise).map(Some)
}

/// Refuses N points × K samples beyond `max`, the value of `--max-draws` (default
/// [`MAX_MC_DRAWS`]).
fn check_draws(n: usize, samples: Option<u64>, max: u64) -> Result<(), String> {
    let Some(k) = samples else {
        return Ok(());
    };
    match (n as u64).checked_mul(k) {
        Some(draws) if draws <= max => Ok(()),
        _ => Err(usage(format!(
            "--samples {k} for {n} points is {} draws, more than the limit of {max} \
             (raise it with --max-draws N; tol::MAX_MC_DRAWS)",
            (n as u128) * (k as u128)
        ))),
    }
}

/// Runs `elbo` on the arguments after the command name: the summary, or the error.
pub fn run(raw: &[String]) -> Result<String, String> {
    let mut known = vec![
        "x",
        "mu",
        "logvar",
        "gamma2",
        "beta",
        "samples",
        "seed",
        "tol",
        "threads",
        "out",
        "max-samples",
        "max-draws",
    ];
    known.extend(LIMIT_FLAGS);
    let a = Args::parse(raw, &known, &["force"])?;
    if a.help {
        return Ok(HELP.into());
    }
    // Every flag first, then the files, then the work.
    let model_path = a.model()?;
    let paths = [a.path("x")?, a.path("mu")?, a.path("logvar")?];
    let gamma2 = a.gamma2()?;
    let beta = a.f64_or("beta", Some(1.0))?;
    let beta = Beta::new(beta)
        .map_err(|_| usage(format!("--beta must be finite and >= 0, got {beta}")))?;
    let q = a.quadrature()?;
    let samples = samples(&a)?;
    let seed = a.u64_or("seed", Some(0))?;
    let threads = a.threads()?;
    let max_draws = a.count_in("max-draws", Some(MAX_MC_DRAWS), (1, u64::MAX), "")?;
    let limits = a.limits()?;
    let out = OutDir::prepare(&a.path("out")?, a.switch("force"))?;
    let model = load_model(&model_path, &limits)?;
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    let xs = read_points(&paths[0], "x", dd, &limits)?;
    let mus = read_points(&paths[1], "mu", d, &limits)?;
    let lvs = read_points(&paths[2], "logvar", d, &limits)?;
    let n = xs.nrows();
    if mus.nrows() != n || lvs.nrows() != n {
        return Err(format!(
            "x, mu and logvar must have the same number of rows: {n}, {}, {}",
            mus.nrows(),
            lvs.nrows()
        ));
    }
    check_draws(n, samples, max_draws)?;
    check_output_size("grad_mu.npy", n as u64, d as u64, &limits)?;
    let job = Job {
        model: &model,
        xs,
        mus,
        lvs,
        gamma2,
        beta,
        q,
        samples: samples.map(|k| k as usize),
        seed,
    };
    let results = par_map(
        n,
        threads,
        || ElboWorkspace::new(&model),
        |i, ws| job.point(i, ws),
    );
    let mut ok = Vec::with_capacity(n);
    for (i, r) in results.into_iter().enumerate() {
        ok.push(r.map_err(|e| format!("point {i}: {e}"))?);
    }
    outputs(&ok, d, job.samples.is_some())
        .write_into(out.path())
        .map_err(|e| out.failed(e))?;
    let target = out.target().to_path_buf();
    out.commit()?;
    let mean = ok.iter().map(|p| p.exact.value).sum::<f64>() / n.max(1) as f64;
    let maxerr = ok
        .iter()
        .map(|p| p.exact.error_estimate)
        .fold(0.0, f64::max);
    Ok(format!(
        "{n} points, gamma2 = {:e}, beta = {}: mean {} {mean:.12e}, max error estimate {maxerr:.1e} -> {}",
        job.gamma2,
        job.beta.get(),
        if job.beta == Beta::ONE { "ELBO" } else { "beta-VAE objective" },
        target.display()
    ))
}
