//! The training-step golden vectors (`vae-step/` of `ima-oracle golden`): a small VAE, one
//! minibatch with its noise, the loss and every gradient (given noise and exact), and the weights
//! after ten Adam steps on that minibatch — what a backend's training code reproduces in its tests.

use crate::output::Output;
use crate::vae_loss::add_grads;
use ima_oracle::generate::rng;
use ima_oracle::io::model_file::{load_vae, save_vae, VaeFolder};
use ima_oracle::vae::{init, loss_exact, loss_given_noise, Adam, AdamConfig, StepLoss, Vae};
use ima_oracle::{Beta, Gamma2, Prior, QuadratureOptions};
use rand::RngExt;
use rand_distr::StandardNormal;
use std::path::Path;

/// γ² of the training-step vectors (the middle of the paper's §4.1 range).
pub const VAE_GAMMA2: f64 = 1e3;
/// Minibatch size.
pub const VAE_BATCH: usize = 8;
/// Adam's learning rate for the ten steps (the authors' 1e-3).
pub const VAE_LR: f64 = 1e-3;
/// Adam steps.
pub const VAE_STEPS: usize = 10;

/// The README section of `vae-step/`.
pub(crate) const VAE_README: &str = "
## vae-step/: one training step of a VAE

A VAE of the paper's §4.1 shape, narrower: d = D = 3, encoder 3 -> 8 -> 8 -> 6 (mu, log sigma^2),
decoder 3 -> 8 -> 8 -> 3, leaky softplus 0.2 between linear layers, prior N(0, I), PyTorch's default
initialisation law drawn from seed 20221128; gamma^2 = 1e3, beta = 1.

| file | shape | content |
| --- | --- | --- |
| vae/ | | the VAE folder (docs/vae-format.md) |
| x.npy | (8, 3) | the minibatch, standard normal draws |
| eps.npy | (8, 1, 3) | the noise, one sample per point |
| step/loss.npy, step/elbo.npy | (), (8) | the loss -(1/B) sum_i L_i and L_i with the given noise (`ima-oracle vae-loss --eps`) |
| step/grad_NAME.npy | as NAME | d loss / d NAME for every array of vae/ |
| step_exact/... | | the same, exact in expectation over the noise (`vae-loss --exact`, tolerance 1e-12), with loss_err.npy |
| adam10/ | | the VAE folder after 10 Adam steps (lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8, bias correction), each on the same x and eps, both networks trained |

Accuracy: step/ and adam10/ are plain f64 sums, as a backend computes them: good to 1e-12 relative
(absolute below 1; a backend summing in another order differs by ~1e-14). step_exact/: 1e-10
relative. A PyTorch reproduction: load the arrays into nn.Linear layers (weight is (out, in)),
loss = -mean(L_i) with L_i = (D/2) log(gamma2/2 pi) - (gamma2/2)||x_i - f(mu_i + sigma_i eps_i)||^2
- KL_i, loss.backward(), torch.optim.Adam(lr=1e-3) for ten steps on the same batch.
";

/// The small VAE of the README.
fn small_vae(seed: u64) -> Result<Vae, String> {
    let mut r = rng(seed);
    let enc = init::mlp(&[3, 8, 8, 6], 0.2, &mut r).map_err(|e| e.message)?;
    let dec = init::mlp(&[3, 8, 8, 3], 0.2, &mut r).map_err(|e| e.message)?;
    Vae::new(Prior::standard_normal(), enc, dec).map_err(|e| e.message)
}

/// The arrays of one step: loss, per-point objective, gradients named after `folder`'s arrays.
fn step_output(folder: &VaeFolder, sl: &StepLoss, exact: bool) -> Output {
    let mut o = Output::default();
    o.add("loss", vec![], vec![sl.loss]);
    o.add("elbo", vec![sl.elbo.len()], sl.elbo.clone());
    if exact {
        o.add("loss_err", vec![], vec![sl.error_estimate]);
    }
    add_grads(&mut o, &folder.encoder_names, &sl.grads.encoder);
    add_grads(&mut o, &folder.decoder_names, &sl.grads.decoder);
    o
}

/// Writes `dir` (the `vae-step/` folder of the README) from `seed`, on `threads` threads (the
/// numbers do not depend on it).
pub fn write_vae_step(dir: &Path, seed: u64, threads: usize) -> Result<(), String> {
    let vae = small_vae(seed)?;
    save_vae(&vae, dir.join("vae")).map_err(|e| e.to_string())?;
    // The names as a reader of the folder sees them.
    let folder = load_vae(dir.join("vae")).map_err(|e| e.to_string())?;
    let mut r = rng(seed ^ 1);
    let mut draw = |n: usize| -> Vec<f64> { (0..n).map(|_| r.sample(StandardNormal)).collect() };
    let (b, d) = (VAE_BATCH, 3);
    let x = draw(b * 3);
    let eps = draw(b * d);
    let mut inputs = Output::default();
    inputs.add("x", vec![b, 3], x.clone());
    inputs.add("eps", vec![b, 1, d], eps.clone());
    inputs.write_into(dir)?;
    let g2 = Gamma2::new(VAE_GAMMA2).map_err(|e| e.to_string())?;
    let noisy = |v: &Vae| loss_given_noise(v, &x, &eps, 1, g2, Beta::ONE, threads);
    let sl = noisy(&folder.vae).map_err(|e| e.to_string())?;
    let step = dir.join("step");
    std::fs::create_dir_all(&step).map_err(|e| e.to_string())?;
    step_output(&folder, &sl, false).write_into(&step)?;
    let q = QuadratureOptions::new(crate::golden::GOLDEN_TOL).map_err(|e| e.to_string())?;
    let ex = loss_exact(&folder.vae, &x, g2, Beta::ONE, &q, threads).map_err(|e| e.to_string())?;
    let step_exact = dir.join("step_exact");
    std::fs::create_dir_all(&step_exact).map_err(|e| e.to_string())?;
    step_output(&folder, &ex, true).write_into(&step_exact)?;
    let mut v = folder.vae.clone();
    let mut adam = Adam::new(AdamConfig::new(VAE_LR).map_err(|e| e.to_string())?, &v);
    for _ in 0..VAE_STEPS {
        let sl = noisy(&v).map_err(|e| e.to_string())?;
        adam.step(&mut v, &sl.grads, false);
    }
    save_vae(&v, dir.join("adam10")).map_err(|e| e.to_string())
}
