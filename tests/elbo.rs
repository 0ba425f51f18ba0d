//! The ELBO (eq. 1) against closed forms, finite differences, and larger quadratures.

mod common;

use common::{assert_near, normal_vector, test_rng, Tol};
use ima_oracle::generate::{self, Family};
use ima_oracle::objective::{elbo, elbo_on_rule, DerivativeOrder, ElboWorkspace};
use ima_oracle::paper::{eq12_sigma2, AffineGaussian};
use ima_oracle::quadrature::{QuadratureOptions, TensorRule};
use ima_oracle::{Beta, Encoder, Model, OracleError, Prior, Query};
use nalgebra::DVector;

fn models(r: &mut ima_oracle::generate::OracleRng, d: usize) -> Vec<(String, Model)> {
    let mut out = Vec::new();
    for fam in Family::ALL {
        for prior in [
            Prior::standard_normal(),
            Prior::logistic(0.6).unwrap(),
            Prior::beta_logistic(2.0, 0.7).unwrap(),
        ] {
            let dec = fam.build(d, r).unwrap();
            out.push((
                format!("{} {}", fam.name(), prior.name()),
                Model::new(prior, dec).unwrap(),
            ));
        }
    }
    out
}

/// An encoder near the optimum: μ = g(x) + noise·σ, log σ² from eq. 12 plus O(1) noise.
fn encoder_near(query: &Query, r: &mut ima_oracle::generate::OracleRng) -> (Vec<f64>, Vec<f64>) {
    let s2 = eq12_sigma2(query).unwrap();
    let z = query.model().decoder().inverse(query.x()).unwrap();
    let n1 = normal_vector(z.len(), 0.3, r);
    let n2 = normal_vector(z.len(), 0.3, r);
    let mu: Vec<f64> = (0..z.len()).map(|k| z[k] + n1[k] * s2[k].sqrt()).collect();
    let lv: Vec<f64> = (0..z.len()).map(|k| s2[k].ln() + n2[k]).collect();
    (mu, lv)
}

/// Affine decoder, Gaussian prior: the quadrature (3 nodes per dimension, exact for the quadratic
/// integrand) equals the closed form to 1e-13·max(1, |ELBO|) for γ² from 1 to 1e10, at encoders near the
/// optimum and far from it (D = d and D > d).
#[test]
fn affine_gaussian_matches_closed_form() {
    let mut r = test_rng(20);
    for (d, dd) in [(1, 1), (2, 2), (3, 3), (2, 4), (5, 5)] {
        let w = nalgebra::DMatrix::from_column_slice(
            dd,
            d,
            normal_vector(dd * d, 1.0, &mut r).as_slice(),
        );
        let b = normal_vector(dd, 1.0, &mut r);
        let dec =
            ima_oracle::Decoder::new(d, vec![ima_oracle::Affine::new(w, Some(b)).unwrap().into()])
                .unwrap();
        let model = Model::new(Prior::gaussian(0.8).unwrap(), dec).unwrap();
        let rule = TensorRule::new(3, d, 1 << 20).unwrap();
        let mut ws = ElboWorkspace::new(&model);
        for gamma2 in [1.0f64, 1e2, 1e5, 1e8, 1e10] {
            for _ in 0..5 {
                let x = normal_vector(dd, 1.5, &mut r);
                let mu = normal_vector(d, 1.0, &mut r);
                let lv = normal_vector(d, 2.0, &mut r).add_scalar(-gamma2.ln());
                let query = Query::new(&model, x.as_slice(), gamma2).unwrap();
                let enc = query.encoder(mu.as_slice(), lv.as_slice()).unwrap();
                let q = elbo_on_rule(&query, &enc, &rule, DerivativeOrder::Value, &mut ws).unwrap();
                let exact = AffineGaussian::elbo(&query, &enc).unwrap();
                assert_near(
                    &format!("d={d} γ²={gamma2}: ELBO"),
                    q.value,
                    exact,
                    Tol::Mixed(1e-13),
                );
            }
        }
    }
}

/// Gradient and Hessian of the discretised ELBO against central differences, every family, both
/// priors, γ² from 3 to 1e6. Differences are taken in the natural coordinates t = (μ − μ0)/σ and
/// s = log σ², where the ELBO varies on a unit scale whatever γ is: with step h = 1e-4 the truncation
/// error is h²·O(1)/6 ≈ 2e-9 and the round-off eps·|ELBO|/h ≈ 1e-10·|ELBO|, so 1e-6 relative to
/// (1 + max|·|) is a safe margin. Cases whose q puts mass near a Möbius pole are refused by the
/// oracle (tested elsewhere) and skipped here; every model is tested at ≥ 2 values of γ².
#[test]
fn derivatives_match_finite_differences() {
    let mut r = test_rng(21);
    for (name, model) in models(&mut r, 3) {
        let d = 3;
        let rule = TensorRule::new(5, d, 1 << 20).unwrap();
        let mut ws = ElboWorkspace::new(&model);
        let mut tested = 0;
        for gamma2 in [3.0f64, 100.0, 1e4, 1e6] {
            let z = normal_vector(d, 0.5, &mut r);
            let x = model.decoder().forward(&z).unwrap()
                + normal_vector(d, 0.1 / gamma2.sqrt(), &mut r);
            let query = Query::new(&model, x.as_slice(), gamma2).unwrap();
            let (mu, lv) = encoder_near(&query, &mut r);
            let sig: Vec<f64> = lv.iter().map(|s| (0.5 * s).exp()).collect();
            // θ(t) = (μ + σ⊙t_μ, s + t_s): scale factors of the chain rule.
            let scale: Vec<f64> = sig
                .iter()
                .copied()
                .chain(std::iter::repeat_n(1.0, d))
                .collect();
            let theta: Vec<f64> = mu.iter().chain(&lv).copied().collect();
            let mut eval = |t: &[f64], order| {
                let enc = query.encoder(&t[..d], &t[d..]).unwrap();
                elbo_on_rule(&query, &enc, &rule, order, &mut ws)
            };
            let full = match eval(&theta, DerivativeOrder::Hessian) {
                Err(OracleError::PoleTooClose { .. }) if name.starts_with("moebius") => continue,
                other => other.unwrap(),
            };
            tested += 1;
            let g = DVector::from_fn(2 * d, |i, _| full.gradient.as_ref().unwrap()[i] * scale[i]);
            let h = nalgebra::DMatrix::from_fn(2 * d, 2 * d, |i, k| {
                full.hessian.as_ref().unwrap()[(i, k)] * scale[i] * scale[k]
            });
            let step = 1e-4;
            for i in 0..2 * d {
                let mut tp = theta.clone();
                let mut tm = theta.clone();
                tp[i] += step * scale[i];
                tm[i] -= step * scale[i];
                let (ep, em) = (
                    eval(&tp, DerivativeOrder::Gradient).unwrap(),
                    eval(&tm, DerivativeOrder::Gradient).unwrap(),
                );
                let fd_g = (ep.value - em.value) / (2.0 * step);
                assert_near(
                    &format!("{name} γ²={gamma2} ∂{i}"),
                    g[i],
                    fd_g,
                    Tol::Scaled(1e-6, 1.0 + g.amax()),
                );
                let (gp, gm) = (ep.gradient.unwrap(), em.gradient.unwrap());
                for k in 0..2 * d {
                    let fd_h = (gp[k] - gm[k]) * scale[k] / (2.0 * step);
                    assert_near(
                        &format!("{name} γ²={gamma2} H[{k},{i}]"),
                        h[(k, i)],
                        fd_h,
                        Tol::Scaled(1e-6, 1.0 + h.amax()),
                    );
                }
            }
            // The value-only path gives the same number as the Hessian path, bit for bit.
            assert_eq!(
                eval(&theta, DerivativeOrder::Value).unwrap().value,
                full.value
            );
        }
        assert!(tested >= 2, "{name}: only {tested} values of γ² tested");
    }
}

/// The prior term of the ELBO for the logistic prior against an independent trapezoid rule in t on
/// [μ − 40σ, μ + 40σ] with 400 001 points (for this analytic, exponentially decaying integrand the
/// trapezoid error is far below round-off; naive summation of 4e5 terms costs ≲ 1e-12).
#[test]
fn logistic_prior_term_matches_trapezoid() {
    let prior = Prior::logistic(0.6).unwrap();
    let dec = ima_oracle::Decoder::new(
        1,
        vec![ima_oracle::LeakySoftplus::new(1, 1.0).unwrap().into()],
    )
    .unwrap();
    let model = Model::new(prior, dec).unwrap();
    let mut ws = ElboWorkspace::new(&model);
    for (mu, lv) in [(0.0, 0.0), (1.3, -1.0), (-2.0, 1.5), (0.2, -8.0)] {
        let rule = TensorRule::new(2, 1, 100).unwrap();
        let query = Query::new(&model, &[mu], 1.0).unwrap();
        let enc = query.encoder(&[mu], &[lv]).unwrap();
        let got = elbo_on_rule(&query, &enc, &rule, DerivativeOrder::Value, &mut ws)
            .unwrap()
            .parts
            .prior;
        let s: f64 = (0.5f64 * lv).exp();
        let n = 400_000;
        let (lo, hi) = (mu - 40.0 * s, mu + 40.0 * s);
        let h = (hi - lo) / n as f64;
        let mut acc = 0.0;
        for i in 0..=n {
            let t = lo + h * i as f64;
            let w = if i == 0 || i == n { 0.5 * h } else { h };
            let u = (t - mu) / s;
            acc += w * (-0.5 * u * u).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
                * prior.log_density(t);
        }
        assert_near(
            &format!("μ={mu} lv={lv}: prior term"),
            got,
            acc,
            Tol::Mixed(1e-12),
        );
    }
}

/// `elbo` with a tolerance agrees with a much larger fixed rule (64 nodes per dimension) to its
/// tolerance, at small γ² where the posterior is broad and the integrand far from quadratic.
#[test]
fn tolerance_driven_quadrature_converges() {
    let mut r = test_rng(22);
    for (name, model) in models(&mut r, 2) {
        if name.starts_with("moebius") {
            continue; // d = 2: the exact ELBO is −∞ (tested below)
        }
        for gamma2 in [1.0, 10.0, 1e4] {
            let z = normal_vector(2, 0.5, &mut r);
            let x = model.decoder().forward(&z).unwrap();
            let query = Query::new(&model, x.as_slice(), gamma2).unwrap();
            let (mu, lv) = encoder_near(&query, &mut r);
            let enc = query.encoder(&mu, &lv).unwrap();
            let opts = QuadratureOptions::default();
            let est = elbo(&query, &enc, &opts).unwrap();
            let big = TensorRule::new(64, 2, 1 << 20).unwrap();
            let mut ws = ElboWorkspace::new(&model);
            let reference = elbo_on_rule(&query, &enc, &big, DerivativeOrder::Value, &mut ws)
                .unwrap()
                .value;
            assert_near(
                &format!("{name} γ²={gamma2}: ELBO (n={})", est.nodes_per_dim),
                est.value,
                reference,
                Tol::Mixed(2.0 * opts.tol()),
            );
            assert!(est.error_estimate <= opts.tol() * reference.abs().max(1.0));
        }
    }
}

#[test]
fn poles_and_bad_inputs() {
    let mut r = test_rng(23);
    // d = 2 Möbius: E_q|f|² = ∞, the exact ELBO is −∞.
    let m2 = Model::new(
        Prior::standard_normal(),
        generate::moebius_decoder(2, &mut r).unwrap(),
    )
    .unwrap();
    let rule2 = TensorRule::new(4, 2, 100).unwrap();
    let mut ws2 = ElboWorkspace::new(&m2);
    let q2 = Query::new(&m2, &[0.1, 0.2], 10.0).unwrap();
    let enc2 = q2.encoder(&[0.0, 0.0], &[-2.0, -2.0]).unwrap();
    let e = elbo_on_rule(&q2, &enc2, &rule2, DerivativeOrder::Value, &mut ws2).unwrap_err();
    assert!(matches!(e, OracleError::MinusInfinity { step: 0 }), "{e}");
    // d = 3 Möbius with a broad q centred one unit from the pole: refused, with the distance.
    let m3 = Model::new(
        Prior::standard_normal(),
        generate::moebius_decoder(3, &mut r).unwrap(),
    )
    .unwrap();
    let pole = m3.poles()[0].1.clone();
    let mu: Vec<f64> = pole.iter().map(|a| a * 0.5).collect();
    let rule3 = TensorRule::new(4, 3, 1000).unwrap();
    let mut ws3 = ElboWorkspace::new(&m3);
    let x = [0.1, 0.2, 0.3];
    let q3 = Query::new(&m3, &x, 10.0).unwrap();
    let broad = q3.encoder(&mu, &[0.0; 3]).unwrap();
    let e = elbo_on_rule(&q3, &broad, &rule3, DerivativeOrder::Value, &mut ws3).unwrap_err();
    assert!(
        matches!(e, OracleError::PoleTooClose { step: 0, .. }),
        "{e}"
    );
    // A tight q at the same centre is fine.
    let tight = q3.encoder(&mu, &[-12.0; 3]).unwrap();
    assert!(elbo_on_rule(&q3, &tight, &rule3, DerivativeOrder::Value, &mut ws3).is_ok());
    // Bad inputs: refused where they are validated, when the query or the encoder is built.
    assert!(matches!(
        Query::new(&m3, &[f64::NAN, 0.0, 0.0], 1.0),
        Err(OracleError::NonFinite {
            what: "x",
            index: 0
        })
    ));
    let q1 = Query::new(&m3, &x, 1.0).unwrap();
    assert!(matches!(
        q1.encoder(&mu[..2], &[0.0; 3]),
        Err(OracleError::DimensionMismatch { what: "mu", .. })
    ));
    assert!(matches!(
        Query::new(&m3, &x, 0.0),
        Err(OracleError::InvalidParameter { what: "gamma2", .. })
    ));
    assert!(matches!(
        Query::new(&m3, &x, -1.0),
        Err(OracleError::InvalidParameter { .. })
    ));
    assert!(matches!(
        q1.encoder(&mu, &[0.0, 800.0, 0.0]),
        Err(OracleError::NonFinite { index: 1, .. })
    ));
}

/// The β-VAE objective's gradient (prior and entropy terms scaled by β) against central differences
/// in natural coordinates (step 1e-4, tolerance 1e-6 relative to 1 + |∂| as in the ELBO test), and
/// β = 1 equals the ELBO.
#[test]
fn beta_objective_gradient() {
    use ima_oracle::objective::beta_vae_on_rule;
    let mut r = test_rng(24);
    let model = Model::new(
        Prior::logistic(0.7).unwrap(),
        generate::mlp_triangular(3, 2, 0.2, &mut r).unwrap(),
    )
    .unwrap();
    let x = model
        .decoder()
        .forward(&normal_vector(3, 0.5, &mut r))
        .unwrap();
    let query = Query::new(&model, x.as_slice(), 50.0).unwrap();
    let (mu, lv) = encoder_near(&query, &mut r);
    let rule = TensorRule::new(6, 3, 1 << 20).unwrap();
    let mut ws = ElboWorkspace::new(&model);
    let theta: Vec<f64> = mu.iter().chain(&lv).copied().collect();
    let scale: Vec<f64> = lv.iter().map(|s| (0.5 * s).exp()).chain([1.0; 3]).collect();
    for beta in [0.0, 0.3, 4.0] {
        let beta = Beta::new(beta).unwrap();
        let mut eval = |t: &[f64]| {
            let enc = query.encoder(&t[..3], &t[3..]).unwrap();
            beta_vae_on_rule(
                &query,
                &enc,
                beta,
                &rule,
                DerivativeOrder::Gradient,
                &mut ws,
            )
            .unwrap()
        };
        let g = eval(&theta).gradient.unwrap();
        for i in 0..6 {
            let (mut tp, mut tm) = (theta.clone(), theta.clone());
            tp[i] += 1e-4 * scale[i];
            tm[i] -= 1e-4 * scale[i];
            let fd = (eval(&tp).value - eval(&tm).value) / 2e-4;
            let gi = g[i] * scale[i];
            assert_near(
                &format!("β={} ∂{i}", beta.get()),
                gi,
                fd,
                Tol::Scaled(1e-6, 1.0 + gi.abs()),
            );
        }
    }
    let enc = query.encoder(&mu, &lv).unwrap();
    let one = beta_vae_on_rule(
        &query,
        &enc,
        Beta::new(1.0).unwrap(),
        &rule,
        DerivativeOrder::Value,
        &mut ws,
    )
    .unwrap();
    let e = elbo_on_rule(&query, &enc, &rule, DerivativeOrder::Value, &mut ws).unwrap();
    assert_eq!(one.value, e.value);
}

/// An encoder wider than 5e3 logistic scales is refused (its prior term would need > 1e6 nodes),
/// not computed for ever.
#[test]
fn huge_sigma_with_logistic_prior_is_refused() {
    let model = Model::new(
        Prior::logistic(0.5).unwrap(),
        ima_oracle::Decoder::new(
            1,
            vec![ima_oracle::LeakySoftplus::new(1, 1.0).unwrap().into()],
        )
        .unwrap(),
    )
    .unwrap();
    let rule = TensorRule::new(2, 1, 100).unwrap();
    let mut ws = ElboWorkspace::new(&model);
    let query = Query::new(&model, &[0.0], 1.0).unwrap();
    let wide = Encoder::new(&[0.0], &[30.0]).unwrap();
    let e = elbo_on_rule(&query, &wide, &rule, DerivativeOrder::Value, &mut ws).unwrap_err();
    // The refusal names the offending log σ² (30 > 2 log(5e3 · 0.5) ≈ 15.6).
    assert!(
        matches!(e, OracleError::InvalidParameter { value, .. } if value == 30.0),
        "{e}"
    );
    // The Monte Carlo estimator refuses it too (the same encoder, the same limit).
    let mut r = ima_oracle::generate::rng(1);
    let mc =
        ima_oracle::objective::elbo_monte_carlo(&query, &wide, ima_oracle::Beta::ONE, 4, &mut r);
    assert!(matches!(mc, Err(OracleError::InvalidParameter { value, .. }) if value == 30.0));
    let ok = Encoder::new(&[0.0], &[10.0]).unwrap();
    assert!(elbo_on_rule(&query, &ok, &rule, DerivativeOrder::Value, &mut ws).is_ok());
}

/// A rule built for another latent dimension is an error, not a silently truncated sum.
#[test]
fn rule_of_the_wrong_dimension() {
    let mut r = test_rng(25);
    let model = Model::new(
        Prior::standard_normal(),
        generate::affine_decoder(3, &mut r).unwrap(),
    )
    .unwrap();
    let rule = TensorRule::new(4, 2, 100).unwrap();
    let query = Query::new(&model, &[0.0; 3], 1.0).unwrap();
    let enc = query.encoder(&[0.0; 3], &[0.0; 3]).unwrap();
    let e = elbo_on_rule(
        &query,
        &enc,
        &rule,
        DerivativeOrder::Value,
        &mut ElboWorkspace::new(&model),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            OracleError::DimensionMismatch {
                expected: 3,
                found: 2,
                ..
            }
        ),
        "{e}"
    );
}
