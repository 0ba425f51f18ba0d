//! The given-noise loss of one chunk of points, computed [`LANES`] points (or samples) at a time
//! through [`Network::forward_block`] and [`Network::backward_block`]: the training loop's hot
//! path.
//!
//! The formulas are [`super::step_loss`]'s (module docs there), and so is the order of every sum:
//! the encoder runs on a block of up to eight consecutive points; the decoder on blocks of their
//! (point, sample) pairs in the scalar loop's order; each point's reconstruction sum, prior sum and
//! encoder cotangent add their terms sample after sample, coordinate after coordinate; the gradient
//! sums take the lanes in order. So the chunk's objectives and gradient sums are, bit for bit,
//! those of the point-by-point reference `point_given_noise` (tested below).

use super::autoencoder::{Vae, VaeGrads};
use super::network_block::BlockTape;
use super::step_loss::{ChunkOut, GivenNoise, CHUNK};
use crate::lanes::{avx2_kernel, Block, LANES};
use crate::model::Prior;

/// Per-thread buffers of the block path, made once and reused from step to step.
pub(crate) struct BlockScratch {
    enc: BlockTape,
    dec: BlockTape,
    /// μ, log σ², σ of the block's points, point-major: [l·d + k].
    mu: Vec<f64>,
    logvar: Vec<f64>,
    sigma: Vec<f64>,
    /// The residual cotangent ∂L/∂f (D coordinates) and ∂L/∂z (d coordinates) of a decoder block.
    r: Block,
    rz: Block,
    /// ∂L/∂(μ, log σ²) per point: the encoder's output cotangent.
    gh: Block,
}

impl BlockScratch {
    pub(crate) fn new(vae: &Vae) -> Self {
        let (d, dd) = (vae.dim_latent(), vae.dim_observed());
        BlockScratch {
            enc: vae.encoder().block_tape(),
            dec: vae.decoder().block_tape(),
            mu: vec![0.0; LANES * d],
            logvar: vec![0.0; LANES * d],
            sigma: vec![0.0; LANES * d],
            r: Block::zeros(dd),
            rz: Block::zeros(d),
            gh: Block::zeros(2 * d),
        }
    }
}

avx2_kernel! {
    /// Chunk `c` (rows c·[`CHUNK`] … of a batch of `b` points) of the given-noise loss into `out`:
    /// the objectives L_i in row order and the sums of their gradients (the contract of
    /// `step_loss::run_chunk` with `point_given_noise`, by blocks); `chunk` is the same body
    /// compiled for its caller.
    ///
    /// On an x86-64 CPU with AVX2 the same code runs compiled for AVX2 (four lanes per vector
    /// instruction instead of SSE2's two: W4, one epoch, 1.3× faster in interleaved runs), chosen
    /// at run time (`avx2_kernel!`). The bits do not change: both compilations perform the same
    /// IEEE operations in the same order (Rust never fuses a multiply and an add, and AVX2 is
    /// enabled without FMA), which the test below checks against the point-by-point reference
    /// compiled for the baseline target.
    pub(crate) fn run_chunk_given_noise / chunk(
        vae: &Vae,
        inp: &GivenNoise<'_>,
        b: usize,
        c: usize,
        sc: &mut BlockScratch,
        out: &mut ChunkOut,
    ) {
        out.clear();
        let end = ((c + 1) * CHUNK).min(b);
        let mut p0 = c * CHUNK;
        while p0 < end {
            let nv = LANES.min(end - p0);
            point_block(vae, inp, p0, nv, sc, out);
            p0 += nv;
        }
    }
}

/// Points p0 … p0 + nv − 1 (nv ≤ [`LANES`]): encoder forward, the decoder on their samples,
/// the objectives, the encoder backward.
#[inline(always)]
fn point_block(
    vae: &Vae,
    inp: &GivenNoise<'_>,
    p0: usize,
    nv: usize,
    sc: &mut BlockScratch,
    out: &mut ChunkOut,
) {
    let GivenNoise {
        xs,
        samples,
        gamma2: g2,
        beta: be,
        ..
    } = *inp;
    let (d, dd) = (vae.dim_latent(), vae.dim_observed());
    // Encoder input: one point per lane; lanes beyond nv hold 0 (finite filler, never summed).
    for (j, xj) in sc.enc.input_mut().coords_mut().iter_mut().enumerate() {
        for (l, v) in xj.iter_mut().enumerate() {
            *v = if l < nv { xs[(p0 + l) * dd + j] } else { 0.0 };
        }
    }
    vae.encoder().forward_block(&mut sc.enc);
    let h = sc.enc.output().coords();
    for (k, (hm, hv)) in h[..d].iter().zip(&h[d..]).enumerate() {
        for (l, (&m, &v)) in hm.iter().zip(hv).enumerate() {
            sc.mu[l * d + k] = m;
            sc.logvar[l * d + k] = v;
            sc.sigma[l * d + k] = (0.5 * v).exp();
        }
    }
    for g in sc.gh.coords_mut() {
        *g = [0.0; LANES];
    }
    let mut rec = [0.0; LANES];
    let mut log_p0 = [0.0; LANES];
    let inv_s = 1.0 / samples as f64;
    let total = nv * samples;
    let mut q0 = 0;
    while q0 < total {
        let nq = LANES.min(total - q0);
        decoder_block(
            vae,
            inp,
            p0,
            q0,
            nq,
            sc,
            &mut out.grads,
            &mut rec,
            &mut log_p0,
        );
        q0 += nq;
    }
    let log_norm = crate::objective::log_normaliser(dd, g2);
    let prior = *vae.prior();
    for l in 0..nv {
        let mut v = log_norm - 0.5 * g2 * rec[l] * inv_s;
        let (mu, lv) = (&sc.mu[l * d..(l + 1) * d], &sc.logvar[l * d..(l + 1) * d]);
        let gh = sc.gh.coords_mut();
        match prior {
            Prior::Gaussian { variance: var } => {
                let mut kl = 0.0;
                for k in 0..d {
                    let s2 = lv[k].exp();
                    kl += 0.5 * ((s2 + mu[k] * mu[k]) / var - 1.0 - lv[k] + var.ln());
                    gh[k][l] -= be * mu[k] / var;
                    gh[d + k][l] -= be * 0.5 * (s2 / var - 1.0);
                }
                v -= be * kl;
            }
            _ => {
                let entropy = crate::objective::entropy(lv);
                v += be * (log_p0[l] * inv_s + entropy);
                for g in &mut gh[d..] {
                    g[l] += be * 0.5;
                }
            }
        }
        out.elbo.push(v);
    }
    vae.encoder()
        .backward_block(&mut sc.enc, &sc.gh, nv, &mut out.grads.encoder, None);
}

/// The decoder on the (point, sample) pairs q0 … q0 + nq − 1 of the block (pair q = point q / S,
/// sample q mod S): forward, residuals, backward, and each pair's share of its point's sums.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn decoder_block(
    vae: &Vae,
    inp: &GivenNoise<'_>,
    p0: usize,
    q0: usize,
    nq: usize,
    sc: &mut BlockScratch,
    grads: &mut VaeGrads,
    rec: &mut [f64; LANES],
    log_p0: &mut [f64; LANES],
) {
    let GivenNoise {
        xs,
        eps,
        samples,
        gamma2: g2,
        beta: be,
    } = *inp;
    let (d, dd) = (vae.dim_latent(), vae.dim_observed());
    let inv_s = 1.0 / samples as f64;
    // Pair q0 + m is sample j of the block's point l; its noise starts at ((p0 + l)·S + j)·d.
    let mut point = [0usize; LANES];
    let mut start = [0usize; LANES];
    for m in 0..nq {
        let q = q0 + m;
        point[m] = q / samples;
        start[m] = ((p0 + point[m]) * samples + q % samples) * d;
    }
    let noise = |m: usize| (point[m], &eps[start[m]..start[m] + d]);
    let z = sc.dec.input_mut().coords_mut();
    for m in 0..LANES {
        if m < nq {
            let (l, e) = noise(m);
            for k in 0..d {
                z[k][m] = sc.mu[l * d + k] + sc.sigma[l * d + k] * e[k];
            }
        } else {
            for zk in z.iter_mut() {
                zk[m] = 0.0;
            }
        }
    }
    vae.decoder().forward_block(&mut sc.dec);
    let f = sc.dec.output().coords();
    let r = sc.r.coords_mut();
    for m in 0..LANES {
        if m < nq {
            let (l, _) = noise(m);
            let x = &xs[(p0 + l) * dd..(p0 + l + 1) * dd];
            for i in 0..dd {
                let t = x[i] - f[i][m];
                rec[l] += t * t;
                r[i][m] = g2 * inv_s * t;
            }
        } else {
            for ri in r.iter_mut() {
                ri[m] = 0.0;
            }
        }
    }
    vae.decoder()
        .backward_block(&mut sc.dec, &sc.r, nq, &mut grads.decoder, Some(&mut sc.rz));
    let prior = *vae.prior();
    let z = sc.dec.input().coords();
    let rz = sc.rz.coords_mut();
    let gh = sc.gh.coords_mut();
    for m in 0..nq {
        let (l, e) = noise(m);
        if !matches!(prior, Prior::Gaussian { .. }) {
            for k in 0..d {
                log_p0[l] += prior.log_density(z[k][m]);
                rz[k][m] += be * inv_s * prior.d1(z[k][m]);
            }
        }
        for k in 0..d {
            gh[k][l] += rz[k][m];
            gh[d + k][l] += rz[k][m] * e[k] * sc.sigma[l * d + k] * 0.5;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::step_loss::{
        empty_step, loss_given_noise_pointwise, sum_chunks, ChunkOut, GivenNoise, CHUNK,
    };
    use super::super::{init, loss_given_noise, Layer, Network, StepLoss, Vae};
    use super::{chunk, BlockScratch};
    use crate::input::{Beta, Gamma2};
    use crate::model::generate::rng;
    use crate::model::{Prior, Sigmoid, Step, Tanh};
    use rand::RngExt;
    use rand_distr::StandardNormal;

    fn normals(n: usize, seed: u64) -> Vec<f64> {
        let mut r = rng(seed);
        (0..n).map(|_| r.sample(StandardNormal)).collect()
    }

    /// The chunks compiled for the baseline target (SSE2 on x86-64), whatever the CPU: the path a
    /// machine without AVX2 runs.
    fn portable(vae: &Vae, inp: &GivenNoise<'_>) -> StepLoss {
        let b = inp.xs.len() / vae.dim_observed();
        let outs: Vec<ChunkOut> = (0..b.div_ceil(CHUNK))
            .map(|c| {
                let mut out = ChunkOut::new(vae);
                chunk(vae, inp, b, c, &mut BlockScratch::new(vae), &mut out);
                out
            })
            .collect();
        let mut total = empty_step(vae);
        sum_chunks(b, outs.iter(), &mut vae.zero_grads(), &mut total).unwrap();
        total
    }

    fn bits(s: &StepLoss) -> Vec<u64> {
        let mut v = vec![s.loss.to_bits()];
        v.extend(s.elbo.iter().map(|x| x.to_bits()));
        v.extend(s.grads.encoder.iter().map(|x| x.to_bits()));
        v.extend(s.grads.decoder.iter().map(|x| x.to_bits()));
        v
    }

    /// The block path against the point-by-point reference, bit for bit: batch sizes that leave
    /// partial blocks and chunks (1, 7, 21, 37), 1 and 3 samples (pairs of a point split across
    /// decoder blocks), the MLP (leaky softplus lane kernels) with the closed-form Gaussian KL, and
    /// a sigmoid → linear → tanh → linear decoder (the generic block steps) with a sampled
    /// Beta-logistic prior term; 1 and 2 threads; the run-time choice (AVX2 where the CPU has it)
    /// and the baseline compilation, against a reference compiled for the baseline. No tolerance: the two paths perform the same
    /// IEEE operations in the same order (module docs), so any difference is a defect.
    #[test]
    fn block_path_matches_point_by_point_bit_for_bit() {
        let mut r = rng(41);
        let mlp = Vae::new(
            Prior::standard_normal(),
            init::mlp(&[3, 30, 30, 6], 0.2, &mut r).unwrap(),
            init::mlp(&[3, 30, 30, 3], 0.2, &mut r).unwrap(),
        )
        .unwrap();
        let authors = Vae::new(
            Prior::beta_logistic(2.0, 0.5).unwrap(),
            init::mlp(&[3, 7, 4], 0.2, &mut r).unwrap(),
            Network::new(
                2,
                vec![
                    Layer::Fixed(Step::Sigmoid(Sigmoid::new(2).unwrap())),
                    Layer::Linear(init::linear(2, 5, &mut r)),
                    Layer::Fixed(Step::Tanh(Tanh::new(5).unwrap())),
                    Layer::Linear(init::linear(5, 3, &mut r)),
                ],
            )
            .unwrap(),
        )
        .unwrap();
        let mut checked = 0;
        for (vae, g2, be) in [(&mlp, 1e4, 1.0), (&authors, 20.0, 0.7)] {
            let d = vae.dim_latent();
            for b in [1, 7, 21, 37] {
                for s in [1, 3] {
                    let xs = normals(3 * b, 7 + b as u64);
                    let eps = normals(b * s * d, 11 + b as u64);
                    let inp = GivenNoise {
                        xs: &xs,
                        eps: &eps,
                        samples: s,
                        gamma2: g2,
                        beta: be,
                    };
                    let want = loss_given_noise_pointwise(vae, &inp, 1).unwrap();
                    assert_eq!(
                        bits(&portable(vae, &inp)),
                        bits(&want),
                        "portable, b = {b}, S = {s}"
                    );
                    for threads in [1, 2] {
                        let (g, bb) = (Gamma2::new(g2).unwrap(), Beta::new(be).unwrap());
                        let got = loss_given_noise(vae, &xs, &eps, s, g, bb, threads).unwrap();
                        assert_eq!(
                            bits(&got),
                            bits(&want),
                            "b = {b}, S = {s}, {threads} threads"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 32);
    }
}
