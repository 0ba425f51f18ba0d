//! The optimal encoder (eq. 7–8) against closed forms and independent identities.

mod common;

use common::{assert_near, assert_within, normal_vector, test_rng, Tol};
use ima_oracle::generate::{self, Family};
use ima_oracle::inference::{newton_on_rule, optimal_encoder, optimal_encoder_from};
use ima_oracle::objective::{
    elbo_on_rule, moebius_elbo, moebius_route_applies, DerivativeOrder, ElboDerivatives,
    ElboWorkspace,
};
use ima_oracle::paper::AffineGaussian;
use ima_oracle::quadrature::{QuadratureOptions, TensorRule};
use ima_oracle::{Affine, Beta, Decoder, Encoder, Model, OracleError, Prior, Query};
use nalgebra::{DMatrix, DVector};

/// Affine decoder, Gaussian prior: μ̂ is the posterior mean, σ̂_k² = 1/Λ_kk and ELBO* = log p − ½(Σ log Λ_kk −
/// log det Λ), all to 1e-13 relative (μ̂ to 1e-13·max(1, ‖m‖∞)), for γ² from 1 to 1e10. Both sides
/// solve with Λ, so they agree to ~eps·κ(W)²: W = Q1 diag(s) Q2 with s ∈ [0.5, 2] keeps κ(W)² ≤ 16
/// (while its columns stay non-orthogonal); `ill_conditioned_affine` covers large κ.
#[test]
fn affine_gaussian_closed_forms() {
    let mut r = test_rng(30);
    for d in [1, 2, 3, 4] {
        let s = DVector::from_fn(d, |k, _| 0.5 + 1.5 * k as f64 / (d as f64 - 0.99));
        let w = generate::haar_orthogonal(d, &mut r)
            * DMatrix::from_diagonal(&s)
            * generate::haar_orthogonal(d, &mut r);
        let dec = Decoder::new(
            d,
            vec![Affine::new(w, Some(normal_vector(d, 1.0, &mut r)))
                .unwrap()
                .into()],
        )
        .unwrap();
        let model = Model::new(Prior::gaussian(1.3).unwrap(), dec).unwrap();
        for gamma2 in [1.0f64, 1e1, 1e3, 1e5, 1e8, 1e10] {
            let x = normal_vector(d, 1.0, &mut r);
            let query = Query::new(&model, x.as_slice(), gamma2).unwrap();
            let o = optimal_encoder(&query, &QuadratureOptions::default()).unwrap();
            let c = AffineGaussian::new(&query).unwrap();
            assert_within(
                &format!("d={d} γ²={gamma2}: μ̂"),
                o.mu.as_slice(),
                c.posterior_mean.as_slice(),
                Tol::Scaled(1e-13, c.posterior_mean.amax().max(1.0)),
            );
            assert_within(
                &format!("d={d} γ²={gamma2}: σ̂²"),
                o.sigma2.as_slice(),
                c.sigma2.as_slice(),
                Tol::Rel(1e-13),
            );
            assert_near(
                &format!("d={d} γ²={gamma2}: ELBO*"),
                o.elbo,
                c.elbo_star,
                Tol::Mixed(1e-13),
            );
            assert!(o.min_curvature > 0.0);
        }
    }
}

/// An ill-conditioned W (κ = 1e3): the optimum is determined only to ~eps·κ² relative, and both
/// routes reach it to that accuracy (64 eps κ²).
#[test]
fn ill_conditioned_affine() {
    let mut r = test_rng(35);
    let s = DVector::from_vec(vec![1e-3, 0.7, 1.0]);
    let w = generate::haar_orthogonal(3, &mut r)
        * DMatrix::from_diagonal(&s)
        * generate::haar_orthogonal(3, &mut r);
    let dec = Decoder::new(3, vec![Affine::new(w, None).unwrap().into()]).unwrap();
    let model = Model::new(Prior::standard_normal(), dec).unwrap();
    let tol = 64.0 * f64::EPSILON * 1e6;
    for gamma2 in [1e2, 1e6, 1e10] {
        let x = normal_vector(3, 1.0, &mut r);
        let query = Query::new(&model, x.as_slice(), gamma2).unwrap();
        let o = optimal_encoder(&query, &QuadratureOptions::default()).unwrap();
        let c = AffineGaussian::new(&query).unwrap();
        assert_within(
            &format!("γ²={gamma2}: μ̂"),
            o.mu.as_slice(),
            c.posterior_mean.as_slice(),
            Tol::Scaled(tol, c.posterior_mean.amax().max(1.0)),
        );
        assert_within(
            &format!("γ²={gamma2}: σ̂²"),
            o.sigma2.as_slice(),
            c.sigma2.as_slice(),
            Tol::Rel(tol),
        );
        assert_near(
            &format!("γ²={gamma2}: ELBO*"),
            o.elbo,
            c.elbo_star,
            Tol::Mixed(tol),
        );
    }
}

/// At the optimum the stationarity of the ELBO in log σ_k² is the Price identity
/// 1/σ̂_k² = −E_q[∂²_kk log p(x, z)] = −(∂²ELBO/∂μ_k²)|_{recon + prior}: the gradient in s and the
/// Hessian in μ are different sums over the nodes, so their agreement (to 1e-9 relative: the
/// identity holds up to the quadrature error of the converged rule, ≲ 1e-12, amplified by the
/// ratio of the terms) checks both. Also: ELBO* is a strict local maximum of the discretised ELBO.
#[test]
fn price_identity_and_local_optimality() {
    let mut r = test_rng(31);
    for fam in Family::ALL {
        for prior in [
            Prior::standard_normal(),
            Prior::logistic(0.8).unwrap(),
            Prior::beta_logistic(0.8, 3.0).unwrap(),
        ] {
            let model = Model::new(prior, fam.build(3, &mut r).unwrap()).unwrap();
            for gamma2 in [1e2, 1e5, 1e8] {
                let z = normal_vector(3, 0.4, &mut r);
                let x = model.decoder().forward(&z).unwrap();
                let query = Query::new(&model, x.as_slice(), gamma2).unwrap();
                let o = optimal_encoder(&query, &QuadratureOptions::default()).unwrap();
                // The route that produced it: the Möbius integral route for the Möbius families
                // (every γ², no pole guard), the converged tensor rule otherwise.
                let moebius = moebius_route_applies(&query);
                let rule =
                    (!moebius).then(|| TensorRule::new(o.nodes_per_dim, 3, 1 << 22).unwrap());
                let mut ws = ElboWorkspace::new(&model);
                let mut eval = |enc: &Encoder, order| -> ElboDerivatives {
                    match &rule {
                        Some(rule) => elbo_on_rule(&query, enc, rule, order, &mut ws).unwrap(),
                        None => {
                            let m = moebius_elbo(&query, enc, Beta::ONE, order).unwrap();
                            ElboDerivatives {
                                parts: m.parts,
                                value: m.value,
                                gradient: m.gradient,
                                hessian: m.hessian,
                            }
                        }
                    }
                };
                let enc = query.encoder(o.mu.as_slice(), o.logvar.as_slice()).unwrap();
                let e = eval(&enc, DerivativeOrder::Hessian);
                let h = e.hessian.unwrap();
                for k in 0..3 {
                    let lhs = 1.0 / o.sigma2[k];
                    assert_near(
                        &format!(
                            "{} {} γ²={gamma2}: −∂²ELBO/∂μ_{k}² vs 1/σ̂_{k}²",
                            fam.name(),
                            prior.name()
                        ),
                        -h[(k, k)],
                        lhs,
                        Tol::Rel(1e-9),
                    );
                }
                // Perturbations of size 1e-3 in natural units lower the ELBO by ≥ ~1e-7 × curvature.
                let sig: Vec<f64> = o.sigma2.iter().map(|s| s.sqrt()).collect();
                for _ in 0..8 {
                    let p = normal_vector(6, 1e-3, &mut r);
                    let mu: Vec<f64> = (0..3).map(|k| o.mu[k] + p[k] * sig[k]).collect();
                    let lv: Vec<f64> = (0..3).map(|k| o.logvar[k] + p[3 + k]).collect();
                    let perturbed = query.encoder(&mu, &lv).unwrap();
                    let v = eval(&perturbed, DerivativeOrder::Value).value;
                    assert!(
                        v < e.value,
                        "{}: a perturbation increased ELBO*",
                        fam.name()
                    );
                }
            }
        }
    }
}

/// The solver's documented working range: every non-Möbius family from γ² = 1 to 1e10, and the
/// decrements fall quadratically at the end: λ²_{k+1} ≤ max(1e3 (λ²_k)², 100 × floor) once
/// λ²_k < 1e-4, with the solver's round-off floor 64² eps² d (1 + γ² ‖x‖∞²).
#[test]
fn works_from_one_to_1e10_with_quadratic_rate() {
    let mut r = test_rng(32);
    for fam in [Family::MlpOrthogonal, Family::MlpTriangular] {
        let model = Model::new(Prior::standard_normal(), fam.build(3, &mut r).unwrap()).unwrap();
        let z = normal_vector(3, 0.5, &mut r);
        let x = model.decoder().forward(&z).unwrap();
        for gamma2 in [1.0, 1e2, 1e4, 1e6, 1e8, 1e10] {
            let query = Query::new(&model, x.as_slice(), gamma2).unwrap();
            let o = optimal_encoder(&query, &QuadratureOptions::default()).unwrap();
            assert!(o.min_curvature > 0.0 && o.error_estimate <= 1e-13 * o.elbo.abs().max(1.0));
            // Replay the last solve to see its decrements.
            let rule = TensorRule::new(o.nodes_per_dim, 3, 1 << 22).unwrap();
            let start: DVector<f64> = DVector::from_iterator(
                6,
                z.iter().copied().chain(o.logvar.iter().map(|s| s + 0.5)),
            );
            let res = newton_on_rule(
                &query,
                &Encoder::from_theta(&start).unwrap(),
                &rule,
                &Default::default(),
                &mut ElboWorkspace::new(&model),
            )
            .unwrap();
            let d = &res.decrements;
            let floor =
                64.0 * 64.0 * f64::EPSILON.powi(2) * 3.0 * (1.0 + gamma2 * x.amax().powi(2));
            for k in 0..d.len().saturating_sub(1) {
                if d[k] < 1e-4 {
                    assert!(
                        d[k + 1] <= (1e3 * d[k] * d[k]).max(100.0 * floor),
                        "{} γ²={gamma2}: {d:?}",
                        fam.name()
                    );
                }
            }
        }
    }
}

/// A different start reaches the same optimum when the posterior is unimodal (large γ²).
#[test]
fn start_independence_at_large_gamma() {
    let mut r = test_rng(33);
    let model = Model::new(
        Prior::logistic(1.0).unwrap(),
        generate::mlp_orthogonal(3, 3, 0.2, &mut r).unwrap(),
    )
    .unwrap();
    let x = model
        .decoder()
        .forward(&normal_vector(3, 0.5, &mut r))
        .unwrap();
    let query = Query::new(&model, x.as_slice(), 1e6).unwrap();
    let a = optimal_encoder(&query, &QuadratureOptions::default()).unwrap();
    let mu0: Vec<f64> = a.mu.iter().map(|m| m + 3e-3).collect();
    let b = optimal_encoder_from(
        &query,
        &query.encoder(&mu0, &[-10.0; 3]).unwrap(),
        &QuadratureOptions::default(),
    )
    .unwrap();
    assert_near(
        "ELBO* from another start",
        b.elbo,
        a.elbo,
        Tol::Mixed(1e-13),
    );
    assert_within(
        "μ̂ from another start",
        b.mu.as_slice(),
        a.mu.as_slice(),
        Tol::Scaled(1e-12, 1.0),
    );
}

#[test]
fn errors() {
    let mut r = test_rng(34);
    let model = Model::new(
        Prior::standard_normal(),
        generate::mlp_orthogonal(3, 2, 0.2, &mut r).unwrap(),
    )
    .unwrap();
    let q = QuadratureOptions::default();
    // Bad inputs are refused where they are validated: when the query is built.
    assert!(matches!(
        Query::new(&model, &[0.0, f64::NAN, 0.0], 10.0),
        Err(OracleError::NonFinite { .. })
    ));
    assert!(matches!(
        Query::new(&model, &[0.0; 3], 0.0),
        Err(OracleError::InvalidParameter { .. })
    ));
    assert!(matches!(
        Query::new(&model, &[0.0; 2], 1.0),
        Err(OracleError::DimensionMismatch { .. })
    ));
    // A non-invertible (D > d) decoder has no self-consistent start.
    let w = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    let tall = Model::new(
        Prior::standard_normal(),
        Decoder::new(2, vec![Affine::new(w, None).unwrap().into()]).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        optimal_encoder(&Query::new(&tall, &[0.0; 3], 1.0).unwrap(), &q),
        Err(OracleError::Decoder(_))
    ));
    // ... but can be solved from a given start, and matches its closed form.
    let query = Query::new(&tall, &[0.3, -0.2, 0.4], 50.0).unwrap();
    let o = optimal_encoder_from(
        &query,
        &query.encoder(&[0.0, 0.0], &[-3.0, -3.0]).unwrap(),
        &q,
    )
    .unwrap();
    let c = AffineGaussian::new(&query).unwrap();
    assert_near("tall ELBO*", o.elbo, c.elbo_star, Tol::Mixed(1e-13));
}
