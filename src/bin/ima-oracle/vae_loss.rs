//! `ima-oracle vae-loss`: the loss of one training step of an amortised VAE and its exact gradient
//! with respect to every parameter array (issue 11; `ima_oracle::vae`).

use crate::args::{usage, Args, LIMIT_FLAGS};
use crate::outdir::OutDir;
use crate::output::Output;
use ima_oracle::io::model_file::{ArrayNames, VaeFolder};
use ima_oracle::io::npy::{read_npy_with, shape_text, NpyArray};
use ima_oracle::io::Limits;
use ima_oracle::vae::{loss_exact, loss_given_noise, Grads, StepLoss};
use ima_oracle::{Beta, Gamma2};
use std::collections::BTreeSet;
use std::path::Path;

pub const HELP: &str = "\
ima-oracle vae-loss — the loss of one VAE training step and its gradient for every parameter

USAGE:
    ima-oracle vae-loss VAE_DIR --x X.npy (--eps EPS.npy | --exact) --gamma2 G --out DIR
                        [--beta B] [--tol T] [--threads N] [--force] [--max-elements N] [--max-dim N]

VAE_DIR is a VAE folder: model.txt (prior and decoder) and encoder.txt (docs/vae-format.md).
For the minibatch x_1..x_n (n rows) the loss is the negated mean beta-objective (paper eq. 1):

    loss = -(1/n) sum_i L_i,
    L_i  = (D/2) log(gamma2/(2 pi)) - (gamma2/2) E_q ||x_i - f(z)||^2 - beta KL(q_i || p0),

q_i = N(mu_i, diag sigma_i^2), (mu_i, log sigma_i^2) = encoder(x_i) (first d outputs mu, last d
log sigma^2). With --eps, E_q is the average over the given noise, z_ij = mu_i + sigma_i * eps_ij,
exactly what a PyTorch/JAX training step computes; the Gaussian prior's KL is in closed form,
other priors' KL is -H(q_i) - (1/S) sum_j log p0(z_ij). With --exact, E_q is the oracle's
quadrature to --tol: the number a stochastic backend's average over the noise converges to.
Constants a backend may drop: (D/2) log(gamma2/(2 pi)) per point; with a Gaussian prior
N(0, v), (d/2)(log v - 1) inside the KL. A backend summing over the batch instead of averaging
differs by the factor n. The gradients do not see the constants.

Writes, float64:
    loss.npy ()                   the loss
    elbo.npy (B)                  L_i per point (its estimate from the given noise, or exact)
    loss_err.npy ()               with --exact: the quadrature's error estimate of the loss
    grad_NAME.npy                 d loss / d NAME for every parameter array NAME.npy of the
                                  folder (shape of the array), e.g. grad_enc_W0.npy, grad_W0.npy
`ima-oracle check VAE_DIR --ours DIR --theirs THEIRS` compares a backend's arrays of the same names.

OPTIONS:
    --x X.npy        the minibatch, shape (B, D), B >= 1
    --eps EPS.npy    the noise, shape (B, S, d) (S samples per point), or (B, d) for S = 1
    --exact          take E_q exactly (quadrature) instead
    --gamma2 G       decoder precision, > 0
    --beta B         beta >= 0 (default 1: the ELBO)
    --tol T          with --exact: quadrature tolerance, relative, in (0, 1e-3] (default 1e-13)
    --threads N      worker threads, 1 to 1024 (default: all cores); the result does not depend on it
    --out DIR        output folder, new or empty (written all or none)
    --force          write into a non-empty DIR: files of the same name are replaced, others stay
    --max-elements N, --max-dim N
                     raise the limits on array entries and model dimension (ima-oracle --help)";

/// Reads `path` as an array of finite numbers whose shape `accept` takes (it returns the rows and
/// columns, or None), `what` and `expected` naming it in errors.
pub fn read_finite(
    path: &Path,
    what: &str,
    expected: &str,
    limits: &Limits,
    accept: impl Fn(&[usize]) -> bool,
) -> Result<NpyArray, String> {
    let a = read_npy_with(path, limits).map_err(|e| e.to_string())?;
    if !accept(a.shape()) {
        return Err(format!(
            "{}: {what} must have shape {expected}, found shape {}",
            path.display(),
            shape_text(a.shape())
        ));
    }
    if let Some(k) = a.first_non_finite() {
        return Err(format!(
            "{}: {what} entry {k} (C order) is NaN or infinite",
            path.display()
        ));
    }
    Ok(a)
}

/// The minibatch x of a VAE with observed dimension `dd`: shape (B, D), B ≥ 1.
pub fn read_batch(path: &Path, dd: usize, limits: &Limits) -> Result<NpyArray, String> {
    read_finite(
        path,
        "x",
        &format!("(B, {dd}) with B >= 1 (D = {dd} is the decoder's output)"),
        limits,
        |s| matches!(*s, [b, c] if b >= 1 && c == dd),
    )
}

/// The file names `grad_NAME` of every parameter array, encoder first, checked to be distinct.
pub fn grad_names(folder: &VaeFolder) -> Result<Vec<String>, String> {
    let all: Vec<&String> = folder
        .encoder_names
        .iter()
        .chain(&folder.decoder_names)
        .flatten()
        .collect();
    let mut seen = BTreeSet::new();
    for n in &all {
        if !seen.insert(n.as_str()) {
            return Err(format!(
                "two parameter arrays of the VAE folder are named '{n}': their gradients would \
                 share grad_{n}.npy; give every array of model.txt and encoder.txt its own name"
            ));
        }
    }
    Ok(all.into_iter().map(|n| format!("grad_{n}")).collect())
}

/// The gradient arrays, named after the folder's arrays.
pub fn add_grads(o: &mut Output, names: &ArrayNames, grads: &Grads) {
    for ([w, b], g) in names.iter().zip(&grads.layers) {
        o.add_array(&format!("grad_{w}"), NpyArray::from_matrix(&g.w));
        o.add_array(&format!("grad_{b}"), NpyArray::from_vector(&g.b));
    }
}

/// Runs `vae-loss` on the arguments after the command name: the summary, or the error.
pub fn run(raw: &[String]) -> Result<String, String> {
    let mut known = vec!["x", "eps", "gamma2", "beta", "tol", "threads", "out"];
    known.extend(LIMIT_FLAGS);
    let a = Args::parse(raw, &known, &["force", "exact"])?;
    if a.help {
        return Ok(HELP.into());
    }
    // Every flag first, then the files, then the work.
    let dir = a.model()?;
    let x_path = a.path("x")?;
    let exact = a.switch("exact");
    let eps_path = match (a.get("eps"), exact) {
        (Some(_), true) => return Err(usage("give --eps or --exact, not both".into())),
        (None, false) => {
            return Err(usage(
                "give the noise (--eps EPS.npy) or ask for the exact expectation (--exact)".into(),
            ))
        }
        (Some(_), false) => Some(a.path("eps")?),
        (None, true) => None,
    };
    let gamma2 = Gamma2::new(a.gamma2()?).map_err(|e| usage(e.to_string()))?;
    let beta = a.f64_or("beta", Some(1.0))?;
    let beta = Beta::new(beta)
        .map_err(|_| usage(format!("--beta must be finite and >= 0, got {beta}")))?;
    let q = a.quadrature()?;
    if a.get("tol").is_some() && !exact {
        return Err(usage(
            "--tol applies to --exact only (the given-noise loss has no quadrature)".into(),
        ));
    }
    let threads = a.threads()?;
    let limits = a.limits()?;
    let out = OutDir::prepare(&a.path("out")?, a.switch("force"))?;
    let folder = crate::model_arg::load_vae_folder(&dir, &limits)?;
    let names = grad_names(&folder)?;
    let vae = &folder.vae;
    let (d, dd) = (vae.dim_latent(), vae.dim_observed());
    let x = read_batch(&x_path, dd, &limits)?;
    let b = x.shape()[0];
    let sl: StepLoss = match &eps_path {
        Some(p) => {
            let expected = format!("({b}, S, {d}) or ({b}, {d}): B = {b} rows of x, d = {d}");
            let eps = read_finite(p, "eps", &expected, &limits, |s| match *s {
                [bb, c] => bb == b && c == d,
                [bb, s, c] => bb == b && s >= 1 && c == d,
                _ => false,
            })?;
            let samples = if eps.shape().len() == 3 {
                eps.shape()[1]
            } else {
                1
            };
            loss_given_noise(vae, x.data(), eps.data(), samples, gamma2, beta, threads)
        }
        None => loss_exact(vae, x.data(), gamma2, beta, &q, threads),
    }
    .map_err(|e| e.to_string())?;
    let finite = sl.loss.is_finite()
        && sl.elbo.iter().all(|t| t.is_finite())
        && sl
            .grads
            .encoder
            .iter()
            .chain(sl.grads.decoder.iter())
            .all(|t| t.is_finite());
    if !finite {
        return Err(format!(
            "the loss or a gradient overflowed to NaN or infinity (loss {:e}): the inputs are \
             finite, but gamma2 times ||x - f(z)||^2 or an activation exceeds the f64 range",
            sl.loss
        ));
    }
    let mut o = Output::default();
    o.add("loss", vec![], vec![sl.loss]);
    o.add("elbo", vec![b], sl.elbo.clone());
    if exact {
        o.add("loss_err", vec![], vec![sl.error_estimate]);
    }
    add_grads(&mut o, &folder.encoder_names, &sl.grads.encoder);
    add_grads(&mut o, &folder.decoder_names, &sl.grads.decoder);
    o.write_into(out.path()).map_err(|e| out.failed(e))?;
    let target = out.target().to_path_buf();
    out.commit()?;
    Ok(format!(
        "{b} points, gamma2 = {:e}, beta = {}, {}: loss {:.15e}{} and {} gradient arrays -> {}",
        gamma2.get(),
        beta.get(),
        if exact { "exact" } else { "given noise" },
        sl.loss,
        if exact {
            format!(" (error estimate {:.1e})", sl.error_estimate)
        } else {
            String::new()
        },
        names.len(),
        target.display()
    ))
}
