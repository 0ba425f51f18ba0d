//! Elementary functions written in the crate — exp, expm1, ln, ln_1p and the logistic pair — as
//! scalar functions and as lane functions over `[f64; N]`, bit-identical to each other.
//!
//! Each kernel is written once over a private `Lanes<N>` type whose every operation is a loop over
//! the lanes (which LLVM's SLP vectoriser packs); the scalar function is the kernel at N = 1.

mod ieee;
mod lanes;
mod log_core;

pub mod accuracy;
pub mod dd;
pub mod exp;
pub mod expm1;
pub mod ln;
pub mod ln_1p;
pub mod reference;
pub mod sigmoid;

#[cfg(test)]
mod checks;

pub use exp::{exp, exp_lanes};
pub use expm1::{expm1, expm1_lanes};
pub use ln::{ln, ln_lanes};
pub use ln_1p::{ln_1p, ln_1p_lanes};
pub use sigmoid::{sigmoid_pair, sigmoid_pair_lanes};

/// The lane width of the crate's batched kernels: 4 doubles, i.e. two SSE2 registers per value on
/// the baseline target (two independent dependency chains per instruction stream, and the
/// kernels' ~12 live values still fit the 16 xmm registers), one AVX2 register where the build
/// enables AVX2. The lane functions accept any width; 2, 4 and 8 measure within noise of each
/// other on SSE2.
pub const LANES: usize = 4;
