//! Model folders: a plain-text manifest `model.txt` and `.npy` arrays (format documented in
//! `docs/model-format.md`, version 1).
//!
//! ```text
//! ima-oracle model 1
//! dim 3                                  # latent dimension d; D follows from the steps
//! prior gaussian 1.0                     # gaussian VARIANCE | logistic SCALE
//! step linear W1.npy b1.npy              # W stored (out, in) like torch.nn.Linear.weight; bias optional
//! step leaky_softplus 0.2                # alpha
//! step moebius 1.0 A.npy a.npy b.npy     # alpha, orthogonal A, pole a, shift b
//! ```
//!
//! One directive per line, steps applied top to bottom; `#` starts a comment; paths are relative to
//! the manifest. Every error names the file, the line and the problem.

use crate::io::npy::{self, NpyArray, NpyError};
use crate::model::Model;
use crate::model::Prior;
use crate::model::{Affine, Decoder, LeakySoftplus, Moebius, Step};
use nalgebra::{DMatrix, DVector};
use std::fmt;
use std::path::{Path, PathBuf};

/// The manifest's first line.
pub const MAGIC_LINE: &str = "ima-oracle model 1";

/// An error loading or saving a model folder.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFileError {
    /// The file concerned (the manifest or an array).
    pub path: PathBuf,
    /// The manifest line (1-based), when the problem is tied to one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ModelFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ModelFileError {}

/// The manifest path of a model folder (or the file itself if `path` names a file).
fn manifest_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("model.txt")
    } else {
        path.to_path_buf()
    }
}

/// Loads a model from a folder holding `model.txt` (or from the manifest's path).
pub fn load_model(path: impl AsRef<Path>) -> Result<Model, ModelFileError> {
    let manifest = manifest_path(path.as_ref());
    let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let err = |line: Option<usize>, message: String| ModelFileError {
        path: manifest.clone(),
        line,
        message,
    };
    let text = std::fs::read_to_string(&manifest).map_err(|e| err(None, e.to_string()))?;
    let mut dim: Option<usize> = None;
    let mut prior: Option<Prior> = None;
    let mut steps: Vec<Step> = Vec::new();
    let mut current_dim = 0usize;
    let mut saw_magic = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if !saw_magic {
            if line != MAGIC_LINE {
                return Err(err(
                    Some(line_no),
                    format!("expected the header '{MAGIC_LINE}', found '{line}'"),
                ));
            }
            saw_magic = true;
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = |m: String| err(Some(line_no), m);
        let number = |w: Option<&&str>, what: &str| -> Result<f64, ModelFileError> {
            let w = w.ok_or_else(|| at(format!("missing {what}")))?;
            let v: f64 = w
                .parse()
                .map_err(|_| at(format!("{what} '{w}' is not a number")))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(at(format!("{what} '{w}' is not finite")))
            }
        };
        let array = |name: Option<&&str>, what: &str| -> Result<NpyArray, ModelFileError> {
            let name = name.ok_or_else(|| at(format!("missing the file of {what}")))?;
            let p = dir.join(name);
            let a = npy::read_npy(&p).map_err(|e: NpyError| ModelFileError {
                path: p.clone(),
                line: None,
                message: format!(
                    "{} (named on line {line_no} of {})",
                    e.kind_message(),
                    manifest.display()
                ),
            })?;
            if let Some(k) = a.first_non_finite() {
                return Err(ModelFileError {
                    path: p,
                    line: None,
                    message: format!("entry {k} is NaN or infinite"),
                });
            }
            Ok(a)
        };
        let extra = |n: usize| -> Result<(), ModelFileError> {
            if words.len() > n {
                Err(at(format!("unexpected '{}'", words[n..].join(" "))))
            } else {
                Ok(())
            }
        };
        match words[0] {
            "dim" => {
                extra(2)?;
                if dim.is_some() {
                    return Err(at("'dim' given twice".into()));
                }
                let d = words
                    .get(1)
                    .and_then(|w| w.parse::<usize>().ok())
                    .filter(|&d| d > 0)
                    .ok_or_else(|| at("'dim' needs a positive integer".into()))?;
                dim = Some(d);
                current_dim = d;
            }
            "prior" => {
                extra(3)?;
                if prior.is_some() {
                    return Err(at("'prior' given twice".into()));
                }
                let v = number(words.get(2), "the prior's parameter")?;
                prior = Some(
                    match words.get(1).copied() {
                        Some("gaussian") => Prior::gaussian(v),
                        Some("logistic") => Prior::logistic(v),
                        other => {
                            return Err(at(format!(
                                "unknown prior '{}' (gaussian VARIANCE | logistic SCALE)",
                                other.unwrap_or("")
                            )))
                        }
                    }
                    .map_err(|e| at(e.to_string()))?,
                );
            }
            "step" => {
                if dim.is_none() {
                    return Err(at("'dim' must come before the first step".into()));
                }
                let step: Step = match words.get(1).copied() {
                    Some("linear") => {
                        extra(4)?;
                        let w = array(words.get(2), "the weight W")?;
                        let w = match *w.shape() {
                            [o, i] => DMatrix::from_row_slice(o, i, w.data()),
                            _ => {
                                return Err(at(format!(
                                    "W must be 2-d (out, in), found shape {:?}",
                                    w.shape()
                                )))
                            }
                        };
                        let b = match words.get(3) {
                            Some(_) => {
                                let b = array(words.get(3), "the bias b")?;
                                if b.shape().len() != 1 {
                                    return Err(at(format!(
                                        "the bias must be 1-d, found shape {:?}",
                                        b.shape()
                                    )));
                                }
                                Some(DVector::from_column_slice(b.data()))
                            }
                            None => None,
                        };
                        Affine::new(w, b).map_err(|e| at(e.to_string()))?.into()
                    }
                    Some("leaky_softplus") => {
                        extra(3)?;
                        let a = number(words.get(2), "alpha")?;
                        LeakySoftplus::new(current_dim, a)
                            .map_err(|e| at(e.to_string()))?
                            .into()
                    }
                    Some("moebius") => {
                        extra(6)?;
                        let alpha = number(words.get(2), "alpha")?;
                        let a = array(words.get(3), "the orthogonal matrix A")?;
                        let a = match *a.shape() {
                            [n, m] if n == m => DMatrix::from_row_slice(n, n, a.data()),
                            _ => {
                                return Err(at(format!(
                                    "A must be square, found shape {:?}",
                                    a.shape()
                                )))
                            }
                        };
                        let pole = array(words.get(4), "the pole a")?;
                        let shift = array(words.get(5), "the shift b")?;
                        Moebius::new(
                            alpha,
                            a,
                            DVector::from_column_slice(pole.data()),
                            DVector::from_column_slice(shift.data()),
                        )
                        .map_err(|e| at(e.to_string()))?
                        .into()
                    }
                    other => {
                        return Err(at(format!(
                            "unknown step '{}' (linear | leaky_softplus | moebius)",
                            other.unwrap_or("")
                        )))
                    }
                };
                if step.dim_in() != current_dim {
                    return Err(at(format!(
                        "this {} step takes inputs of dimension {}, but the previous output has dimension {current_dim}",
                        step.name(),
                        step.dim_in()
                    )));
                }
                current_dim = step.dim_out();
                steps.push(step);
            }
            other => {
                return Err(at(format!(
                    "unknown directive '{other}' (dim | prior | step)"
                )))
            }
        }
    }
    if !saw_magic {
        return Err(err(
            None,
            format!("empty manifest (expected '{MAGIC_LINE}')"),
        ));
    }
    let dim = dim.ok_or_else(|| err(None, "no 'dim' line".into()))?;
    let prior = prior.ok_or_else(|| err(None, "no 'prior' line".into()))?;
    let decoder = Decoder::new(dim, steps).map_err(|e| err(None, e.to_string()))?;
    Model::new(prior, decoder).map_err(|e| err(None, e.to_string()))
}

/// Writes `model` as a folder `dir` (created if needed): `model.txt` and one `.npy` per array
/// (`W{l}.npy`, `b{l}.npy`, `A{l}.npy`, `a{l}.npy`, `bshift{l}.npy`, l the 0-based step). Every file
/// is written atomically.
pub fn save_model(model: &Model, dir: impl AsRef<Path>) -> Result<(), ModelFileError> {
    let dir = dir.as_ref();
    let io = |p: &Path, e: String| ModelFileError {
        path: p.to_path_buf(),
        line: None,
        message: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e.to_string()))?;
    let mut text = format!("{MAGIC_LINE}\ndim {}\n", model.dim_latent());
    text += &match *model.prior() {
        Prior::Gaussian { variance } => format!("prior gaussian {variance:?}\n"),
        Prior::Logistic { scale } => format!("prior logistic {scale:?}\n"),
    };
    let write = |name: String, a: NpyArray| -> Result<String, ModelFileError> {
        let p = dir.join(&name);
        npy::write_npy(&p, &a).map_err(|e| io(&p, e.to_string()))?;
        Ok(name)
    };
    for (l, step) in model.decoder().steps().iter().enumerate() {
        match step {
            Step::Affine(a) => {
                let w = write(format!("W{l}.npy"), NpyArray::from_matrix(a.weight()))?;
                let b = write(format!("b{l}.npy"), NpyArray::from_vector(a.bias()))?;
                text += &format!("step linear {w} {b}\n");
            }
            Step::LeakySoftplus(s) => text += &format!("step leaky_softplus {:?}\n", s.alpha()),
            Step::Moebius(m) => {
                let a = write(format!("A{l}.npy"), NpyArray::from_matrix(m.rotation()))?;
                let p = write(format!("a{l}.npy"), NpyArray::from_vector(m.pole()))?;
                let s = write(format!("bshift{l}.npy"), NpyArray::from_vector(m.shift()))?;
                text += &format!("step moebius {:?} {a} {p} {s}\n", m.alpha());
            }
        }
    }
    let manifest = dir.join("model.txt");
    npy::write_atomic(&manifest, text.as_bytes()).map_err(|e| io(&manifest, e.to_string()))
}
