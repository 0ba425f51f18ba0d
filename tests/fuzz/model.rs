//! The model-folder target: seed folders (the MLP3 fixture, a Möbius chain, a logistic affine
//! model), mutations of the manifest (word by word and byte by byte) or of one of its arrays, and
//! the properties every answer of the loader must have.

use super::mutate::{mutate, TOKENS};
use ima_oracle::generate::OracleRng;
use ima_oracle::io::model_file::{load_model_with, save_model};
use ima_oracle::io::Limits;
use ima_oracle::{generate, Model, Prior};
use rand::RngExt;
use std::path::{Path, PathBuf};

/// Words of the manifest grammar, and paths that are not arrays.
const WORDS: &[&str] = &[
    "dim",
    "prior",
    "step",
    "linear",
    "leaky_softplus",
    "moebius",
    "gaussian",
    "logistic",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "1e-320",
    "0.0",
    "missing.npy",
    "model.txt",
    ".",
    "/dev/zero",
];

/// One seed model: its folder (mutated in place and restored after each case) and its files.
pub struct Seed {
    /// The folder.
    pub dir: PathBuf,
    /// (file name, original bytes), the manifest first.
    pub files: Vec<(String, Vec<u8>)>,
}

/// The seed folders, written under `root`.
pub fn seeds(root: &Path) -> Vec<Seed> {
    let mut r = generate::rng(7);
    let models = [
        Model::new(
            Prior::standard_normal(),
            generate::moebius_decoder(3, &mut r).unwrap(),
        )
        .unwrap(),
        Model::new(
            Prior::logistic(0.5).unwrap(),
            generate::affine_decoder(2, &mut r).unwrap(),
        )
        .unwrap(),
        Model::new(
            Prior::gaussian(2.0).unwrap(),
            generate::mlp_triangular(3, 2, 0.2, &mut r).unwrap(),
        )
        .unwrap(),
    ];
    let mut out = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let dir = root.join(format!("seed{i}"));
        save_model(m, &dir).unwrap();
        out.push(read_seed(dir));
    }
    let mlp3 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/mlp3");
    let dir = root.join("mlp3");
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(&mlp3).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    out.push(read_seed(dir));
    out
}

/// The files of a seed folder, the manifest first.
fn read_seed(dir: PathBuf) -> Seed {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort_by_key(|(n, _)| (n != "model.txt", n.clone()));
    Seed { dir, files }
}

/// A word-level mutation of a manifest: a word replaced by a grammar word, a boundary token or a
/// file of the folder; a line deleted, duplicated or swapped.
fn mutate_words(text: &str, files: &[(String, Vec<u8>)], r: &mut OracleRng) -> Vec<u8> {
    let mut lines: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(' ').map(String::from).collect())
        .collect();
    for _ in 0..r.random_range(1..=3) {
        if lines.is_empty() {
            break;
        }
        let i = r.random_range(0..lines.len());
        match r.random_range(0..6) {
            0 => {
                lines.remove(i);
            }
            1 => lines.insert(i, lines[i].clone()),
            2 => {
                let j = r.random_range(0..lines.len());
                lines.swap(i, j);
            }
            _ => {
                let w = match r.random_range(0..3) {
                    0 => WORDS[r.random_range(0..WORDS.len())].to_string(),
                    1 => TOKENS[r.random_range(0..TOKENS.len())].to_string(),
                    _ => files[r.random_range(0..files.len())].0.clone(),
                };
                let line = &mut lines[i];
                let k = r.random_range(0..=line.len());
                if k == line.len() || r.random_bool(0.3) {
                    line.insert(k, w);
                } else {
                    line[k] = w;
                }
            }
        }
    }
    let joined: Vec<String> = lines.iter().map(|l| l.join(" ")).collect();
    (joined.join("\n") + "\n").into_bytes()
}

/// What the loader made of one folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// A model.
    Accepted,
    /// An error tied to a manifest line.
    RefusedAtLine,
    /// An error about a whole file.
    RefusedFile,
}

/// Mutates one file of `seed` (the manifest in 3 cases of 4), loads the folder with `load`, checks
/// the answer and restores the file. `Err` describes a violated property (with the mutated file).
pub fn case(seed: &Seed, r: &mut OracleRng, limits: &Limits) -> Result<Outcome, String> {
    let k = if r.random_bool(0.75) {
        0
    } else {
        r.random_range(0..seed.files.len())
    };
    let (name, original) = &seed.files[k];
    let mutated = if k == 0 && r.random_bool(0.7) {
        mutate_words(&String::from_utf8_lossy(original), &seed.files, r)
    } else {
        mutate(original, r)
    };
    let path = seed.dir.join(name);
    std::fs::write(&path, &mutated).unwrap();
    let result = check(&seed.dir, limits);
    std::fs::write(&path, original).unwrap();
    result.map_err(|e| {
        format!(
            "{e}\nmutated {name}: {:?}",
            String::from_utf8_lossy(&mutated)
        )
    })
}

/// Loads `dir` twice within `limits` and checks the answers: equal; a model within the limits; an
/// error with a non-empty message and, if it names a line, a line that exists.
fn check(dir: &Path, limits: &Limits) -> Result<Outcome, String> {
    let first = load_model_with(dir, limits);
    let second = load_model_with(dir, limits);
    match (first, second) {
        (Ok(a), Ok(b)) => {
            if format!("{a:?}") != format!("{b:?}") {
                return Err("two loads differ".into());
            }
            if a.dim_latent().max(a.dim_observed()) > limits.max_dim {
                return Err(format!("dimensions beyond {limits:?}: {a:?}"));
            }
            Ok(Outcome::Accepted)
        }
        (Err(a), Err(b)) => {
            if a != b {
                return Err(format!("two loads differ: {a} vs {b}"));
            }
            if a.message.is_empty() {
                return Err(format!("an empty message: {a:?}"));
            }
            let manifest_lines = std::fs::read(dir.join("model.txt"))
                .map(|t| t.split(|&c| c == b'\n').count())
                .unwrap_or(0);
            match a.line {
                Some(l) if l == 0 || l > manifest_lines => {
                    Err(format!("line {l} of a {manifest_lines}-line manifest: {a}"))
                }
                Some(_) => Ok(Outcome::RefusedAtLine),
                None => Ok(Outcome::RefusedFile),
            }
        }
        (a, b) => Err(format!("two loads differ: {:?} vs {:?}", a.err(), b.err())),
    }
}
