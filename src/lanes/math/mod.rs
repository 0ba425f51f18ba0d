//! Elementary functions written in the crate — exp, expm1, ln, ln_1p and the logistic pair — as
//! scalar functions and as lane functions over `[f64; N]`, bit-identical to each other, < 1 ulp.
//!
//! | function | scalar | lanes | special cases |
//! | --- | --- | --- | --- |
//! | eˣ | [`exp`](fn@exp) | [`exp_lanes`] | NaN → NaN; +∞ above 709.782712893384; subnormal, then +0 below −745.1332191019411 |
//! | eˣ − 1 | [`expm1`](fn@expm1) | [`expm1_lanes`] | NaN → NaN; ±0, tiny and subnormal x → x; −1 below −37.43; +∞ above 709.78… |
//! | ln x | [`ln`](fn@ln) | [`ln_lanes`] | NaN, x < 0 → NaN; ±0 → −∞; +∞ → +∞; subnormal x exact as normal ones |
//! | ln(1 + x) | [`ln_1p`](fn@ln_1p) | [`ln_1p_lanes`] | NaN, x < −1 → NaN; −1 → −∞; ±0, tiny and subnormal x → x; +∞ → +∞ |
//! | (σ(u), σ(−u)) | [`sigmoid_pair`] | [`sigmoid_pair_lanes`] | NaN → NaN; ±0 → (½, ½); tails (1, +0) / (+0, 1), gradual underflow |
//!
//! The lane functions take any width N; the crate's blocks use [`crate::lanes::LANES`] = 8.
//!
//! ## How the lanes vectorise, and why the widths agree bit for bit
//!
//! Each kernel is written once, generically, over a private `Lanes<N>` type whose every operation
//! (arithmetic, comparison, select, bit manipulation) is a loop over the N lanes; the scalar
//! function is that kernel at N = 1. After inlining, each operation is N identical scalar
//! operations on adjacent values, which LLVM's SLP vectoriser packs: on the default x86-64 target
//! (SSE2) every lane function compiles to packed `mulpd`/`addpd`/`divpd`, `cmppd` with
//! `andpd`/`andnpd`/`orpd` for selects, `minpd`/`maxpd` for clamps and `paddq`/`psllq` for
//! exponent bits, with no branch and no scalar arithmetic (checked with `cargo rustc --release
//! -- --emit asm`). The kernels avoid what SSE2 cannot do in packed form: no f64↔i64 conversion
//! (integers are kept in a mantissa: the `ieee` bit tricks), no 64-bit integer compare, no
//! `roundpd`, no table lookups (no gathers), no calls into libm. Written instead as one scalar
//! function mapped over an array, the same code does not vectorise.
//!
//! Every operation is an IEEE-754 operation, correctly rounded, in the order written — Rust never
//! contracts a·b + c into a fused multiply-add and the kernels never ask for one — so lane i of a
//! lane function is, bit for bit, the scalar function of lane i, at every width and on every
//! target (tests: all widths 1, 2, 3, 4, 8 at every lane position on every test argument). Rare
//! regimes (subnormal results, the k cases of expm1, special values) are computed on every lane
//! and selected by masks; the discarded subnormal-path work is zeroed so that it never produces
//! subnormal intermediates (each costs a microcode assist on x86).
//!
//! ## Accuracy
//!
//! Maximum error in ulps against the double-double references of [`reference`](mod@reference)
//! (good to ≲ 1e-29 relative; compared off-line with 400-bit mpmath on 23 000 arguments:
//! ≤ 3.5e-32), with an argument where it occurs. "Test sample": the edge arguments of
//! [`accuracy::edges`] (±0, ±∞, NaN, subnormals, all powers of two, f64::MAX, thresholds and
//! reduction switch points ± up to 40 ulps, 1 ± 200 ulps for ln, −1 + ulps for ln_1p) plus 2·10⁵
//! random ones ([`accuracy::random_arguments`]: uniform over the working range, log-uniform over
//! the whole range, the cancellation regions), asserted < 1 in
//! `cargo test --release --lib kernels` (seed 0x1DEA). "Sweep": the same edges plus 10⁷ random
//! arguments per function, `cargo run --release --example ulp_sweep` (seed 2024, ~20 s per
//! function on 2 cores). The last column is std (the platform libm, glibc 2.36 here; the pair
//! formed from std's exp as `model::sigmoid` does) on the sweep.
//!
//! | function | test sample | sweep: edges (worst at) | sweep: 10⁷ random (worst at) | std, sweep |
//! | --- | --- | --- | --- | --- |
//! | exp | 0.673 | 0.673 (568.0341144688754) | 0.665 (249.9023519263419) | 0.506 |
//! | expm1 | 0.775 | 0.763 (534.7630498019979) | 0.844 (0.3539141180966512) | 0.820 |
//! | ln | 0.768 | 0.752 (2.718281828458987) | 0.810 (1.3973679250396658) | 0.517 |
//! | ln_1p | 0.784 | 0.784 (0.4142135623730947) | 0.832 (−0.300132114967946) | 0.832 |
//! | sigmoid_pair (both outputs) | 0.626 | 0.516 (1.0000000000000002) | 0.657 (−538.2282471557501) | 2.27 |
//!
//! exp and the pair are compensated beyond fdlibm (see their modules); expm1, ln and ln_1p are
//! fdlibm's algorithms and reach fdlibm's < 1 ulp (glibc's expm1 and log1p are fdlibm too: same
//! maxima). None is correctly rounded; every one is faithful.
//!
//! ## Speed
//!
//! `cargo run --release --example math_bench`: ns per call over 4·2²⁰ arguments, median of 7
//! passes, on this project's 2-core Xeon (2.1 GHz, shared: ±30 % between runs), default
//! target (SSE2). "scalar" is one call at a time; "lanes<4>" the lane function on blocks of 4.
//!
//! | function | std | scalar | lanes<4> |
//! | --- | --- | --- | --- |
//! | exp, x ∈ [−700, 700] | 12.1 | 10.1 | 6.6 |
//! | exp, x ∈ [−40, 40] | 5.6 | 9.0 | 6.5 |
//! | expm1, x ∈ [−2, 2] | 17.9 | 27.2 | 12.5 |
//! | ln, log-uniform | 6.8 | 16.0 | 5.4 |
//! | ln_1p, x ∈ [−0.9, 10] | 14.6 | 20.4 | 7.1 |
//! | sigmoid_pair, u ∈ [−40, 40] | 12.0 | 44.4 | 13.6 |
//!
//! The scalar functions are latency-bound (one long dependency chain with a division); the lanes
//! overlap N chains and halve the instruction count with 2-wide SSE2 packing. Built with
//! `RUSTFLAGS="-C target-cpu=native"` (AVX-512 here, same results bit for bit) the lanes run
//! ~1.5–2× faster again (exp 4.5, expm1 5–6, ln 3.6, ln_1p 3.7–4.0, pair 10.6 ns). The
//! leaky-softplus block kernels get that without the flag: they are compiled a second time for
//! AVX2 and chosen at run time (`crate::lanes::avx2_kernel!`, same bits).
//!
//! ## Modules
//!
//! | module | contents |
//! | --- | --- |
//! | [`exp`](mod@exp), [`expm1`](mod@expm1), [`ln`](mod@ln), [`ln_1p`](mod@ln_1p), [`sigmoid`] | the kernels (`log_core`, private: the log(1 + f) kernel ln and ln_1p share) |
//! | `lanes`, `ieee` (private) | `Lanes<N>` and the bit tricks |
//! | [`dd`], [`reference`](mod@reference) | double-double arithmetic and the independent references |
//! | [`accuracy`] | the ulp error measure, the argument samples, the sweep |

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
