//! `ima-oracle elbo`: the exact ELBO (or β-VAE objective) and its gradient for given encoder
//! outputs, and optionally the Monte Carlo estimate.

use crate::args::Args;
use crate::output::{read_points, Output};
use ima_oracle::generate::rng;
use ima_oracle::io::model_file::load_model;
use ima_oracle::objective::{
    beta_vae, beta_vae_on_rule, elbo_monte_carlo, DerivativeOrder, ElboWorkspace,
};
use ima_oracle::parallel::par_map;
use ima_oracle::quadrature::TensorRule;
use ima_oracle::{Beta, OracleError, Query};

pub const HELP: &str = "\
ima-oracle elbo — the exact ELBO and its gradient for given encoder outputs

USAGE:
    ima-oracle elbo MODEL --x X.npy --mu MU.npy --logvar LV.npy --gamma2 G --out DIR
                    [--beta B] [--samples K --seed S] [--tol T] [--threads N]

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
    --samples K      Monte Carlo samples per point (>= 2); the Gaussian prior's KL term is exact,
                     other priors' log p0(z) is sampled
    --seed S         seed (default 0); point i uses stream i of ChaCha8 seeded with S, so results
                     do not depend on the thread count
    --tol T          quadrature tolerance, relative (default 1e-13)
    --threads N      worker threads (default: all cores)
    --out DIR        output folder (files written atomically, all or none)";

struct PointOut {
    value: f64,
    err: f64,
    grad: Vec<f64>,
    mc: Option<(f64, f64, Vec<f64>, Vec<f64>)>,
}

pub fn run(raw: &[String]) -> Result<String, String> {
    let a = Args::parse(
        raw,
        &[
            "x", "mu", "logvar", "gamma2", "beta", "samples", "seed", "tol", "threads", "out",
        ],
        &[],
    )?;
    if a.help {
        return Ok(HELP.into());
    }
    let model = load_model(a.model()?).map_err(|e| e.to_string())?;
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    let xs = read_points(&a.path("x")?, "x", dd)?;
    let mus = read_points(&a.path("mu")?, "mu", d)?;
    let lvs = read_points(&a.path("logvar")?, "logvar", d)?;
    let n = xs.nrows();
    if mus.nrows() != n || lvs.nrows() != n {
        return Err(format!(
            "x, mu and logvar must have the same number of rows: {n}, {}, {}",
            mus.nrows(),
            lvs.nrows()
        ));
    }
    let gamma2 = a.gamma2()?;
    let beta = a.f64_or("beta", Some(1.0))?;
    let beta = Beta::new(beta).map_err(|_| format!("usage: --beta must be finite and >= 0, got {beta}"))?;
    let samples = a
        .get("samples")
        .map(|_| a.u64_or("samples", None))
        .transpose()?;
    let seed = a.u64_or("seed", Some(0))?;
    let q = a.quadrature()?;
    let threads = a.threads()?;
    let out = a.path("out")?;
    let results: Vec<Result<PointOut, OracleError>> = par_map(
        n,
        threads,
        || ElboWorkspace::new(&model),
        |i, ws| {
            let x: Vec<f64> = xs.row(i).iter().copied().collect();
            let mu: Vec<f64> = mus.row(i).iter().copied().collect();
            let lv: Vec<f64> = lvs.row(i).iter().copied().collect();
            let query = Query::new(&model, &x, gamma2)?;
            let enc = query.encoder(&mu, &lv)?;
            let e = beta_vae(&query, &enc, beta, &q)?;
            let rule = TensorRule::new(e.nodes_per_dim, d, q.max_total())?;
            let g = beta_vae_on_rule(&query, &enc, beta, &rule, DerivativeOrder::Gradient, ws)?
                .gradient
                .expect("requested");
            let mc = match samples {
                Some(k) => {
                    let mut r = rng(seed);
                    r.set_stream(i as u64);
                    let m = elbo_monte_carlo(&query, &enc, beta, k as usize, &mut r)?;
                    Some((
                        m.value.mean,
                        m.value.std_err,
                        m.gradient.as_slice().to_vec(),
                        m.gradient_std_err.as_slice().to_vec(),
                    ))
                }
                None => None,
            };
            Ok(PointOut {
                value: e.value,
                err: e.error_estimate,
                grad: g.as_slice().to_vec(),
                mc,
            })
        },
    );
    let mut ok = Vec::with_capacity(n);
    for (i, r) in results.into_iter().enumerate() {
        ok.push(r.map_err(|e| format!("point {i}: {e}"))?);
    }
    let mut o = Output::default();
    o.add("elbo", vec![n], ok.iter().map(|p| p.value).collect());
    o.add("elbo_err", vec![n], ok.iter().map(|p| p.err).collect());
    o.add(
        "grad_mu",
        vec![n, d],
        ok.iter().flat_map(|p| p.grad[..d].to_vec()).collect(),
    );
    o.add(
        "grad_logvar",
        vec![n, d],
        ok.iter().flat_map(|p| p.grad[d..].to_vec()).collect(),
    );
    if samples.is_some() {
        let mc: Vec<&(f64, f64, Vec<f64>, Vec<f64>)> = ok
            .iter()
            .map(|p| p.mc.as_ref().expect("requested"))
            .collect();
        o.add("elbo_mc", vec![n], mc.iter().map(|m| m.0).collect());
        o.add("elbo_mc_se", vec![n], mc.iter().map(|m| m.1).collect());
        o.add(
            "grad_mu_mc",
            vec![n, d],
            mc.iter().flat_map(|m| m.2[..d].to_vec()).collect(),
        );
        o.add(
            "grad_logvar_mc",
            vec![n, d],
            mc.iter().flat_map(|m| m.2[d..].to_vec()).collect(),
        );
        o.add(
            "grad_mu_mc_se",
            vec![n, d],
            mc.iter().flat_map(|m| m.3[..d].to_vec()).collect(),
        );
        o.add(
            "grad_logvar_mc_se",
            vec![n, d],
            mc.iter().flat_map(|m| m.3[d..].to_vec()).collect(),
        );
    }
    o.write(&out)?;
    let mean = ok.iter().map(|p| p.value).sum::<f64>() / n.max(1) as f64;
    let maxerr = ok.iter().map(|p| p.err).fold(0.0, f64::max);
    Ok(format!(
        "{n} points, gamma2 = {gamma2:e}, beta = {}: mean {} {mean:.12e}, max error estimate {maxerr:.1e} -> {}",
        beta.get(),
        if beta == Beta::ONE { "ELBO" } else { "beta-VAE objective" },
        out.display()
    ))
}
