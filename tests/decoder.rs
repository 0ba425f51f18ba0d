//! The decoder's closed forms against independent computations: central finite differences,
//! nalgebra's LU determinant, round trips through the inverse.

mod common;

use common::{all_models, assert_near, assert_within, fd_jacobian, normal_vector, test_rng, Tol};
use ima_oracle::generate::{haar_orthogonal, rng};
use ima_oracle::model::{
    Affine, Decoder, DecoderError, LeakyRelu, LeakySoftplus, Moebius, Sigmoid, Step, Tanh,
};
use nalgebra::{DMatrix, DVector};

/// The built-in families ([`all_models`]) and chains through the elementwise sigmoid, tanh and
/// leaky ReLU steps: W₁ → step → W₂ with Haar-orthogonal W (activations ~ N(0, 1), reaching the
/// curved parts; leaky ReLU kinks are met with probability ~0 at random points), in d = 1, 2, 3, 5,
/// and the §4.3 shape of the authors' code, sigmoid → Möbius (pole at distance 2 from the origin,
/// outside (0, 1)^d for d ≤ 3).
fn models(r: &mut ima_oracle::generate::OracleRng) -> Vec<(String, Decoder)> {
    let mut out = all_models(r);
    for d in [1usize, 2, 3, 5] {
        let elementwise: [(&str, Step); 3] = [
            ("sigmoid", Sigmoid::new(d).unwrap().into()),
            ("tanh", Tanh::new(d).unwrap().into()),
            ("leaky_relu", LeakyRelu::new(d, 0.3).unwrap().into()),
        ];
        for (name, step) in elementwise {
            let w1 = Affine::new(haar_orthogonal(d, r), None).unwrap().into();
            let w2 = Affine::new(haar_orthogonal(d, r), None).unwrap().into();
            out.push((
                format!("{name} chain d={d}"),
                Decoder::new(d, vec![w1, step, w2]).unwrap(),
            ));
        }
        if d <= 3 {
            let m = ima_oracle::generate::moebius_step(d, 2.0, r).unwrap();
            out.push((
                format!("sigmoid-moebius d={d}"),
                Decoder::new(d, vec![Sigmoid::new(d).unwrap().into(), m.into()]).unwrap(),
            ));
        }
    }
    out
}

/// Points at which to test a model: standard normal draws, kept a distance ≥ 0.5 from any Möbius pole
/// so that derivatives stay O(1) and the finite-difference tolerances below hold.
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

/// J_f against central differences with h = 1e-6: truncation h²|f'''|/6 ≲ 1e-12·C and round-off
/// eps·|f|/h ≲ 2e-10·|f| for the O(1)–O(10) values and derivatives here; 1e-8 relative to the
/// Jacobian's size (plus |f|) covers both with margin.
#[test]
fn jacobian_matches_finite_differences() {
    let mut r = test_rng(1);
    for (name, dec) in models(&mut r) {
        for z in points(&dec, 10, &mut r) {
            let j = dec.jacobian(&z).unwrap();
            let fd = fd_jacobian(|z| dec.forward(z).unwrap(), &z, 1e-6);
            let scale = 1.0 + j.amax() + dec.forward(&z).unwrap().amax();
            assert_within(
                &format!("{name} at {z}: J_f"),
                j.as_slice(),
                fd.as_slice(),
                Tol::Scaled(1e-8, scale),
            );
        }
    }
}

/// Σ_i r_i ∇²f_i against central differences of z ↦ J_f(z)ᵀ r (h = 1e-5: truncation h²|f''''|/6 ≈
/// 1e-11·C, round-off eps·|J|/h ≈ 2e-11·|J|), tolerance 1e-7 relative to |J| + |H|.
#[test]
fn hessian_contraction_matches_finite_differences() {
    let mut r = test_rng(2);
    for (name, dec) in models(&mut r) {
        for z in points(&dec, 10, &mut r) {
            let rv = normal_vector(dec.dim_out(), 1.0, &mut r);
            let h = dec.hessian_contraction(&z, &rv).unwrap();
            let fd = fd_jacobian(|z| dec.jacobian(z).unwrap().tr_mul(&rv), &z, 1e-5);
            let scale = 1.0 + h.amax() + dec.jacobian(&z).unwrap().amax() * rv.amax();
            assert_within(
                &format!("{name} at {z}: Σ r_i ∇²f_i\n{h}\n{fd}"),
                h.as_slice(),
                fd.as_slice(),
                Tol::Scaled(1e-7, scale),
            );
            assert_within(
                &format!("{name}: symmetry of Σ r_i ∇²f_i"),
                h.as_slice(),
                h.transpose().as_slice(),
                Tol::Scaled(1e-13, scale),
            );
        }
    }
}

/// log|det J| of the chain (sum of the steps' closed forms) against the LU determinant of the
/// assembled Jacobian: LU is backward stable, so the two agree to ~eps·κ(J)·d; 1e-11 absolute
/// allows κ up to ~1e4, more than these models reach at standard normal points.
#[test]
fn log_det_matches_lu_of_assembled_jacobian() {
    let mut r = test_rng(3);
    for (name, dec) in models(&mut r) {
        for z in points(&dec, 10, &mut r) {
            let j = dec.jacobian(&z).unwrap();
            let lu = j.clone().lu().determinant().abs().ln();
            let chain = dec.log_abs_det_jacobian(&z).unwrap();
            let sv = j.singular_values();
            let kappa = sv.max() / sv.min();
            assert_near(
                &format!("{name} at {z}: log|det J| (κ = {kappa:.1e})"),
                chain,
                lu,
                Tol::Scaled(64.0 * 1e-14, kappa),
            );
        }
    }
}

/// g(f(z)) = z and f(g(x)) = x to ≤ 1e-13 relative to (1 + ‖·‖): the inverse is exact up to
/// round-off amplified by the conditioning of the steps (κ ≲ 100 here).
#[test]
fn round_trips() {
    let mut r = test_rng(4);
    for (name, dec) in models(&mut r) {
        for z in points(&dec, 20, &mut r) {
            let x = dec.forward(&z).unwrap();
            let zz = dec.inverse(&x).unwrap();
            // The bounds are on the Euclidean norm of the error vector, so compare that norm
            // with 0.
            assert_near(
                &format!("{name}: ‖g(f(z)) − z‖, g(f(z)) = {zz}, z = {z}"),
                (&zz - &z).norm(),
                0.0,
                Tol::Scaled(1e-13, 1.0 + z.norm()),
            );
            let xx = dec.forward(&zz).unwrap();
            assert_near(
                &format!("{name}: ‖f(g(x)) − x‖"),
                (&xx - &x).norm(),
                0.0,
                Tol::Scaled(1e-13, 1.0 + x.norm()),
            );
        }
    }
}

/// The leaky softplus inverse stays exact far out: |t| up to 700 (and beyond) in every coordinate.
#[test]
fn leaky_softplus_round_trip_at_large_arguments() {
    let dec = Decoder::new(4, vec![LeakySoftplus::new(4, 0.2).unwrap().into()]).unwrap();
    for &t in &[-700.0, -50.0, -1e-8, 0.0, 1e-8, 50.0, 700.0, 1e5] {
        let z = DVector::from_element(4, t);
        let zz = dec.inverse(&dec.forward(&z).unwrap()).unwrap();
        assert_within(
            &format!("g(f(z)) at t = {t}"),
            zz.as_slice(),
            z.as_slice(),
            Tol::Scaled(4.0 * f64::EPSILON, (1.0 + t.abs()) / 0.2),
        );
    }
}

/// A D > d decoder (3 → 5 → 5): Jacobians and contractions work; inverse and log|det| are errors.
#[test]
fn non_square_decoder() {
    let mut r = rng(6);
    let w = common::normal_vector(15, 1.0, &mut r);
    let w = DMatrix::from_column_slice(5, 3, w.as_slice());
    let dec = Decoder::new(
        3,
        vec![
            Affine::new(w, None).unwrap().into(),
            LeakySoftplus::new(5, 0.3).unwrap().into(),
        ],
    )
    .unwrap();
    let z = DVector::from_vec(vec![0.3, -0.2, 0.9]);
    let j = dec.jacobian(&z).unwrap();
    let fd = fd_jacobian(|z| dec.forward(z).unwrap(), &z, 1e-6);
    assert_within(
        "J_f of a 3 → 5 decoder",
        j.as_slice(),
        fd.as_slice(),
        Tol::Scaled(1e-8, 1.0 + j.amax()),
    );
    assert!(matches!(
        dec.inverse(&DVector::zeros(5)),
        Err(DecoderError::NotInvertible { step: Some(0), .. })
    ));
    assert!(dec.log_abs_det_jacobian(&z).is_err());
}

#[test]
fn bad_inputs_are_typed_errors() {
    let mut r = rng(7);
    let dec = ima_oracle::generate::mlp_orthogonal(3, 2, 0.2, &mut r).unwrap();
    let nan = DVector::from_vec(vec![0.0, f64::NAN, 1.0]);
    assert!(matches!(
        dec.forward(&nan),
        Err(DecoderError::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        dec.inverse(&DVector::from_vec(vec![0.0, 0.0, f64::INFINITY])),
        Err(DecoderError::NonFinite { index: 2, .. })
    ));
    assert!(matches!(
        dec.forward(&DVector::zeros(2)),
        Err(DecoderError::DimensionMismatch {
            expected: 3,
            found: 2,
            ..
        })
    ));
    // Singular and rank-deficient W.
    let singular = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]);
    assert!(matches!(
        Affine::new(singular, None),
        Err(DecoderError::Singular { .. })
    ));
    let nan_w = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, f64::NAN, 1.0]);
    assert!(matches!(
        Affine::new(nan_w, None),
        Err(DecoderError::NonFinite { index: 2, .. })
    ));
    // Mismatched chain.
    let e = Decoder::new(3, vec![LeakySoftplus::new(2, 0.5).unwrap().into()]).unwrap_err();
    assert!(e.to_string().contains("step 0"), "{e}");
    // α outside (0, 1].
    assert!(LeakySoftplus::new(3, 0.0).is_err() && LeakySoftplus::new(3, 1.2).is_err());
    // Möbius: non-orthogonal A, α = 0, and evaluation at the pole (forward) and at b (inverse).
    let a = haar_orthogonal(3, &mut r);
    let pole = DVector::from_vec(vec![1.0, 0.5, -0.5]);
    assert!(Moebius::new(1.0, a.clone() * 1.01, pole.clone(), DVector::zeros(3)).is_err());
    assert!(Moebius::new(0.0, a.clone(), pole.clone(), DVector::zeros(3)).is_err());
    let m = Decoder::new(
        3,
        vec![
            LeakySoftplus::new(3, 1.0).unwrap().into(),
            Moebius::new(1.0, a, pole.clone(), DVector::zeros(3))
                .unwrap()
                .into(),
        ],
    )
    .unwrap();
    assert!(matches!(
        m.forward(&pole),
        Err(DecoderError::Pole {
            step: 1,
            what: "forward"
        })
    ));
    assert!(matches!(
        m.inverse(&DVector::zeros(3)),
        Err(DecoderError::Pole { step: 1, .. })
    ));
    // Every error renders a message naming what went wrong.
    let msg = m.forward(&pole).unwrap_err().to_string();
    assert!(msg.contains("step 1") && msg.contains("pole"), "{msg}");
}

/// The difference form f(z0 + Δ) − f(z0) against the direct difference: for Δ of size 0.1–1 the
/// direct difference is accurate to eps·|f|/|Δf| ≲ 1e-14 relative, so both must agree to
/// 1e-12·(|Δf| + |f|) (Euclidean norms); and for |Δ| ≈ 1e-9 against the linearisation J_f(z0)Δ
/// (error ≈ |f''||Δ|² ≈ 1e-18, far below the 1e-6 relative cancellation the direct form would
/// suffer), to 1e-8 relative.
#[test]
fn difference_form_matches() {
    let mut r = test_rng(5);
    for (name, dec) in models(&mut r) {
        let mut ws = dec.workspace();
        for z0 in points(&dec, 5, &mut r) {
            dec.set_base(z0.as_slice(), &mut ws).unwrap();
            let f0 = DVector::from_column_slice(ws.base_output());
            for scale in [1e-1, 5e-1] {
                let dz = normal_vector(dec.dim_in(), scale, &mut r);
                dec.eval_offset(dz.as_slice(), &mut ws, true).unwrap();
                let diff = DVector::from_column_slice(ws.output_diff());
                let direct = dec.forward(&(&z0 + &dz)).unwrap() - &f0;
                // A bound on the Euclidean norm of the error vector: compare that norm with 0.
                assert_near(
                    &format!("{name}: ‖difference form − direct‖, {diff} vs {direct}"),
                    (&diff - &direct).norm(),
                    0.0,
                    Tol::Scaled(1e-12, diff.norm() + f0.norm()),
                );
                // The Jacobian at z0 + dz is the ordinary one.
                let j = dec.jacobian(&(&z0 + &dz)).unwrap();
                assert_within(
                    &format!("{name}: J at z0 + dz"),
                    ws.jacobian().as_slice(),
                    j.as_slice(),
                    Tol::Scaled(1e-13, 1.0 + ws.jacobian().amax()),
                );
            }
            let dz = normal_vector(dec.dim_in(), 1e-9, &mut r);
            dec.eval_offset(dz.as_slice(), &mut ws, false).unwrap();
            let lin = dec.jacobian(&z0).unwrap() * &dz;
            let diff = DVector::from_column_slice(ws.output_diff());
            assert_near(
                &format!("{name}: ‖difference form − J_f(z0)Δ‖, {diff} vs {lin}"),
                (&diff - &lin).norm(),
                0.0,
                Tol::Scaled(1e-8, lin.norm()),
            );
        }
    }
}

/// A workspace made by one decoder, used with another, is an error (not a panic); so is a Hessian
/// contraction without a Jacobian evaluation first.
#[test]
fn misused_workspaces_are_errors() {
    let mut r = rng(8);
    let a = ima_oracle::generate::mlp_orthogonal(3, 2, 0.2, &mut r).unwrap();
    let b = ima_oracle::generate::mlp_orthogonal(2, 2, 0.2, &mut r).unwrap();
    let mut wa = a.workspace();
    let mut wb = b.workspace();
    assert!(matches!(
        a.eval(&[0.0; 3], &mut wb, true),
        Err(DecoderError::DimensionMismatch { .. })
    ));
    assert!(a.inverse_into(&[0.0; 3], &mut wb).is_err());
    a.eval(&[0.1, 0.2, 0.3], &mut wa, false).unwrap();
    let mut h = DMatrix::zeros(3, 3);
    assert!(a
        .hessian_contraction_into(&mut wa, &[0.0; 3], &mut h)
        .is_err());
    a.eval(&[0.1, 0.2, 0.3], &mut wa, true).unwrap();
    assert!(a
        .hessian_contraction_into(&mut wa, &[0.0; 3], &mut DMatrix::zeros(2, 2))
        .is_err());
    assert!(a
        .hessian_contraction_into(&mut wa, &[0.0; 3], &mut h)
        .is_ok());
}
