//! The loss of one VAE training step and its parameter gradients (issue 11): against central finite
//! differences for every parameter array, against closed forms for a linear VAE with a Gaussian
//! prior, the given-noise gradient's average against the exact one (a z-test), and the same bits on
//! any number of threads.

mod common;

use common::{assert_near, test_rng, Tol};
use ima_oracle::generate::OracleRng;
use ima_oracle::vae::{
    init, loss_exact, loss_given_noise, Layer, Linear, Network, StepLoss, Vae, VaeError,
};
use ima_oracle::{Beta, Gamma2, Prior, QuadratureOptions};
use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_distr::StandardNormal;

/// A small VAE: d = 2, D = 3, encoder 3 → 5 → 4, decoder 2 → 5 → 3, leaky softplus α = 0.2.
fn small_vae(prior: Prior, r: &mut OracleRng) -> Vae {
    let enc = init::mlp(&[3, 5, 4], 0.2, r).unwrap();
    let dec = init::mlp(&[2, 5, 3], 0.2, r).unwrap();
    Vae::new(prior, enc, dec).unwrap()
}

fn normals(n: usize, r: &mut OracleRng) -> Vec<f64> {
    (0..n).map(|_| r.sample::<f64, _>(StandardNormal)).collect()
}

/// Every parameter of the VAE as (network, linear layer, entry index in W then b).
fn entries(vae: &Vae) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    for (net, n) in [vae.encoder(), vae.decoder()].into_iter().enumerate() {
        for (l, lin) in n.linears().enumerate() {
            for k in 0..lin.w.len() + lin.b.len() {
                out.push((net, l, k));
            }
        }
    }
    out
}

/// The VAE with one parameter moved by h.
fn perturbed(vae: &Vae, (net, l, k): (usize, usize, usize), h: f64) -> Vae {
    let (mut enc, mut dec) = (vae.encoder().clone(), vae.decoder().clone());
    let n = if net == 0 { &mut enc } else { &mut dec };
    let lin = n.linears_mut().nth(l).unwrap();
    let nw = lin.w.len();
    if k < nw {
        lin.w[k] += h;
    } else {
        lin.b[k - nw] += h;
    }
    Vae::new(*vae.prior(), enc, dec).unwrap()
}

fn grad_entry(s: &StepLoss, (net, l, k): (usize, usize, usize)) -> f64 {
    let g = if net == 0 {
        &s.grads.encoder
    } else {
        &s.grads.decoder
    };
    let lin = &g.layers[l];
    if k < lin.w.len() {
        lin.w[k]
    } else {
        lin.b[k - lin.w.len()]
    }
}

/// Central differences of `loss` for every parameter against the reverse-mode gradient. Step h =
/// 1e-5: truncation h²·|f'''| ~ 1e-10·(γ² scale), round-off eps·|loss|/h ~ 1e-11·|loss|; the bound
/// 1e-6·(1 + |g|) + 1e-8·|loss| leaves two decades on both.
fn check_fd(what: &str, vae: &Vae, got: &StepLoss, loss: impl Fn(&Vae) -> f64) {
    let h = 1e-5;
    for e in entries(vae) {
        let fd = (loss(&perturbed(vae, e, h)) - loss(&perturbed(vae, e, -h))) / (2.0 * h);
        let g = grad_entry(got, e);
        assert_near(
            &format!("{what}: dloss/d{e:?}"),
            g,
            fd,
            Tol::Scaled(1.0, 1e-6 * (1.0 + g.abs()) + 1e-8 * got.loss.abs()),
        );
    }
}

#[test]
fn given_noise_gradient_matches_finite_differences() {
    let mut r = test_rng(111);
    for (prior, beta) in [
        (Prior::standard_normal(), 1.0),
        (Prior::gaussian(2.5).unwrap(), 0.5),
        (Prior::logistic(0.7).unwrap(), 2.0),
    ] {
        let vae = small_vae(prior, &mut r);
        let (b, s) = (5, 3);
        let xs = normals(b * 3, &mut r);
        let eps = normals(b * s * 2, &mut r);
        let (g2, be) = (Gamma2::new(20.0).unwrap(), Beta::new(beta).unwrap());
        let got = loss_given_noise(&vae, &xs, &eps, s, g2, be, 1).unwrap();
        let loss = |v: &Vae| loss_given_noise(v, &xs, &eps, s, g2, be, 1).unwrap().loss;
        check_fd(&format!("{prior:?} beta {beta}"), &vae, &got, loss);
    }
}

#[test]
fn exact_gradient_matches_finite_differences() {
    let mut r = test_rng(112);
    for prior in [Prior::standard_normal(), Prior::logistic(1.0).unwrap()] {
        let vae = small_vae(prior, &mut r);
        let xs = normals(3 * 3, &mut r);
        let (g2, be) = (Gamma2::new(5.0).unwrap(), Beta::new(0.8).unwrap());
        // Tolerance 1e-14: the quadrature error (≲ 1e-14·|loss|) over h = 1e-5 stays below 1e-8.
        let q = QuadratureOptions::new(1e-14).unwrap();
        let got = loss_exact(&vae, &xs, g2, be, &q, 1).unwrap();
        assert!(got.error_estimate < 1e-12 * (1.0 + got.loss.abs()));
        let loss = |v: &Vae| loss_exact(v, &xs, g2, be, &q, 1).unwrap().loss;
        check_fd(&format!("exact {prior:?}"), &vae, &got, loss);
    }
}

/// A linear VAE (encoder h = A x + a, decoder f(z) = W z + c) with prior N(0, v): E_q‖x − f(z)‖² =
/// ‖x − Wμ − c‖² + Σ_k σ_k²‖W[:, k]‖², so the exact loss and every gradient have closed forms.
#[test]
fn linear_vae_with_gaussian_prior_matches_closed_forms() {
    let mut r = test_rng(113);
    let (d, dd, v, g2, beta) = (2, 3, 1.7, 30.0, 1.3);
    let lin = |rows: usize, cols: usize, scale: f64, r: &mut OracleRng| Linear {
        w: DMatrix::from_fn(rows, cols, |_, _| {
            scale * r.sample::<f64, _>(StandardNormal)
        }),
        b: DVector::from_fn(rows, |_, _| 0.3 * r.sample::<f64, _>(StandardNormal)),
    };
    let enc_l = lin(2 * d, dd, 0.3, &mut r);
    let dec_l = lin(dd, d, 1.0, &mut r);
    let enc = Network::new(dd, vec![Layer::Linear(enc_l.clone())]).unwrap();
    let dec = Network::new(d, vec![Layer::Linear(dec_l.clone())]).unwrap();
    let vae = Vae::new(Prior::gaussian(v).unwrap(), enc, dec).unwrap();
    let b = 4;
    let xs = normals(b * dd, &mut r);
    let q = QuadratureOptions::new(1e-14).unwrap();
    let got = loss_exact(
        &vae,
        &xs,
        Gamma2::new(g2).unwrap(),
        Beta::new(beta).unwrap(),
        &q,
        2,
    )
    .unwrap();
    let (a, w, c) = (&enc_l, &dec_l.w, &dec_l.b);
    let mut loss = 0.0;
    let (mut ga, mut gaa) = (DMatrix::zeros(2 * d, dd), DVector::zeros(2 * d));
    let (mut gw, mut gc) = (DMatrix::zeros(dd, d), DVector::zeros(dd));
    for i in 0..b {
        let x = DVector::from_column_slice(&xs[i * dd..(i + 1) * dd]);
        let h = &a.w * &x + &a.b;
        let mu = h.rows(0, d).into_owned();
        let s = h.rows(d, d).into_owned();
        let s2 = s.map(f64::exp);
        let res = &x - w * &mu - c;
        let spread: f64 = (0..d).map(|k| s2[k] * w.column(k).norm_squared()).sum();
        let kl: f64 = (0..d)
            .map(|k| 0.5 * ((s2[k] + mu[k] * mu[k]) / v - 1.0 - s[k] + v.ln()))
            .sum();
        let l = 0.5 * dd as f64 * (g2 / (2.0 * std::f64::consts::PI)).ln()
            - 0.5 * g2 * (res.norm_squared() + spread)
            - beta * kl;
        loss -= l / b as f64;
        // ∂L/∂μ = γ² Wᵀ res − β μ/v; ∂L/∂s_k = −(γ²/2) σ_k²‖W_k‖² − (β/2)(σ_k²/v − 1).
        let mut gh = DVector::zeros(2 * d);
        let gmu = g2 * w.transpose() * &res - beta * &mu / v;
        for k in 0..d {
            gh[k] = gmu[k];
            gh[d + k] =
                -0.5 * g2 * s2[k] * w.column(k).norm_squared() - 0.5 * beta * (s2[k] / v - 1.0);
        }
        ga -= &gh * x.transpose() / b as f64;
        gaa -= &gh / b as f64;
        // ∂L/∂W = γ² [res μᵀ − W diag σ²], ∂L/∂c = γ² res.
        gw -= g2 * (&res * mu.transpose() - w * DMatrix::from_diagonal(&s2)) / b as f64;
        gc -= g2 * &res / b as f64;
    }
    // The quadrature is exact for this quadratic integrand from 2 nodes on; the sums' round-off is
    // a few eps times the terms (γ²‖res‖² ~ 1e2): 1e-12 relative to max(1, |·|).
    let t = Tol::Mixed(1e-12);
    assert_near("loss", got.loss, loss, t);
    let pairs = [
        (&got.grads.encoder.layers[0].w, &ga),
        (&got.grads.decoder.layers[0].w, &gw),
    ];
    for (name, (g, want)) in ["dA", "dW"].iter().zip(pairs) {
        for (k, (u, v)) in g.iter().zip(want.iter()).enumerate() {
            assert_near(&format!("{name}[{k}]"), *u, *v, t);
        }
    }
    for (name, (g, want)) in ["da", "dc"].iter().zip([
        (&got.grads.encoder.layers[0].b, &gaa),
        (&got.grads.decoder.layers[0].b, &gc),
    ]) {
        for (k, (u, v)) in g.iter().zip(want.iter()).enumerate() {
            assert_near(&format!("{name}[{k}]"), *u, *v, t);
        }
    }
}

/// The given-noise gradient is an unbiased estimate of the exact one: its average over M seeded
/// draws of ε agrees with the exact gradient within 5 standard errors, entry by entry (with ~100
/// entries, a false alarm at 5σ has probability ~6e-5).
#[test]
fn given_noise_gradient_averages_to_the_exact_one() {
    let mut r = test_rng(114);
    let vae = small_vae(Prior::logistic(1.0).unwrap(), &mut r);
    let (b, s, m) = (3, 4, 4000);
    let xs = normals(b * 3, &mut r);
    let (g2, be) = (Gamma2::new(4.0).unwrap(), Beta::ONE);
    let exact = loss_exact(
        &vae,
        &xs,
        g2,
        be,
        &QuadratureOptions::new(1e-13).unwrap(),
        2,
    )
    .unwrap();
    let n = entries(&vae).len();
    let (mut sum, mut sum2) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    for _ in 0..m {
        let eps = normals(b * s * 2, &mut r);
        let got = loss_given_noise(&vae, &xs, &eps, s, g2, be, 1).unwrap();
        let vals = entries(&vae)
            .into_iter()
            .map(|e| grad_entry(&got, e))
            .chain([got.loss]);
        for (k, v) in vals.enumerate() {
            sum[k] += v;
            sum2[k] += v * v;
        }
    }
    let want = entries(&vae)
        .into_iter()
        .map(|e| grad_entry(&exact, e))
        .chain([exact.loss]);
    for (k, w) in want.enumerate() {
        let mean = sum[k] / m as f64;
        let var = (sum2[k] / m as f64 - mean * mean).max(0.0);
        let se = (var / m as f64).sqrt();
        assert!(
            (mean - w).abs() <= 5.0 * se + 1e-12 * (1.0 + w.abs()),
            "entry {k}: mean {mean} vs exact {w} (s.e. {se})"
        );
    }
}

/// Chunks are summed in a fixed order: 1, 2 and 3 threads give the same bits (B = 40 spans three
/// chunks).
#[test]
fn the_same_bits_on_any_number_of_threads() {
    let mut r = test_rng(115);
    let vae = small_vae(Prior::standard_normal(), &mut r);
    let (b, s) = (40, 2);
    let xs = normals(b * 3, &mut r);
    let eps = normals(b * s * 2, &mut r);
    let (g2, be) = (Gamma2::new(100.0).unwrap(), Beta::ONE);
    let one = loss_given_noise(&vae, &xs, &eps, s, g2, be, 1).unwrap();
    for t in [2, 3] {
        assert_eq!(
            loss_given_noise(&vae, &xs, &eps, s, g2, be, t).unwrap(),
            one
        );
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let mut r = test_rng(116);
    let vae = small_vae(Prior::standard_normal(), &mut r);
    let (g2, be) = (Gamma2::new(10.0).unwrap(), Beta::ONE);
    let xs = normals(6, &mut r);
    let eps = normals(2 * 2, &mut r);
    let shape = |e: VaeError| matches!(e, VaeError::Shape { .. });
    assert!(shape(
        loss_given_noise(&vae, &xs[..5], &eps, 1, g2, be, 1).unwrap_err()
    ));
    assert!(shape(
        loss_given_noise(&vae, &[], &eps, 1, g2, be, 1).unwrap_err()
    ));
    assert!(shape(
        loss_given_noise(&vae, &xs, &eps[..3], 1, g2, be, 1).unwrap_err()
    ));
    assert!(matches!(
        loss_given_noise(&vae, &xs, &eps, 0, g2, be, 1).unwrap_err(),
        VaeError::InvalidParameter { .. }
    ));
    let mut bad = xs.clone();
    bad[4] = f64::NAN;
    assert_eq!(
        loss_given_noise(&vae, &bad, &eps, 1, g2, be, 1).unwrap_err(),
        VaeError::NonFinite {
            what: "x",
            index: 4
        }
    );
    // Networks that do not fit: an encoder for D = 4.
    let enc = init::mlp(&[4, 4], 0.2, &mut r).unwrap();
    let dec = init::mlp(&[2, 3], 0.2, &mut r).unwrap();
    assert!(Vae::new(Prior::standard_normal(), enc, dec).is_err());
    assert!(init::mlp(&[3], 0.2, &mut r).is_err());
    assert!(init::mlp(&[3, 0, 2], 0.2, &mut r).is_err());
}

/// PyTorch's default law: every weight and bias of a layer with fan_in inputs in
/// [−1/√fan_in, 1/√fan_in), with the uniform law's mean 0 and variance 1/(3 fan_in) (checked on a
/// 200 × 50 layer: 10 050 draws, 5 standard errors).
#[test]
fn initialisation_follows_pytorch_default_law() {
    let mut r = test_rng(117);
    let lin = init::linear(50, 200, &mut r);
    let bound = 1.0 / 50f64.sqrt();
    let all: Vec<f64> = lin.w.iter().chain(lin.b.iter()).copied().collect();
    assert!(all.iter().all(|t| (-bound..bound).contains(t)));
    let n = all.len() as f64;
    let mean = all.iter().sum::<f64>() / n;
    let var = all.iter().map(|t| t * t).sum::<f64>() / n;
    let v = bound * bound / 3.0;
    assert!(mean.abs() < 5.0 * (v / n).sqrt());
    // Var of t² for the uniform law: b⁴/5 − (b²/3)² = 4b⁴/45.
    assert!((var - v).abs() < 5.0 * (4.0 * bound.powi(4) / 45.0 / n).sqrt());
    // Same seed, same weights.
    let mut r1 = ima_oracle::generate::rng(5);
    let mut r2 = ima_oracle::generate::rng(5);
    assert_eq!(init::linear(3, 4, &mut r1), init::linear(3, 4, &mut r2));
}

/// A decoder network is an oracle decoder: through `to_decoder` the forward pass agrees to round-off
/// (the sums run in another order: a few eps times the size of the terms).
#[test]
fn decoder_network_is_an_oracle_decoder() {
    let mut r = test_rng(118);
    let net = init::mlp(&[3, 7, 3], 0.2, &mut r).unwrap();
    let dec = net.to_decoder().unwrap();
    let back = Network::from_decoder(&dec);
    let mut tape = net.tape();
    let mut tape2 = back.tape();
    for _ in 0..20 {
        let z = normals(3, &mut r);
        net.forward(&z, &mut tape);
        back.forward(&z, &mut tape2);
        assert_eq!(tape.output(), tape2.output());
        let f = dec.forward(&DVector::from_vec(z)).unwrap();
        for (a, b) in tape.output().iter().zip(f.iter()) {
            assert_near("f", *a, *b, Tol::Mixed(1e-14));
        }
    }
}

/// Adam against the textbook form θ −= lr·m̂/(√v̂ + ε), m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), written
/// out here: the same numbers to a few eps (the two forms round differently), over 10 steps on a
/// fixed sequence of gradients.
#[test]
fn adam_matches_the_textbook_update() {
    use ima_oracle::vae::{Adam, AdamConfig};
    let mut r = test_rng(119);
    let mut vae = small_vae(Prior::standard_normal(), &mut r);
    let params = |v: &Vae| -> Vec<f64> {
        [v.encoder(), v.decoder()]
            .iter()
            .flat_map(|n| {
                n.linears()
                    .flat_map(|l| l.w.iter().chain(l.b.iter()))
                    .copied()
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let cfg = AdamConfig::new(1e-2).unwrap();
    let mut adam = Adam::new(cfg, &vae);
    let mut want = params(&vae);
    let (mut m, mut v) = (vec![0.0; want.len()], vec![0.0; want.len()]);
    for t in 1..=10 {
        let mut g = vae.zero_grads();
        for x in g.encoder.iter_mut().chain(g.decoder.iter_mut()) {
            *x = r.sample::<f64, _>(StandardNormal) * 10f64.powi(t % 4 - 2);
        }
        adam.step(&mut vae, &g, false);
        let flat: Vec<f64> = g.encoder.iter().chain(g.decoder.iter()).copied().collect();
        for k in 0..want.len() {
            m[k] = 0.9 * m[k] + 0.1 * flat[k];
            v[k] = 0.999 * v[k] + 0.001 * flat[k] * flat[k];
            let mh = m[k] / (1.0 - 0.9f64.powi(t));
            let vh = v[k] / (1.0 - 0.999f64.powi(t));
            want[k] -= 1e-2 * mh / (vh.sqrt() + 1e-8);
        }
    }
    for (k, (a, b)) in params(&vae).iter().zip(&want).enumerate() {
        assert_near(&format!("theta[{k}]"), *a, *b, Tol::Mixed(1e-14));
    }
    // A frozen decoder does not move.
    let before = vae.decoder().linears().next().unwrap().clone();
    let mut g = vae.zero_grads();
    g.decoder.iter_mut().for_each(|x| *x = 1.0);
    adam.step(&mut vae, &g, true);
    assert_eq!(vae.decoder().linears().next().unwrap(), &before);
}

/// Training a linear encoder against a fixed linear decoder with a Gaussian prior (the §4.2
/// setting, affine): the amortised optimum is the pointwise one, μ̂(x) = (γ²WᵀW + I/v)⁻¹γ²Wᵀ(x − c)
/// and σ̂_k² = 1/(γ²‖W_k‖² + 1/v) (the mean-field optimum), so the trained encoder must approach
/// it. 300 epochs at lr 1e-2 and 100 at 1e-3 (S = 4) leave ~5e-3 of Adam's and the sampling's noise in the weights: 3e-2 is the bar.
#[test]
fn training_reaches_the_closed_form_encoder() {
    use ima_oracle::vae::{train, AdamConfig, TrainOptions};
    let mut r = test_rng(120);
    let (d, dd, g2) = (2, 2, 10.0);
    let w = DMatrix::from_row_slice(2, 2, &[1.0, 0.3, -0.2, 0.8]);
    let c = DVector::from_vec(vec![0.1, -0.2]);
    let dec = Network::new(
        d,
        vec![Layer::Linear(Linear {
            w: w.clone(),
            b: c.clone(),
        })],
    )
    .unwrap();
    let enc = init::mlp(&[dd, 2 * d], 0.2, &mut r).unwrap();
    let mut vae = Vae::new(Prior::standard_normal(), enc, dec).unwrap();
    let n = 512;
    let xs = normals(n * dd, &mut r);
    let opts = TrainOptions {
        gamma2: Gamma2::new(g2).unwrap(),
        beta: Beta::ONE,
        epochs: 300,
        batch: 64,
        samples: 4,
        adam: AdamConfig::new(1e-2).unwrap(),
        seed: 7,
        freeze_decoder: true,
        threads: 2,
    };
    let mut last = f64::INFINITY;
    let recs = train(&mut vae, &xs, &opts, |_, rec| {
        last = rec.loss;
        Ok(())
    })
    .unwrap();
    assert_eq!(recs.len(), 300);
    assert_eq!(recs.last().unwrap().loss, last);
    // Then at lr 1e-3, to settle Adam's noise.
    let fine = TrainOptions {
        adam: AdamConfig::new(1e-3).unwrap(),
        epochs: 100,
        ..opts
    };
    train(&mut vae, &xs, &fine, |_, _| Ok(())).unwrap();
    assert_eq!(vae.decoder().linears().next().unwrap().w, w);
    let a = &vae.encoder().linears().next().unwrap();
    // The closed-form encoder: μ = M (x − c), M = (γ²WᵀW + I)⁻¹γ²Wᵀ; log σ² constant.
    let prec = g2 * w.transpose() * &w + DMatrix::identity(d, d);
    let m = prec.clone().try_inverse().unwrap() * g2 * w.transpose();
    for i in 0..d {
        for j in 0..dd {
            assert_near(
                &format!("M[{i},{j}]"),
                a.w[(i, j)],
                m[(i, j)],
                Tol::Scaled(1.0, 3e-2),
            );
        }
        let bias = -(&m * &c)[i];
        assert_near(
            &format!("mu bias {i}"),
            a.b[i],
            bias,
            Tol::Scaled(1.0, 3e-2),
        );
        let s2 = 1.0 / (g2 * w.column(i).norm_squared() + 1.0);
        assert_near(
            &format!("logvar {i}"),
            a.b[d + i],
            s2.ln(),
            Tol::Scaled(1.0, 3e-2),
        );
        for j in 0..dd {
            assert!(
                a.w[(d + i, j)].abs() < 3e-2,
                "log sigma^2 does not depend on x"
            );
        }
    }
}

/// Same seed, same weights, on 1 and 2 threads; another seed, other weights. A learning rate that
/// blows the variances up stops with the epoch and step, keeping finite parameters.
#[test]
fn training_is_deterministic_and_stops_on_divergence() {
    use ima_oracle::vae::{train, AdamConfig, TrainOptions};
    let mut r = test_rng(121);
    let vae0 = small_vae(Prior::standard_normal(), &mut r);
    let xs = normals(100 * 3, &mut r);
    let opts = TrainOptions {
        gamma2: Gamma2::new(10.0).unwrap(),
        beta: Beta::ONE,
        epochs: 3,
        batch: 16,
        samples: 2,
        adam: AdamConfig::new(1e-3).unwrap(),
        seed: 3,
        freeze_decoder: false,
        threads: 1,
    };
    let run = |o: &TrainOptions| {
        let mut v = vae0.clone();
        let recs = train(&mut v, &xs, o, |_, _| Ok(())).unwrap();
        (v, recs)
    };
    let (a, ra) = run(&opts);
    let (b, rb) = run(&TrainOptions { threads: 2, ..opts });
    let (c, _) = run(&TrainOptions { seed: 4, ..opts });
    let flat = |v: &Vae| -> Vec<f64> {
        [v.encoder(), v.decoder()]
            .iter()
            .flat_map(|n| {
                n.linears()
                    .flat_map(|l| l.w.iter().chain(l.b.iter()))
                    .copied()
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert_eq!(flat(&a), flat(&b));
    assert_eq!(ra, rb);
    assert_ne!(flat(&a), flat(&c));
    assert_eq!(ra.last().unwrap().steps, 3 * 7);
    let mut v = vae0.clone();
    let wild = TrainOptions {
        adam: AdamConfig::new(1e3).unwrap(),
        gamma2: Gamma2::new(1e6).unwrap(),
        epochs: 50,
        ..opts
    };
    match train(&mut v, &xs, &wild, |_, _| Ok(())) {
        Err(VaeError::Diverged { epoch, step }) => {
            assert!(epoch < 50 && step < 7);
            assert!(flat(&v).iter().all(|t| t.is_finite()));
        }
        other => panic!("expected divergence, got {other:?}"),
    }
    assert!(AdamConfig::new(0.0).is_err() && AdamConfig::new(f64::NAN).is_err());
    let zero_batch = TrainOptions { batch: 0, ..opts };
    assert!(matches!(
        train(&mut vae0.clone(), &xs, &zero_batch, |_, _| Ok(())),
        Err(VaeError::InvalidParameter { what: "batch", .. })
    ));
}

/// The authors' shape: the latent passes a sigmoid before the decoder MLP (2 → sigmoid → 5 → tanh →
/// 3), with the Beta-logistic prior that makes it the uniform (Beta(1, 1)) or a Beta prior on
/// (0, 1)ᵈ. The given-noise and the exact gradients against central differences (the bounds of
/// `check_fd`; the exact loss to 1e-14 as above).
#[test]
fn sigmoid_tanh_vae_with_beta_logistic_prior_matches_finite_differences() {
    use ima_oracle::{Sigmoid, Step, Tanh};
    let mut r = test_rng(113);
    for prior in [
        Prior::beta_logistic(1.0, 1.0).unwrap(),
        Prior::beta_logistic(2.0, 0.5).unwrap(),
    ] {
        let enc = init::mlp(&[3, 5, 4], 0.2, &mut r).unwrap();
        let dec = Network::new(
            2,
            vec![
                Layer::Fixed(Step::Sigmoid(Sigmoid::new(2).unwrap())),
                Layer::Linear(init::linear(2, 5, &mut r)),
                Layer::Fixed(Step::Tanh(Tanh::new(5).unwrap())),
                Layer::Linear(init::linear(5, 3, &mut r)),
            ],
        )
        .unwrap();
        let vae = Vae::new(prior, enc, dec).unwrap();
        let (b, s) = (4, 3);
        let xs = normals(b * 3, &mut r);
        let eps = normals(b * s * 2, &mut r);
        let (g2, be) = (Gamma2::new(20.0).unwrap(), Beta::new(1.0).unwrap());
        let got = loss_given_noise(&vae, &xs, &eps, s, g2, be, 1).unwrap();
        let loss = |v: &Vae| loss_given_noise(v, &xs, &eps, s, g2, be, 1).unwrap().loss;
        check_fd(&format!("given noise {prior:?}"), &vae, &got, loss);
        let q = QuadratureOptions::new(1e-14).unwrap();
        let g5 = Gamma2::new(5.0).unwrap();
        let got = loss_exact(&vae, &xs, g5, be, &q, 1).unwrap();
        let loss = |v: &Vae| loss_exact(v, &xs, g5, be, &q, 1).unwrap().loss;
        check_fd(&format!("exact {prior:?}"), &vae, &got, loss);
    }
}

/// Where q reaches a Möbius pole the exact loss has a value (the 1-D integral route) but no
/// decoder gradient: `loss_exact` says so with a typed error naming the point, while the
/// given-noise loss is computed. (Encoder: a constant map to μ = pole + (0.5, 0, 0), log σ² = 0;
/// decoder: Möbius then linear, d = 3, γ² = 1 — the tensor rules refuse that pole.)
#[test]
fn exact_loss_near_a_moebius_pole_is_a_typed_refusal() {
    use ima_oracle::vae::{loss_exact, loss_given_noise, Layer, Linear, Network, VaeError};
    use ima_oracle::{Moebius, Step};
    let pole = DVector::from_vec(vec![1.0, -0.5, 0.25]);
    let m = Moebius::new(
        1.0,
        DMatrix::identity(3, 3),
        pole.clone(),
        DVector::zeros(3),
    )
    .unwrap();
    let lin = Linear {
        w: DMatrix::from_fn(3, 3, |i, j| if i == j { 1.5 } else { 0.1 }),
        b: DVector::zeros(3),
    };
    let dec = Network::new(3, vec![Layer::Fixed(Step::Moebius(m)), Layer::Linear(lin)]).unwrap();
    let mut bias = vec![0.0; 6];
    for k in 0..3 {
        bias[k] = pole[k] + if k == 0 { 0.5 } else { 0.0 };
    }
    let enc = Network::new(
        3,
        vec![Layer::Linear(Linear {
            w: DMatrix::zeros(6, 3),
            b: DVector::from_vec(bias),
        })],
    )
    .unwrap();
    let vae = Vae::new(Prior::standard_normal(), enc, dec).unwrap();
    let xs = [0.3, -0.2, 0.1];
    let g2 = Gamma2::new(1.0).unwrap();
    let q = QuadratureOptions::new(1e-10).unwrap();
    match loss_exact(&vae, &xs, g2, Beta::ONE, &q, 1) {
        Err(VaeError::NoExactGradient { point: 0 }) => {}
        other => panic!("expected NoExactGradient at point 0, got {other:?}"),
    }
    let eps = [0.1, 0.2, -0.3];
    let noisy = loss_given_noise(&vae, &xs, &eps, 1, g2, Beta::ONE, 1).unwrap();
    assert!(noisy.loss.is_finite());
}
