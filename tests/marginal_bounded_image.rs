//! log pθ(x) for decoders whose image is bounded (a `sigmoid` or `tanh` step), against
//! one-dimensional quadratures of the closed-form integrand.
//!
//! With a diagonal affine step after the elementwise one, x_i = a_i y_i + b_i + ε_i/γ with
//! y_i = σ(z_i) (or tanh z_i) independent, so pθ(x) = Π_i ∫ p_y(y) N(x_i; a_i y + b_i, γ⁻²) dy over
//! y ∈ (0, 1) (or (−1, 1)), p_y the law of y under the prior (Beta(A, B) for the Beta-logistic prior;
//! φ(atanh y)/(1 − y²) for a standard Gaussian prior through tanh). Each factor is computed here by
//! composite Gauss–Legendre in y on the support cut to ±25 blur widths around y: an independent
//! route (bounded y, no curvature, no Gauss–Hermite) that is exact to round-off (400 panels of 10
//! nodes resolve a Gaussian of width ≥ 1/(50·400) of the interval to far below 1e-16).
//!
//! With a leading sigmoid and a Beta-logistic prior the cube route (Gauss–Legendre in y = σ(z))
//! answers nearly every point, the faces of the cube included; elsewhere it must agree with the
//! Laplace-centred route; and where its box check could miss a second maximum it stays out of
//! the race.
//!
//! Two failures this guards against, both found here: the x-space route's nodes all falling
//! inside the bounded image and converging (difference 2e-15) to a value that missed the blur's
//! mass outside (1e-6 at 4.7 blur widths from a face): refused now (`BoundedImage`); and the
//! Laplace-centred route's rules ending inside the exponential tail the prior leaves where the
//! sigmoid saturates (two rules agreeing to 7e-15 on a value 7e-13 off): such rules do not count
//! now (`tail_beyond_rule`), and the point is computed with more nodes or refused.

use ima_oracle::generate::{moebius_step, OracleRng};
use ima_oracle::inference::{log_marginal_cube, log_marginal_laplace, log_marginal_x_space};
use ima_oracle::model::special::ln_beta;
use ima_oracle::quadrature::{log_sum_exp, GaussLegendre, QuadratureOptions};
use ima_oracle::{
    log_marginal, Affine, Decoder, Model, OracleError, Prior, Query, Sigmoid, Step, Tanh,
};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;

/// log ∫_lo^hi e^{f(y)} dy, f given in logs, by composite Gauss–Legendre (`panels` panels of 10
/// nodes): the references of this file.
fn log_integral(f: &dyn Fn(f64) -> f64, lo: f64, hi: f64, panels: usize) -> f64 {
    let rule = GaussLegendre::new(10).unwrap();
    let h = (hi - lo) / panels as f64;
    let mut terms = Vec::with_capacity(panels * 10);
    for p in 0..panels {
        for (t, w) in rule.nodes().iter().zip(rule.weights()) {
            let y = lo + h * (p as f64 + 0.5 * (t + 1.0));
            terms.push((0.5 * h * w).ln() + f(y));
        }
    }
    log_sum_exp(&terms)
}

/// log ∫_lo^hi p_y(y) N(x; a y + b, τ²) dy by composite Gauss–Legendre (400 panels of 10 nodes).
fn log_factor(
    log_py: &dyn Fn(f64) -> f64,
    x: f64,
    a: f64,
    b: f64,
    tau: f64,
    lo: f64,
    hi: f64,
) -> f64 {
    let f = |y: f64| {
        let r = (x - a * y - b) / tau;
        log_py(y) - 0.5 * r * r
    };
    log_integral(&f, lo, hi, 400) - (tau * (2.0 * std::f64::consts::PI).sqrt()).ln()
}

/// One model: the elementwise step, then x = diag(a) y + b.
fn model(first: Step, prior: Prior, a: &[f64], b: &[f64]) -> Model {
    let d = a.len();
    let affine = Affine::new(
        DMatrix::from_diagonal(&DVector::from_row_slice(a)),
        Some(DVector::from_row_slice(b)),
    )
    .unwrap();
    Model::new(prior, Decoder::new(d, vec![first, affine.into()]).unwrap()).unwrap()
}

/// Every answer of `log_marginal` agrees with the reference to the documented 1e-13·max(1, |log p|)
/// (plus 1e-14 for the reference's own round-off: a log-sum of 4000 terms and three logarithms);
/// the x-space route refuses; and enough points are answered for the test to mean something.
fn check(
    name: &str,
    model: &Model,
    ys: &[Vec<f64>],
    a: &[f64],
    b: &[f64],
    log_py: &dyn Fn(f64) -> f64,
    support: (f64, f64),
) -> usize {
    let opts = QuadratureOptions::default();
    let mut answered = 0;
    for y in ys {
        for gamma2 in [1e1f64, 1e2, 1e3, 1e4, 1e5, 1e6] {
            let x: Vec<f64> = (0..a.len()).map(|i| a[i] * y[i] + b[i]).collect();
            let tau = 1.0 / gamma2.sqrt();
            let reference: f64 = (0..a.len())
                .map(|i| {
                    // ±25 blur widths around y, or from the face for a y outside the support
                    // (noisy data beside a face: the mass lies at the face).
                    let w = 25.0 * tau / a[i];
                    let yc = y[i].clamp(support.0, support.1);
                    let (lo, hi) = ((yc - w).max(support.0), (yc + w).min(support.1));
                    log_factor(log_py, x[i], a[i], b[i], tau, lo, hi)
                })
                .sum();
            let q = Query::new(model, &x, gamma2).unwrap();
            assert!(
                matches!(
                    log_marginal_x_space(&q, &opts),
                    Err(OracleError::BoundedImage { step: 0 })
                ),
                "{name}: the x-space route must refuse a bounded image"
            );
            if let Ok(e) = log_marginal(&q, &opts) {
                answered += 1;
                let err = (e.value - reference).abs();
                assert!(
                    err <= 1e-13 * reference.abs().max(1.0) + 1e-14,
                    "{name} y={y:?} γ²={gamma2:e}: log p {} vs reference {reference} \
                     (error {err:.2e}, estimate {:.2e}, {} nodes, {:?})",
                    e.value,
                    e.error_estimate,
                    e.nodes_per_dim,
                    e.route
                );
            }
        }
    }
    answered
}

#[test]
fn sigmoid_then_diagonal_affine_against_one_dimensional_integrals() {
    let (a, b) = ([2.0, 0.5, 1.5], [0.1, -0.2, 0.3]);
    // The last two lie outside the image (x beyond a face of the cube, as noisy observations of a
    // sigmoid model can): their posterior mode is found from a clamped start
    // (`Decoder::inverse_clamped`); before that every route refused them.
    let ys: Vec<Vec<f64>> = [0.5, 0.05, 0.01, 0.001, -0.002, 1.003]
        .iter()
        .map(|&s| vec![s, 0.3, 0.93])
        .collect();
    let mut answered = 0;
    for (pa, pb) in [(1.0, 1.0), (2.0, 5.0)] {
        let m = model(
            Sigmoid::new(3).unwrap().into(),
            Prior::beta_logistic(pa, pb).unwrap(),
            &a,
            &b,
        );
        let log_py =
            move |t: f64| (pa - 1.0) * t.ln() + (pb - 1.0) * (1.0 - t).ln() - ln_beta(pa, pb);
        answered += check(
            &format!("sigmoid, Beta({pa}, {pb})"),
            &m,
            &ys,
            &a,
            &b,
            &log_py,
            (0.0, 1.0),
        );
    }
    // Observed: 69 of 72 answered — by the Laplace-centred route away from the faces at large γ²,
    // by the cube route elsewhere; the rest refused, never wrong (before the cube route: 16 of the
    // 48 inside the cube; before the clamped start, none of the 24 outside).
    assert!(answered >= 68, "only {answered} of 72 points answered");
}

#[test]
fn tanh_then_diagonal_affine_against_one_dimensional_integrals() {
    let (a, b) = ([2.0, 0.7], [0.1, -0.2]);
    let ys: Vec<Vec<f64>> = [0.0, 1.5, 2.5]
        .iter()
        .map(|&t: &f64| vec![t.tanh(), 0.2])
        .collect();
    let m = model(
        Tanh::new(2).unwrap().into(),
        Prior::gaussian(1.0).unwrap(),
        &a,
        &b,
    );
    let log_py = |t: f64| {
        let z = t.atanh();
        -0.5 * z * z - 0.5 * (2.0 * std::f64::consts::PI).ln() - (1.0 - t * t).ln()
    };
    let answered = check("tanh, N(0, 1)", &m, &ys, &a, &b, &log_py, (-1.0, 1.0));
    // Observed: 9 of 18 answered.
    assert!(answered >= 6, "only {answered} points answered");
}

/// Where both answer, the cube route (Gauss–Legendre in y) and the Laplace-centred route
/// (Gauss–Hermite in z around the mode) agree on the authors' §4.3 model (uniform prior, sigmoid,
/// Möbius) to 2e-13·max(1, |log p|): each is within its tolerance 1e-13 of the truth. Two
/// independent rules in two coordinate systems.
#[test]
fn cube_and_laplace_routes_agree_on_the_authors_model() {
    let d = 3;
    let mut r = OracleRng::seed_from_u64(5);
    let m = moebius_step(d, 2.0, &mut r).unwrap();
    let mob = Decoder::new(d, vec![m.clone().into()]).unwrap();
    let dec = Decoder::new(d, vec![Sigmoid::new(d).unwrap().into(), m.into()]).unwrap();
    let model = Model::new(Prior::beta_logistic(1.0, 1.0).unwrap(), dec).unwrap();
    let opts = QuadratureOptions::default();
    let mut compared = 0;
    for y in [[0.5, 0.4, 0.6], [0.2, 0.7, 0.35]] {
        let x = mob.forward(&DVector::from_row_slice(&y)).unwrap();
        for gamma2 in [1e4, 1e5, 1e6] {
            let q = Query::new(&model, x.as_slice(), gamma2).unwrap();
            let (Ok(c), Ok(l)) = (
                log_marginal_cube(&q, &opts),
                log_marginal_laplace(&q, &opts),
            ) else {
                continue;
            };
            compared += 1;
            assert!(
                (c.value - l.value).abs() <= 2e-13 * c.value.abs().max(1.0),
                "y={y:?} γ²={gamma2:e}: cube {} vs Laplace {}",
                c.value,
                l.value
            );
        }
    }
    assert!(compared >= 4, "only {compared} comparisons");
}

/// The cube route applies only where its integrand is smooth: not for a Beta law with a
/// non-integer exponent on a face the posterior reaches (y^{−1/2} at y = 0), not without a leading
/// sigmoid.
#[test]
fn cube_route_refuses_where_it_does_not_apply() {
    let (a, b) = ([2.0, 0.5, 1.5], [0.1, -0.2, 0.3]);
    let opts = QuadratureOptions::default();
    let beta = model(
        Sigmoid::new(3).unwrap().into(),
        Prior::beta_logistic(0.5, 0.7).unwrap(),
        &a,
        &b,
    );
    let x: Vec<f64> = (0..3).map(|i| a[i] * [0.001, 0.3, 0.6][i] + b[i]).collect();
    let q = Query::new(&beta, &x, 1e2).unwrap();
    assert!(matches!(
        log_marginal_cube(&q, &opts),
        Err(OracleError::RouteNotApplicable { .. })
    ));
    let th = model(
        Tanh::new(3).unwrap().into(),
        Prior::gaussian(1.0).unwrap(),
        &a,
        &b,
    );
    let q = Query::new(&th, &x, 1e2).unwrap();
    assert!(matches!(
        log_marginal_cube(&q, &opts),
        Err(OracleError::RouteNotApplicable { .. })
    ));
}

/// A review's counterexample to the cube route's box check (d = 2): sigmoid, an anisotropic affine
/// step, then a Möbius inversion — the image of the cube is a crescent whose far end (y₂ → 1)
/// comes back within reach of x = h(0.5, 0.001), a second maximum of the likelihood outside the
/// box. `log_marginal_cube` (which assumes one maximum) misses it; `log_marginal` must not race the
/// cube route here, and whatever it returns must agree with a reference that integrates the whole
/// square: composite Gauss–Legendre in y₂ on [0, 0.05] and [0.05, 1] (400 panels each) inside one in
/// y₁ (40 panels), exact to ~1e-15 for integrands this smooth at these widths.
#[test]
fn a_second_maximum_outside_the_box_is_not_missed() {
    use ima_oracle::Moebius;
    let (t1, t2) = (10.0, 1000.0);
    let aff = Affine::new(
        DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, t1 + t2]),
        Some(DVector::from_vec(vec![1.0, -t1])),
    )
    .unwrap();
    let mob = Moebius::new(
        1.0,
        DMatrix::identity(2, 2),
        DVector::zeros(2),
        DVector::zeros(2),
    )
    .unwrap();
    let dec = Decoder::new(
        2,
        vec![Sigmoid::new(2).unwrap().into(), aff.into(), mob.into()],
    )
    .unwrap();
    let model = Model::new(Prior::beta_logistic(1.0, 1.0).unwrap(), dec).unwrap();
    let h = move |y1: f64, y2: f64| {
        let (u, v) = (1.0 + y1, -t1 + (t1 + t2) * y2);
        let s = u * u + v * v;
        (u / s, v / s)
    };
    let gamma2: f64 = 4e3;
    let (a, b) = h(0.5, 1e-3);
    let x = [a, b];
    let lp = |y1: f64, y2: f64| {
        let (p, q) = h(y1, y2);
        (gamma2 / (2.0 * std::f64::consts::PI)).ln()
            - 0.5 * gamma2 * ((x[0] - p).powi(2) + (x[1] - q).powi(2))
    };
    let near = log_integral(
        &|y1| log_integral(&|y2| lp(y1, y2), 0.0, 0.05, 400),
        0.0,
        1.0,
        40,
    );
    let far = log_integral(
        &|y1| log_integral(&|y2| lp(y1, y2), 0.05, 1.0, 400),
        0.0,
        1.0,
        40,
    );
    let reference = log_sum_exp(&[near, far]);
    let q = Query::new(&model, &x, gamma2).unwrap();
    let opts = QuadratureOptions::default();
    // The second maximum carries ~6e-9 of the mass: the cube route alone answers, and misses it
    // (so this case does exercise what `log_marginal` must not do).
    let c = log_marginal_cube(&q, &opts).expect("the cube route answers here");
    assert!(
        (c.value - reference).abs() > 1e-9,
        "the counterexample no longer separates"
    );
    if let Ok(e) = log_marginal(&q, &opts) {
        assert!(
            (e.value - reference).abs() <= 1e-13 * reference.abs().max(1.0) + 1e-14,
            "log p {} ({:?}) vs reference {reference}",
            e.value,
            e.route
        );
    }
}

/// The authors' §4.3 model (sigmoid, then a Möbius step whose pole lies at distance 2 from the
/// cube's centre; uniform prior) at small γ², where the likelihood is broad and unimodality is not
/// proved: `log_marginal` integrates the whole cube (`Cube::whole`) and must agree with a reference
/// that does too by another rule — composite Gauss–Legendre, 40 panels of 10 nodes per axis in
/// d = 2 (the likelihood's narrowest width on the square, 1/(γL) ≥ 0.05 at γ² = 1e3 with
/// L = 1/dist(pole, square)² ≤ 0.6, spans ≥ 2 panels: exact to ~1e-15) and 12 panels in d = 3 at
/// γ² = 10 (width ≥ 0.4, ~5 panels). Tolerance: the documented 1e-13·max(1, |log p|) plus 1e-14
/// for the reference's log-sum of 1.6e5–1.7e6 terms. Every point must be answered (before, each
/// was refused: the Laplace-centred route meets the prior's tails).
#[test]
fn the_authors_model_at_small_gamma2_against_the_whole_cube() {
    use ima_oracle::inference::Route;
    use ima_oracle::model::generate::sigmoid_moebius_decoder;
    let opts = QuadratureOptions::default();
    for (d, gammas, panels) in [(2usize, &[1e1, 1e2, 1e3][..], 40usize), (3, &[1e1][..], 12)] {
        let mut r = OracleRng::seed_from_u64(17);
        let dec = sigmoid_moebius_decoder(d, &mut r).unwrap();
        let Step::Moebius(m) = dec.steps()[1].clone() else {
            panic!("the authors' model ends in a Möbius step")
        };
        let model = Model::new(Prior::beta_logistic(1.0, 1.0).unwrap(), dec).unwrap();
        // h(y) = b + α A (y − a)/‖y − a‖², written out.
        let h = |y: &[f64]| -> Vec<f64> {
            let v: Vec<f64> = y.iter().zip(m.pole().iter()).map(|(y, a)| y - a).collect();
            let s: f64 = v.iter().map(|t| t * t).sum();
            (0..d)
                .map(|i| {
                    m.shift()[i]
                        + m.alpha() * (0..d).map(|k| m.rotation()[(i, k)] * v[k]).sum::<f64>() / s
                })
                .collect()
        };
        for y in [[0.5, 0.4, 0.6], [0.15, 0.8, 0.3], [0.03, 0.5, 0.97]] {
            let x = h(&y[..d]);
            for &gamma2 in gammas {
                let lp = |yy: &[f64]| {
                    let hy = h(yy);
                    let rr: f64 = x.iter().zip(&hy).map(|(a, b)| (a - b).powi(2)).sum();
                    -0.5 * gamma2 * rr
                };
                let inner = |y1: f64| {
                    if d == 2 {
                        log_integral(&|y2| lp(&[y1, y2]), 0.0, 1.0, panels)
                    } else {
                        log_integral(
                            &|y2| log_integral(&|y3| lp(&[y1, y2, y3]), 0.0, 1.0, panels),
                            0.0,
                            1.0,
                            panels,
                        )
                    }
                };
                let reference = log_integral(&inner, 0.0, 1.0, panels)
                    + 0.5 * d as f64 * (gamma2 / (2.0 * std::f64::consts::PI)).ln();
                let q = Query::new(&model, &x, gamma2).unwrap();
                let e = log_marginal(&q, &opts)
                    .unwrap_or_else(|e| panic!("d={d} y={y:?} γ²={gamma2:e}: refused: {e}"));
                assert!(
                    (e.value - reference).abs() <= 1e-13 * reference.abs().max(1.0) + 1e-14,
                    "d={d} y={y:?} γ²={gamma2:e}: log p {} ({:?}) vs reference {reference}",
                    e.value,
                    e.route
                );
                assert_eq!(e.route, Route::Cube, "d={d} y={y:?} γ²={gamma2:e}");
            }
        }
    }
}

/// Near the faces of the cube at very large γ² (the likelihood's width τ/a ~ 1e-7 in y beside
/// y = 1 and y = 0): the problem in exact binary numbers, so that the closed form
/// pθ(x) = Π_i [Φ(a_i(1 − y_i)/τ) − Φ(−a_i y_i/τ)]/a_i (uniform prior; τ = 1/γ = 2^{−k}) has no
/// rounding in its bounds — coordinate 0 lies 2 (or 4) widths inside y = 1, coordinate 2 0.75
/// widths inside y = 0, coordinate 1 far from both. Φ by composite Gauss–Legendre of the
/// standard normal density over [−40, u] (400 panels of 10 nodes: exact to round-off). Tolerance
/// as in `check`. (An absolute-y formulation, as a first version of this test's reference had,
/// loses ~1e-10 here: x − a y − b cancels to eps·|x| and is divided by τ.)
#[test]
fn near_the_faces_at_very_large_gamma2() {
    let normal_cdf = |u: f64| {
        log_integral(&|s: f64| -0.5 * s * s, -40.0, u, 400)
            - 0.5 * (2.0 * std::f64::consts::PI).ln()
    };
    let (a, b) = ([2.0, 0.5, 1.5], [0.0625, -0.25, 0.375]);
    let m = model(
        Sigmoid::new(3).unwrap().into(),
        Prior::beta_logistic(1.0, 1.0).unwrap(),
        &a,
        &b,
    );
    let opts = QuadratureOptions::default();
    for (k, upper) in [(15, 2.0), (20, 2.0), (23, 4.0)] {
        let tau = 2f64.powi(-k);
        let gamma2 = tau.powi(-2);
        // y0 = 1 − upper·τ/2, 0.375, 0.75·τ/1.5; x = a y0 + b, all exact.
        let y = [1.0 - upper * tau / 2.0, 0.375, 0.5 * tau];
        let x: Vec<f64> = (0..3).map(|i| a[i] * y[i] + b[i]).collect();
        assert_eq!((x[0] - b[0]) / a[0], y[0]);
        let reference = normal_cdf(upper) - a[0].ln() - a[1].ln() + normal_cdf(0.75) - a[2].ln();
        let q = Query::new(&m, &x, gamma2).unwrap();
        let e = log_marginal(&q, &opts).unwrap_or_else(|e| panic!("γ²=2^{}: refused: {e}", 2 * k));
        assert!(
            (e.value - reference).abs() <= 1e-13 * reference.abs().max(1.0) + 1e-14,
            "γ²=2^{}: log p {} ({:?}) vs reference {reference}",
            2 * k,
            e.value,
            e.route
        );
        // The same map with an identity step appended (a review's case: the base residual of a
        // longer chain was formed plainly, 5e-12 off at 2^40): `log_marginal_cube` answers alike.
        let mut steps = m.decoder().steps().to_vec();
        steps.push(Affine::new(DMatrix::identity(3, 3), None).unwrap().into());
        let m2 = Model::new(*m.prior(), Decoder::new(3, steps).unwrap()).unwrap();
        let q2 = Query::new(&m2, &x, gamma2).unwrap();
        let c = log_marginal_cube(&q2, &opts)
            .unwrap_or_else(|e| panic!("γ²=2^{}, two steps: refused: {e}", 2 * k));
        assert!(
            (c.value - reference).abs() <= 1e-13 * reference.abs().max(1.0) + 1e-14,
            "γ²=2^{}, two steps: log p {} vs reference {reference}",
            2 * k,
            c.value
        );
    }
}
