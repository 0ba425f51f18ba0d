//! The long fuzz run of the NPY reader and the model-folder loader — the same seeded mutations and
//! checks as `tests/fuzz_io.rs`, for as many cases as you like. Build it with overflow checks (the
//! `fuzz` profile: release speed, overflow checks and debug assertions on):
//!
//! ```sh
//! cargo run --profile fuzz --example fuzz_io -- --npy 10000000 --model 200000 --seed 1
//! ```
//!
//! Prints the outcomes (accepted, refused by kind) and the rate; stops at the first case that
//! panics or breaks a property, printing the case number, the seed and the input to replay it.

#[path = "../tests/fuzz/mod.rs"]
mod fuzz;

/// The value of `--name N` in `args`, or `default`.
fn flag(args: &[String], name: &str, default: u64) -> u64 {
    args.windows(2)
        .find(|w| w[0] == name)
        .map(|w| {
            w[1].parse()
                .unwrap_or_else(|_| panic!("{name}: '{}' is not a count", w[1]))
        })
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("fuzz_io [--npy N (default 10000000)] [--model M (default 200000)] [--seed S (default 1)]");
        return;
    }
    let (npy, model, seed) = (
        flag(&args, "--npy", 10_000_000),
        flag(&args, "--model", 200_000),
        flag(&args, "--seed", 1),
    );
    if cfg!(not(debug_assertions)) {
        eprintln!("note: built without debug assertions; use --profile fuzz for overflow checks");
    }
    let t = std::time::Instant::now();
    let tally = fuzz::run_npy(seed, npy);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "npy: {npy} cases in {secs:.1} s ({:.0}/s): {tally:?}",
        npy as f64 / secs
    );
    let root = std::env::temp_dir().join(format!("ima-fuzz-io-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let t = std::time::Instant::now();
    let tally = fuzz::run_model(seed, model, &root);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "model folders: {model} cases in {secs:.1} s ({:.0}/s): {tally:?}",
        model as f64 / secs
    );
    let _ = std::fs::remove_dir_all(&root);
}
