//! The IMA contrast (eq. 6), the flow likelihood (eq. 4) and L_IMA against independent forms:
//! Hadamard's inequality, determinants of JᵀJ by LU, the Gaussian density of an affine pushforward.

mod common;

use common::{assert_near, normal_vector, test_rng, Tol};
use ima_oracle::generate::{self, haar_orthogonal, Family};
use ima_oracle::model::{Affine, Decoder, LeakySoftplus, Step};
use ima_oracle::paper::ima::{self, c_ima, c_ima_of_jacobian};
use ima_oracle::quadrature::SampleMean;
use ima_oracle::{Prior, Source};
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;

/// ½ log det diag(JᵀJ) − ½ log det(JᵀJ) with the determinant from LU of the Gram matrix: an
/// independent route to c_IMA (it squares the condition number, so compare to ~eps·κ²).
fn c_ima_gram(j: &DMatrix<f64>) -> f64 {
    let g = j.transpose() * j;
    let diag: f64 = (0..g.nrows()).map(|k| g[(k, k)].ln()).sum();
    0.5 * diag - 0.5 * g.lu().determinant().ln()
}

fn affine(w: DMatrix<f64>) -> Decoder {
    let d = w.ncols();
    Decoder::new(d, vec![Affine::new(w, None).unwrap().into()]).unwrap()
}

/// Möbius maps are conformal: c_IMA = 0 at every point, to ≤ 1e-13 (a sum of d + 1 logarithms of
/// O(1)–O(10) numbers, each with relative error a few eps).
#[test]
fn moebius_has_zero_contrast() {
    let mut r = test_rng(10);
    for d in [2, 3, 4, 6] {
        let dec = generate::moebius_decoder(d, &mut r).unwrap();
        for _ in 0..50 {
            let z = normal_vector(d, 1.0, &mut r);
            assert_near(
                &format!("c_IMA d={d} z={z}"),
                c_ima(&dec, &z).unwrap(),
                0.0,
                Tol::Scaled(1e-13, 1.0),
            );
        }
    }
}

/// W = Q·diag(s) has orthogonal columns: c_IMA = 0 (to 1e-13); a generic W has c_IMA > 0
/// (Hadamard), equal to the Gram-determinant form to 1e-10 (κ(W)² ≲ 1e4 here, times eps).
#[test]
fn hadamard() {
    let mut r = test_rng(11);
    for d in [2, 3, 5] {
        for _ in 0..20 {
            let q = haar_orthogonal(d, &mut r);
            let s = normal_vector(d, 2.0, &mut r).map(|t| t.abs() + 0.1);
            let w = &q * DMatrix::from_diagonal(&s);
            let z = normal_vector(d, 1.0, &mut r);
            assert_near(
                "c_IMA of Q·diag(s)",
                c_ima(&affine(w), &z).unwrap(),
                0.0,
                Tol::Scaled(1e-13, 1.0),
            );
            let g = generate::uniform_matrix(d, d, -1.0, 1.0, &mut r);
            let c = c_ima(&affine(g.clone()), &z).unwrap();
            assert!(c > 0.0);
            assert_near(
                "c_IMA vs Gram form",
                c,
                c_ima_gram(&g),
                Tol::Scaled(1e-10, 1.0 + c),
            );
        }
    }
}

/// c_IMA(f ∘ P D, z) = c_IMA(f, P D z) for a permutation P and positive diagonal D: the contrast of a
/// Jacobian does not change when its columns are rescaled or permuted. Agreement to 1e-12: both
/// sides are the same O(1) logarithms, reordered, plus log|det(PD)| which cancels to round-off.
#[test]
fn invariant_under_column_scaling_and_permutation() {
    let mut r = test_rng(12);
    for fam in Family::ALL {
        let d = 3;
        let f = fam.build(d, &mut r).unwrap();
        let pd = DMatrix::from_row_slice(3, 3, &[0.0, 2.5, 0.0, 0.0, 0.0, 0.3, 1.7, 0.0, 0.0]);
        let mut steps: Vec<Step> = vec![Affine::new(pd.clone(), None).unwrap().into()];
        steps.extend(f.steps().iter().cloned());
        let g = Decoder::new(d, steps).unwrap();
        for _ in 0..20 {
            let z = normal_vector(d, 0.5, &mut r);
            let lhs = c_ima(&g, &z).unwrap();
            let rhs = c_ima(&f, &(&pd * &z)).unwrap();
            assert_near(
                &format!("{}: c_IMA(f ∘ PD, z)", fam.name()),
                lhs,
                rhs,
                Tol::AbsRel {
                    atol: 1e-12,
                    rtol: 1e-12,
                },
            );
        }
    }
}

/// D > d: the QR form equals the Gram-determinant form, and is 0 for orthogonal columns.
#[test]
fn rectangular_jacobians() {
    let mut r = test_rng(13);
    for _ in 0..20 {
        let j = DMatrix::from_column_slice(6, 3, normal_vector(18, 1.0, &mut r).as_slice());
        let c = c_ima_of_jacobian(&j);
        assert!(c > 0.0);
        assert_near(
            "QR form vs Gram form",
            c,
            c_ima_gram(&j),
            Tol::Scaled(1e-10, 1.0 + c),
        );
        let q = haar_orthogonal(6, &mut r).columns(0, 3).into_owned();
        assert_near(
            "QR form, orthogonal columns",
            c_ima_of_jacobian(
                &(q * DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 3.0, 0.2]))),
            ),
            0.0,
            Tol::Scaled(1e-13, 1.0),
        );
    }
    // Through a 3 → 6 decoder: the same number as the QR form of its Jacobian.
    let w = DMatrix::from_column_slice(6, 3, normal_vector(18, 1.0, &mut r).as_slice());
    let dec = Decoder::new(
        3,
        vec![
            Affine::new(w, None).unwrap().into(),
            LeakySoftplus::new(6, 0.2).unwrap().into(),
        ],
    )
    .unwrap();
    let z = normal_vector(3, 1.0, &mut r);
    let c = c_ima(&dec, &z).unwrap();
    assert_near(
        "c_IMA of a 3 → 6 decoder vs Gram form",
        c,
        c_ima_gram(&dec.jacobian(&z).unwrap()),
        Tol::Scaled(1e-10, 1.0 + c),
    );
}

/// For x = W z + b with z ~ N(0, v I), x ~ N(b, v W Wᵀ): the flow likelihood (eq. 4) must equal that
/// Gaussian log-density, computed here by Cholesky of v W Wᵀ. That route squares the condition
/// number, so the two agree to 64·eps·κ(W)² relative (κ(W) reaches ~1e2 for Gaussian 5×5 draws).
#[test]
fn flow_likelihood_of_affine_gaussian() {
    let mut r = test_rng(14);
    for d in [1, 2, 3, 5] {
        let dec = generate::affine_decoder(d, &mut r).unwrap();
        let Step::Affine(a) = &dec.steps()[0] else {
            unreachable!()
        };
        let v = 0.7;
        let prior = Prior::gaussian(v).unwrap();
        let cov = a.weight() * a.weight().transpose() * v;
        let chol = cov.clone().cholesky().unwrap();
        let logdet: f64 = 2.0 * chol.l().diagonal().iter().map(|t| t.ln()).sum::<f64>();
        let sv = a.weight().singular_values();
        let tol = 64.0 * f64::EPSILON * (sv.max() / sv.min()).powi(2);
        for _ in 0..10 {
            let x = normal_vector(d, 2.0, &mut r);
            let e = &x - a.bias();
            let quad = e.dot(&chol.solve(&e));
            let expected = -0.5 * quad - 0.5 * logdet - 0.5 * d as f64 * (2.0 * PI).ln();
            let got = ima::log_flow_likelihood(&dec, &prior, &x).unwrap();
            assert_near(
                &format!("log p_flow d={d}"),
                got,
                expected,
                Tol::AbsRel {
                    atol: tol,
                    rtol: tol,
                },
            );
            let c = c_ima(&dec, &dec.inverse(&x).unwrap()).unwrap();
            let l = ima::l_ima(&dec, &prior, &x, 1.0).unwrap();
            assert_near(
                "L_IMA = log p_flow − c_IMA",
                l,
                got - c,
                Tol::Scaled(1e-12, 1.0 + l.abs()),
            );
        }
    }
}

/// C_IMA of an affine map is its constant c_IMA (zero spread), of a Möbius map 0; and
/// SampleMean::from_samples agrees with the two-pass textbook formulas.
#[test]
fn global_contrast() {
    let mut r = test_rng(15);
    let dec = generate::affine_decoder(3, &mut r).unwrap();
    let c0 = c_ima(&dec, &DVector::zeros(3)).unwrap();
    let src = Source::from(Prior::standard_normal());
    let est = ima::global_c_ima(&dec, &src, 100, &mut r).unwrap();
    assert_near(
        "C_IMA of an affine map",
        est.mean,
        c0,
        Tol::Scaled(1e-13, 1.0),
    );
    assert_near(
        "std_err of C_IMA of an affine map",
        est.std_err,
        0.0,
        Tol::Scaled(1e-14, 1.0),
    );
    assert_eq!(est.n, 100);
    let m = generate::moebius_decoder(3, &mut r).unwrap();
    let u = Source::uniform(-0.5, 0.5).unwrap();
    assert_near(
        "C_IMA of a Möbius map",
        ima::global_c_ima(&m, &u, 100, &mut r).unwrap().mean,
        0.0,
        Tol::Scaled(1e-13, 1.0),
    );
    let xs: Vec<f64> = (0..1000)
        .map(|i| ((i * 7919) % 1000) as f64 / 37.0)
        .collect();
    let mean = xs.iter().sum::<f64>() / 1000.0;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 999.0;
    let e = SampleMean::from_samples(xs);
    assert_near("SampleMean mean", e.mean, mean, Tol::Rel(1e-13));
    assert_near(
        "SampleMean std_err",
        e.std_err,
        (var / 1000.0).sqrt(),
        Tol::Scaled(1e-12, 1.0),
    );
}
