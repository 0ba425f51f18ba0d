//! Loading the model or VAE folder a command names: the library's loader, with its notes (a float32 Möbius
//! matrix replaced by its nearest orthogonal matrix, docs/model-format.md) printed to stderr.

use ima_oracle::io::model_file::{load_model_with_notes, load_vae_with, VaeFolder};
use ima_oracle::io::Limits;
use ima_oracle::Model;
use std::path::Path;

/// The model at `path` within `limits`; every note of the loader goes to stderr as `note: …`.
pub fn load_model(path: &Path, limits: &Limits) -> Result<Model, String> {
    let (model, notes) = load_model_with_notes(path, limits).map_err(|e| e.to_string())?;
    for n in notes {
        eprintln!("note: {n}");
    }
    Ok(model)
}

/// The VAE folder at `dir` within `limits`; every note of the loader goes to stderr as `note: …`.
pub fn load_vae_folder(dir: &Path, limits: &Limits) -> Result<VaeFolder, String> {
    let folder = load_vae_with(dir, limits).map_err(|e| e.to_string())?;
    for n in &folder.notes {
        eprintln!("note: {n}");
    }
    Ok(folder)
}
