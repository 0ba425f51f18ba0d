//! Writing a model folder: `model.txt` and one `.npy` per array, every file written atomically.

use super::{ModelFileError, MAGIC_LINE};
use crate::io::npy::{self, NpyArray};
use crate::model::{Model, Prior, Step};

use std::path::Path;

/// Writes `a` as `dir/name` (atomically); returns `name`.
pub(super) fn write_array(dir: &Path, name: String, a: NpyArray) -> Result<String, ModelFileError> {
    let p = dir.join(&name);
    npy::write_npy(&p, &a).map_err(|e| ModelFileError::new(&p, None, e.to_string()))?;
    Ok(name)
}

/// The manifest line of `step`, writing its arrays into `dir` with names ending in `tag`
/// (`W{tag}.npy`, `b{tag}.npy`, `A{tag}.npy`, `a{tag}.npy`, `bshift{tag}.npy`).
pub(super) fn step_line(step: &Step, tag: &str, dir: &Path) -> Result<String, ModelFileError> {
    let write = |name: String, a: NpyArray| write_array(dir, name, a);
    Ok(match step {
        Step::Affine(a) => {
            let w = write(format!("W{tag}.npy"), NpyArray::from_matrix(a.weight()))?;
            let b = write(format!("b{tag}.npy"), NpyArray::from_vector(a.bias()))?;
            format!("step linear {w} {b}\n")
        }
        Step::LeakySoftplus(s) => format!("step leaky_softplus {:?}\n", s.alpha()),
        Step::Sigmoid(_) => "step sigmoid\n".to_string(),
        Step::Tanh(_) => "step tanh\n".to_string(),
        Step::LeakyRelu(s) => format!("step leaky_relu {:?}\n", s.slope()),
        Step::Moebius(m) => {
            let a = write(format!("A{tag}.npy"), NpyArray::from_matrix(m.rotation()))?;
            let p = write(format!("a{tag}.npy"), NpyArray::from_vector(m.pole()))?;
            let s = write(format!("bshift{tag}.npy"), NpyArray::from_vector(m.shift()))?;
            format!("step moebius {:?} {a} {p} {s}\n", m.alpha())
        }
    })
}

/// Writes `model` as a folder `dir` (created if needed): `model.txt` and one `.npy` per array
/// (`W{l}.npy`, `b{l}.npy`, `A{l}.npy`, `a{l}.npy`, `bshift{l}.npy`, l the 0-based step). Every file
/// is written atomically.
pub fn save_model(model: &Model, dir: impl AsRef<Path>) -> Result<(), ModelFileError> {
    let dir = dir.as_ref();
    let io = |p: &Path, e: String| ModelFileError::new(p, None, e);
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e.to_string()))?;
    let mut text = format!("{MAGIC_LINE}\ndim {}\n", model.dim_latent());
    text += &match *model.prior() {
        Prior::Gaussian { variance } => format!("prior gaussian {variance:?}\n"),
        Prior::Logistic { scale } => format!("prior logistic {scale:?}\n"),
        Prior::BetaLogistic { a, b } => format!("prior beta-logistic {a:?} {b:?}\n"),
    };
    for (l, step) in model.decoder().steps().iter().enumerate() {
        text += &step_line(step, &format!("{l}"), dir)?;
    }
    let manifest = dir.join("model.txt");
    npy::write_atomic(&manifest, text.as_bytes()).map_err(|e| io(&manifest, e.to_string()))
}
