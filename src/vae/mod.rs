//! Amortised VAEs in f64 (paper §4): networks with exact parameter gradients, the loss of one
//! training step with its gradient (given noise, or exact in expectation), Adam and a
//! deterministic training loop.
//!
//! | file | contents |
//! | --- | --- |
//! | `network.rs` | [`Network`]: learnable linear layers and fixed decoder steps, forward with a [`Tape`], reverse mode |
//! | `network_block.rs` | [`Network::forward_block`], [`Network::backward_block`]: a network on a block of lanes, the same bits lane by lane |
//! | `init.rs` | PyTorch's default `nn.Linear` initialisation, seeded; [`init::mlp`] |
//! | `autoencoder.rs` | [`Vae`]: prior, encoder x ↦ (μ, log σ²), decoder; the decoder as an oracle [`crate::Model`] |
//! | `step_loss.rs` | [`loss_given_noise`], [`loss_exact`]: the loss of one step and its gradient |
//! | `given_noise_block.rs` | the given-noise loss of a chunk by blocks of lanes (the training loop's hot path), the same bits as point by point |
//! | `adam.rs` | [`Adam`] with PyTorch's semantics and operation order |
//! | `train.rs` | [`train`]: seeded shuffles and noise, Adam steps, divergence stops |
//! | `error.rs` | [`VaeError`] |

mod adam;
mod autoencoder;
mod error;
mod given_noise_block;
pub mod init;
mod network;
mod network_block;
mod step_loss;
mod train;

pub use adam::{Adam, AdamConfig};
pub use autoencoder::{Vae, VaeGrads};
pub use error::VaeError;
pub use network::{Grads, Layer, Linear, Network, NetworkError, Tape};
pub use network_block::BlockTape;
pub use step_loss::{loss_exact, loss_given_noise, StepLoss, CHUNK};
pub use train::{train, EpochRecord, TrainOptions};
