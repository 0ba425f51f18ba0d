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
use super::step_loss::loss_given_noise;
use crate::input::{Beta, Gamma2};
use crate::model::generate::{rng, OracleRng};
use rand::RngExt;
use rand_distr::StandardNormal;

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
    let mut r: OracleRng = rng(opts.seed);
    let mut adam = Adam::new(opts.adam, vae);
    let mut order: Vec<usize> = (0..n).collect();
    let mut batch = vec![0.0; opts.batch.min(n) * dd];
    let mut eps = vec![0.0; opts.batch.min(n) * opts.samples * d];
    let mut records = Vec::with_capacity(opts.epochs);
    for epoch in 0..opts.epochs {
        shuffle(&mut order, &mut r);
        let mut total = 0.0;
        for (step, rows) in order.chunks(opts.batch).enumerate() {
            let b = rows.len();
            for (k, &i) in rows.iter().enumerate() {
                batch[k * dd..(k + 1) * dd].copy_from_slice(&xs[i * dd..(i + 1) * dd]);
            }
            let e = &mut eps[..b * opts.samples * d];
            for t in e.iter_mut() {
                *t = r.sample(StandardNormal);
            }
            let sl = loss_given_noise(
                vae,
                &batch[..b * dd],
                e,
                opts.samples,
                opts.gamma2,
                opts.beta,
                opts.threads,
            )?;
            let finite = sl.loss.is_finite()
                && sl.grads.encoder.iter().all(|g| g.is_finite())
                && sl.grads.decoder.iter().all(|g| g.is_finite());
            if !finite {
                return Err(VaeError::Diverged { epoch, step });
            }
            adam.step(vae, &sl.grads, opts.freeze_decoder);
            total += sl.loss * b as f64;
        }
        let rec = EpochRecord {
            epoch,
            loss: total / n as f64,
            steps: adam.steps(),
        };
        on_epoch(vae, &rec)?;
        records.push(rec);
    }
    Ok(records)
}

/// Fisher–Yates, from the last position down, one bounded draw per position.
fn shuffle(v: &mut [usize], r: &mut OracleRng) {
    for i in (1..v.len()).rev() {
        let j = r.random_range(0..=i);
        v.swap(i, j);
    }
}
