//! Deterministic training of a VAE: Adam on the given-noise loss of [`super::loss_given_noise`],
//! minibatches from a seeded shuffle.
//!
//! One ChaCha generator, seeded once, drives everything in a fixed order: per epoch a Fisher–Yates
//! shuffle of the N rows, then per step the noise ε (B × S × d standard normals, row-major). The
//! minibatches are consecutive runs of the shuffled rows, the last one shorter when B does not
//! divide N (PyTorch's `DataLoader` with `drop_last=False`). With the loss's fixed chunk order, the
//! same seed gives the same weights bit for bit whatever the number of threads.
//!
//! A step whose loss or gradient is not finite is not applied: training stops with
//! [`VaeError::Diverged`] naming the epoch and step, and the VAE keeps the parameters of the last
//! good step.

use super::adam::{Adam, AdamConfig};
use super::autoencoder::Vae;
use super::error::{check_array, VaeError};
use super::given_noise_block::{run_chunk_given_noise, BlockScratch};
use super::step_loss::{empty_step, sum_chunks, ChunkOut, GivenNoise, CHUNK};
use crate::input::{Beta, Gamma2};
use crate::model::generate::{rng, OracleRng};
use crate::parallel::with_crew;
use rand::RngExt;
use rand_distr::StandardNormal;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The settings of a training run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// Decoder precision γ².
    pub gamma2: Gamma2,
    /// β of the β-VAE (1: the ELBO).
    pub beta: Beta,
    /// Epochs (passes over the data).
    pub epochs: usize,
    /// Minibatch size B ≥ 1.
    pub batch: usize,
    /// Noise samples per point S ≥ 1 (1 in the authors' runs).
    pub samples: usize,
    /// Adam's hyper-parameters.
    pub adam: AdamConfig,
    /// The seed of the shuffle and the noise.
    pub seed: u64,
    /// Keep the decoder fixed and train the encoder only (the §4.2 setting).
    pub freeze_decoder: bool,
    /// Worker threads (the result does not depend on it).
    pub threads: usize,
}

impl TrainOptions {
    /// Checks B ≥ 1 and S ≥ 1.
    pub fn check(&self) -> Result<(), VaeError> {
        for (what, v) in [("batch", self.batch), ("samples", self.samples)] {
            if v == 0 {
                return Err(VaeError::InvalidParameter {
                    what,
                    message: "must be at least 1".into(),
                });
            }
        }
        Ok(())
    }
}

/// What one epoch did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    /// The epoch (0-based).
    pub epoch: usize,
    /// Mean over the epoch's steps of the step loss, weighted by the batch sizes: −(mean ELBO
    /// estimate over the data at the parameters of each step).
    pub loss: f64,
    /// Optimiser steps taken so far.
    pub steps: u64,
}

/// Trains `vae` on `xs` (row-major N × D) for `opts.epochs` epochs, calling `on_epoch` after each
/// (progress, checkpoints). Returns the records, or the first error (the VAE then holds the last
/// good parameters).
pub fn train(
    vae: &mut Vae,
    xs: &[f64],
    opts: &TrainOptions,
    mut on_epoch: impl FnMut(&Vae, &EpochRecord) -> Result<(), VaeError>,
) -> Result<Vec<EpochRecord>, VaeError> {
    opts.check()?;
    let (d, dd) = (vae.dim_latent(), vae.dim_observed());
    if xs.is_empty() || xs.len() % dd != 0 {
        return Err(VaeError::Shape {
            what: "x",
            expected: format!("N x {dd} entries with N >= 1"),
            found: xs.len(),
        });
    }
    let n = xs.len() / dd;
    check_array("x", xs, n * dd, || format!("({n}, {dd})"))?;
    let batch = opts.batch.min(n);
    let chunks = batch.div_ceil(CHUNK);
    // Shared with the crew: the parameters (written only between steps, by Adam), the step's
    // inputs, and one output slot per chunk.
    let params = RwLock::new(vae.clone());
    let input = RwLock::new(StepInput {
        xs: vec![0.0; batch * dd],
        eps: vec![0.0; batch * opts.samples * d],
        b: 0,
    });
    let outs: Vec<Mutex<ChunkOut>> = (0..chunks)
        .map(|_| Mutex::new(ChunkOut::new(vae)))
        .collect();
    let (g2, be, samples) = (opts.gamma2.get(), opts.beta.get(), opts.samples);
    let work = |c: usize, sc: &mut BlockScratch| {
        let v = read(&params);
        let inp = read(&input);
        let mut out = lock(&outs[c]);
        let noise = GivenNoise {
            xs: &inp.xs[..inp.b * dd],
            eps: &inp.eps[..inp.b * samples * d],
            samples,
            gamma2: g2,
            beta: be,
        };
        run_chunk_given_noise(&v, &noise, inp.b, c, sc, &mut out);
    };
    let result = with_crew(
        opts.threads,
        || BlockScratch::new(vae),
        work,
        |crew| -> Result<Vec<EpochRecord>, VaeError> {
            let mut r: OracleRng = rng(opts.seed);
            let mut adam = Adam::new(opts.adam, vae);
            let mut order: Vec<usize> = (0..n).collect();
            let mut sum = vae.zero_grads();
            let mut sl = empty_step(vae);
            let mut records = Vec::with_capacity(opts.epochs);
            for epoch in 0..opts.epochs {
                shuffle(&mut order, &mut r);
                let mut total = 0.0;
                for (step, rows) in order.chunks(opts.batch).enumerate() {
                    let b = rows.len();
                    {
                        let mut inp = write(&input);
                        inp.b = b;
                        for (k, &i) in rows.iter().enumerate() {
                            inp.xs[k * dd..(k + 1) * dd].copy_from_slice(&xs[i * dd..(i + 1) * dd]);
                        }
                        for t in inp.eps[..b * samples * d].iter_mut() {
                            *t = r.sample(StandardNormal);
                        }
                    }
                    crew.run(b.div_ceil(CHUNK));
                    let done = outs[..b.div_ceil(CHUNK)].iter().map(lock);
                    sum_chunks(b, done, &mut sum, &mut sl)?;
                    let finite = sl.loss.is_finite()
                        && sl.grads.encoder.iter().all(|g| g.is_finite())
                        && sl.grads.decoder.iter().all(|g| g.is_finite());
                    if !finite {
                        return Err(VaeError::Diverged { epoch, step });
                    }
                    adam.step(&mut write(&params), &sl.grads, opts.freeze_decoder);
                    total += sl.loss * b as f64;
                }
                let rec = EpochRecord {
                    epoch,
                    loss: total / n as f64,
                    steps: adam.steps(),
                };
                on_epoch(&read(&params), &rec)?;
                records.push(rec);
            }
            Ok(records)
        },
    );
    // The parameters of the last good step, whether the run finished or stopped.
    *vae = params.into_inner().unwrap_or_else(|e| e.into_inner());
    result
}

/// One step's inputs, shared with the crew: the minibatch rows, the noise, and the batch size.
struct StepInput {
    xs: Vec<f64>,
    eps: Vec<f64>,
    b: usize,
}

/// Read access to `l` (a poisoned lock only means a panic elsewhere, which the crew reports).
fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

/// Write access to `l`.
fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

/// The lock of `m`.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Fisher–Yates, from the last position down, one bounded draw per position.
fn shuffle(v: &mut [usize], r: &mut OracleRng) {
    for i in (1..v.len()).rev() {
        let j = r.random_range(0..=i);
        v.swap(i, j);
    }
}
