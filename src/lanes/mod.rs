//! Lanes: blocks of [`LANES`] points or quadrature nodes, stored structure-of-arrays, for the
//! lane-blocked (vectorised) forms of the decoder steps and chains.
//!
//! | file | contents |
//! | --- | --- |
//! | `block.rs` | [`LANES`], [`Lanes`], [`Block`] (a vector per lane), [`MatBlock`] (a matrix per lane) |
//! | `dispatch.rs` | `avx2_kernel!`: a kernel compiled for AVX-512, AVX2 and the baseline, the widest chosen at run time, same bits |
//! | `math/` | [`math`]: exp, expm1, ln, ln_1p and the logistic pair, scalar and over lanes, < 1 ulp, bit-identical to each other |
//!
//! This is a leaf layer (it uses nothing else of the crate): the model layer implements every
//! decoder step and chain on blocks as well as on single points, and the two forms agree bit for
//! bit, lane by lane.

mod block;
pub(crate) mod dispatch;
pub mod math;

pub use block::{Block, Lanes, MatBlock, LANES};
pub(crate) use dispatch::avx2_kernel;
