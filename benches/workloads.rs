//! Benchmarks W1–W3 of shared/bench-workloads.md on the MLP3 decoder (tests/fixtures/models/mlp3).
//!
//! `cargo bench --bench workloads [-- --reps R --threads T]`: each workload runs once as a warm-up,
//! then R times (default 5); one line per workload and thread count: id, N, median seconds (with
//! min–max), the figure, threads. Accuracy is printed beside the time where it applies.

use ima_oracle::generate::rng;
use ima_oracle::inference::{newton_on_rule, NewtonOptions};
use ima_oracle::io::model_file::load_model;
use ima_oracle::objective::{elbo_on_rule, DerivativeOrder, ElboWorkspace};
use ima_oracle::paper::c_ima_with;
use ima_oracle::parallel::{par_map, thread_count};
use ima_oracle::quadrature::TensorRule;
use ima_oracle::{Encoder, Model, Query};
use nalgebra::DVector;
use rand::RngExt;
use rand_distr::StandardNormal;
use std::time::Instant;

fn median_of(reps: usize, mut run: impl FnMut() -> f64) -> (f64, f64, f64) {
    run();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            std::hint::black_box(run());
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], t[0], t[t.len() - 1])
}

fn points(n: usize, seed: u64) -> Vec<[f64; 3]> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| [0; 3].map(|_| r.sample::<f64, _>(StandardNormal)))
        .collect()
}

fn report(id: &str, n: usize, (med, lo, hi): (f64, f64, f64), figure: String, threads: usize) {
    println!(
        "{id}  N={n:<7} median {med:9.4} s  (min {lo:.4}, max {hi:.4})  {figure}  threads={threads}"
    );
}

fn w1(model: &Model, z: &[[f64; 3]], threads: usize, reps: usize) {
    let dec = model.decoder();
    let timing = median_of(reps, || {
        let c = par_map(
            z.len(),
            threads,
            || dec.workspace(),
            |i, ws| c_ima_with(dec, &z[i], ws).expect("MLP3 is smooth"),
        );
        c.iter().sum::<f64>()
    });
    report(
        "W1",
        z.len(),
        timing,
        format!("{:.3e} points/s", z.len() as f64 / timing.0),
        threads,
    );
}

fn w2_inputs(model: &Model, z: &[f64; 3], gamma2: f64) -> (Vec<f64>, Vec<f64>, [f64; 3]) {
    let j = model
        .decoder()
        .jacobian(&DVector::from_column_slice(z))
        .unwrap();
    let lv: Vec<f64> = (0..3)
        .map(|k| -(gamma2 * j.column(k).norm_squared()).ln())
        .collect();
    let x = model
        .decoder()
        .forward(&DVector::from_column_slice(z))
        .unwrap();
    (x.as_slice().to_vec(), lv, *z)
}

fn w2(model: &Model, z: &[[f64; 3]], threads: usize, reps: usize) {
    let gamma2 = 1e4;
    let rule = TensorRule::new(8, 3, 1 << 20).unwrap();
    let timing = median_of(reps, || {
        let v = par_map(
            z.len(),
            threads,
            || ElboWorkspace::new(model),
            |i, ws| {
                let (x, lv, mu) = w2_inputs(model, &z[i], gamma2);
                let query = Query::new(model, &x, gamma2).unwrap();
                let enc = Encoder::new(&mu, &lv).unwrap();
                elbo_on_rule(&query, &enc, &rule, DerivativeOrder::Gradient, ws)
                    .unwrap()
                    .value
            },
        );
        v.iter().sum::<f64>()
    });
    report(
        "W2",
        z.len(),
        timing,
        format!("{:.3e} points/s", z.len() as f64 / timing.0),
        threads,
    );
}

fn w3(model: &Model, z: &[[f64; 3]], threads: usize, reps: usize) {
    let gamma2 = 1e4;
    let rule = TensorRule::new(8, 3, 1 << 20).unwrap();
    let opts = NewtonOptions {
        max_iter: 100,
        grad_tol: Some(1e-9),
    };
    let mut iters = 0usize;
    let timing = median_of(reps, || {
        let v = par_map(
            z.len(),
            threads,
            || ElboWorkspace::new(model),
            |i, ws| {
                let (x, lv, mu) = w2_inputs(model, &z[i], gamma2);
                let query = Query::new(model, &x, gamma2).unwrap();
                let start = Encoder::new(&mu.map(|m| m + 1e-3), &lv).unwrap();
                let r = newton_on_rule(&query, &start, &rule, &opts, ws).unwrap();
                (r.iterations, r.parts.total())
            },
        );
        iters = v.iter().map(|p| p.0).sum();
        v.iter().map(|p| p.1).sum::<f64>()
    });
    report(
        "W3",
        z.len(),
        timing,
        format!(
            "{:.3e} points/s, {:.2} Newton iterations per solve",
            z.len() as f64 / timing.0,
            iters as f64 / z.len() as f64
        ),
        threads,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let reps = get("--reps").unwrap_or(5).max(1);
    let max_threads = thread_count(get("--threads"));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/mlp3");
    let model = load_model(&dir).expect("the MLP3 fixture loads");
    eprintln!(
        "MLP3 from {}; {reps} repetitions after a warm-up",
        dir.display()
    );
    let z1 = points(100_000, 1);
    let z2 = points(10_000, 2);
    let mut counts = vec![1];
    if max_threads > 1 {
        counts.push(max_threads);
    }
    for &t in &counts {
        w1(&model, &z1, t, reps);
        w2(&model, &z2, t, reps);
        w3(&model, &z2, t, reps);
    }
}
