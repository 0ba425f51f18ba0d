//! How a backend checks itself against the oracle from its own `cargo test`, with ima-oracle as a
//! dev-dependency:
//!
//! ```toml
//! [dev-dependencies]
//! ima-oracle = { git = "…", version = "0.1" }   # or a path
//! ```
//!
//! Run this example with `cargo run --release --example cross_check`. The "backend" here is a
//! stand-in — a hand-written f32 MLP3 forward pass and a rough ELBO* estimate — checked at the
//! tolerances an f32 implementation can meet.

use ima_oracle::compare::assert_close;
use ima_oracle::io::model_file::load_model;
use ima_oracle::{evaluate, Query, Step};

/// A stand-in for the backend under test: MLP3 in f32.
fn backend_forward(weights: &[[[f32; 3]; 3]], z: [f32; 3]) -> [f32; 3] {
    let act = |t: f32| 0.2 * t + 0.8 * t.exp().ln_1p();
    let mut h = z;
    for w in weights {
        let mut o = [0f32; 3];
        for i in 0..3 {
            o[i] = act((0..3).map(|j| w[i][j] * h[j]).sum());
        }
        h = o;
    }
    h
}

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/models/mlp3");
    // The three lines: load the model, ask the oracle, compare.
    let model = load_model(dir).expect("MLP3 loads");
    let z = nalgebra::DVector::from_vec(vec![0.4, -0.3, 0.9]);
    let x: Vec<f64> = model
        .decoder()
        .forward(&z)
        .expect("finite")
        .iter()
        .copied()
        .collect();
    let query = Query::new(&model, &x, 1e4).expect("x fits the model");
    let oracle = evaluate(&query, &Default::default()).expect("g(x) exists");
    // Each quantity is answered on its own (a refusal of one withholds nothing else).
    let optimal = oracle.optimal.as_ref().expect("the oracle answers ELBO*");
    let log_marginal = oracle
        .log_marginal
        .as_ref()
        .expect("the oracle answers log p");

    // The backend's numbers (here: its decoder at the oracle's g(x), and its ELBO* estimate).
    let weights: Vec<[[f32; 3]; 3]> = model
        .decoder()
        .steps()
        .iter()
        .filter_map(|s| match s {
            Step::Affine(a) => {
                Some([0, 1, 2].map(|i| [0, 1, 2].map(|j| a.weight()[(i, j)] as f32)))
            }
            _ => None,
        })
        .collect();
    let g = oracle.flow.g.iter().map(|&t| t as f32).collect::<Vec<_>>();
    let fx = backend_forward(&weights, [g[0], g[1], g[2]]);
    let theirs_x: Vec<f64> = fx.iter().map(|&t| t as f64).collect();
    let theirs_elbo_star = (optimal.elbo as f32) as f64; // a backend that got it right, in f32

    // f32 round-off: ~6e-8 relative per operation, a few dozen operations: 1e-5 is a fair bar.
    assert_close("f(g(x))", &theirs_x, &x, 1e-5, 1e-6);
    assert_close("g(x)", oracle.flow.g.as_slice(), z.as_slice(), 1e-13, 1e-14);
    assert_close("ELBO*", &[theirs_elbo_star], &[optimal.elbo], 1e-6, 1e-7);
    println!(
        "backend agrees with the oracle: ELBO* = {:.12} (error estimate {:.1e}), log p = {:.12}, c_IMA = {:.6}",
        optimal.elbo,
        optimal.error_estimate,
        log_marginal.value,
        oracle.flow.c_ima
    );
}
