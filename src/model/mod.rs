//! The model layer (paper eq. 3 and Assumption 1): what the paper's generative model is made of.
//!
//! | file | contents |
//! | --- | --- |
//! | `prior.rs` | [`Prior`]: Gaussian, logistic and Beta-logistic factors m of p0(z) = Π m(z_k), log m and three derivatives |
//! | `prior_block.rs` | log p0 on a block of lanes, bit for bit the scalar sum |
//! | `source.rs` | [`Source`]: data laws of §4 (the priors, uniform, shifted and unit Beta, Laplace) |
//! | `sigmoid.rs` | the logistic sigmoid and softplus, evaluated without overflow or cancellation |
//! | `special.rs` | ln Γ and ln B |
//! | `decoder/` | [`Decoder`]: chains of [`Affine`], [`LeakySoftplus`], [`Moebius`], [`Sigmoid`], [`Tanh`] and [`LeakyRelu`] steps with exact derivatives |
//! | `generative_model.rs` | [`Model`]: a prior and a decoder, with the decoder's poles located |
//! | `generate.rs` | seeded generators of the paper's mixings, its model families and their data |
//!
//! Every constructor validates its parameters; after that, evaluation of a prior or a step cannot
//! fail on them (a decoder can still meet a pole, which is an error naming the step).

pub mod decoder;
pub mod generate;
mod generative_model;
mod prior;
mod prior_block;
mod sigmoid;
mod source;
pub mod special;

pub(crate) use decoder::BlockWorkspace;
pub use decoder::{
    Affine, Decoder, DecoderError, LeakyRelu, LeakySoftplus, Moebius, Sigmoid, Step, Tanh,
    Workspace,
};
pub(crate) use generative_model::shifted_log_flow;
pub use generative_model::{chi2_tail_bound, Model, PoleRefusal};
pub(crate) use prior::gaussian_log_norm;
pub use prior::{DistributionError, Prior};
pub(crate) use sigmoid::sigmoid_pair;
pub use sigmoid::{sigmoid, softplus};
pub use source::Source;
