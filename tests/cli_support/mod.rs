//! Running the `ima-oracle` binary from the CLI tests: a command, its output as text, scratch
//! folders, and small `.npy` and model files written for a test.

#![allow(dead_code)]

use ima_oracle::io::model_file::save_model;
use ima_oracle::io::npy::{write_npy, NpyArray};
use ima_oracle::{generate, Model, Prior};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ima-oracle"))
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output as text.
/// Runs the CLI with `args` and asserts that it exits with `code` and that stderr contains every
/// one of `needles` (the message the user sees); returns the output for further checks.
#[track_caller]
pub fn fails_with(args: &[&str], code: i32, needles: &[&str]) -> Output {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
    for needle in needles {
        assert!(
            err.contains(needle),
            "{args:?}: missing {needle:?} in:\n{err}"
        );
    }
    o
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The MLP3 fixture model.
pub fn mlp3() -> String {
    format!("{}/tests/fixtures/models/mlp3", env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty scratch folder for test `name` of suite `suite`.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("ima-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// The path as a &str.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes an array of the given shape and data.
pub fn npy(path: &Path, shape: &[usize], data: &[f64]) {
    write_npy(path, &NpyArray::new(shape.to_vec(), data.to_vec()).unwrap()).unwrap();
}

/// The names in `dir`, hidden ones included, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every file under `dir` with its bytes, for before/after comparisons.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

/// Saves a d = 3 Möbius model (A = I, pole a = (2, 0, 0), shift b = 0, α = 1) into `dir`.
pub fn moebius_model(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("model.txt"),
        "ima-oracle model 1\ndim 3\nprior gaussian 1\nstep moebius 1.0 A.npy a.npy b.npy\n",
    )
    .unwrap();
    npy(
        &dir.join("A.npy"),
        &[3, 3],
        &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
    );
    npy(&dir.join("a.npy"), &[3], &[2.0, 0.0, 0.0]);
    npy(&dir.join("b.npy"), &[3], &[0.0, 0.0, 0.0]);
}

/// Saves an affine model of latent dimension `d` with the given prior into `dir`.
pub fn affine_model(dir: &Path, d: usize, prior: Prior) {
    let f = generate::affine_decoder(d, &mut generate::rng(4)).unwrap();
    save_model(&Model::new(prior, f).unwrap(), dir).unwrap();
}
