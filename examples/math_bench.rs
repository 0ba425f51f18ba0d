//! Micro-benchmark of `kernels::math`: ns per call of each function over a few million arguments,
//! scalar and over lanes, against the standard library (the platform libm).
//!
//! `cargo run --release --example math_bench [-- --n N --reps R --only NAME]`
//!
//! For each function and variant: one warm-up pass, then R timed passes (default 7) over the same
//! N arguments (default 4·2²⁰), writing into an output buffer; the median and the min–max of the
//! ns per argument are printed. Variants:
//!
//! * `std`: `f64::exp` etc. in a loop (for the pair: std's exp and two divisions, as
//!   `model::sigmoid` does);
//! * `scalar`: the crate's scalar function in a loop, each argument through `black_box` so that the
//!   compiler cannot vectorise the loop — one call at a time;
//! * `scalar-loop`: the same loop without `black_box` (the compiler may vectorise it itself);
//! * `lanes<N>`: the lane function on consecutive blocks of N arguments (N = 2, 4, 8).
//!
//! The arguments of each function are uniform over a range where it does real work (exp, pair:
//! [−40, 40] and [−700, 700]; expm1: [−2, 2]; ln: log-uniform over the normal doubles; ln_1p:
//! [−0.9, 10]); the crate's kernels are branch-free, so their time does not depend on them.

use ima_oracle::lanes::math::{
    exp, exp_lanes, expm1, expm1_lanes, ln, ln_1p, ln_1p_lanes, ln_lanes, sigmoid_pair,
    sigmoid_pair_lanes,
};
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use std::time::Instant;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

/// Median, min and max ns per argument of `reps` passes of `run` over `n` arguments.
fn time(n: usize, reps: usize, mut run: impl FnMut()) -> (f64, f64, f64) {
    run();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            run();
            s.elapsed().as_secs_f64() * 1e9 / n as f64
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[reps / 2], t[0], t[reps - 1])
}

/// Applies a lane function to consecutive blocks of N arguments (N divides the length).
fn blocks<const N: usize>(x: &[f64], out: &mut [f64], f: impl Fn([f64; N]) -> [f64; N]) {
    for (o, xs) in out.chunks_exact_mut(N).zip(x.chunks_exact(N)) {
        o.copy_from_slice(&f(xs.try_into().unwrap()));
    }
}

/// A single-output function's variants.
struct Unary {
    name: &'static str,
    std: fn(f64) -> f64,
    scalar: fn(f64) -> f64,
    lanes2: fn([f64; 2]) -> [f64; 2],
    lanes4: fn([f64; 4]) -> [f64; 4],
    lanes8: fn([f64; 8]) -> [f64; 8],
}

fn report(name: &str, variant: &str, (med, lo, hi): (f64, f64, f64)) {
    println!("{name:<13} {variant:<12} {med:7.2} ns/call   (min {lo:.2}, max {hi:.2})");
}

fn bench_unary(u: &Unary, x: &[f64], reps: usize) {
    if !selected(u.name) {
        return;
    }
    let n = x.len();
    let mut out = vec![0.0; n];
    report(
        u.name,
        "std",
        time(n, reps, || {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = (u.std)(v);
            }
            black_box(&mut out);
        }),
    );
    report(
        u.name,
        "scalar",
        time(n, reps, || {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = (u.scalar)(black_box(v));
            }
            black_box(&mut out);
        }),
    );
    report(
        u.name,
        "scalar-loop",
        time(n, reps, || {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = (u.scalar)(v);
            }
            black_box(&mut out);
        }),
    );
    report(
        u.name,
        "lanes<2>",
        time(n, reps, || {
            blocks(x, &mut out, u.lanes2);
            black_box(&mut out);
        }),
    );
    report(
        u.name,
        "lanes<4>",
        time(n, reps, || {
            blocks(x, &mut out, u.lanes4);
            black_box(&mut out);
        }),
    );
    report(
        u.name,
        "lanes<8>",
        time(n, reps, || {
            blocks(x, &mut out, u.lanes8);
            black_box(&mut out);
        }),
    );
}

/// Whether `--only NAME` (if given) selects the function `name`.
fn selected(name: &str) -> bool {
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    only.is_none_or(|o| name.starts_with(o.as_str()))
}

fn std_pair(u: f64) -> (f64, f64) {
    let e = (-u.abs()).exp();
    let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
    if u >= 0.0 {
        (big, small)
    } else {
        (small, big)
    }
}

fn bench_pair(x: &[f64], reps: usize) {
    let n = x.len();
    let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
    let name = "sigmoid_pair";
    if !selected(name) {
        return;
    }
    let mut run_scalar = |f: &dyn Fn(f64) -> (f64, f64)| {
        time(n, reps, || {
            for ((p, q), &v) in a.iter_mut().zip(b.iter_mut()).zip(x) {
                (*p, *q) = f(v);
            }
            black_box((&mut a, &mut b));
        })
    };
    report(name, "std", run_scalar(&std_pair));
    report(name, "scalar", run_scalar(&|v| sigmoid_pair(black_box(v))));
    report(name, "scalar-loop", run_scalar(&sigmoid_pair));
    let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
    report(
        name,
        "lanes<4>",
        time(n, reps, || {
            for ((p, q), xs) in a
                .chunks_exact_mut(4)
                .zip(b.chunks_exact_mut(4))
                .zip(x.chunks_exact(4))
            {
                let (s, t) = sigmoid_pair_lanes::<4>(xs.try_into().unwrap());
                p.copy_from_slice(&s);
                q.copy_from_slice(&t);
            }
            black_box((&mut a, &mut b));
        }),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--n", 4 << 20) / 8 * 8;
    let reps = arg(&args, "--reps", 7).max(1);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut uniform =
        |lo: f64, hi: f64| -> Vec<f64> { (0..n).map(|_| rng.random_range(lo..hi)).collect() };
    let exp_args = uniform(-700.0, 700.0);
    let small_args = uniform(-40.0, 40.0);
    let expm1_args = uniform(-2.0, 2.0);
    let ln_1p_args = uniform(-0.9, 10.0);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(10);
    let ln_args: Vec<f64> = (0..n)
        .map(|_| f64::from_bits(rng.random_range(1u64 << 52..0x7fe0_0000_0000_0000)))
        .collect();
    println!("{n} arguments, median of {reps} passes after a warm-up");
    let unary = |name, std, scalar, lanes2, lanes4, lanes8| Unary {
        name,
        std,
        scalar,
        lanes2,
        lanes4,
        lanes8,
    };
    let exp_fns = unary("exp", f64::exp, exp, exp_lanes, exp_lanes, exp_lanes);
    bench_unary(&exp_fns, &exp_args, reps);
    bench_unary(
        &Unary {
            name: "exp [-40,40]",
            ..exp_fns
        },
        &small_args,
        reps,
    );
    let expm1_fns = unary(
        "expm1",
        f64::exp_m1,
        expm1,
        expm1_lanes,
        expm1_lanes,
        expm1_lanes,
    );
    bench_unary(&expm1_fns, &expm1_args, reps);
    bench_unary(
        &unary("ln", f64::ln, ln, ln_lanes, ln_lanes, ln_lanes),
        &ln_args,
        reps,
    );
    let ln_1p_fns = unary(
        "ln_1p",
        f64::ln_1p,
        ln_1p,
        ln_1p_lanes,
        ln_1p_lanes,
        ln_1p_lanes,
    );
    bench_unary(&ln_1p_fns, &ln_1p_args, reps);
    bench_pair(&small_args, reps);
}
