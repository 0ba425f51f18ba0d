//! `ima-oracle asymptotics`: the leading coefficients of the γ → ∞ expansions at observations x
//! ([`ima_oracle::paper::Asymptotics`], issue 14) — no γ², no quadrature.

use crate::args::{Args, LIMIT_FLAGS};
use crate::outdir::OutDir;
use crate::output::{read_points, Output};
use crate::pole_note::first_refusal;
use crate::status;
use ima_oracle::paper::Asymptotics;
use ima_oracle::parallel::par_map;
use nalgebra::DVector;

pub const HELP: &str = "\
ima-oracle asymptotics — the leading coefficients of the gamma -> infinity expansions at x
(docs/asymptotics.md; no gamma^2, no quadrature; square decoders)

USAGE:
    ima-oracle asymptotics MODEL --x X.npy --out DIR [--threads N] [--allow-refusals] [--force]
                           [--max-elements N] [--max-dim N]

Writes one float64 .npy per coefficient into DIR (N = rows of X, d latent dimension):
    c_mu (N,d)         mu_hat - g(x) = C_mu / gamma^2 + O(gamma^-4)   (optimal encoder mean)
    k (N,d)            1/sigma_hat_k^2 = gamma^2 |J[:,k]|^2 - (log m)''(g_k(x)) + K_k + O(gamma^-2)
                       (the correction to eq. 12: sigma_hat^2 - RHS(12) = -K/(|J[:,k]|^4 gamma^4))
    marginal (N)       M = Lap p_flow/(2 p_flow): log p(x) - log p_flow(x) = M/gamma^2 + O(gamma^-4)
    elbo (N)           E_elbo: ELBO* - (log p_flow(x) - c_IMA) = E_elbo/gamma^2 + O(gamma^-4)
    gap (N)            E = E_elbo - M: ELBO* - (log p(x) - c_IMA) = E/gamma^2 + O(gamma^-4) (eq. 13)
    status_asymptotics (N)
                       0 computed, 5 g(x) does not exist, the decoder fails there or a
                       step has no third derivatives, 6 the decoder is not smooth (a leaky
                       ReLU), 9 other (J singular) (docs/outputs.md)

OPTIONS:
    --x X.npy          observations, shape (N, D)
    --out DIR          output folder, new or empty (written all or none)
    --force            write into a non-empty DIR: files of the same name are replaced, others stay
    --threads N        worker threads, 1 to 1024 (default: all cores); results do not depend on it
    --allow-refusals   where a coefficient does not exist, write NaN (and its status) instead of
                       failing
    --max-elements N, --max-dim N
                       raise the limits on array entries and model dimension (ima-oracle --help)

A summary goes to stdout.";

/// Runs `asymptotics` on the arguments after the command name: the summary, or the error.
pub fn run(raw: &[String]) -> Result<String, String> {
    let mut known = vec!["x", "out", "threads"];
    known.extend(LIMIT_FLAGS);
    let a = Args::parse(raw, &known, &["allow-refusals", "force"])?;
    if a.help {
        return Ok(HELP.into());
    }
    let model_path = a.model()?;
    let x_path = a.path("x")?;
    let threads = a.threads()?;
    let limits = a.limits()?;
    let allow = a.switch("allow-refusals");
    let out = OutDir::prepare(&a.path("out")?, a.switch("force"))?;
    let model = crate::model_arg::load_model(model_path.as_ref(), &limits)?;
    if !model.decoder().is_square() {
        return Err(format!(
            "asymptotics: the decoder maps R^{} to R^{}; the expansions need a square, invertible decoder",
            model.dim_latent(),
            model.dim_observed()
        ));
    }
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    let xs = read_points(&x_path, "x", dd, &limits)?;
    let n = xs.nrows();
    let results = par_map(
        n,
        threads,
        || DVector::zeros(dd),
        |i, x| {
            x.iter_mut()
                .zip(xs.row(i).iter())
                .for_each(|(a, b)| *a = *b);
            Asymptotics::new(&model, x)
        },
    );
    first_refusal(
        &model,
        &xs,
        &results,
        ("asymptotics", "points without coefficients are NaN"),
        allow,
    )?;
    let latent = |get: fn(&Asymptotics) -> &DVector<f64>| -> Vec<f64> {
        results
            .iter()
            .flat_map(|r| match r {
                Ok(c) => get(c).as_slice().to_vec(),
                Err(_) => vec![f64::NAN; d],
            })
            .collect()
    };
    let scalar = |get: fn(&Asymptotics) -> f64| -> Vec<f64> {
        results
            .iter()
            .map(|r| r.as_ref().map_or(f64::NAN, get))
            .collect()
    };
    let mut o = Output::default();
    o.add("c_mu", vec![n, d], latent(|c| &c.c_mu));
    o.add("k", vec![n, d], latent(|c| &c.k));
    o.add("marginal", vec![n], scalar(|c| c.marginal));
    o.add("elbo", vec![n], scalar(|c| c.elbo));
    o.add("gap", vec![n], scalar(|c| c.gap));
    o.add(
        "status_asymptotics",
        vec![n],
        results.iter().map(status::code).collect(),
    );
    o.write_into(out.path()).map_err(|e| out.failed(e))?;
    let target = out.target().display().to_string();
    out.commit()?;
    let ok: Vec<&Asymptotics> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let mean =
        |f: fn(&Asymptotics) -> f64| ok.iter().map(|p| f(p)).sum::<f64>() / ok.len().max(1) as f64;
    Ok(format!(
        "{n} points ({} without coefficients) -> {target}\n  mean M (log p - log p_flow, x gamma^2) {:.6e}\n  mean E (eq. 13 gap, x gamma^2) {:.6e}",
        n - ok.len(),
        mean(|p| p.marginal),
        mean(|p| p.gap),
    ))
}
