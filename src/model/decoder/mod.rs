//! Decoders f: R^d → R^D as chains of steps with exact derivatives (paper eq. 3: the decoder mean
//! f^θ; Assumption 1 (iv): f invertible with inverse g^θ).
//!
//! | file | contents |
//! | --- | --- |
//! | `step.rs` | the contract of a step (`StepOps`) and the closed set [`Step`] |
//! | `affine.rs` | [`Affine`]: W z + b |
//! | `leaky_softplus.rs` | [`LeakySoftplus`]: α t + (1 − α) log(1 + eᵗ) elementwise (the authors' smooth leaky ReLU) |
//! | `moebius.rs` | [`Moebius`]: b + α A (z − a)/‖z − a‖² (§4.3) |
//! | `sigmoid_step.rs`, `tanh_step.rs`, `leaky_relu.rs` | [`Sigmoid`], [`Tanh`], [`LeakyRelu`]: elementwise σ(t), tanh t, max(t, k t) (the authors' other nonlinearities) |
//! | `elementwise.rs` | what an elementwise step provides (scalar a, a', a'', log a', the difference form, a⁻¹) and the macro that makes it a step, scalar and lane-blocked |
//! | `chain.rs` | [`Decoder`]: the chain rule for everything the steps provide |
//! | `third.rs` | [`Decoder::third_contraction`]: Σ_i r_i ∇³f_i[v, ·, ·] by the forward tangent of the second-derivative chain |
//! | `step_block.rs`, `block_chain.rs` | the same on blocks of lanes ([`crate::lanes`]): every step and the chain rule, lane-blocked (crate-internal: the hot loops use them) |
//! | `workspace.rs` | [`Workspace`]: the buffers of one evaluation, reused across points |
//! | `error.rs` | [`DecoderError`] |
//!
//! # Why a trait for the contract and an enum for the set
//!
//! Every step implements one internal trait, `StepOps` — forward map, Jacobian action, vector–
//! Jacobian product, the second-derivative sandwich, log|det J|, inverse and the cancellation-free
//! difference form — with default methods for what is trivial (no cache; a zero second derivative
//! for affine maps). The compiler therefore lists whatever a new step has not provided, and each
//! step's whole contract sits in its own file.
//!
//! The set of steps is a closed enum, [`Step`], not a `Box<dyn StepOps>`, because:
//! * the chain's loops over quadrature nodes call the steps millions of times: a `match` is
//!   dispatched statically and inlined, a trait object is a virtual call per step per node that
//!   blocks inlining (and the batched, lane-blocked kernels to come want one monomorphic loop per
//!   step kind);
//! * the rest of the crate must see *which* step it has: model files write and read each kind,
//!   [`crate::model::Model`] locates the poles of Möbius steps, the affine–Gaussian closed forms
//!   need a single affine step — pattern matching on an enum, with exhaustiveness checked;
//! * `Clone`, `Debug` and equality of models come for free, with no heap indirection.
//!
//! Adding a step costs: its file implementing `StepOps`, one variant of [`Step`], one line in the
//! step module's `dispatch!` macro (and in `step_block.rs`'s `dispatch_block!`), a `From` impl,
//! and its directive in the model-file reader and writer (the compiler points at each, since their
//! matches are exhaustive). An elementwise step implements the scalar functions of
//! `elementwise::Elementwise` and gets both contracts from `elementwise_step!`.

mod affine;
mod block_chain;
mod chain;
mod elementwise;
mod error;
mod leaky_relu;
mod leaky_softplus;
mod moebius;
mod sigmoid_step;
mod step;
mod step_block;
mod tanh_step;
mod third;
mod workspace;

pub use affine::Affine;
pub(crate) use block_chain::BlockWorkspace;
pub use chain::Decoder;
pub use error::DecoderError;
pub use leaky_relu::LeakyRelu;
pub use leaky_softplus::LeakySoftplus;
pub use moebius::Moebius;
pub use sigmoid_step::Sigmoid;
pub use step::Step;
pub(crate) use step::StepOps;
pub(crate) use step_block::{LaneScratch, StepBlockOps};
pub use tanh_step::Tanh;
pub use workspace::Workspace;
