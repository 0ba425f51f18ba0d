//! `--source NAME`: the law the sources z are drawn from (`sample`) or tested against (`check`).

use crate::args::{usage, ArgResult};
use ima_oracle::{Prior, Source};

/// The names `--source` takes, as the help texts list them.
pub const SOURCE_NAMES: &str =
    "prior (default: the model's prior) | gaussian (N(0,1)) | logistic (scale 1) | uniform (on [-1/2, 1/2]) | beta (Beta(2, 2) - 1/2) | laplace (scale 1)";

/// The source named `name` (`None` or "prior": `prior`, the model's); an unknown name is a usage
/// error — checked before the model is loaded by passing any prior.
pub fn source(name: Option<&str>, prior: Prior) -> ArgResult<Source> {
    let built = match name.unwrap_or("prior") {
        "prior" => Ok(Source::Prior(prior)),
        "gaussian" => Ok(Source::Prior(Prior::standard_normal())),
        "logistic" => Prior::logistic(1.0).map(Source::Prior),
        "uniform" => Source::uniform(-0.5, 0.5),
        "beta" => Source::beta(2.0, 2.0),
        "laplace" => Source::laplace(1.0),
        other => {
            return Err(usage(format!(
                "--source: unknown source '{}' ({SOURCE_NAMES})",
                ima_oracle::io::shown(other)
            )))
        }
    };
    built.map_err(|e| format!("--source: {e}"))
}
