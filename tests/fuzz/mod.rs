//! A seeded mutation fuzzer of the two parsers of outside files: the `.npy` reader and the model-folder
//! loader. Shared by the test suite (`tests/fuzz_io.rs`, a few seconds) and the long run
//! (`examples/fuzz_io.rs`); every case is a pure function of (seed, case number), so a failure
//! replays exactly.

#![allow(dead_code)]

pub mod model;
pub mod mutate;
pub mod npy;

use ima_oracle::generate;
use ima_oracle::io::Limits;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Counts of outcomes of one run.
pub type Tally<T> = BTreeMap<T, u64>;

/// The generator of case `i` of a run seeded with `seed`: its own ChaCha stream, so that any case
/// can be replayed alone.
pub fn case_rng(seed: u64, i: u64) -> generate::OracleRng {
    let mut r = generate::rng(seed);
    r.set_stream(i);
    r
}

/// The limits of case `i`: the defaults for even cases, small ones (64 entries, dimension 4) for
/// odd ones, so that both the limit checks and the paths behind them are exercised.
pub fn small_limits(i: u64) -> Limits {
    if i % 2 == 0 {
        Limits::default()
    } else {
        Limits {
            max_elements: 64,
            max_dim: 4,
        }
    }
}

/// Runs `cases` NPY cases; panics with a replayable description at the first violated property
/// or panic.
pub fn run_npy(seed: u64, cases: u64) -> Tally<npy::Outcome> {
    let seeds = npy::seeds();
    let mut tally = Tally::new();
    for i in 0..cases {
        let mut r = case_rng(seed, i);
        let base = &seeds[(i % seeds.len() as u64) as usize];
        let input = mutate::mutate(base, &mut r);
        let limits = small_limits(i);
        let result = catch_unwind(AssertUnwindSafe(|| npy::check(&input, &limits)));
        match result {
            Ok(Ok(o)) => *tally.entry(o).or_default() += 1,
            Ok(Err(e)) => panic!("npy case {i} (seed {seed}): {e}\ninput: {input:?}"),
            Err(_) => panic!("npy case {i} (seed {seed}) panicked\ninput: {input:?}"),
        }
    }
    tally
}

/// Runs `cases` model-folder cases in folders under `root`; panics like [`run_npy`].
pub fn run_model(seed: u64, cases: u64, root: &Path) -> Tally<model::Outcome> {
    let seeds = model::seeds(root);
    let mut tally = Tally::new();
    for i in 0..cases {
        let mut r = case_rng(seed ^ 0x5eed, i);
        let s = &seeds[(i % seeds.len() as u64) as usize];
        let limits = small_limits(i / seeds.len() as u64);
        let result = catch_unwind(AssertUnwindSafe(|| model::case(s, &mut r, &limits)));
        match result {
            Ok(Ok(o)) => *tally.entry(o).or_default() += 1,
            Ok(Err(e)) => panic!("model case {i} (seed {seed}): {e}"),
            Err(_) => panic!(
                "model case {i} (seed {seed}) panicked in {}",
                s.dir.display()
            ),
        }
    }
    tally
}
