//! Loading a model folder: the manifest is read line by line by a [`Parser`] that knows where it is
//! (manifest, folder, line) and what the lines so far have said (dimension, prior, steps); each
//! directive — `dim`, `prior`, `step linear`, `step leaky_softplus`, `step moebius` — has its own
//! function, and every error names the file and the line.

use super::{ModelFileError, MAGIC_LINE};
use crate::io::npy::{self, NpyArray};
use crate::model::{Affine, Decoder, LeakySoftplus, Model, Moebius, Prior, Step};

use nalgebra::{DMatrix, DVector};
use std::path::{Path, PathBuf};

/// Loads a model from a folder holding `model.txt` (or from the manifest's path).
pub fn load_model(path: impl AsRef<Path>) -> Result<Model, ModelFileError> {
    let mut p = Parser::new(manifest_path(path.as_ref()));
    let text = std::fs::read_to_string(&p.manifest).map_err(|e| p.file_error(e.to_string()))?;
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, raw)| (i + 1, raw.split('#').next().unwrap_or("").trim()))
        .filter(|(_, line)| !line.is_empty());
    let Some((line_no, header)) = lines.next() else {
        return Err(p.file_error(format!("empty manifest (expected '{MAGIC_LINE}')")));
    };
    p.line = line_no;
    if header != MAGIC_LINE {
        return Err(p.at(format!(
            "expected the header '{MAGIC_LINE}', found '{header}'"
        )));
    }
    for (line_no, line) in lines {
        p.line = line_no;
        let words: Vec<&str> = line.split_whitespace().collect();
        p.directive(&words)?;
    }
    p.finish()
}

/// The manifest path of a model folder (or the file itself if `path` names a file).
fn manifest_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("model.txt")
    } else {
        path.to_path_buf()
    }
}

/// Where the parser is in the manifest, and what the manifest has said so far.
struct Parser {
    /// The manifest's path.
    manifest: PathBuf,
    /// The folder array paths are relative to.
    folder: PathBuf,
    /// The current line (1-based).
    line: usize,
    /// The `dim` directive's value, once seen.
    dim: Option<usize>,
    /// The `prior` directive's value, once seen.
    prior: Option<Prior>,
    /// The steps so far.
    steps: Vec<Step>,
    /// The output dimension of the last step (`dim` before the first step).
    current_dim: usize,
}

impl Parser {
    /// A parser at the start of `manifest`.
    fn new(manifest: PathBuf) -> Self {
        let folder = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
        Parser {
            manifest,
            folder,
            line: 0,
            dim: None,
            prior: None,
            steps: Vec::new(),
            current_dim: 0,
        }
    }

    /// An error at the current line of the manifest.
    fn at(&self, message: String) -> ModelFileError {
        ModelFileError::new(&self.manifest, Some(self.line), message)
    }

    /// An error about the manifest as a whole.
    fn file_error(&self, message: String) -> ModelFileError {
        ModelFileError::new(&self.manifest, None, message)
    }

    /// Refuses words beyond the first `n` arguments of a directive.
    fn at_most(&self, args: &[&str], n: usize) -> Result<(), ModelFileError> {
        if args.len() > n {
            Err(self.at(format!("unexpected '{}'", args[n..].join(" "))))
        } else {
            Ok(())
        }
    }

    /// A finite number from the word `word`, `what` naming it in errors.
    fn number(&self, word: Option<&str>, what: &str) -> Result<f64, ModelFileError> {
        let w = word.ok_or_else(|| self.at(format!("missing {what}")))?;
        let v: f64 = w
            .parse()
            .map_err(|_| self.at(format!("{what} '{w}' is not a number")))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.at(format!("{what} '{w}' is not finite")))
        }
    }

    /// The array of finite numbers in the file `name` (relative to the folder); errors about the
    /// file name it and the manifest line that named it.
    fn array(&self, name: Option<&str>, what: &str) -> Result<NpyArray, ModelFileError> {
        let name = name.ok_or_else(|| self.at(format!("missing the file of {what}")))?;
        let p = self.folder.join(name);
        let a = npy::read_npy(&p).map_err(|e| {
            let message = format!(
                "{} (named on line {} of {})",
                e.kind_message(),
                self.line,
                self.manifest.display()
            );
            ModelFileError::new(&p, None, message)
        })?;
        if let Some(k) = a.first_non_finite() {
            return Err(ModelFileError::new(
                &p,
                None,
                format!("entry {k} is NaN or infinite"),
            ));
        }
        Ok(a)
    }

    /// One manifest line after the header, split into words (at least one).
    fn directive(&mut self, words: &[&str]) -> Result<(), ModelFileError> {
        let (directive, args) = words.split_first().unwrap_or((&"", &[]));
        match *directive {
            "dim" => self.dim(args),
            "prior" => self.prior(args),
            "step" => self.step(args),
            other => Err(self.at(format!("unknown directive '{other}' (dim | prior | step)"))),
        }
    }

    /// `dim D`: the latent dimension, a positive integer, once.
    fn dim(&mut self, args: &[&str]) -> Result<(), ModelFileError> {
        self.at_most(args, 1)?;
        if self.dim.is_some() {
            return Err(self.at("'dim' given twice".into()));
        }
        let d = args
            .first()
            .and_then(|w| w.parse::<usize>().ok())
            .filter(|&d| d > 0)
            .ok_or_else(|| self.at("'dim' needs a positive integer".into()))?;
        self.dim = Some(d);
        self.current_dim = d;
        Ok(())
    }

    /// `prior gaussian VARIANCE` or `prior logistic SCALE`, once.
    fn prior(&mut self, args: &[&str]) -> Result<(), ModelFileError> {
        self.at_most(args, 2)?;
        if self.prior.is_some() {
            return Err(self.at("'prior' given twice".into()));
        }
        let v = self.number(args.get(1).copied(), "the prior's parameter")?;
        let prior = match args.first().copied() {
            Some("gaussian") => Prior::gaussian(v),
            Some("logistic") => Prior::logistic(v),
            other => {
                return Err(self.at(format!(
                    "unknown prior '{}' (gaussian VARIANCE | logistic SCALE)",
                    other.unwrap_or("")
                )))
            }
        };
        self.prior = Some(prior.map_err(|e| self.at(e.to_string()))?);
        Ok(())
    }

    /// `step KIND …`: the next step, whose input dimension must be the last one's output.
    fn step(&mut self, args: &[&str]) -> Result<(), ModelFileError> {
        if self.dim.is_none() {
            return Err(self.at("'dim' must come before the first step".into()));
        }
        let (kind, args) = args.split_first().unwrap_or((&"", &[]));
        let step = match *kind {
            "linear" => self.step_linear(args)?,
            "leaky_softplus" => self.step_leaky_softplus(args)?,
            "moebius" => self.step_moebius(args)?,
            other => {
                return Err(self.at(format!(
                    "unknown step '{other}' (linear | leaky_softplus | moebius)"
                )))
            }
        };
        if step.dim_in() != self.current_dim {
            return Err(self.at(format!(
                "this {} step takes inputs of dimension {}, but the previous output has dimension {}",
                step.name(),
                step.dim_in(),
                self.current_dim
            )));
        }
        self.current_dim = step.dim_out();
        self.steps.push(step);
        Ok(())
    }

    /// `step linear W.npy [b.npy]`: W of shape (out, in), b 1-d of length out (zero if omitted).
    fn step_linear(&self, args: &[&str]) -> Result<Step, ModelFileError> {
        self.at_most(args, 2)?;
        let w = self.array(args.first().copied(), "the weight W")?;
        let w = match *w.shape() {
            [o, i] => DMatrix::from_row_slice(o, i, w.data()),
            _ => {
                return Err(self.at(format!(
                    "W must be 2-d (out, in), found shape {:?}",
                    w.shape()
                )))
            }
        };
        let b = match args.get(1) {
            Some(&name) => {
                let b = self.array(Some(name), "the bias b")?;
                if b.shape().len() != 1 {
                    return Err(
                        self.at(format!("the bias must be 1-d, found shape {:?}", b.shape()))
                    );
                }
                Some(DVector::from_column_slice(b.data()))
            }
            None => None,
        };
        Ok(Affine::new(w, b)
            .map_err(|e| self.at(e.to_string()))?
            .into())
    }

    /// `step leaky_softplus ALPHA`: elementwise, keeping the current dimension.
    fn step_leaky_softplus(&self, args: &[&str]) -> Result<Step, ModelFileError> {
        self.at_most(args, 1)?;
        let alpha = self.number(args.first().copied(), "alpha")?;
        let s = LeakySoftplus::new(self.current_dim, alpha).map_err(|e| self.at(e.to_string()))?;
        Ok(s.into())
    }

    /// `step moebius ALPHA A.npy a.npy b.npy`: A square (and orthogonal), pole a, shift b.
    fn step_moebius(&self, args: &[&str]) -> Result<Step, ModelFileError> {
        self.at_most(args, 4)?;
        let alpha = self.number(args.first().copied(), "alpha")?;
        let a = self.array(args.get(1).copied(), "the orthogonal matrix A")?;
        let a = match *a.shape() {
            [n, m] if n == m => DMatrix::from_row_slice(n, n, a.data()),
            _ => return Err(self.at(format!("A must be square, found shape {:?}", a.shape()))),
        };
        let pole = self.array(args.get(2).copied(), "the pole a")?;
        let shift = self.array(args.get(3).copied(), "the shift b")?;
        let m = Moebius::new(
            alpha,
            a,
            DVector::from_column_slice(pole.data()),
            DVector::from_column_slice(shift.data()),
        )
        .map_err(|e| self.at(e.to_string()))?;
        Ok(m.into())
    }

    /// The model, once every line has been read: `dim` and `prior` must have been given.
    fn finish(mut self) -> Result<Model, ModelFileError> {
        let dim = self
            .dim
            .ok_or_else(|| self.file_error("no 'dim' line".into()))?;
        let prior = self
            .prior
            .ok_or_else(|| self.file_error("no 'prior' line".into()))?;
        let steps = std::mem::take(&mut self.steps);
        let decoder = Decoder::new(dim, steps).map_err(|e| self.file_error(e.to_string()))?;
        Model::new(prior, decoder).map_err(|e| self.file_error(e.to_string()))
    }
}
