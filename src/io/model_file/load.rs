//! Loading a model folder: the manifest is read (bounded, see `manifest.rs`) and then line by line
//! by a [`Parser`] that knows where it is (manifest, folder, line) and what the lines so far have
//! said (dimension, prior, steps); each directive — `dim`, `prior`, `step linear`,
//! `step leaky_softplus`, `step moebius`, `step sigmoid`, `step tanh`, `step leaky_relu` — has its
//! own function, and every error names the file and
//! the line, shows the words it quotes with invisible characters escaped, and names any limit of
//! [`Limits`] it hit.

use super::manifest::{lines, read_manifest};
use super::{ModelFileError, ENCODER_MAGIC_LINE, MAGIC_LINE};
use crate::io::npy::{self, shape_text, NpyArray};
use crate::io::{invisible_note, shown, Limits, RAISE_DIM, RAISE_ELEMENTS};
use crate::model::{
    Affine, Decoder, LeakyRelu, LeakySoftplus, Model, Moebius, Prior, Sigmoid, Step, Tanh,
};
use crate::tol::{ORTHOGONALITY_TOL, ORTHOGONALITY_TOL_F32_PER_DIM};
use crate::vae::{Layer, Linear, Network};

use nalgebra::{DMatrix, DVector};
use std::path::{Path, PathBuf};

/// Loads a model from a folder holding `model.txt` (or from the manifest's path), within the
/// default [`Limits`].
pub fn load_model(path: impl AsRef<Path>) -> Result<Model, ModelFileError> {
    load_model_with(path, &Limits::default())
}

/// Loads a model whose dimensions are at most `limits.max_dim` and whose arrays hold at most
/// `limits.max_elements` entries together.
pub fn load_model_with(path: impl AsRef<Path>, limits: &Limits) -> Result<Model, ModelFileError> {
    load_model_with_notes(path, limits).map(|(model, _)| model)
}

/// As [`load_model_with`], and the notes on what the loader changed: one per Möbius `A` stored as
/// float32 that was orthogonal only to float32 round-off and has been replaced by its nearest
/// orthogonal matrix (docs/model-format.md, "Float32 parameters"). Each note names the manifest
/// line, the file, the departure found and the largest change made.
pub fn load_model_with_notes(
    path: impl AsRef<Path>,
    limits: &Limits,
) -> Result<(Model, Vec<String>), ModelFileError> {
    let p = parse(manifest_path(path.as_ref()), Kind::Model, limits)?;
    p.finish_model()
}

/// The names (file stems, without `.npy`) of the learnable arrays of a network, layer by layer:
/// for each linear layer `[W, b]`, as the manifest names them; a bias the manifest omits is named
/// `b{l}` (`enc_b{l}` in an encoder) after the 0-based layer l.
pub type ArrayNames = Vec<[String; 2]>;

/// Loads an encoder manifest (`encoder.txt` of a VAE folder, docs/vae-format.md): the network and
/// the names of its arrays. Unlike a model's affine steps, the encoder's linear layers need not
/// have full rank (they are learnable parameters, not an invertible map).
pub fn load_encoder_with(
    path: &Path,
    limits: &Limits,
) -> Result<(Network, ArrayNames), ModelFileError> {
    let p = parse(path.to_path_buf(), Kind::Encoder, limits)?;
    p.finish_encoder()
}

/// The decoder of a model manifest as a network (affine steps become learnable linear layers), its
/// prior, the names of its arrays and the entries they hold (what is left of
/// `limits.max_elements` is the encoder's).
pub(crate) fn load_decoder_network_with(
    path: &Path,
    limits: &Limits,
) -> Result<(Prior, Network, ArrayNames, u64, Vec<String>), ModelFileError> {
    let p = parse(manifest_path(path), Kind::Model, limits)?;
    let (names, entries) = (p.names.clone(), p.entries);
    let (model, notes) = p.finish_model()?;
    let network = Network::from_decoder(model.decoder());
    Ok((*model.prior(), network, names, entries, notes))
}

/// Reads the manifest at `manifest` of the given kind, line by line.
fn parse(manifest: PathBuf, kind: Kind, limits: &Limits) -> Result<Parser, ModelFileError> {
    let mut p = Parser::new(manifest, kind, *limits);
    let magic = kind.magic();
    let text = read_manifest(&p.manifest)?;
    let mut lines = lines(&text);
    let Some(header) = lines.next() else {
        return Err(p.file_error(format!("empty manifest (expected '{magic}')")));
    };
    p.line = header.number;
    if header.text != magic {
        return Err(p.at(with_note(
            format!(
                "expected the header '{magic}', found '{}'",
                shown(header.text)
            ),
            header.text,
        )));
    }
    for line in lines {
        p.line = line.number;
        p.directive(&line.words()).map_err(|e| {
            let message = with_note(e.message.clone(), line.text);
            e.with_message(message)
        })?;
    }
    Ok(p)
}

/// What a manifest describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A model: prior and decoder (`model.txt`).
    Model,
    /// The encoder network of a VAE folder (`encoder.txt`): no prior, linear layers of any rank.
    Encoder,
}

impl Kind {
    /// The manifest's first line.
    fn magic(self) -> &'static str {
        match self {
            Kind::Model => MAGIC_LINE,
            Kind::Encoder => ENCODER_MAGIC_LINE,
        }
    }
}

/// `message`, followed by what is invisible in `line` (tabs are separators, not shown), if anything.
fn with_note(message: String, line: &str) -> String {
    match invisible_note(&line.replace('\t', " ")) {
        Some(note) => format!("{message}; {note}"),
        None => message,
    }
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
    /// What the manifest describes.
    kind: Kind,
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
    /// The layers so far (in a model, every layer is a fixed step, affine ones included).
    layers: Vec<Layer>,
    /// The array names of the linear layers so far.
    names: ArrayNames,
    /// The output dimension of the last step (`dim` before the first step).
    current_dim: usize,
    /// The limits on dimensions and entries.
    limits: Limits,
    /// Entries of the arrays read so far.
    entries: u64,
    /// What the loader changed (float32 matrices replaced by their polar factors).
    notes: Vec<String>,
}

impl Parser {
    /// A parser at the start of `manifest`.
    fn new(manifest: PathBuf, kind: Kind, limits: Limits) -> Self {
        let folder = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
        Parser {
            kind,
            manifest,
            folder,
            line: 0,
            dim: None,
            prior: None,
            layers: Vec::new(),
            names: Vec::new(),
            current_dim: 0,
            limits,
            entries: 0,
            notes: Vec::new(),
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
            Err(self.at(format!("unexpected '{}'", shown(&args[n..].join(" ")))))
        } else {
            Ok(())
        }
    }

    /// A finite number from the word `word`, `what` naming it in errors.
    fn number(&self, word: Option<&str>, what: &str) -> Result<f64, ModelFileError> {
        let w = word.ok_or_else(|| self.at(format!("missing {what}")))?;
        let v: f64 = w
            .parse()
            .map_err(|_| self.at(format!("{what} '{}' is not a number", shown(w))))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.at(format!("{what} '{}' is not finite", shown(w))))
        }
    }

    /// The array of finite numbers in the file `name` (relative to the folder); errors about the
    /// file name it and the manifest line that named it.
    fn array(&mut self, name: Option<&str>, what: &str) -> Result<NpyArray, ModelFileError> {
        let name = name.ok_or_else(|| self.at(format!("missing the file of {what}")))?;
        let p = self.folder.join(name);
        let a = npy::read_npy_with(&p, &self.limits).map_err(|e| {
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
        // Each array is within the limit, so the sum of two cannot overflow.
        self.entries += a.data().len() as u64;
        if self.entries > self.limits.max_elements {
            return Err(self.at(format!(
                "the model's arrays hold {} entries up to this line, more than the limit of {} ({RAISE_ELEMENTS})",
                self.entries, self.limits.max_elements
            )));
        }
        Ok(a)
    }

    /// `a` as a vector of length `n`: it must be 1-d (`what` and `name` name it in the error).
    fn vector(
        &self,
        a: &NpyArray,
        what: &str,
        name: &str,
        n: usize,
    ) -> Result<DVector<f64>, ModelFileError> {
        if a.shape() != [n] {
            return Err(self.at(format!(
                "{what} ({}) must be 1-d of length {n}, found shape {}",
                shown(name),
                shape_text(a.shape())
            )));
        }
        Ok(DVector::from_column_slice(a.data()))
    }

    /// One manifest line after the header, split into words (at least one).
    fn directive(&mut self, words: &[&str]) -> Result<(), ModelFileError> {
        let (directive, args) = words.split_first().unwrap_or((&"", &[]));
        match *directive {
            "dim" => self.dim(args),
            "prior" => self.prior(args),
            "step" => self.step(args),
            other => Err(self.at(format!(
                "unknown directive '{}' (dim | prior | step)",
                shown(other)
            ))),
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
            .and_then(|w| w.parse::<u64>().ok())
            .filter(|&d| d > 0)
            .ok_or_else(|| self.at("'dim' needs a positive integer".into()))?;
        let d = self.dimension(d, "'dim'")?;
        self.dim = Some(d);
        self.current_dim = d;
        Ok(())
    }

    /// `d` if it is at most the dimension limit; `what` names it in the error.
    fn dimension(&self, d: u64, what: &str) -> Result<usize, ModelFileError> {
        let max = self.limits.max_dim;
        usize::try_from(d)
            .ok()
            .filter(|&d| d <= max)
            .ok_or_else(|| {
                self.at(format!(
                    "{what} {d} is larger than the limit of {max} ({RAISE_DIM})"
                ))
            })
    }

    /// `prior gaussian VARIANCE`, `prior logistic SCALE` or `prior beta-logistic A B`, once.
    fn prior(&mut self, args: &[&str]) -> Result<(), ModelFileError> {
        if self.kind == Kind::Encoder {
            self.at_most(args, 2)?;
            return Err(self.at(
                "an encoder has no prior (the prior belongs in the folder's model.txt)".into(),
            ));
        }
        if self.prior.is_some() {
            return Err(self.at("'prior' given twice".into()));
        }
        let v = self.number(args.get(1).copied(), "the prior's parameter")?;
        let prior = match args.first().copied() {
            Some("gaussian") => self.at_most(args, 2).map(|()| Prior::gaussian(v))?,
            Some("logistic") => self.at_most(args, 2).map(|()| Prior::logistic(v))?,
            Some("beta-logistic") => {
                self.at_most(args, 3)?;
                let b = self.number(args.get(2).copied(), "the prior's second parameter (B)")?;
                Prior::beta_logistic(v, b)
            }
            other => {
                return Err(self.at(format!(
                    "unknown prior '{}' (gaussian VARIANCE | logistic SCALE | beta-logistic A B)",
                    shown(other.unwrap_or(""))
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
        let layer = match *kind {
            "linear" => self.step_linear(args)?,
            "leaky_softplus" => Layer::Fixed(self.step_leaky_softplus(args)?),
            "moebius" => Layer::Fixed(self.step_moebius(args)?),
            "sigmoid" => Layer::Fixed(self.step_sigmoid(args)?),
            "tanh" => Layer::Fixed(self.step_tanh(args)?),
            "leaky_relu" => Layer::Fixed(self.step_leaky_relu(args)?),
            other => {
                return Err(self.at(format!(
                    "unknown step '{}' (linear | leaky_softplus | moebius | sigmoid | tanh | leaky_relu)",
                    shown(other)
                )))
            }
        };
        if layer.dim_in() != self.current_dim {
            let name = match &layer {
                Layer::Linear(_) => "linear",
                Layer::Fixed(s) => s.name(),
            };
            return Err(self.at(format!(
                "this {name} step takes inputs of dimension {}, but the previous output has dimension {}",
                layer.dim_in(),
                self.current_dim
            )));
        }
        self.current_dim = layer.dim_out();
        self.layers.push(layer);
        Ok(())
    }

    /// `step linear W.npy [b.npy]`: W of shape (out, in), out within the dimension limit, b 1-d of
    /// length out (zero if omitted). In a model an affine step (W of full rank); in an encoder a
    /// learnable linear layer. Records the arrays' names.
    fn step_linear(&mut self, args: &[&str]) -> Result<Layer, ModelFileError> {
        self.at_most(args, 2)?;
        let w = self.array(args.first().copied(), "the weight W")?;
        let w = match *w.shape() {
            [o, i] => {
                self.dimension(o as u64, "the output dimension (rows of W)")?;
                DMatrix::from_row_slice(o, i, w.data())
            }
            _ => {
                return Err(self.at(format!(
                    "W must be 2-d (out, in), found shape {}",
                    shape_text(w.shape())
                )))
            }
        };
        let b = match args.get(1) {
            Some(&name) => {
                let b = self.array(Some(name), "the bias b")?;
                Some(self.vector(&b, "the bias b", name, w.nrows())?)
            }
            None => None,
        };
        let l = self.layers.len();
        let w_name = args.first().map_or(format!("W{l}"), |n| stem(n));
        let default_b = match self.kind {
            Kind::Model => format!("b{l}"),
            Kind::Encoder => format!("enc_b{l}"),
        };
        let b_name = args.get(1).map_or(default_b, |n| stem(n));
        self.names.push([w_name, b_name]);
        match self.kind {
            Kind::Model => Ok(Layer::Fixed(
                Affine::new(w, b)
                    .map_err(|e| self.at(e.to_string()))?
                    .into(),
            )),
            Kind::Encoder => {
                let b = b.unwrap_or_else(|| DVector::zeros(w.nrows()));
                Ok(Layer::Linear(Linear { w, b }))
            }
        }
    }

    /// `step leaky_softplus ALPHA`: elementwise, keeping the current dimension.
    fn step_leaky_softplus(&self, args: &[&str]) -> Result<Step, ModelFileError> {
        self.at_most(args, 1)?;
        let alpha = self.number(args.first().copied(), "alpha")?;
        let s = LeakySoftplus::new(self.current_dim, alpha).map_err(|e| self.at(e.to_string()))?;
        Ok(s.into())
    }

    /// `step sigmoid`: elementwise 1/(1 + e^{−t}), keeping the current dimension.
    fn step_sigmoid(&self, args: &[&str]) -> Result<Step, ModelFileError> {
        self.at_most(args, 0)?;
        let s = Sigmoid::new(self.current_dim).map_err(|e| self.at(e.to_string()))?;
        Ok(s.into())
    }

    /// `step tanh`: elementwise tanh, keeping the current dimension.
    fn step_tanh(&self, args: &[&str]) -> Result<Step, ModelFileError> {
        self.at_most(args, 0)?;
        let s = Tanh::new(self.current_dim).map_err(|e| self.at(e.to_string()))?;
        Ok(s.into())
    }

    /// `step leaky_relu SLOPE`: elementwise max(t, k t) (slope k > 0 on t < 0), keeping the
    /// current dimension.
    fn step_leaky_relu(&self, args: &[&str]) -> Result<Step, ModelFileError> {
        self.at_most(args, 1)?;
        let k = self.number(args.first().copied(), "slope")?;
        let s = LeakyRelu::new(self.current_dim, k).map_err(|e| self.at(e.to_string()))?;
        Ok(s.into())
    }

    /// `step moebius ALPHA A.npy a.npy b.npy`: A square (and orthogonal), pole a and shift b 1-d of
    /// A's size.
    fn step_moebius(&mut self, args: &[&str]) -> Result<Step, ModelFileError> {
        self.at_most(args, 4)?;
        let alpha = self.number(args.first().copied(), "alpha")?;
        let a = self.array(args.get(1).copied(), "the orthogonal matrix A")?;
        let stored_as_f32 = a.stored_as_f32();
        let (n, a) = match *a.shape() {
            [n, m] if n == m => (n, DMatrix::from_row_slice(n, n, a.data())),
            _ => {
                return Err(self.at(format!(
                    "A must be square, found shape {}",
                    shape_text(a.shape())
                )))
            }
        };
        let a = if stored_as_f32 {
            self.orthogonal_from_f32(a, args.get(1).copied().unwrap_or(""))?
        } else {
            a
        };
        let (pole_file, shift_file) = (args.get(2).copied(), args.get(3).copied());
        let pole = self.array(pole_file, "the pole a")?;
        let pole = self.vector(&pole, "the pole a", pole_file.unwrap_or(""), n)?;
        let shift = self.array(shift_file, "the shift b")?;
        let shift = self.vector(&shift, "the shift b", shift_file.unwrap_or(""), n)?;
        let m = Moebius::new(alpha, a, pole, shift).map_err(|e| self.at(e.to_string()))?;
        Ok(m.into())
    }

    /// A Möbius A read from float32 values (`name`): as it is if orthogonal to
    /// [`ORTHOGONALITY_TOL`]; its polar factor, with a note, if max |AᵀA − I| ≤
    /// [`ORTHOGONALITY_TOL_F32_PER_DIM`]·n (float32 round-off); otherwise an error saying how far
    /// it is and what to do.
    fn orthogonal_from_f32(
        &mut self,
        a: DMatrix<f64>,
        name: &str,
    ) -> Result<DMatrix<f64>, ModelFileError> {
        let dev = Moebius::orthogonality_defect(&a);
        if dev <= ORTHOGONALITY_TOL {
            return Ok(a);
        }
        let limit = ORTHOGONALITY_TOL_F32_PER_DIM * a.nrows() as f64;
        if dev > limit {
            return Err(self.at(format!(
                "moebius: A ({}, float32) is not orthogonal even to float32 round-off: \
                 max |AᵀA − I| = {dev:.3e} > 4·n·eps_f32 = {limit:.3e}; orthogonalise it (its polar \
                 factor U Vᵀ from an SVD A = U Σ Vᵀ, or the Q of a QR) and save it, preferably in \
                 float64",
                shown(name)
            )));
        }
        let q = Moebius::nearest_orthogonal(&a).ok_or_else(|| {
            self.at(format!(
                "moebius: the SVD of A ({}) did not converge",
                shown(name)
            ))
        })?;
        let change = (&q - &a).amax();
        self.notes.push(format!(
            "{}:{}: the Möbius matrix A ({}) is float32, orthogonal only to float32 round-off \
             (max |AᵀA − I| = {dev:.3e} ≤ 4·n·eps_f32 = {limit:.3e}); it was replaced by its nearest \
             orthogonal matrix (the polar factor U Vᵀ, computed in float64; largest entry change \
             {change:.3e})",
            self.manifest.display(),
            self.line,
            shown(name)
        ));
        Ok(q)
    }

    /// The `dim` line's value, once every line has been read.
    fn finished_dim(&self) -> Result<usize, ModelFileError> {
        self.dim
            .ok_or_else(|| self.file_error("no 'dim' line".into()))
    }

    /// The model and the loader's notes, once every line has been read: `dim` and `prior` must
    /// have been given.
    fn finish_model(mut self) -> Result<(Model, Vec<String>), ModelFileError> {
        let dim = self.finished_dim()?;
        let prior = self
            .prior
            .ok_or_else(|| self.file_error("no 'prior' line".into()))?;
        // A model's linear lines are parsed as affine steps (`step_linear`), so every layer is a
        // fixed step.
        let steps = std::mem::take(&mut self.layers)
            .into_iter()
            .filter_map(|layer| match layer {
                Layer::Fixed(s) => Some(s),
                Layer::Linear(_) => None,
            })
            .collect();
        let decoder = Decoder::new(dim, steps).map_err(|e| self.file_error(e.to_string()))?;
        let model = Model::new(prior, decoder).map_err(|e| self.file_error(e.to_string()))?;
        Ok((model, self.notes))
    }

    /// The encoder network and its array names, once every line has been read.
    fn finish_encoder(mut self) -> Result<(Network, ArrayNames), ModelFileError> {
        let dim = self.finished_dim()?;
        let layers = std::mem::take(&mut self.layers);
        let net = Network::new(dim, layers).map_err(|e| self.file_error(e.message))?;
        Ok((net, self.names))
    }
}

/// The file stem of an array's file name: `enc/W0.npy` → `W0`.
fn stem(name: &str) -> String {
    Path::new(name)
        .file_stem()
        .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned())
}
