//! `ima-oracle sample`: sources z and observations x = f(z) from a model.

use crate::args::{usage, Args, LIMIT_FLAGS};
use crate::model_arg::load_model;
use crate::outdir::OutDir;
use crate::output::{check_output_size, Output};
use crate::source_arg::source;
use ima_oracle::generate::rng;
use ima_oracle::Prior;

pub const HELP: &str = "\
ima-oracle sample — draw sources z and observations x = f(z)

USAGE:
    ima-oracle sample MODEL --n N --out DIR [--seed S] [--source NAME] [--force]

OPTIONS:
    --n N            number of points (rows), >= 1
    --out DIR        output folder: z.npy (N, d) and x.npy (N, D), float64; must be new or empty
    --force          write into a non-empty DIR: files of the same name are replaced, others stay
    --seed S         seed of the ChaCha8 generator (default 0); same seed, same numbers
    --source NAME    prior (default: the model's prior) | gaussian (N(0,1)) | logistic (scale 1)
                     | uniform (on [-1/2, 1/2]) | beta (Beta(2, 2) - 1/2) | laplace (scale 1)
    --max-elements N, --max-dim N
                     raise the limits on array entries and model dimension (ima-oracle --help)

Coordinates are drawn in row-major order from one generator. A draw that hits a decoder pole
(probability zero) is an error.";

/// Runs `sample` on the arguments after the command name: the summary, or the error.
pub fn run(raw: &[String]) -> Result<String, String> {
    let mut known = vec!["n", "out", "seed", "source"];
    known.extend(LIMIT_FLAGS);
    let a = Args::parse(raw, &known, &["force"])?;
    if a.help {
        return Ok(HELP.into());
    }
    // Every flag first, then the files, then the work.
    let model_path = a.model()?;
    let n = a.count_in("n", None, (1, u64::MAX), "")?;
    let seed = a.u64_or("seed", Some(0))?;
    source(a.get("source"), Prior::standard_normal())?;
    let limits = a.limits()?;
    let out = OutDir::prepare(&a.path("out")?, a.switch("force"))?;
    let model = load_model(&model_path, &limits)?;
    let source = source(a.get("source"), *model.prior())?;
    let (d, dd) = (model.dim_latent(), model.dim_observed());
    for (file, k) in [("z.npy", d), ("x.npy", dd)] {
        check_output_size(file, n, k as u64, &limits)
            .map_err(|e| usage(format!("--n {n}: {e}")))?;
    }
    // n·D entries fit the limit, so n fits a usize and the vectors below may be allocated.
    let n = n as usize;
    let mut r = rng(seed);
    let mut zs = Vec::with_capacity(n * d);
    let mut xs = Vec::with_capacity(n * dd);
    for i in 0..n {
        let z: Vec<f64> = (0..d).map(|_| source.sample_1d(&mut r)).collect();
        let x = model
            .decoder()
            .forward(&nalgebra::DVector::from_vec(z.clone()))
            .map_err(|e| format!("point {i}: {e}"))?;
        zs.extend(z);
        xs.extend(x.iter());
    }
    let mut o = Output::default();
    o.add("z", vec![n, d], zs);
    o.add("x", vec![n, dd], xs);
    o.write_into(out.path()).map_err(|e| out.failed(e))?;
    let shown = out.target().display().to_string();
    out.commit()?;
    Ok(format!(
        "sampled {n} points from the {} source: {shown}/z.npy ({n}, {d}), {shown}/x.npy ({n}, {dd})",
        source.name(),
    ))
}
