//! Results do not depend on the number of threads: the library's parallel map and the CLI produce
//! bit-identical numbers with 1, 2 and 3 threads.

mod common;

use common::{normal_vector, test_rng};
use ima_oracle::objective::ElboWorkspace;
use ima_oracle::parallel::par_map;
use ima_oracle::{generate, optimal_encoder, Model, Prior, QuadratureOptions, Query};
use std::process::Command;

#[test]
fn optimal_encoders_bitwise_identical() {
    let mut r = test_rng(70);
    let model = Model::new(
        Prior::logistic(1.0).unwrap(),
        generate::mlp_orthogonal(3, 3, 0.2, &mut r).unwrap(),
    )
    .unwrap();
    let xs: Vec<_> = (0..9)
        .map(|_| {
            model
                .decoder()
                .forward(&normal_vector(3, 0.5, &mut r))
                .unwrap()
        })
        .collect();
    let run = |threads| {
        par_map(
            xs.len(),
            threads,
            || ElboWorkspace::new(&model),
            |i, _| {
                let query = Query::new(&model, xs[i].as_slice(), 1e5).unwrap();
                let o = optimal_encoder(&query, &QuadratureOptions::default()).unwrap();
                (
                    o.elbo.to_bits(),
                    o.mu.iter().map(|m| m.to_bits()).collect::<Vec<_>>(),
                )
            },
        )
    };
    let one = run(1);
    assert_eq!(run(2), one);
    assert_eq!(run(3), one);
}

#[test]
fn cli_eval_bytes_identical() {
    let dir = std::env::temp_dir().join(format!("ima-par-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let model = format!("{}/tests/fixtures/models/mlp3", env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_ima-oracle");
    let st = Command::new(bin)
        .args(["sample", &model, "--n", "7", "--out"])
        .arg(dir.join("d"))
        .status()
        .unwrap();
    assert!(st.success());
    for t in ["1", "3"] {
        let st = Command::new(bin)
            .args(["eval", &model, "--gamma2", "1e3", "--threads", t, "--x"])
            .arg(dir.join("d/x.npy"))
            .arg("--out")
            .arg(dir.join(format!("t{t}")))
            .status()
            .unwrap();
        assert!(st.success());
    }
    for f in [
        "elbo_star.npy",
        "mu_hat.npy",
        "log_marginal.npy",
        "jacobian.npy",
    ] {
        let a = std::fs::read(dir.join("t1").join(f)).unwrap();
        let b = std::fs::read(dir.join("t3").join(f)).unwrap();
        assert_eq!(a, b, "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
