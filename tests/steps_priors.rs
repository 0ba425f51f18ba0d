//! The authors' priors and nonlinearities as oracle models (issue 10.4, 10.6): the uniform and
//! Beta priors on (0, 1)ᵈ behind a sigmoid are the Beta-logistic prior with a first `sigmoid`
//! step; the sigmoid–Möbius model of §4.3 is evaluated like any other; a leaky ReLU decoder has
//! exact flow quantities and refuses every expectation over q.

mod common;

use common::{assert_near, normal_vector, test_rng, Tol};
use ima_oracle::generate::{haar_orthogonal, moebius_step};
use ima_oracle::model::special::ln_beta;
use ima_oracle::objective::elbo;
use ima_oracle::quadrature::QuadratureOptions;
use ima_oracle::{
    evaluate, flow_quantities, log_marginal, optimal_encoder, Affine, Decoder, LeakyRelu, Model,
    OracleError, Prior, Query, Sigmoid, Step,
};
use nalgebra::{DMatrix, DVector};

/// The authors' model: y ∈ (0, 1)ᵈ with density p_y (uniform = Beta(1, 1), or Beta(a, b) per
/// coordinate), x = Möbius(y), so log p(x) = Σ log p_y(y_i) − log|det J_möb(y)| at y = g_möb(x).
/// The oracle model — prior Beta-logistic(a, b), decoder sigmoid → Möbius — must give the same flow
/// log-likelihood (docs/model-format.md derives it: the Beta-logistic density is p_y(σ(z))·σ'(z),
/// and the sigmoid's log|det J| removes the σ'(z) again). The two sides share only the Möbius
/// step; each is a sum of ~10 terms of size ≤ 30 computed to a few ulps, and the sigmoid's inverse
/// and forward pass amplify the rounding of y by at most 1/min(y(1 − y)) ≤ 1e2 here, so
/// 1e-12·(1 + Σ|terms|) absolute.
#[test]
fn authors_uniform_and_beta_priors_are_beta_logistic_through_a_sigmoid() {
    let mut r = test_rng(70);
    for d in [2usize, 3] {
        // The pole at distance 2 from the origin lies outside [0, 1]^d (whose points have norm ≤ √3).
        let m = moebius_step(d, 2.0, &mut r).unwrap();
        let mob = Decoder::new(d, vec![m.clone().into()]).unwrap();
        let dec = Decoder::new(d, vec![Sigmoid::new(d).unwrap().into(), m.into()]).unwrap();
        for (a, b) in [(1.0, 1.0), (2.0, 5.0), (0.5, 0.7)] {
            let model = Model::new(Prior::beta_logistic(a, b).unwrap(), dec.clone()).unwrap();
            assert!(model.poles().is_empty(), "the pole is outside the image");
            for k in 0..5 {
                let y =
                    DVector::from_fn(d, |i, _| 0.02 + 0.96 * ((0.37 * (i + 3 * k) as f64) % 1.0));
                let x = mob.forward(&y).unwrap();
                let log_py: f64 = y
                    .iter()
                    .map(|&t| (a - 1.0) * t.ln() + (b - 1.0) * (1.0 - t).ln() - ln_beta(a, b))
                    .sum();
                let ld = mob.log_abs_det_jacobian(&y).unwrap();
                let authors = log_py - ld;
                let oracle = flow_quantities(&model, x.as_slice()).unwrap().log_flow;
                assert_near(
                    &format!("d={d} Beta({a}, {b}) y={y}: log p(x)"),
                    oracle,
                    authors,
                    Tol::Scaled(1e-12, 1.0 + log_py.abs() + ld.abs()),
                );
            }
        }
    }
}

/// The §4.3 model of the authors' code (uniform prior, sigmoid, Möbius) is an exact oracle model:
/// J = J_möb·diag(σ') has orthogonal columns, so c_IMA = 0 (to 1e-12: round-off of a sum of
/// logarithms of O(1) column norms), and Theorem 1 holds: the gap ELBO* − (log p − c_IMA) is
/// C/γ² + O(1/γ⁴), so γ²·gap agrees at γ² = 1e6 and 1e7 to 1 % (the next order is ~1e-6 relative;
/// the quadrature tolerance 1e-13·|ELBO| contributes ≤ 1e-6·|ELBO| to γ²·gap at 1e7). The pole
/// is never reached, so there is no pole refusal in d = 2 or 3, at large γ² or at γ² = 10 (there
/// to 1e-9: a broad posterior through the saturating sigmoid needs more than the default 96 nodes
/// per dimension for 1e-13, an honest refusal).
#[test]
fn authors_sigmoid_moebius_model_is_an_oracle_model() {
    let mut r = test_rng(71);
    let opts = QuadratureOptions::default();
    let loose = QuadratureOptions::new(1e-9).unwrap();
    for d in [2usize, 3] {
        let m = moebius_step(d, 2.0, &mut r).unwrap();
        let dec = Decoder::new(d, vec![Sigmoid::new(d).unwrap().into(), m.into()]).unwrap();
        let model = Model::new(Prior::beta_logistic(1.0, 1.0).unwrap(), dec).unwrap();
        let z = normal_vector(d, 1.0, &mut r);
        let x = model.decoder().forward(&z).unwrap();
        let mut scaled = Vec::new();
        for gamma2 in [1e6, 1e7] {
            let e = evaluate(&Query::new(&model, x.as_slice(), gamma2).unwrap(), &opts).unwrap();
            assert!(e.flow.c_ima.abs() < 1e-12, "c_IMA = {}", e.flow.c_ima);
            let elbo_star = *e.elbo_star().as_ref().unwrap();
            scaled.push((gamma2 * *e.eq13_gap().as_ref().unwrap(), elbo_star));
        }
        let (c6, c7) = (scaled[0].0, scaled[1].0);
        assert_near(
            &format!("d={d}: γ²·(ELBO* − log p + c_IMA) at γ² = 1e7 vs 1e6"),
            c7,
            c6,
            Tol::Scaled(1.0, 0.01 * c6.abs() + 1e-6 * scaled[1].1.abs()),
        );
        let q = Query::new(&model, x.as_slice(), 10.0).unwrap();
        let o = optimal_encoder(&q, &loose).unwrap();
        assert!(o.elbo.is_finite(), "d={d}: ELBO* at γ² = 10");
        assert!(log_marginal(&q, &loose).unwrap().value.is_finite());
    }
}

/// W₂ · leaky_relu(W₁ z): J = W₂ diag(k_i) W₁ with k_i = 1 or the slope by the sign of (W₁z)_i,
/// log|det J| = ln|det W₂| + ln|det W₁| + #{negative}·ln k (against the closed form: 1e-13 of
/// max(1, |value|) for these well-conditioned orthogonal W); the ELBO, the optimal encoder and the
/// marginal likelihood refuse with `NotSmooth` naming the step.
#[test]
fn a_kinked_decoder_has_flow_quantities_and_refuses_expectations() {
    let mut r = test_rng(72);
    let opts = QuadratureOptions::default();
    let d = 3;
    let (w1, w2) = (haar_orthogonal(d, &mut r), haar_orthogonal(d, &mut r) * 1.5);
    let slope = 0.3;
    let steps: Vec<Step> = vec![
        Affine::new(w1.clone(), None).unwrap().into(),
        LeakyRelu::new(d, slope).unwrap().into(),
        Affine::new(w2.clone(), None).unwrap().into(),
    ];
    let model = Model::new(Prior::standard_normal(), Decoder::new(d, steps).unwrap()).unwrap();
    assert_eq!(model.first_non_smooth_step(), Some(1));
    for _ in 0..5 {
        let z = normal_vector(d, 1.0, &mut r);
        let x = model.decoder().forward(&z).unwrap();
        let u = &w1 * &z;
        let k = DMatrix::from_diagonal(&u.map(|t| if t >= 0.0 { 1.0 } else { slope }));
        let j = &w2 * k * &w1;
        let negatives = u.iter().filter(|&&t| t < 0.0).count() as f64;
        let ld = w2.determinant().abs().ln() + w1.determinant().abs().ln() + negatives * slope.ln();
        let flow = flow_quantities(&model, x.as_slice()).unwrap();
        common::assert_within(
            "J",
            flow.jacobian.as_slice(),
            j.as_slice(),
            Tol::Scaled(1e-13, 1.0 + j.amax()),
        );
        assert_near("log|det J|", flow.log_abs_det, ld, Tol::Mixed(1e-13));
        let q = Query::new(&model, x.as_slice(), 1e4).unwrap();
        let not_smooth = |e: &OracleError| matches!(e, OracleError::NotSmooth { step: 1 });
        let ev = evaluate(&q, &opts).unwrap();
        assert!(ev.optimal.as_ref().is_err_and(not_smooth));
        assert!(ev.log_marginal.as_ref().is_err_and(not_smooth));
        assert!(log_marginal(&q, &opts).is_err_and(|e| not_smooth(&e)));
        let enc = q.encoder(flow.g.as_slice(), &[-9.0; 3]).unwrap();
        assert!(elbo(&q, &enc, &opts).is_err_and(|e| not_smooth(&e)));
    }
}

/// Every expectation over q refuses with `NotSmooth` on kinked decoders of several shapes and at
/// every γ² — never with a symptom (a Newton solve or a quadrature that did not converge): two
/// leaky ReLU layers (slopes 0.2, 0.5) between Haar-orthogonal maps, d = 2, 3, 4, points near the
/// origin (where the kinks are), γ² = 1, 10, 1e4.
#[test]
fn kinked_decoders_always_refuse_with_not_smooth() {
    let mut r = test_rng(73);
    let opts = QuadratureOptions::default();
    for trial in 0..12 {
        let d = 2 + trial % 3;
        let steps: Vec<Step> = vec![
            Affine::new(haar_orthogonal(d, &mut r), None)
                .unwrap()
                .into(),
            LeakyRelu::new(d, 0.2).unwrap().into(),
            Affine::new(haar_orthogonal(d, &mut r), None)
                .unwrap()
                .into(),
            LeakyRelu::new(d, 0.5).unwrap().into(),
        ];
        let model = Model::new(Prior::standard_normal(), Decoder::new(d, steps).unwrap()).unwrap();
        let x = model
            .decoder()
            .forward(&normal_vector(d, 0.3, &mut r))
            .unwrap();
        for gamma2 in [1.0, 10.0, 1e4] {
            let q = Query::new(&model, x.as_slice(), gamma2).unwrap();
            let not_smooth = |e: &OracleError| matches!(e, OracleError::NotSmooth { step: 1 });
            assert!(
                log_marginal(&q, &opts).is_err_and(|e| not_smooth(&e)),
                "d={d} γ²={gamma2}"
            );
            assert!(
                optimal_encoder(&q, &opts).is_err_and(|e| not_smooth(&e)),
                "d={d} γ²={gamma2}"
            );
        }
    }
}

/// A saturated sigmoid (activations ±750 after W = 1000·I): f, J and log|det J| stay finite —
/// log|det J| = 3 ln 1000 + Σ_i (−|t_i| − 2 log1p(e^{−|t_i|})) to 1e-15 relative (each term a few
/// ulps) — while g(f(z)) does not exist in f64 (σ(750) rounds to 1, outside the open image), a
/// typed decoder error naming the step and the coordinate.
#[test]
fn saturated_sigmoid_is_finite_and_its_inverse_a_typed_error() {
    use ima_oracle::DecoderError;
    let w = DMatrix::<f64>::identity(3, 3) * 1000.0;
    let dec = Decoder::new(
        3,
        vec![
            Affine::new(w, None).unwrap().into(),
            Sigmoid::new(3).unwrap().into(),
        ],
    )
    .unwrap();
    let z = DVector::from_vec(vec![0.75, -0.75, 0.001]);
    let x = dec.forward(&z).unwrap();
    assert!(x.iter().all(|v| v.is_finite()));
    assert!(dec.jacobian(&z).unwrap().iter().all(|v| v.is_finite()));
    let t = [750.0f64, -750.0, 1.0];
    let want: f64 = 3.0 * 1000f64.ln()
        + t.iter()
            .map(|&ti| -ti.abs() - 2.0 * (-ti.abs()).exp().ln_1p())
            .sum::<f64>();
    assert_near(
        "log|det J|",
        dec.log_abs_det_jacobian(&z).unwrap(),
        want,
        Tol::Rel(1e-15),
    );
    match dec.inverse(&x) {
        Err(DecoderError::OutsideImage {
            step: Some(1),
            index: 0,
            ..
        }) => {}
        other => panic!("expected OutsideImage at step 1, coordinate 0: {other:?}"),
    }
}

/// `Decoder::inverse_clamped` (the posterior mode's start for an x outside a bounded image): equal
/// to the inverse, bit for bit, inside the clamp; outside, each coordinate entering the sigmoid is
/// moved to the nearest bound of [m, 1 − m] and the rest inverted exactly, so that the forward map
/// of the result lands there (to a few ulps: one logit and one sigmoid of values in [1e-3, 0.999],
/// condition ≤ 1/(m(1 − m)) ≈ 1e3 on the logit's rounding, i.e. 1e-12 absolute).
#[test]
fn clamped_inverse_is_the_inverse_inside_and_lands_on_the_clamp_outside() {
    let m = 1e-3;
    let aff = Affine::new(
        DMatrix::from_row_slice(2, 2, &[2.0, 0.5, -0.3, 1.5]),
        Some(DVector::from_vec(vec![0.1, -0.2])),
    )
    .unwrap();
    let dec = Decoder::new(2, vec![Sigmoid::new(2).unwrap().into(), aff.clone().into()]).unwrap();
    let x_in = dec.forward(&DVector::from_vec(vec![0.3, -1.2])).unwrap();
    assert_eq!(
        dec.inverse_clamped(x_in.as_slice(), m).unwrap(),
        dec.inverse(&x_in).unwrap()
    );
    for (y, want) in [([-0.2, 0.5], [m, 0.5]), ([0.4, 1.7], [0.4, 1.0 - m])] {
        let x = Decoder::new(2, vec![aff.clone().into()])
            .unwrap()
            .forward(&DVector::from_row_slice(&y))
            .unwrap();
        let z = dec.inverse_clamped(x.as_slice(), m).unwrap();
        let sig = Decoder::new(2, vec![Sigmoid::new(2).unwrap().into()]).unwrap();
        let landed = sig.forward(&z).unwrap();
        for k in 0..2 {
            assert_near(
                &format!("y{k} for {y:?}"),
                landed[k],
                want[k],
                Tol::Mixed(1e-12),
            );
        }
    }
}
