//! The kernels against the double-double reference on the test sample, and scalar against lanes.
//!
//! Method. For each function: its edge arguments ([`super::accuracy::edges`]) and 200 000 seeded
//! random arguments ([`super::accuracy::random_arguments`]), each output's error in ulps against
//! [`super::reference`](mod@super::reference); then the same arguments through the lane functions
//! at widths 1, 2, 3, 4 and 8 (and at offsets, so every argument visits every lane position),
//! compared bit for bit with
//! the scalar function.
//!
//! Special cases: NaN outputs compare equal to NaN (IEEE leaves payloads open); everything else,
//! zeros' signs included, must match bit for bit.
//!
//! Accuracy. The bound asserted is the claim, < 1 ulp; the reference's own error (≲ 1e-29
//! relative, ≲ 1e-13 ulp) cannot move a measured error across it unless it is within 1e-13 of 1.

use super::accuracy::{edges, measure, random_arguments, Function};
use super::{exp_lanes, expm1_lanes, ln_1p_lanes, ln_lanes, sigmoid_pair_lanes};

/// Random arguments per function in the test suite (a few seconds in total in release mode).
const SAMPLE: usize = 200_000;

fn sample(f: Function) -> Vec<f64> {
    let mut args = edges(f);
    args.extend(random_arguments(f, SAMPLE, 0x1DEA));
    args
}

/// Every function < 1 ulp on its edges and the random sample; the maxima are printed
/// (`cargo test --release --lib kernels -- --nocapture`).
#[test]
fn below_one_ulp_on_the_sample() {
    for f in Function::ALL {
        let worst = measure(f, &sample(f));
        eprintln!(
            "{:<13} max {:.4} ulp at {:e} over {} arguments",
            f.name(),
            worst.ulps,
            worst.arg,
            worst.count
        );
        assert!(
            worst.ulps < 1.0,
            "{}: {} ulp at {:e}",
            f.name(),
            worst.ulps,
            worst.arg
        );
    }
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

/// The lane function at width N on `args` (from lane offset `offset`), against the scalar.
fn lanes_agree<const N: usize>(f: Function, args: &[f64], offset: usize) {
    for (block_index, block) in args[offset..].chunks_exact(N).enumerate() {
        let x: [f64; N] = block.try_into().unwrap();
        let outputs: Vec<[f64; N]> = match f {
            Function::Exp => vec![exp_lanes(x)],
            Function::Expm1 => vec![expm1_lanes(x)],
            Function::Ln => vec![ln_lanes(x)],
            Function::Ln1p => vec![ln_1p_lanes(x)],
            Function::Sigmoid => {
                let (a, b) = sigmoid_pair_lanes(x);
                vec![a, b]
            }
        };
        for (lane, &xi) in x.iter().enumerate() {
            for (out, scalar) in outputs.iter().zip(f.eval(xi)) {
                assert!(
                    same(out[lane], scalar),
                    "{} at {xi:e}: lanes {N} (block {block_index}, lane {lane}) give {:e}, \
                     scalar {scalar:e}",
                    f.name(),
                    out[lane]
                );
            }
        }
    }
}

/// Scalar and lane functions agree bit for bit at every width and lane position.
#[test]
fn lanes_bit_identical_to_scalar() {
    for f in Function::ALL {
        let mut args = edges(f);
        args.extend(random_arguments(f, 20_000, 0xB175));
        for offset in 0..8 {
            lanes_agree::<1>(f, &args, offset);
            lanes_agree::<2>(f, &args, offset);
            lanes_agree::<3>(f, &args, offset);
            lanes_agree::<4>(f, &args, offset);
            lanes_agree::<8>(f, &args, offset);
        }
    }
}
