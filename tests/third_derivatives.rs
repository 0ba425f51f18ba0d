//! The decoder's third-derivative contraction Σ_i r_i ∇³f_i(z)[v, ·, ·] against central finite
//! differences of the (independently tested) second-derivative contraction, and against the total
//! symmetry of ∂³f.

mod common;

use common::{all_models, assert_within, normal_vector, test_rng, Tol};
use ima_oracle::model::{Decoder, Step};
use nalgebra::{DMatrix, DVector};

/// Standard normal points kept ≥ 0.5 from any Möbius pole (as in tests/decoder.rs), so that the
/// derivatives up to the fifth, which bound the finite-difference error, stay O(10²) at most.
fn points(dec: &Decoder, n: usize, r: &mut ima_oracle::generate::OracleRng) -> Vec<DVector<f64>> {
    let mut out = Vec::new();
    while out.len() < n {
        let z = normal_vector(dec.dim_in(), 1.0, r);
        let near_pole = dec.steps().first().is_some_and(|s| match s {
            Step::Moebius(m) => m.distance_to_pole(z.as_slice()) < 0.5,
            _ => false,
        });
        if !near_pole {
            out.push(z);
        }
    }
    out
}

/// T(z; r, v) = D_v[Σ r_i ∇²f_i](z) against the Richardson extrapolation (4 D(h/2) − D(h))/3 of the
/// central differences D(h) = (H(z + hv) − H(z − hv))/(2h), h = 2e-3, ‖v‖ ~ 1: the h² term cancels,
/// leaving truncation ~h⁴‖∇⁷f‖/5040·… ≲ 2e-11·‖∇⁷f‖ (≤ 1e-8 relative even where the composed
/// Möbius steps make ‖∇⁷f‖ ~ 10³ times ‖T‖ — plain central differences with h = 1e-4 showed a
/// 2e-6 relative truncation there) and round-off ~3 eps‖H‖/h ≈ 3e-13·‖H‖. The tolerance 1e-7
/// relative to 1 + ‖T‖ + ‖H‖ covers both with margin.
#[test]
fn third_contraction_matches_finite_differences_of_the_second() {
    let mut rg = test_rng(140);
    let h = 2e-3;
    for (name, dec) in all_models(&mut rg) {
        for z in points(&dec, 4, &mut rg) {
            let r = normal_vector(dec.dim_out(), 1.0, &mut rg);
            let v = normal_vector(dec.dim_in(), 1.0, &mut rg);
            let t = dec.third_contraction(&z, &r, &v).unwrap();
            let central = |h: f64| {
                let hp = dec.hessian_contraction(&(&z + &v * h), &r).unwrap();
                let hm = dec.hessian_contraction(&(&z - &v * h), &r).unwrap();
                (&hp - &hm) / (2.0 * h)
            };
            let fd = (central(h / 2.0) * 4.0 - central(h)) / 3.0;
            let hz = dec.hessian_contraction(&z, &r).unwrap();
            let scale = 1.0 + t.amax() + hz.amax();
            assert_within(
                &format!("{name} at {z}: Σ r_i ∇³f_i[v]"),
                t.as_slice(),
                fd.as_slice(),
                Tol::Scaled(1e-7, scale),
            );
            // Symmetric as a matrix: both triangles are summed from the same closed-form terms in
            // different orders, so they agree to a few ulps of the largest term (64 eps).
            assert_within(
                &format!("{name}: symmetry"),
                t.as_slice(),
                t.transpose().as_slice(),
                Tol::Scaled(64.0 * f64::EPSILON, scale),
            );
        }
    }
}

/// ∂³f is totally symmetric: T(r, e_a)[b, c] = T(r, e_b)[a, c]. The two sides come from different
/// chain terms (the direction enters through du and dP on one side, through P on the other), so this
/// checks the assembly independently of finite differences; agreement to 1e-12 of the largest entry
/// (round-off of sums of O(10)-term products, each a few ulps).
#[test]
fn third_contraction_is_totally_symmetric() {
    let mut rg = test_rng(141);
    for (name, dec) in all_models(&mut rg) {
        let d = dec.dim_in();
        for z in points(&dec, 2, &mut rg) {
            let r = normal_vector(dec.dim_out(), 1.0, &mut rg);
            let ts: Vec<DMatrix<f64>> = (0..d)
                .map(|a| {
                    dec.third_contraction(&z, &r, &DVector::from_fn(d, |i, _| f64::from(i == a)))
                        .unwrap()
                })
                .collect();
            let scale = 1.0 + ts.iter().map(|t| t.amax()).fold(0.0, f64::max);
            for a in 0..d {
                for b in 0..d {
                    let lhs: Vec<f64> = (0..d).map(|c| ts[a][(b, c)]).collect();
                    let rhs: Vec<f64> = (0..d).map(|c| ts[b][(a, c)]).collect();
                    assert_within(
                        &format!("{name}: T[{a},{b},·]"),
                        &lhs,
                        &rhs,
                        Tol::Scaled(1e-12, scale),
                    );
                }
            }
        }
    }
}

/// An affine chain has no third derivative: exactly zero. Wrong lengths and non-finite directions are
/// typed errors.
#[test]
fn affine_is_zero_and_bad_input_is_an_error() {
    let mut rg = test_rng(142);
    let dec = ima_oracle::generate::Family::Affine
        .build(3, &mut rg)
        .unwrap();
    let z = normal_vector(3, 1.0, &mut rg);
    let t = dec
        .third_contraction(
            &z,
            &normal_vector(3, 1.0, &mut rg),
            &normal_vector(3, 1.0, &mut rg),
        )
        .unwrap();
    assert!(t.iter().all(|&x| x == 0.0));
    assert!(dec
        .third_contraction(&z, &DVector::zeros(2), &DVector::zeros(3))
        .is_err());
    assert!(dec
        .third_contraction(&z, &DVector::zeros(3), &DVector::from_element(3, f64::NAN))
        .is_err());
}

/// A non-square chain R² → R⁴ → R⁴ → R³ (affine, leaky softplus, affine): the contraction against
/// the Richardson-extrapolated central differences of the Hessian contraction, as above (same step
/// and tolerance argument; the activations here are O(1) so ‖∇⁷f‖ is O(1)).
#[test]
fn third_contraction_of_a_non_square_chain() {
    use ima_oracle::model::{Affine, LeakySoftplus};
    let mut rg = test_rng(143);
    let w1 = DMatrix::from_fn(4, 2, |_, _| normal_vector(1, 1.0, &mut rg)[0]);
    let w2 = DMatrix::from_fn(3, 4, |_, _| normal_vector(1, 1.0, &mut rg)[0]);
    let dec = Decoder::new(
        2,
        vec![
            Affine::new(w1, Some(normal_vector(4, 1.0, &mut rg)))
                .unwrap()
                .into(),
            LeakySoftplus::new(4, 0.2).unwrap().into(),
            Affine::new(w2, None).unwrap().into(),
        ],
    )
    .unwrap();
    let h = 2e-3;
    for _ in 0..5 {
        let z = normal_vector(2, 1.0, &mut rg);
        let r = normal_vector(3, 1.0, &mut rg);
        let v = normal_vector(2, 1.0, &mut rg);
        let t = dec.third_contraction(&z, &r, &v).unwrap();
        let central = |h: f64| {
            let hp = dec.hessian_contraction(&(&z + &v * h), &r).unwrap();
            let hm = dec.hessian_contraction(&(&z - &v * h), &r).unwrap();
            (&hp - &hm) / (2.0 * h)
        };
        let fd = (central(h / 2.0) * 4.0 - central(h)) / 3.0;
        let scale = 1.0 + t.amax() + dec.hessian_contraction(&z, &r).unwrap().amax();
        assert_within(
            &format!("2→4→4→3 chain at {z}"),
            t.as_slice(),
            fd.as_slice(),
            Tol::Scaled(1e-7, scale),
        );
    }
}

/// The elementwise steps added on main — sigmoid, tanh (a''' in closed form) and leaky ReLU
/// (a''' = 0 off the kink) — in chains of the authors' shape (sigmoid first, tanh inside):
/// against the Richardson-extrapolated differences of the Hessian contraction, as above (same
/// step and tolerance argument: every activation is O(1) and smooth where evaluated; the leaky-ReLU
/// chain is evaluated at points whose pre-activations are ≥ 1e-2 from the kink, beyond the
/// difference steps 2e-3·‖P v‖ ≲ 1e-2, so its difference quotients see no kink).
#[test]
fn third_contraction_of_the_other_elementwise_steps() {
    use ima_oracle::model::{Affine, LeakyRelu, Sigmoid, Tanh};
    let mut rg = test_rng(144);
    let mut mat =
        |r: usize, c: usize| DMatrix::from_fn(r, c, |_, _| normal_vector(1, 0.8, &mut rg)[0]);
    let (w1, w2, w3, w4) = (mat(3, 3), mat(3, 3), mat(3, 3), mat(3, 3));
    let smooth = Decoder::new(
        3,
        vec![
            Sigmoid::new(3).unwrap().into(),
            Affine::new(w1, None).unwrap().into(),
            Tanh::new(3).unwrap().into(),
            Affine::new(w2, None).unwrap().into(),
        ],
    )
    .unwrap();
    let kinked = Decoder::new(
        3,
        vec![
            Affine::new(w3, None).unwrap().into(),
            LeakyRelu::new(3, 0.2).unwrap().into(),
            Affine::new(w4.clone(), None).unwrap().into(),
        ],
    )
    .unwrap();
    let h = 2e-3;
    let mut checked_kinked = 0;
    for _ in 0..8 {
        let z = normal_vector(3, 1.0, &mut rg);
        let r = normal_vector(3, 1.0, &mut rg);
        let v = normal_vector(3, 1.0, &mut rg);
        for (name, dec) in [("sigmoid/tanh", &smooth), ("leaky_relu", &kinked)] {
            if name == "leaky_relu" {
                let pre = match &dec.steps()[0] {
                    Step::Affine(a) => a.weight() * &z,
                    _ => unreachable!(),
                };
                if pre.iter().any(|t| t.abs() < 1e-2) {
                    continue;
                }
                checked_kinked += 1;
            }
            let t = dec.third_contraction(&z, &r, &v).unwrap();
            let central = |h: f64| {
                let hp = dec.hessian_contraction(&(&z + &v * h), &r).unwrap();
                let hm = dec.hessian_contraction(&(&z - &v * h), &r).unwrap();
                (&hp - &hm) / (2.0 * h)
            };
            let fd = (central(h / 2.0) * 4.0 - central(h)) / 3.0;
            let scale = 1.0 + t.amax() + dec.hessian_contraction(&z, &r).unwrap().amax();
            assert_within(
                &format!("{name} at {z}"),
                t.as_slice(),
                fd.as_slice(),
                Tol::Scaled(1e-7, scale),
            );
        }
    }
    assert!(
        checked_kinked >= 4,
        "only {checked_kinked} leaky-ReLU points off the kink"
    );
}
