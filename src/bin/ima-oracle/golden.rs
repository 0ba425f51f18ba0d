//! `ima-oracle golden`: the golden vectors — canonical models of every family, both priors,
//! γ² ∈ {1e1, 1e3, 1e5, 1e8}, inputs and outputs, with a README stating their accuracy.

use crate::args::Args;
use crate::golden_vae::{write_vae_step, VAE_README};
use crate::outdir::OutDir;
use crate::output::Output;
use crate::status;
use ima_oracle::generate::{family_cases, rng, FamilyCase};
use ima_oracle::io::model_file::save_model;
use ima_oracle::parallel::par_map;
use ima_oracle::{evaluate, Evaluation, OracleError, Prior, QuadratureOptions, Query};
use nalgebra::DVector;

pub const HELP: &str = "\
ima-oracle golden — write the golden vectors

USAGE:
    ima-oracle golden --out DIR [--threads N] [--force]

For each model family (affine, mlp-orthogonal, mlp-triangular, moebius, moebius+volume-preserving)
and prior (gaussian, logistic), built from seed 20221128 in d = D = 3, writes DIR/FAMILY-PRIOR/ with
the model folder, 4 observations and, for gamma^2 in {1e1, 1e3, 1e5, 1e8}, the oracle's outputs;
DIR/vae-step/ holds one training step of a small VAE (loss and every gradient, given noise and
exact) and its weights after ten Adam steps. DIR/README.md describes the layout and the accuracy
of every value. DIR must be new or empty
(--force: replace what has the same name, leave the rest); it is written all or none, and --out
is checked before the computation starts (about 40 s on two cores).";

/// The seed of the canonical models.
pub const GOLDEN_SEED: u64 = 20221128;
/// Points per model.
pub const GOLDEN_POINTS: usize = 4;
/// The γ² of the golden vectors.
pub const GOLDEN_GAMMA2: [f64; 4] = [1e1, 1e3, 1e5, 1e8];
/// The quadrature tolerance the golden values are computed with: 1e-12, a decade above the
/// default so that every golden point but the hardest small-γ² ones converges within the node
/// budget, and two decades below the 1e-10 accuracy the README promises.
pub const GOLDEN_TOL: f64 = 1e-12;

/// The README written beside the golden vectors.
pub(crate) const README: &str = "# Golden vectors

Written by `ima-oracle golden --out DIR` (ima-oracle, seed 20221128). One folder per model family
and prior, d = D = 3:

| file | shape | content |
| --- | --- | --- |
| model/ | | the model (docs/model-format.md) |
| z.npy, x.npy | (4, 3) | sources (the prior; U[-1/2, 1/2] for the Moebius families) and x = f(z) |
| gamma2.npy | (4,) | 1e1, 1e3, 1e5, 1e8 |
| g.npy | (4, 3) | g(x) |
| log_abs_det.npy, c_ima.npy, log_flow.npy | (4,) | log det J_f(g(x)), c_IMA (eq. 6), log p0(g(x)) - log det (eq. 4) |
| elbo_star.npy, log_marginal.npy | (4, 4) | ELBO* (eq. 8) and the finite-gamma log p(x), [gamma2, point] |
| mu_hat.npy, sigma2_hat.npy, eq12_rhs.npy | (4, 4, 3) | the optimal encoder and the RHS of eq. 12, [gamma2, point, k] |
| status_elbo_star.npy, status_log_marginal.npy | (4, 4) | why a value is missing, [gamma2, point] (docs/outputs.md): 0 computed, 1 exact -inf (elbo_star; mu_hat, sigma2_hat undefined), 2 a Moebius pole within reach, 3 a quadrature that cannot meet 1e-12 within its node budget (at small gamma2), 4 the solver; the values there are NaN |

Accuracy (each value against the exact mathematical quantity; computed with quadrature tolerance
1e-12, i.e. with error estimates below 1e-12 relative):

| quantities | good to |
| --- | --- |
| x, g, log_abs_det, c_ima, log_flow | 1e-12 relative (absolute for values below 1) |
| elbo_star, log_marginal | 1e-10 relative (absolute below 1) |
| mu_hat | 1e-10 x max(1, |mu_hat|) |
| sigma2_hat, eq12_rhs | 1e-10 relative |

`tests/golden.rs` regenerates them and fails if any value moved beyond these tolerances.
";

/// Runs `golden` on the arguments after the command name: the summary, or the error.
pub fn run(raw: &[String]) -> Result<String, String> {
    let a = Args::parse(raw, &["out", "threads"], &["force"])?;
    if a.help {
        return Ok(HELP.into());
    }
    a.no_positional()?;
    let threads = a.threads()?;
    let out = OutDir::prepare(&a.path("out")?, a.switch("force"))?;
    let priors = [
        Prior::standard_normal(),
        Prior::logistic(1.0).expect("valid"),
    ];
    let cases = family_cases(3, &priors, GOLDEN_POINTS, &mut rng(GOLDEN_SEED))
        .map_err(|e| e.to_string())?;
    let q = QuadratureOptions::new(GOLDEN_TOL).expect("a valid tolerance");
    let tasks: Vec<(usize, usize, usize)> = (0..cases.len())
        .flat_map(|c| {
            (0..GOLDEN_GAMMA2.len()).flat_map(move |gi| (0..GOLDEN_POINTS).map(move |p| (c, gi, p)))
        })
        .collect();
    let results = par_map(
        tasks.len(),
        threads,
        || (),
        |t, _| {
            let (c, gi, p) = tasks[t];
            let query = Query::new(
                &cases[c].model,
                cases[c].xs[p].as_slice(),
                GOLDEN_GAMMA2[gi],
            );
            query.and_then(|query| evaluate(&query, &q))
        },
    );
    let (n, g) = (GOLDEN_POINTS, GOLDEN_GAMMA2.len());
    let write = || -> Result<(), String> {
        for (c, case) in cases.iter().enumerate() {
            let name = format!("{}-{}", case.family.name(), case.model.prior().name());
            let dir = out.path().join(name);
            save_model(&case.model, dir.join("model")).map_err(|e| e.to_string())?;
            let per_case = &results[c * g * n..(c + 1) * g * n];
            case_output(case, per_case).write_into(&dir)?;
        }
        write_vae_step(&out.path().join("vae-step"), GOLDEN_SEED, threads)?;
        let readme = format!("{README}{VAE_README}");
        ima_oracle::io::npy::write_atomic(&out.path().join("README.md"), readme.as_bytes())
            .map_err(|e| e.to_string())
    };
    write().map_err(|e| out.failed(e))?;
    let refused = results
        .iter()
        .filter(|r| match r {
            Ok(e) => [status::code(&e.optimal), status::code(&e.log_marginal)]
                .into_iter()
                .any(status::is_refusal),
            Err(_) => true,
        })
        .count();
    let target = out.target().display().to_string();
    out.commit()?;
    Ok(format!(
        "golden vectors for {} models x {} gamma2 x {n} points written to {target} ({refused} with a refused quantity)",
        cases.len(),
        g,
    ))
}

/// The arrays of one case (README table); `results[gi·n + p]` is the evaluation at γ² number gi
/// and point p.
fn case_output(case: &FamilyCase, results: &[Result<Evaluation, OracleError>]) -> Output {
    let (n, g) = (GOLDEN_POINTS, GOLDEN_GAMMA2.len());
    let res = |gi: usize, p: usize| &results[gi * n + p];
    let rows = |vs: &[DVector<f64>]| vs.iter().flat_map(|v| v.iter().copied()).collect();
    let mut o = Output::default();
    o.add("z", vec![n, 3], rows(&case.zs));
    o.add("x", vec![n, 3], rows(&case.xs));
    o.add("gamma2", vec![g], GOLDEN_GAMMA2.to_vec());
    // γ-independent quantities, from the first γ² whose evaluation exists (they do not depend on
    // it: every one does, since they need only g(x)).
    let stat = |f: fn(&Evaluation) -> Vec<f64>, k: usize| -> Vec<f64> {
        (0..n)
            .flat_map(|p| {
                let first = (0..g).find_map(|gi| res(gi, p).as_ref().ok());
                first.map(f).unwrap_or_else(|| vec![f64::NAN; k])
            })
            .collect()
    };
    o.add("g", vec![n, 3], stat(|r| r.flow.g.as_slice().to_vec(), 3));
    o.add(
        "log_abs_det",
        vec![n],
        stat(|r| vec![r.flow.log_abs_det], 1),
    );
    o.add("c_ima", vec![n], stat(|r| vec![r.flow.c_ima], 1));
    o.add("log_flow", vec![n], stat(|r| vec![r.flow.log_flow], 1));
    // γ-dependent quantities, [γ², point, …]; NaN where refused or undefined.
    let per_gamma = |f: fn(&Evaluation) -> Option<Vec<f64>>, k: usize| -> Vec<f64> {
        (0..g * n)
            .flat_map(|i| {
                res(i / n, i % n)
                    .as_ref()
                    .ok()
                    .and_then(f)
                    .unwrap_or_else(|| vec![f64::NAN; k])
            })
            .collect()
    };
    o.add(
        "elbo_star",
        vec![g, n],
        per_gamma(|r| r.elbo_star().ok().map(|v| vec![v]), 1),
    );
    o.add(
        "log_marginal",
        vec![g, n],
        per_gamma(|r| r.log_marginal.as_ref().ok().map(|m| vec![m.value]), 1),
    );
    o.add(
        "mu_hat",
        vec![g, n, 3],
        per_gamma(
            |r| r.optimal.as_ref().ok().map(|o| o.mu.as_slice().to_vec()),
            3,
        ),
    );
    o.add(
        "sigma2_hat",
        vec![g, n, 3],
        per_gamma(
            |r| {
                r.optimal
                    .as_ref()
                    .ok()
                    .map(|o| o.sigma2.as_slice().to_vec())
            },
            3,
        ),
    );
    o.add(
        "eq12_rhs",
        vec![g, n, 3],
        per_gamma(|r| Some(r.eq12_rhs.as_slice().to_vec()), 3),
    );
    let codes = |f: fn(&Evaluation) -> f64| -> Vec<f64> {
        (0..g * n)
            .map(|i| match res(i / n, i % n) {
                Ok(e) => f(e),
                Err(e) => status::error_code(e),
            })
            .collect()
    };
    o.add(
        "status_elbo_star",
        vec![g, n],
        codes(|e| status::code(&e.optimal)),
    );
    o.add(
        "status_log_marginal",
        vec![g, n],
        codes(|e| status::code(&e.log_marginal)),
    );
    o
}
