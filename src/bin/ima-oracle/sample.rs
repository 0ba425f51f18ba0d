//! `ima-oracle sample`: sources z and observations x = f(z) from a model.

use crate::args::Args;
use crate::output::Output;
use ima_oracle::generate::rng;
use ima_oracle::io::model_file::load_model;
use ima_oracle::{Prior, Source};

pub const HELP: &str = "\
ima-oracle sample — draw sources z and observations x = f(z)

USAGE:
    ima-oracle sample MODEL --n N --out DIR [--seed S] [--source NAME]

OPTIONS:
    --n N            number of points (rows)
    --out DIR        output folder: z.npy (N, d) and x.npy (N, D), float64
    --seed S         seed of the ChaCha8 generator (default 0); same seed, same numbers
    --source NAME    prior (default: the model's prior) | gaussian (N(0,1)) | logistic (scale 1)
                     | uniform (on [-1/2, 1/2]) | beta (Beta(2, 2) - 1/2) | laplace (scale 1)

Coordinates are drawn in row-major order from one generator. A draw that hits a decoder pole
(probability zero) is an error.";

pub fn run(raw: &[String]) -> Result<String, String> {
    let a = Args::parse(raw, &["n", "out", "seed", "source"], &[])?;
    if a.help {
        return Ok(HELP.into());
    }
    let model = load_model(a.model()?).map_err(|e| e.to_string())?;
    let n = a.u64_or("n", None)? as usize;
    let out = a.path("out")?;
    let seed = a.u64_or("seed", Some(0))?;
    let source = match a.get("source").unwrap_or("prior") {
        "prior" => Source::Prior(*model.prior()),
        "gaussian" => Source::Prior(Prior::standard_normal()),
        "logistic" => Source::Prior(Prior::logistic(1.0).expect("valid")),
        "uniform" => Source::uniform(-0.5, 0.5).expect("valid"),
        "beta" => Source::beta(2.0, 2.0).expect("valid"),
        "laplace" => Source::laplace(1.0).expect("valid"),
        other => return Err(format!("--source: unknown source '{other}'")),
    };
    let (d, dd) = (model.dim_latent(), model.dim_observed());
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
    o.write(&out)?;
    Ok(format!(
        "sampled {n} points from the {} source: {}/z.npy ({n}, {d}), {}/x.npy ({n}, {dd})",
        source.name(),
        out.display(),
        out.display()
    ))
}
