//! Seeded mutation fuzzing of the NPY reader and the model-folder loader (see `tests/fuzz/`).

mod fuzz;

#[test]
fn npy_reader_survives_mutations() {
    let t = std::time::Instant::now();
    let tally = fuzz::run_npy(20221128, 300_000);
    eprintln!("npy: {tally:?} in {:.1} s", t.elapsed().as_secs_f64());
}

#[test]
fn model_loader_survives_mutations() {
    let root = std::env::temp_dir().join(format!("ima-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let t = std::time::Instant::now();
    let tally = fuzz::run_model(20221128, 20_000, &root);
    eprintln!("model: {tally:?} in {:.1} s", t.elapsed().as_secs_f64());
    std::fs::remove_dir_all(&root).unwrap();
}
