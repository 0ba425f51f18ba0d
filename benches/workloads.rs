//! Benchmarks W1–W4 of shared/bench-workloads.md on the MLP3 decoder (tests/fixtures/models/mlp3), and S1, an
//! epoch of the Sprites image VAE (§4.3) in images per second.
//!
//! `cargo bench --bench workloads [-- --reps R --threads T --only W1,W2]`: each workload runs once
//! as a warm-up, then R times (default 5); one line per workload and thread count: id, N, median
//! seconds (with min–max), the figure, threads, and a checksum to hold against the PyTorch/JAX
//! anchors' `reference_values` (same data: the card's portable SplitMix64 + Box–Muller generator).

use ima_oracle::inference::{newton_on_rule, NewtonOptions};
use ima_oracle::io::model_file::load_model;
use ima_oracle::objective::{elbo_on_rule, DerivativeOrder, ElboWorkspace};
use ima_oracle::paper::c_ima_many;
use ima_oracle::parallel::{par_map, thread_count};
use ima_oracle::quadrature::TensorRule;
use ima_oracle::{Encoder, Model, Query};
use nalgebra::DVector;
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

/// The card's portable generator: SplitMix64, u = (next >> 11)·2⁻⁵³, Box–Muller pairs
/// r = √(−2 ln(1 − u1)), θ = 2π u2, emitting r cos θ then r sin θ.
fn normals(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1 = (next() >> 11) as f64 * 2f64.powi(-53);
        let u2 = (next() >> 11) as f64 * 2f64.powi(-53);
        let r = (-2.0 * (-u1).ln_1p()).sqrt();
        let th = 2.0 * std::f64::consts::PI * u2;
        out.push(r * th.cos());
        out.push(r * th.sin());
    }
    out.truncate(n);
    out
}

/// N points in R³: normals(3N, seed) in row-major order.
fn points(n: usize, seed: u64) -> Vec<[f64; 3]> {
    normals(3 * n, seed)
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect()
}

fn report(id: &str, n: usize, (med, lo, hi): (f64, f64, f64), figure: String, threads: usize) {
    println!(
        "{id}  N={n:<7} median {med:9.4} s  (min {lo:.4}, max {hi:.4})  {figure}  threads={threads}"
    );
}

fn w1(model: &Model, z: &[[f64; 3]], threads: usize, reps: usize) {
    let dec = model.decoder();
    let zs: Vec<DVector<f64>> = z.iter().map(|p| DVector::from_column_slice(p)).collect();
    // Chunks of points to the threads; each chunk runs through the decoder's block form.
    let chunks: Vec<&[DVector<f64>]> = zs.chunks(1024).collect();
    let mut checksum = 0.0;
    let timing = median_of(reps, || {
        let c = par_map(
            chunks.len(),
            threads,
            || (),
            |i, _| c_ima_many(dec, chunks[i]),
        );
        checksum = c
            .iter()
            .flatten()
            .map(|v| v.as_ref().expect("MLP3 is smooth"))
            .sum::<f64>();
        checksum
    });
    report(
        "W1",
        z.len(),
        timing,
        format!(
            "{:.3e} points/s, sum c_IMA {checksum:.12e}",
            z.len() as f64 / timing.0
        ),
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
    // Set-up, untimed (as in the card): x = f(z), μ = z, log σ² from J_f(z).
    let inputs: Vec<_> = z.iter().map(|p| w2_inputs(model, p, gamma2)).collect();
    let mut checksum = 0.0;
    let timing = median_of(reps, || {
        let v = par_map(
            z.len(),
            threads,
            || ElboWorkspace::new(model),
            |i, ws| {
                let (x, lv, mu) = &inputs[i];
                let query = Query::new(model, x, gamma2).unwrap();
                let enc = Encoder::new(mu, lv).unwrap();
                elbo_on_rule(&query, &enc, &rule, DerivativeOrder::Gradient, ws)
                    .unwrap()
                    .value
            },
        );
        checksum = v.iter().sum::<f64>();
        checksum
    });
    report(
        "W2",
        z.len(),
        timing,
        format!(
            "{:.3e} points/s, sum ELBO {checksum:.12e}",
            z.len() as f64 / timing.0
        ),
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
    let inputs: Vec<_> = z.iter().map(|p| w2_inputs(model, p, gamma2)).collect();
    let mut iters = 0usize;
    let mut checksum = 0.0;
    let timing = median_of(reps, || {
        let v = par_map(
            z.len(),
            threads,
            || ElboWorkspace::new(model),
            |i, ws| {
                let (x, lv, mu) = &inputs[i];
                let query = Query::new(model, x, gamma2).unwrap();
                let start = Encoder::new(&mu.map(|m| m + 1e-3), lv).unwrap();
                let r = newton_on_rule(&query, &start, &rule, &opts, ws).unwrap();
                (r.iterations, r.parts.total())
            },
        );
        iters = v.iter().map(|p| p.0).sum();
        checksum = v.iter().map(|p| p.1).sum::<f64>();
        checksum
    });
    report(
        "W3",
        z.len(),
        timing,
        format!(
            "{:.3e} points/s, {:.2} Newton iterations per solve, sum ELBO* {checksum:.12e}",
            z.len() as f64 / timing.0,
            iters as f64 / z.len() as f64
        ),
        threads,
    );
}

/// W4: one training epoch of the §4.1 VAE (encoder 3→30→30→6, decoder 3→30→30→3, leaky softplus
/// 0.2, PyTorch-default init from the crate's seeded ChaCha, prior N(0, I), γ² = 1e4, one sample
/// per point, closed-form KL, Adam lr 1e-3, batch 64: 938 steps) on x = f(z), z = normals(3·60000, 3).
fn w4(model: &Model, threads: usize, reps: usize) {
    use ima_oracle::vae::{init, train, AdamConfig, TrainOptions, Vae};
    use ima_oracle::{Beta, Gamma2, Prior};
    let z = points(60_000, 3);
    let mut xs = Vec::with_capacity(3 * z.len());
    for zi in &z {
        let x = model
            .decoder()
            .forward(&DVector::from_row_slice(zi))
            .unwrap();
        xs.extend(x.iter());
    }
    let mut r = ima_oracle::generate::rng(0);
    let enc = init::mlp(&[3, 30, 30, 6], 0.2, &mut r).unwrap();
    let dec = init::mlp(&[3, 30, 30, 3], 0.2, &mut r).unwrap();
    let vae0 = Vae::new(Prior::standard_normal(), enc, dec).unwrap();
    let opts = TrainOptions {
        gamma2: Gamma2::new(1e4).unwrap(),
        beta: Beta::ONE,
        epochs: 1,
        batch: 64,
        samples: 1,
        adam: AdamConfig::new(1e-3).unwrap(),
        seed: 4,
        freeze_decoder: false,
        threads,
    };
    let mut loss = 0.0;
    let t = median_of(reps, || {
        let mut v = vae0.clone();
        let recs = train(&mut v, &xs, &opts, |_, _| Ok(())).unwrap();
        loss = recs[0].loss;
        loss
    });
    report(
        "W4",
        z.len(),
        t,
        format!("{:.4} s/epoch (epoch loss {loss:.6e}, 938 steps)", t.0),
        threads,
    );
}

/// S1 (the Sprites experiment, not on the benchmark card): one training epoch of the §4.3 image VAE
/// — 4000 images 32 × 32 × 3 rendered by `ima_oracle::sprites` (default law, seed 5), d = 4,
/// encoder 3072 → 64 → 64 → 8, decoder sigmoid, 4 → 64 → 64 → 3072, Beta(1, 1) prior through the
/// sigmoid, γ² = 1, Adam lr 1e-3, batch 64 (63 steps). Reported in images per second.
fn s1(threads: usize, reps: usize) {
    use ima_oracle::sprites::{render, RenderOptions, SpriteLaw};
    use ima_oracle::vae::{init, train, AdamConfig, Layer, Network, TrainOptions, Vae};
    use ima_oracle::{Beta, Gamma2, Prior, Sigmoid};
    let n = 4000;
    let opts = RenderOptions::default();
    let dd = opts.pixels * opts.pixels * 3;
    let mut r = ima_oracle::generate::rng(5);
    let mut xs = Vec::with_capacity(n * dd);
    for f in SpriteLaw::default().sample(n, &mut r).unwrap() {
        xs.extend(render(&f, &opts).unwrap());
    }
    let enc = init::mlp(&[dd, 64, 64, 8], 0.2, &mut r).unwrap();
    let mlp = init::mlp(&[4, 64, 64, dd], 0.2, &mut r).unwrap();
    let mut layers = vec![Layer::Fixed(Sigmoid::new(4).unwrap().into())];
    layers.extend(mlp.layers().iter().cloned());
    let dec = Network::new(4, layers).unwrap();
    let vae0 = Vae::new(Prior::beta_logistic(1.0, 1.0).unwrap(), enc, dec).unwrap();
    let topts = TrainOptions {
        gamma2: Gamma2::new(1.0).unwrap(),
        beta: Beta::ONE,
        epochs: 1,
        batch: 64,
        samples: 1,
        adam: AdamConfig::new(1e-3).unwrap(),
        seed: 6,
        freeze_decoder: false,
        threads,
    };
    let mut loss = 0.0;
    let t = median_of(reps, || {
        let mut v = vae0.clone();
        loss = train(&mut v, &xs, &topts, |_, _| Ok(())).unwrap()[0].loss;
        loss
    });
    report(
        "S1",
        n,
        t,
        format!(
            "{:.0} images/s ({:.3} s/epoch, epoch loss {loss:.6e})",
            n as f64 / t.0,
            t.0
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
    let only: Vec<String> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map_or(
            vec![
                "W1".into(),
                "W2".into(),
                "W3".into(),
                "W4".into(),
                "S1".into(),
            ],
            |v| v.split(',').map(|s| s.trim().to_uppercase()).collect(),
        );
    let run = |id: &str| only.iter().any(|o| o == id);
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
        if run("W1") {
            w1(&model, &z1, t, reps);
        }
        if run("W2") {
            w2(&model, &z2, t, reps);
        }
        if run("W3") {
            w3(&model, &z2, t, reps);
        }
        if run("W4") {
            w4(&model, t, reps);
        }
        if run("S1") {
            s1(t, reps);
        }
    }
}
