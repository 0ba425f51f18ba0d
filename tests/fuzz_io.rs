//! Seeded mutation fuzzing of the NPY reader and the model-folder loader (see `tests/fuzz/`): a
//! few hundred thousand cases in a few seconds, every answer checked — no panic, the same answer
//! twice, accepted arrays whose sizes agree with the file (recomputed in u128, so that a wrapped
//! size computation in the reader is caught even in a build without overflow checks), errors whose
//! numbers are true. `cargo test --test fuzz_io` (the test profile) runs it with overflow checks
//! too; the long run is `examples/fuzz_io.rs`.

mod fuzz;

use fuzz::{model, npy};

/// The seed of the run; override with IMA_FUZZ_SEED to explore other cases.
fn seed() -> u64 {
    std::env::var("IMA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20221128)
}

/// 300 000 mutated files; the mutations must reach every stage of the reader — valid arrays
/// (decoded and reordered) as well as each kind of refusal — or the run proves little.
#[test]
fn npy_reader_survives_mutations() {
    let t = std::time::Instant::now();
    let tally = fuzz::run_npy(seed(), 300_000);
    eprintln!("npy: {tally:?} in {:.1} s", t.elapsed().as_secs_f64());
    assert!(
        tally.get(&npy::Outcome::Accepted).copied().unwrap_or(0) >= 1000,
        "{tally:?}"
    );
    for kind in [
        "bad magic",
        "version",
        "truncated",
        "trailing data",
        "bad header",
        "dtype",
        "too large",
        "header too long",
    ] {
        assert!(
            tally.contains_key(&npy::Outcome::Refused(kind)),
            "never reached: {kind}"
        );
    }
}

/// 20 000 mutated model folders (a manifest word, line or byte changed, or one array's bytes).
#[test]
fn model_loader_survives_mutations() {
    let root = std::env::temp_dir().join(format!("ima-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let t = std::time::Instant::now();
    let tally = fuzz::run_model(seed(), 20_000, &root);
    eprintln!("model: {tally:?} in {:.1} s", t.elapsed().as_secs_f64());
    for outcome in [
        model::Outcome::Accepted,
        model::Outcome::RefusedAtLine,
        model::Outcome::RefusedFile,
    ] {
        assert!(
            tally.get(&outcome).copied().unwrap_or(0) >= 500,
            "{outcome:?}: {tally:?}"
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}
