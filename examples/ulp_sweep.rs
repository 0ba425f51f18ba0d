//! The long accuracy run of `kernels::math`: for each function, its edge arguments plus N random
//! arguments (default 10⁷; a seeded mixture of uniform, log-uniform and cancellation-region
//! arguments, see `kernels::math::accuracy::random_arguments`), the maximum error in ulps against
//! the double-double reference and an argument where it occurs.
//!
//! Beside each line, the same measure of the standard library's function (the platform libm; for
//! the pair, std's exp with one division each, as `model::sigmoid` does).
//!
//! `cargo run --release --example ulp_sweep [-- --n N --seed S --threads T --only NAME]`

use ima_oracle::lanes::math::accuracy::{edges, measure_with, random_arguments, Function, Worst};
use std::time::Instant;

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

/// `measure_with` over `args` split across `threads` threads; the worst of the parts. `std`:
/// measure the standard library's function instead of the crate's.
fn measure_parallel(f: Function, args: &[f64], threads: usize, std: bool) -> Worst {
    let chunk = args.len().div_ceil(threads).max(1);
    let parts: Vec<Worst> = std::thread::scope(|scope| {
        let handles: Vec<_> = args
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    measure_with(f, part, |x| if std { f.eval_std(x) } else { f.eval(x) })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    parts.into_iter().fold(
        Worst {
            ulps: 0.0,
            arg: f64::NAN,
            count: 0,
        },
        |a, b| Worst {
            count: a.count + b.count,
            ..if b.ulps > a.ulps { b } else { a }
        },
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--n", 10_000_000) as usize;
    let seed = arg(&args, "--seed", 2024);
    let threads = arg(&args, "--threads", 2) as usize;
    println!(
        "{:<13} {:<10} {:>8} {:<25} {:>8} {:<25} {:>9} {:>7}",
        "function", "impl", "edges", "(worst at)", "random", "(worst at)", "N", "seconds"
    );
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    for f in Function::ALL {
        if only.is_some_and(|name| name != f.name()) {
            continue;
        }
        let edge_args = edges(f);
        let random = random_arguments(f, n, seed);
        for std in [false, true] {
            let start = Instant::now();
            let e = measure_parallel(f, &edge_args, threads, std);
            let r = measure_parallel(f, &random, threads, std);
            println!(
                "{:<13} {:<10} {:>8.4} {:<25e} {:>8.4} {:<25e} {:>9} {:>7.1}",
                f.name(),
                if std { "std" } else { "ima-oracle" },
                e.ulps,
                e.arg,
                r.ulps,
                r.arg,
                r.count + e.count,
                start.elapsed().as_secs_f64()
            );
        }
    }
}
