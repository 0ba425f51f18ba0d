//! VAE folders (docs/vae-format.md): a model folder — `model.txt`, the prior and the decoder — plus
//! `encoder.txt`, the encoder network x ↦ (μ, log σ²) in the same grammar, header
//! `ima-oracle encoder 1`. The decoder's affine steps are the VAE's learnable decoder layers, so a
//! VAE folder is at once an oracle model: every command that takes a MODEL takes it.

use super::load::{load_decoder_network_with, load_encoder_with, ArrayNames};
use super::save::{step_line, write_array};
use super::{save_model, ModelFileError, ENCODER_MAGIC_LINE};
use crate::io::npy::{self, NpyArray};
use crate::io::Limits;
use crate::vae::{Layer, Vae};
use std::path::Path;

/// A VAE read from a folder, with the names (file stems) of its learnable arrays.
#[derive(Debug, Clone)]
pub struct VaeFolder {
    /// The VAE.
    pub vae: Vae,
    /// `[W, b]` of each linear layer of the encoder, as `encoder.txt` names them.
    pub encoder_names: ArrayNames,
    /// `[W, b]` of each affine step of the decoder, as `model.txt` names them.
    pub decoder_names: ArrayNames,
    /// What the loader changed in `model.txt` (as [`super::load_model_with_notes`]: a float32
    /// Möbius `A` replaced by its nearest orthogonal matrix), one note each.
    pub notes: Vec<String>,
}

/// Loads the VAE folder `dir` (`model.txt` and `encoder.txt`) within `limits` (the arrays of
/// both manifests together at most `limits.max_elements` entries). Errors name the file
/// and line; an encoder whose input is not the decoder's output dimension D, or whose output is not
/// 2d, is an error about `encoder.txt`.
pub fn load_vae_with(dir: impl AsRef<Path>, limits: &Limits) -> Result<VaeFolder, ModelFileError> {
    let dir = dir.as_ref();
    let (prior, decoder, decoder_names, entries, notes) = load_decoder_network_with(dir, limits)?;
    let enc_path = dir.join("encoder.txt");
    // The limit on array entries holds for the folder as a whole: the encoder gets what is left.
    let rest = Limits {
        max_elements: limits.max_elements.saturating_sub(entries),
        ..*limits
    };
    let (encoder, encoder_names) = load_encoder_with(&enc_path, &rest)?;
    let vae = Vae::new(prior, encoder, decoder)
        .map_err(|e| ModelFileError::new(&enc_path, None, e.message))?;
    Ok(VaeFolder {
        vae,
        encoder_names,
        decoder_names,
        notes,
    })
}

/// Loads the VAE folder `dir` within the default [`Limits`].
pub fn load_vae(dir: impl AsRef<Path>) -> Result<VaeFolder, ModelFileError> {
    load_vae_with(dir, &Limits::default())
}

/// Writes `vae` as the folder `dir` (created if needed): `model.txt` with the decoder's arrays
/// `W{l}.npy`, `b{l}.npy` (l the 0-based step, as [`save_model`]), and `encoder.txt` with
/// `enc_W{l}.npy`, `enc_b{l}.npy` (l the 0-based layer). Every file is written atomically. Errors if
/// the decoder is not an oracle model (a linear layer without full rank).
pub fn save_vae(vae: &Vae, dir: impl AsRef<Path>) -> Result<(), ModelFileError> {
    let dir = dir.as_ref();
    let model = vae.model().map_err(|e| {
        ModelFileError::new(
            &dir.join("model.txt"),
            None,
            format!("the decoder is not an oracle model: {e}"),
        )
    })?;
    save_model(&model, dir)?;
    let enc = vae.encoder();
    let mut text = format!("{ENCODER_MAGIC_LINE}\ndim {}\n", enc.dim_in());
    for (l, layer) in enc.layers().iter().enumerate() {
        text += &match layer {
            Layer::Linear(lin) => {
                let w = write_array(dir, format!("enc_W{l}.npy"), NpyArray::from_matrix(&lin.w))?;
                let b = write_array(dir, format!("enc_b{l}.npy"), NpyArray::from_vector(&lin.b))?;
                format!("step linear {w} {b}\n")
            }
            Layer::Fixed(s) => step_line(s, &format!("_enc{l}"), dir)?,
        };
    }
    let manifest = dir.join("encoder.txt");
    npy::write_atomic(&manifest, text.as_bytes())
        .map_err(|e| ModelFileError::new(&manifest, None, e.to_string()))
}
