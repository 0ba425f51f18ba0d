//! The amortised VAE of the paper's experiments (§4): a prior, an encoder network
//! x ↦ (μ, log σ²) (its output split as the authors do: the first d entries μ, the last d
//! log σ²) and a decoder network z ↦ f(z); the observation model N(f(z), γ⁻² I_D) of eq. 3.

use super::network::{Grads, Network, NetworkError};
use crate::model::{DecoderError, Model, Prior};

/// A VAE: prior, encoder and decoder.
#[derive(Debug, Clone)]
pub struct Vae {
    prior: Prior,
    encoder: Network,
    decoder: Network,
}

impl Vae {
    /// Builds the VAE; errors unless the encoder maps R^D to R^{2d} for the decoder's R^d → R^D.
    pub fn new(prior: Prior, encoder: Network, decoder: Network) -> Result<Self, NetworkError> {
        let (d, dd) = (decoder.dim_in(), decoder.dim_out());
        if encoder.dim_in() != dd || encoder.dim_out() != 2 * d {
            return Err(NetworkError {
                message: format!(
                    "the encoder maps R^{} to R^{}, but the decoder R^{d} -> R^{dd} needs R^{dd} -> R^{} (mu and log sigma^2)",
                    encoder.dim_in(),
                    encoder.dim_out(),
                    2 * d
                ),
            });
        }
        Ok(Vae {
            prior,
            encoder,
            decoder,
        })
    }

    /// The prior.
    pub fn prior(&self) -> &Prior {
        &self.prior
    }

    /// The encoder.
    pub fn encoder(&self) -> &Network {
        &self.encoder
    }

    /// The decoder.
    pub fn decoder(&self) -> &Network {
        &self.decoder
    }

    /// Latent dimension d.
    pub fn dim_latent(&self) -> usize {
        self.decoder.dim_in()
    }

    /// Observed dimension D.
    pub fn dim_observed(&self) -> usize {
        self.decoder.dim_out()
    }

    /// The generative model (prior and decoder) as an oracle model: c_IMA, ELBO*, log pθ of the
    /// trained decoder. Errors when a linear layer is rank deficient.
    pub fn model(&self) -> Result<Model, DecoderError> {
        Model::new(self.prior, self.decoder.to_decoder()?)
    }

    /// Zero gradients for both networks.
    pub fn zero_grads(&self) -> VaeGrads {
        VaeGrads {
            encoder: self.encoder.zero_grads(),
            decoder: self.decoder.zero_grads(),
        }
    }

    /// The networks, mutable (an optimiser's update keeps the shapes).
    pub(crate) fn networks_mut(&mut self) -> (&mut Network, &mut Network) {
        (&mut self.encoder, &mut self.decoder)
    }
}

/// The gradient of a loss with respect to every parameter of a VAE.
#[derive(Debug, Clone, PartialEq)]
pub struct VaeGrads {
    /// ∂/∂(encoder parameters).
    pub encoder: Grads,
    /// ∂/∂(decoder parameters).
    pub decoder: Grads,
}

impl VaeGrads {
    /// Sets every entry to 0.
    pub fn clear(&mut self) {
        self.encoder.clear();
        self.decoder.clear();
    }

    /// self += c·other.
    pub fn add_scaled(&mut self, c: f64, other: &VaeGrads) {
        self.encoder.add_scaled(c, &other.encoder);
        self.decoder.add_scaled(c, &other.decoder);
    }
}
