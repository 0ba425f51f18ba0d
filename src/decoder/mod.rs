//! Decoders f: R^d → R^D as chains of steps with exact derivatives (paper eq. 3: the decoder mean
//! f^θ; Assumption 1 (iv): f invertible with inverse g^θ).
//!
//! One file per step ([`Affine`], [`LeakySoftplus`], [`Moebius`]); [`Step`] dispatches; [`Decoder`]
//! composes by the chain rule.

mod affine;
mod chain;
mod error;
mod leaky_softplus;
mod moebius;
mod step;

pub use affine::{Affine, RCOND_MIN};
pub use chain::{Decoder, Workspace};
pub use error::DecoderError;
pub use leaky_softplus::{softplus, LeakySoftplus};
pub use moebius::{Moebius, ORTHOGONALITY_TOL};
pub use step::Step;
