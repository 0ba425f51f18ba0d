//! `ima-oracle flow`: the flow quantities at observations x — g, J, log|det J|, c_IMA, the flow
//! log-likelihood and L_IMA — with no γ² and no quadrature; and the columns `eval` shares with it.

use crate::args::{Args, LIMIT_FLAGS};
use crate::model_arg::load_model;
use crate::outdir::OutDir;
use crate::output::{check_output_size, read_points, Output};
use crate::pole_note::first_refusal;
use crate::status;
use ima_oracle::parallel::par_map;
use ima_oracle::{flow_quantities, FlowQuantities, OracleError};

pub const HELP: &str = "\
ima-oracle flow — the flow quantities at observations x (no gamma^2, no quadrature)

USAGE:
    ima-oracle flow MODEL --x X.npy --out DIR [--threads N] [--allow-refusals] [--force]
                    [--max-elements N] [--max-dim N]

Writes one float64 .npy per quantity into DIR (N = rows of X, d latent, D observed dimension):
    g (N,d)            g(x) = f^-1(x)
    jacobian (N,D,d)   J_f(g(x)), J[i,k] = df_i/dz_k
    log_abs_det (N)    log|det J_f(g(x))|
    column_norms (N,d) |J[:,k]|
    c_ima (N)          local IMA contrast at g(x) (eq. 6)
    log_flow (N)       log p0(g(x)) - log|det J| (eq. 4), the gamma -> infinity limit of log p(x)
    l_ima (N)          log_flow - c_ima, the gamma -> infinity limit of ELBO* (Thm. 1)
    status_flow (N)    0 computed, 5 g(x) does not exist (docs/outputs.md)

These are the first columns of `eval`, computed the same way (bit for bit), for a user who checks
only a mixing. Every one is finite wherever g(x) exists, also where the ELBO is -inf (a Moebius
decoder in d <= 2).

OPTIONS:
    --x X.npy          observations, shape (N, D)
    --out DIR          output folder, new or empty (written all or none)
    --force            write into a non-empty DIR: files of the same name are replaced, others stay
    --threads N        worker threads, 1 to 1024 (default: all cores); results do not depend on it
    --allow-refusals   where g(x) does not exist, write NaN (status_flow 5) instead of failing
    --max-elements N, --max-dim N
                       raise the limits on array entries and model dimension (ima-oracle --help)

A summary goes to stdout.";

/// The shape of one output per point.
#[derive(Clone, Copy)]
pub enum PerPoint {
    /// A number.
    Scalar,
    /// A latent vector (d).
    Latent,
    /// The Jacobian (D, d), row-major.
    Jacobian,
}

impl PerPoint {
    /// Entries per point and the array's shape for n points.
    pub fn layout(self, n: usize, d: usize, dd: usize) -> (usize, Vec<usize>) {
        match self {
            PerPoint::Scalar => (1, vec![n]),
            PerPoint::Latent => (d, vec![n, d]),
            PerPoint::Jacobian => (dd * d, vec![n, dd, d]),
        }
    }
}

/// One flow output: its name, its shape per point, and how to read it.
type FlowColumn = (&'static str, PerPoint, fn(&FlowQuantities) -> Vec<f64>);

/// The flow arrays, in order (the first columns of `eval` too).
const FLOW_COLUMNS: [FlowColumn; 7] = [
    ("g", PerPoint::Latent, |p| p.g.as_slice().to_vec()),
    ("jacobian", PerPoint::Jacobian, |p| {
        let (dd, d) = p.jacobian.shape();
        (0..dd)
            .flat_map(|i| (0..d).map(move |k| p.jacobian[(i, k)]))
            .collect()
    }),
    ("log_abs_det", PerPoint::Scalar, |p| vec![p.log_abs_det]),
    ("column_norms", PerPoint::Latent, |p| {
        p.column_norms().as_slice().to_vec()
    }),
    ("c_ima", PerPoint::Scalar, |p| vec![p.c_ima]),
    ("log_flow", PerPoint::Scalar, |p| vec![p.log_flow]),
    ("l_ima", PerPoint::Scalar, |p| vec![p.l_ima()]),
];

/// Adds the flow arrays and `status_flow` for every point (NaN, and the failure's code, where g(x)
/// does not exist).
pub fn add_flow_columns(
    o: &mut Output,
    flows: &[Result<&FlowQuantities, &OracleError>],
    d: usize,
    dd: usize,
) {
    let n = flows.len();
    for (name, per_point, get) in FLOW_COLUMNS {
        let (k, shape) = per_point.layout(n, d, dd);
        let data = flows
            .iter()
            .flat_map(|r| r.map(get).unwrap_or_else(|_| vec![f64::NAN; k]))
            .collect();
        o.add(name, shape, data);
    }
    let codes = flows
        .iter()
        .map(|r| r.map_or_else(status::error_code, |_| status::COMPUTED))
        .collect();
    o.add("status_flow", vec![n], codes);
}

/// Runs `flow` on the arguments after the command name: the summary, or the error.
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
    let model = load_model(&model_path, &limits)?;
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    let xs = read_points(&x_path, "x", dd, &limits)?;
    let n = xs.nrows();
    check_output_size(
        "jacobian.npy",
        n as u64,
        (dd as u64).saturating_mul(d as u64),
        &limits,
    )?;
    let results = par_map(
        n,
        threads,
        || vec![0.0; dd],
        |i, x| {
            x.iter_mut()
                .zip(xs.row(i).iter())
                .for_each(|(a, b)| *a = *b);
            flow_quantities(&model, x)
        },
    );
    first_refusal(
        &model,
        &xs,
        &results,
        ("g(x)", "points without g(x) are NaN (status_flow 5)"),
        allow,
    )?;
    let flows: Vec<_> = results.iter().map(|r| r.as_ref()).collect();
    let mut o = Output::default();
    add_flow_columns(&mut o, &flows, d, dd);
    o.write_into(out.path()).map_err(|e| out.failed(e))?;
    let target = out.target().display().to_string();
    out.commit()?;
    let ok: Vec<&FlowQuantities> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let mean = |f: fn(&FlowQuantities) -> f64| {
        ok.iter().map(|p| f(p)).sum::<f64>() / ok.len().max(1) as f64
    };
    Ok(format!(
        "{n} points ({} without g(x)) -> {target}\n  mean c_IMA {:.6e}\n  mean log p_flow {:.12e}\n  mean L_IMA {:.12e}",
        n - ok.len(),
        mean(|p| p.c_ima),
        mean(|p| p.log_flow),
        mean(|p| p.l_ima()),
    ))
}
