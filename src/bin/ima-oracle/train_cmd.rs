//! `ima-oracle train`: deterministic training of an amortised VAE (Adam, seeded shuffles and noise;
//! `ima_oracle::vae::train`), writing the trained VAE folder and a per-epoch CSV.

use crate::args::{usage, Args, LIMIT_FLAGS};
use crate::outdir::OutDir;
use crate::vae_loss::read_batch;
use ima_oracle::io::model_file::save_vae;
use ima_oracle::io::npy::write_atomic;
use ima_oracle::io::Limits;
use ima_oracle::vae::{train, AdamConfig, EpochRecord, TrainOptions, Vae, VaeError};
use ima_oracle::{Beta, Gamma2};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

pub const HELP: &str = "\
ima-oracle train — train an amortised VAE deterministically (Adam, seeded)

USAGE:
    ima-oracle train VAE_DIR --x X.npy --gamma2 G --epochs E --out DIR [--batch B] [--lr LR]
                     [--seed S] [--samples K] [--beta B] [--freeze-decoder] [--checkpoint-every C]
                     [--threads N] [--force] [--max-elements N] [--max-dim N]

Starts from the VAE folder VAE_DIR (model.txt and encoder.txt, docs/vae-format.md) and minimises
the loss of `ima-oracle vae-loss` with given noise: each epoch shuffles the rows of x (Fisher-Yates,
ChaCha8 seeded with S), takes minibatches of B rows in that order, draws K noise vectors per row
from the same generator, and takes one Adam step per minibatch (PyTorch's semantics: beta1 0.9,
beta2 0.999, eps 1e-8, bias correction). The same command gives the same weights bit for bit on
any number of threads; across machines, up to the platform's exp, log1p and pow (libm).

Writes into DIR:
    vae/            the trained VAE folder (an oracle model too: eval, flow, ... take it)
    epochs.csv      epoch (1-based), loss (mean over the epoch's points of their step's loss),
                    steps so far, seconds
    checkpoint/     only if the run stops early: the VAE folder of the last checkpoint
A loss or gradient that becomes NaN or infinite stops the run with an error naming the epoch and
step (1-based, as the progress lines; exit status 1); DIR then holds checkpoint/ (the VAE after the
last epoch that was a multiple of --checkpoint-every, or the starting VAE if none) and epochs.csv
up to the last complete epoch. Progress, one line per epoch, goes to stderr. With --force, DIR must
not hold vae/ or checkpoint/ from an earlier run (they would mix with this one's).

OPTIONS:
    --x X.npy            the data, shape (N, D), N >= 1
    --gamma2 G           decoder precision, > 0
    --epochs E           passes over the data, >= 1
    --batch B            minibatch size, >= 1 (default 64; the last batch of an epoch may be smaller)
    --lr LR              Adam's learning rate, > 0 (default 1e-3)
    --seed S             seed of the shuffles and the noise (default 0)
    --samples K          noise samples per point and step, >= 1 (default 1, as the authors)
    --beta B             beta >= 0 (default 1: the ELBO)
    --freeze-decoder     train the encoder only; the decoder stays as given (the paper's 4.2)
    --checkpoint-every C keep the VAE after every C-th epoch as the checkpoint (default 1)
    --threads N          worker threads, 1 to 1024 (default: all cores); results do not depend on it
    --out DIR            output folder, new or empty (written all or none, except for the stop above)
    --force              write into a non-empty DIR: files of the same name are replaced, others stay
    --max-elements N, --max-dim N
                         raise the limits on array entries and model dimension (ima-oracle --help)";

/// The CSV of the epochs so far.
fn csv(records: &[(EpochRecord, f64)]) -> String {
    let mut s = String::from("epoch,loss,steps,seconds\n");
    for (r, secs) in records {
        let _ = writeln!(s, "{},{:e},{},{secs:.3}", r.epoch + 1, r.loss, r.steps);
    }
    s
}

/// Writes the VAE folder `dir` whole or not at all: into `dir.new`, then moved over `dir`.
fn checkpoint(vae: &Vae, dir: &Path) -> Result<(), String> {
    let fresh = dir.with_extension("new");
    let _ = std::fs::remove_dir_all(&fresh);
    save_vae(vae, &fresh).map_err(|e| e.to_string())?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::rename(&fresh, dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// The training options and the checkpoint period from the flags (usage errors for values out of
/// range).
fn options(a: &Args) -> Result<(TrainOptions, usize), String> {
    let gamma2 = Gamma2::new(a.gamma2()?).map_err(|e| usage(e.to_string()))?;
    let count = |name, default, max| -> Result<usize, String> {
        Ok(a.count_in(name, default, (1, max), "")? as usize)
    };
    let epochs = count("epochs", None, u32::MAX as u64)?;
    let batch = count("batch", Some(64), u32::MAX as u64)?;
    let samples = count("samples", Some(1), 1 << 20)?;
    let every = count("checkpoint-every", Some(1), u32::MAX as u64)?;
    let lr = a.f64_or("lr", Some(1e-3))?;
    let adam = AdamConfig::new(lr).map_err(|_| usage(format!("--lr must be > 0, got {lr}")))?;
    let beta = a.f64_or("beta", Some(1.0))?;
    let beta = Beta::new(beta)
        .map_err(|_| usage(format!("--beta must be finite and >= 0, got {beta}")))?;
    let opts = TrainOptions {
        gamma2,
        beta,
        epochs,
        batch,
        samples,
        adam,
        seed: a.u64_or("seed", Some(0))?,
        freeze_decoder: a.switch("freeze-decoder"),
        threads: a.threads()?,
    };
    Ok((opts, every))
}

/// Runs `train` on the arguments after the command name: the summary, or the error.
pub fn run(raw: &[String]) -> Result<String, String> {
    let mut known = vec![
        "x",
        "gamma2",
        "epochs",
        "batch",
        "lr",
        "seed",
        "samples",
        "beta",
        "checkpoint-every",
        "threads",
        "out",
    ];
    known.extend(LIMIT_FLAGS);
    let a = Args::parse(raw, &known, &["force", "freeze-decoder"])?;
    if a.help {
        return Ok(HELP.into());
    }
    // Every flag first, then the files, then the work.
    let dir = a.model()?;
    let x_path = a.path("x")?;
    let (opts, every) = options(&a)?;
    let (epochs, batch, threads) = (opts.epochs, opts.batch, opts.threads);
    let limits = a.limits()?;
    let target = a.path("out")?;
    refuse_stale(&target)?;
    let out = OutDir::prepare(&target, a.switch("force"))?;
    let folder = crate::model_arg::load_vae_folder(&dir, &limits)?;
    let mut vae = folder.vae;
    let x = read_batch(&x_path, vae.dim_observed(), &limits)?;
    let n = x.shape()[0];
    check_noise_size(&opts, n, vae.dim_latent(), &limits)?;
    // The starting VAE must be writable (its decoder an oracle model) before any work.
    let ckpt = out.path().join("checkpoint");
    checkpoint(&vae, &ckpt).map_err(|e| out.failed(e))?;
    eprintln!(
        "training {n} points, {epochs} epochs of {} steps (batch {batch}), {threads} threads; \
         writing into {} until done",
        n.div_ceil(batch),
        out.path().display()
    );
    let mut records: Vec<(EpochRecord, f64)> = Vec::new();
    let start = Instant::now();
    let mut last = Instant::now();
    let result = train(&mut vae, x.data(), &opts, |v, rec| {
        let secs = last.elapsed().as_secs_f64();
        last = Instant::now();
        records.push((*rec, secs));
        eprintln!(
            "epoch {}/{epochs}: loss {:.9e}, {secs:.2} s, {:.0} points/s",
            rec.epoch + 1,
            rec.loss,
            n as f64 / secs.max(1e-9)
        );
        let stop = |reason: String| VaeError::Stopped {
            epoch: rec.epoch,
            reason,
        };
        if (rec.epoch + 1) % every == 0 {
            checkpoint(v, &ckpt).map_err(stop)?;
        }
        let path = out.path().join("epochs.csv");
        write_atomic(&path, csv(&records).as_bytes()).map_err(|e| stop(e.to_string()))
    });
    let seconds = start.elapsed().as_secs_f64();
    let loss = records.last().map_or(f64::NAN, |(r, _)| r.loss);
    finish(result.map(|_| ()), &vae, out, (epochs, seconds, loss))
}

/// Refuses an output folder holding `vae/` or `checkpoint/` of an earlier run (they would mix
/// with this run's, even with --force).
fn refuse_stale(target: &Path) -> Result<(), String> {
    for stale in ["vae", "checkpoint"] {
        if target.join(stale).exists() {
            return Err(usage(format!(
                "--out {}: it holds {stale}/ from an earlier run, which this run's output would \
                 mix with; remove it or choose a new folder",
                target.display()
            )));
        }
    }
    Ok(())
}

/// Refuses a noise buffer (min(B, N) × K × d draws per step) beyond `--max-elements`.
fn check_noise_size(
    opts: &TrainOptions,
    n: usize,
    d: usize,
    limits: &Limits,
) -> Result<(), String> {
    let noise = (opts.batch.min(n) as u64)
        .checked_mul(opts.samples as u64)
        .and_then(|v| v.checked_mul(d as u64));
    if noise.is_none_or(|v| v > limits.max_elements) {
        return Err(format!(
            "--batch {} x --samples {} x d = {d} noise draws per step is more than the limit of \
             {} entries (raise it with --max-elements N)",
            opts.batch, opts.samples, limits.max_elements
        ));
    }
    Ok(())
}

/// After training: on success the trained VAE as `vae/` (the checkpoint removed) and the commit;
/// on divergence the commit with the last checkpoint, and the error; otherwise nothing is kept.
fn finish(
    result: Result<(), VaeError>,
    vae: &Vae,
    out: OutDir,
    (epochs, seconds, loss): (usize, f64, f64),
) -> Result<String, String> {
    let ckpt = out.path().join("checkpoint");
    let target = out.target().to_path_buf();
    match result {
        Ok(()) => {
            save_vae(vae, out.path().join("vae")).map_err(|e| out.failed(e.to_string()))?;
            std::fs::remove_dir_all(&ckpt).map_err(|e| out.failed(format!("{e}")))?;
            out.commit()?;
            Ok(format!(
                "{epochs} epochs in {seconds:.1} s, final loss {loss:.9e} -> {}",
                target.join("vae").display()
            ))
        }
        Err(e @ VaeError::Diverged { .. }) => {
            out.commit()?;
            Err(format!(
                "{e}; the last good checkpoint is {}",
                target.join("checkpoint").display()
            ))
        }
        Err(e) => Err(out.failed(e.to_string())),
    }
}
