//! Kernels for batched evaluation: code written so that LLVM vectorises it on the baseline target.
//!
//! | module | contents |
//! | --- | --- |
//! | [`math`] | elementary functions (exp, expm1, ln, ln_1p, the logistic pair), scalar and over lanes, bit-identical to each other |
//!
//! Everything here is plain safe Rust: no target-feature dispatch, no `unsafe`, no calls into the
//! platform libm. Results never depend on how many lanes are evaluated together.

pub mod math;
