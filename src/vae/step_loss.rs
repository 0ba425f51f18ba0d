//! The loss of one training step of an amortised VAE and its exact gradient with respect to every
//! parameter of the encoder and the decoder, by hand-written reverse mode.
//!
//! # The objective (paper eq. 1, the β-VAE of §6)
//!
//! For a minibatch x_1 … x_B and the encoder's output (μ_i, s_i) = enc(x_i), s = log σ², the loss
//! is the negated mean β-objective,
//!
//! loss = −(1/B) Σ_i L_i,  L_i = (D/2) log(γ²/2π) − (γ²/2) E_q‖x_i − f(z)‖² − β KL(q_i ‖ p0),
//!
//! with q_i = N(μ_i, diag σ_i²). Two ways to take E_q:
//!
//! * **given noise** ([`loss_given_noise`]): S draws ε_ij ~ N(0, I_d) supplied by the caller,
//!   z_ij = μ_i + σ_i ⊙ ε_ij (the reparameterisation), E_q‖x − f(z)‖² ≈ (1/S) Σ_j ‖x_i − f(z_ij)‖² —
//!   exactly what a PyTorch/JAX backend computes. The KL: for a Gaussian prior N(0, v) in closed
//!   form, ½ Σ_k [(σ_k² + μ_k²)/v − 1 − s_k + log v]; for other priors −H(q_i) − (1/S) Σ_j log p0(z_ij),
//!   the entropy H(q) = Σ_k ½(log 2π + 1 + s_k) in closed form and the prior term by its sample.
//! * **exact in expectation** ([`loss_exact`]): E_q by the oracle's tensor Gauss–Hermite rule,
//!   refined to the tolerance (the number of [`crate::objective::beta_vae`], with its error
//!   estimate), and the gradient on the same rule — the number a stochastic backend's average over
//!   the noise must converge to.
//!
//! # Constants a backend may drop
//!
//! L_i contains the constant (D/2) log(γ²/2π) (no parameter dependence); the Gaussian KL contains
//! (d/2)(log v − 1) per point. A backend that minimises (γ²/2)·mean‖x − f‖² + β KL differs from
//! `loss` by −(D/2) log(γ²/2π); one that uses the sum over the batch instead of the mean, by the
//! factor B. The gradients do not see the constants.
//!
//! # Gradients
//!
//! ∂L_i/∂f(z_ij) = (γ²/S)(x_i − f(z_ij)) goes backwards through the decoder (∂/∂θ_dec and ∂/∂z);
//! then ∂L_i/∂μ_i = Σ_j ∂L_i/∂z_ij − β ∂KL/∂μ_i and ∂L_i/∂s_ik = Σ_j ∂L_i/∂z_ijk ε_ijk σ_ik/2 − β ∂KL/∂s_ik,
//! with, for the Gaussian prior, ∂KL/∂μ_k = μ_k/v and ∂KL/∂s_k = ½(σ_k²/v − 1), and otherwise
//! ∂/∂z_ijk of the sampled prior term β (log m)'(z_ijk)/S and ∂(−H)/∂s_k = −½; (∂L_i/∂μ_i, ∂L_i/∂s_i)
//! goes backwards through the encoder. In the exact loss, ∂L_i/∂(μ_i, s_i) is the oracle's
//! closed-form ELBO gradient (`crate::objective`), and ∂L_i/∂θ_dec = γ² Σ_n w_n (x_i − f(z_n))ᵀ ∂f(z_n)/∂θ
//! over the nodes z_n = μ_i + σ_i ⊙ ξ_n of the same rule.
//!
//! # Reproducibility
//!
//! Points are taken in chunks of [`CHUNK`] consecutive rows; each chunk's sums run in row order,
//! and the chunks' sums are added in chunk order, whatever the number of threads: the same inputs
//! give the same bits on 1 or 64 threads. The given-noise loss runs each chunk by blocks of eight
//! points (`given_noise_block`: the same operations in the same order as the one-point form
//! `point_given_noise` kept here as its reference, so the same bits, tested).

use super::autoencoder::{Vae, VaeGrads};
use super::error::{check_array, VaeError};
use super::given_noise_block::{run_chunk_given_noise, BlockScratch};
use super::network::Tape;
use crate::input::{Beta, Encoder, Gamma2, Query};
#[cfg(test)]
use crate::model::Prior;
use crate::objective::{beta_vae, beta_vae_on_rule, DerivativeOrder, ElboWorkspace};
use crate::parallel::par_map;
use crate::quadrature::{QuadratureOptions, TensorRule};

/// Points per chunk of the parallel sums (a constant: the results must not depend on the thread
/// count).
pub const CHUNK: usize = 16;

/// The loss of one step, its per-point objectives and its gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLoss {
    /// −(1/B) Σ_i L_i.
    pub loss: f64,
    /// L_i per point (the per-point ELBO, or β-objective, estimate).
    pub elbo: Vec<f64>,
    /// ∂loss/∂θ for every parameter of both networks.
    pub grads: VaeGrads,
    /// Given noise: 0 (the estimate is exact for that noise). Exact in expectation: (1/B) Σ_i of
    /// the quadrature error estimates of L_i, a bound on the error of `loss`.
    pub error_estimate: f64,
}

/// Per-thread buffers of one point's forward and backward passes.
pub(crate) struct Scratch {
    enc: Tape,
    dec: Tape,
    mu: Vec<f64>,
    logvar: Vec<f64>,
    sigma: Vec<f64>,
    z: Vec<f64>,
    r: Vec<f64>,
    #[cfg_attr(not(test), allow(dead_code))]
    rz: Vec<f64>,
    gh: Vec<f64>,
}

impl Scratch {
    pub(crate) fn new(vae: &Vae) -> Self {
        let (d, dd) = (vae.dim_latent(), vae.dim_observed());
        Scratch {
            enc: vae.encoder().tape(),
            dec: vae.decoder().tape(),
            mu: vec![0.0; d],
            logvar: vec![0.0; d],
            sigma: vec![0.0; d],
            z: vec![0.0; d],
            r: vec![0.0; dd],
            rz: vec![0.0; d],
            gh: vec![0.0; 2 * d],
        }
    }

    /// z = μ + σ ⊙ ε.
    fn reparameterise(&mut self, eps: &[f64]) {
        for (((z, &m), &s), &e) in self.z.iter_mut().zip(&self.mu).zip(&self.sigma).zip(eps) {
            *z = m + s * e;
        }
    }

    /// Runs the encoder on x and splits its output into μ, log σ² and σ.
    fn encode(&mut self, vae: &Vae, x: &[f64]) {
        let d = vae.dim_latent();
        vae.encoder().forward(x, &mut self.enc);
        let h = self.enc.output();
        self.mu.copy_from_slice(&h[..d]);
        self.logvar.copy_from_slice(&h[d..]);
        for (s, &lv) in self.sigma.iter_mut().zip(&self.logvar) {
            *s = (0.5 * lv).exp();
        }
    }
}

/// Checks the batch: B ≥ 1 rows of D finite entries; returns B.
fn check_batch(vae: &Vae, xs: &[f64]) -> Result<usize, VaeError> {
    let dd = vae.dim_observed();
    if xs.is_empty() || xs.len() % dd != 0 {
        return Err(VaeError::Shape {
            what: "x",
            expected: format!("B x {dd} entries with B >= 1"),
            found: xs.len(),
        });
    }
    let b = xs.len() / dd;
    check_array("x", xs, b * dd, || format!("({b}, {dd})"))?;
    Ok(b)
}

/// What one chunk of [`CHUNK`] consecutive points produced: their objectives L_i, the sum of their
/// error estimates and the sum of their gradients of Σ L_i (buffers reused from step to step).
pub(crate) struct ChunkOut {
    pub(crate) elbo: Vec<f64>,
    err: f64,
    pub(crate) grads: VaeGrads,
    status: Result<(), VaeError>,
}

impl ChunkOut {
    /// Empty buffers shaped for `vae`.
    pub(crate) fn new(vae: &Vae) -> Self {
        ChunkOut {
            elbo: Vec::with_capacity(CHUNK),
            err: 0.0,
            grads: vae.zero_grads(),
            status: Ok(()),
        }
    }

    /// Empties the buffers for the next chunk.
    pub(crate) fn clear(&mut self) {
        self.elbo.clear();
        self.err = 0.0;
        self.grads.clear();
        self.status = Ok(());
    }
}

/// Runs `point(i, scratch, grads)` → (L_i, error estimate) over chunk `c` of a batch of `b` points,
/// in row order, into `out`; stops at the first error.
pub(crate) fn run_chunk<F>(b: usize, c: usize, sc: &mut Scratch, out: &mut ChunkOut, point: F)
where
    F: Fn(usize, &mut Scratch, &mut VaeGrads) -> Result<(f64, f64), VaeError>,
{
    out.clear();
    for i in c * CHUNK..((c + 1) * CHUNK).min(b) {
        match point(i, sc, &mut out.grads) {
            Ok((l, e)) => {
                out.elbo.push(l);
                out.err += e;
            }
            Err(e) => {
                out.status = Err(e);
                return;
            }
        }
    }
}

/// The loss and the gradient of −(1/B) Σ L_i from the chunks' outputs, summed in chunk order
/// (module docs: independent of the thread count), into `total` (its buffers reused); the first
/// chunk error, if any.
pub(crate) fn sum_chunks<G: std::ops::Deref<Target = ChunkOut>>(
    b: usize,
    chunks: impl Iterator<Item = G>,
    sum: &mut VaeGrads,
    total: &mut StepLoss,
) -> Result<(), VaeError> {
    sum.clear();
    total.elbo.clear();
    let mut err = 0.0;
    for c in chunks {
        c.status.clone()?;
        total.elbo.extend_from_slice(&c.elbo);
        err += c.err;
        sum.add_scaled(1.0, &c.grads);
    }
    let scale = -1.0 / b as f64;
    total.grads.clear();
    total.grads.add_scaled(scale, sum);
    total.loss = scale * total.elbo.iter().sum::<f64>();
    total.error_estimate = err / b as f64;
    Ok(())
}

/// An empty step result shaped for `vae`.
pub(crate) fn empty_step(vae: &Vae) -> StepLoss {
    StepLoss {
        loss: 0.0,
        elbo: Vec::new(),
        grads: vae.zero_grads(),
        error_estimate: 0.0,
    }
}

/// Runs `point` over the batch in chunks of [`CHUNK`] on `threads` threads, and assembles the loss
/// and the gradient of −(1/B) Σ L_i.
fn assemble<F>(vae: &Vae, b: usize, threads: usize, point: F) -> Result<StepLoss, VaeError>
where
    F: Fn(usize, &mut Scratch, &mut VaeGrads) -> Result<(f64, f64), VaeError> + Sync,
{
    let chunks = b.div_ceil(CHUNK);
    let outs = par_map(
        chunks,
        threads,
        || Scratch::new(vae),
        |c, sc| {
            let mut out = ChunkOut::new(vae);
            run_chunk(b, c, sc, &mut out, &point);
            out
        },
    );
    let mut total = empty_step(vae);
    sum_chunks(b, outs.iter(), &mut vae.zero_grads(), &mut total)?;
    Ok(total)
}

/// The validated inputs of a given-noise step: the batch `xs` (B × D, row-major), the noise `eps`
/// (B × S × d), S, γ² and β.
#[derive(Clone, Copy)]
pub(crate) struct GivenNoise<'a> {
    pub(crate) xs: &'a [f64],
    pub(crate) eps: &'a [f64],
    pub(crate) samples: usize,
    pub(crate) gamma2: f64,
    pub(crate) beta: f64,
}

/// The loss and gradient with given noise (module docs): `xs` row-major (B, D), `eps` row-major
/// (B, S, d) with `samples` = S ≥ 1, on `threads` threads (the result does not depend on it).
/// Errors on shapes that disagree, non-finite inputs, or S = 0.
pub fn loss_given_noise(
    vae: &Vae,
    xs: &[f64],
    eps: &[f64],
    samples: usize,
    gamma2: Gamma2,
    beta: Beta,
    threads: usize,
) -> Result<StepLoss, VaeError> {
    let b = check_batch(vae, xs)?;
    let d = vae.dim_latent();
    if samples == 0 {
        return Err(VaeError::InvalidParameter {
            what: "samples",
            message: "at least one noise sample per point is needed".into(),
        });
    }
    check_array("eps", eps, b * samples * d, || {
        format!("({b}, {samples}, {d})")
    })?;
    let inp = GivenNoise {
        xs,
        eps,
        samples,
        gamma2: gamma2.get(),
        beta: beta.get(),
    };
    let outs = par_map(
        b.div_ceil(CHUNK),
        threads,
        || BlockScratch::new(vae),
        |c, sc| {
            let mut out = ChunkOut::new(vae);
            run_chunk_given_noise(vae, &inp, b, c, sc, &mut out);
            out
        },
    );
    let mut total = empty_step(vae);
    sum_chunks(b, outs.iter(), &mut vae.zero_grads(), &mut total)?;
    Ok(total)
}

/// [`loss_given_noise`] point by point through [`point_given_noise`]: the readable reference the
/// block path is tested against, bit for bit.
#[cfg(test)]
pub(crate) fn loss_given_noise_pointwise(
    vae: &Vae,
    inp: &GivenNoise<'_>,
    threads: usize,
) -> Result<StepLoss, VaeError> {
    let b = check_batch(vae, inp.xs)?;
    assemble(vae, b, threads, |i, sc, g| {
        point_given_noise(vae, inp, i, sc, g)
    })
}

/// L_i with the given noise (module docs), its gradient added to `g`: the encoder, S decoder
/// passes forward and backward, the KL (closed form for a Gaussian prior, sampled otherwise). The
/// readable one-point form of `given_noise_block` (which the library runs), kept as its reference.
#[cfg(test)]
pub(crate) fn point_given_noise(
    vae: &Vae,
    inp: &GivenNoise<'_>,
    i: usize,
    sc: &mut Scratch,
    g: &mut VaeGrads,
) -> Result<(f64, f64), VaeError> {
    let GivenNoise {
        xs,
        eps,
        samples,
        gamma2: g2,
        beta: be,
    } = *inp;
    let (d, dd) = (vae.dim_latent(), vae.dim_observed());
    let prior = *vae.prior();
    let log_norm = crate::objective::log_normaliser(dd, g2);
    {
        let x = &xs[i * dd..(i + 1) * dd];
        sc.encode(vae, x);
        sc.gh.fill(0.0);
        let inv_s = 1.0 / samples as f64;
        let (mut rec, mut log_p0) = (0.0, 0.0);
        for j in 0..samples {
            let e = &eps[(i * samples + j) * d..(i * samples + j + 1) * d];
            sc.reparameterise(e);
            vae.decoder().forward(&sc.z, &mut sc.dec);
            for (ri, (&xi, &fi)) in sc.r.iter_mut().zip(x.iter().zip(sc.dec.output())) {
                let t = xi - fi;
                rec += t * t;
                *ri = g2 * inv_s * t;
            }
            vae.decoder()
                .backward(&mut sc.dec, &sc.r, &mut g.decoder, Some(&mut sc.rz));
            if !matches!(prior, Prior::Gaussian { .. }) {
                for k in 0..d {
                    log_p0 += prior.log_density(sc.z[k]);
                    sc.rz[k] += be * inv_s * prior.d1(sc.z[k]);
                }
            }
            let (g_mu, g_s) = sc.gh.split_at_mut(d);
            for (k, (&rz, &ek)) in sc.rz.iter().zip(e).enumerate() {
                g_mu[k] += rz;
                g_s[k] += rz * ek * sc.sigma[k] * 0.5;
            }
        }
        let mut l = log_norm - 0.5 * g2 * rec * inv_s;
        match prior {
            Prior::Gaussian { variance: v } => {
                let mut kl = 0.0;
                for k in 0..d {
                    let s2 = sc.logvar[k].exp();
                    kl += 0.5 * ((s2 + sc.mu[k] * sc.mu[k]) / v - 1.0 - sc.logvar[k] + v.ln());
                    sc.gh[k] -= be * sc.mu[k] / v;
                    sc.gh[d + k] -= be * 0.5 * (s2 / v - 1.0);
                }
                l -= be * kl;
            }
            _ => {
                let entropy = crate::objective::entropy(&sc.logvar);
                l += be * (log_p0 * inv_s + entropy);
                for k in 0..d {
                    sc.gh[d + k] += be * 0.5;
                }
            }
        }
        vae.encoder()
            .backward(&mut sc.enc, &sc.gh, &mut g.encoder, None);
        Ok((l, 0.0))
    }
}

/// The loss and gradient exact in expectation (module docs): E_q by the oracle's quadrature to
/// `opts.tol()`, per point; `xs` row-major (B, D). Errors as [`loss_given_noise`], when the decoder
/// is not an oracle model (a rank-deficient layer), and when the quadrature refuses a point (the
/// error names it).
pub fn loss_exact(
    vae: &Vae,
    xs: &[f64],
    gamma2: Gamma2,
    beta: Beta,
    opts: &QuadratureOptions,
    threads: usize,
) -> Result<StepLoss, VaeError> {
    let b = check_batch(vae, xs)?;
    let (d, dd) = (vae.dim_latent(), vae.dim_observed());
    let model = vae.model()?;
    let g2 = gamma2.get();
    let oracle = |i: usize, e: crate::OracleError| VaeError::Oracle { point: i, error: e };
    assemble(vae, b, threads, |i, sc, g| {
        let x = &xs[i * dd..(i + 1) * dd];
        sc.encode(vae, x);
        let query = Query::new(&model, x, g2).map_err(|e| oracle(i, e))?;
        let enc = Encoder::new(&sc.mu, &sc.logvar).map_err(|e| oracle(i, e))?;
        let est = beta_vae(&query, &enc, beta, opts).map_err(|e| oracle(i, e))?;
        if est.nodes_per_dim == 0 {
            // The value came from the Möbius integral route (the tensor rules refuse the pole):
            // it has no node sum to carry the decoder's parameter gradient.
            return Err(VaeError::NoExactGradient { point: i });
        }
        let rule = TensorRule::new(est.nodes_per_dim, d, opts.max_total())
            .map_err(|e| oracle(i, e.into()))?;
        let mut ws = ElboWorkspace::new(&model);
        let on_rule = beta_vae_on_rule(
            &query,
            &enc,
            beta,
            &rule,
            DerivativeOrder::Gradient,
            &mut ws,
        )
        .map_err(|e| oracle(i, e))?;
        let grad = on_rule.gradient.expect("asked for the gradient");
        sc.gh.copy_from_slice(grad.as_slice());
        for n in 0..rule.len() {
            let (xi, w) = (rule.node(n), rule.weight(n));
            sc.reparameterise(xi);
            vae.decoder().forward(&sc.z, &mut sc.dec);
            for (ri, (&xv, &fv)) in sc.r.iter_mut().zip(x.iter().zip(sc.dec.output())) {
                *ri = g2 * w * (xv - fv);
            }
            vae.decoder()
                .backward(&mut sc.dec, &sc.r, &mut g.decoder, None);
        }
        vae.encoder()
            .backward(&mut sc.enc, &sc.gh, &mut g.encoder, None);
        Ok((on_rule.value, est.error_estimate))
    })
}
