//! Model folders: the shared MLP3 example loads to the decoder its manifest describes, every built-in
//! family survives a save/load round trip bit for bit, and broken manifests give errors naming the
//! file and line.

mod common;

use common::{assert_within, normal_vector, test_rng, Tol};
use ima_oracle::generate::{haar_orthogonal, Family};
use ima_oracle::io::model_file::{load_model, load_model_with_notes, save_model};
use ima_oracle::io::npy::{read_npy, NpyArray};
use ima_oracle::io::Limits;
use ima_oracle::{Model, Prior, Step};
use nalgebra::{DMatrix, DVector};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")
}

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("ima-oracle-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// MLP3 = a(W3 a(W2 a(W1 z))) with a(t) = 0.2 t + 0.8 log(1 + eᵗ): evaluated by hand from the .npy
/// weights, it matches the loaded model to round-off (1e-15 relative).
#[test]
fn mlp3_matches_its_definition() {
    let dir = fixtures().join("mlp3");
    let model = load_model(&dir).unwrap();
    assert_eq!((model.dim_latent(), model.dim_observed()), (3, 3));
    assert_eq!(*model.prior(), Prior::standard_normal());
    let w: Vec<DMatrix<f64>> = (1..=3)
        .map(|i| {
            let a = read_npy(dir.join(format!("W{i}.npy"))).unwrap();
            DMatrix::from_row_slice(3, 3, a.data())
        })
        .collect();
    for (i, wi) in w.iter().enumerate() {
        assert_within(
            &format!("W{}ᵀW{}", i + 1, i + 1),
            (wi.transpose() * wi).as_slice(),
            DMatrix::<f64>::identity(3, 3).as_slice(),
            Tol::Scaled(1e-14, 1.0),
        );
    }
    let act = |t: f64| 0.2 * t + 0.8 * t.exp().ln_1p();
    let z = DVector::from_vec(vec![0.3, -1.1, 0.7]);
    let mut h = z.clone();
    for wi in &w {
        h = (wi * h).map(act);
    }
    let f = model.decoder().forward(&z).unwrap();
    assert_within(
        "f(z) vs the hand-evaluated MLP3",
        f.as_slice(),
        h.as_slice(),
        Tol::Scaled(1e-15 * 4.0, h.amax().max(1.0)),
    );
}

#[test]
fn save_load_round_trip() {
    let mut r = test_rng(60);
    for fam in Family::ALL {
        for prior in [
            Prior::gaussian(0.5).unwrap(),
            Prior::logistic(1.7).unwrap(),
            Prior::beta_logistic(0.3, 2.5).unwrap(),
        ] {
            let model = Model::new(prior, fam.build(3, &mut r).unwrap()).unwrap();
            let dir = scratch(fam.name());
            save_model(&model, &dir).unwrap();
            let back = load_model(&dir).unwrap();
            assert_eq!(back.prior(), model.prior());
            for _ in 0..5 {
                let z = normal_vector(3, 0.5, &mut r);
                assert_eq!(
                    back.decoder().forward(&z).unwrap(),
                    model.decoder().forward(&z).unwrap()
                );
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

#[test]
fn broken_manifests_name_file_and_line() {
    let dir = scratch("broken");
    let mut r = test_rng(61);
    ima_oracle::io::npy::write_npy(
        dir.join("W.npy"),
        &ima_oracle::io::npy::NpyArray::from_matrix(&haar_orthogonal(3, &mut r)),
    )
    .unwrap();
    ima_oracle::io::npy::write_npy(
        dir.join("v.npy"),
        &ima_oracle::io::npy::NpyArray::from_vector(&DVector::zeros(4)),
    )
    .unwrap();
    let cases = [
        ("dim 3\n", ":1:", "expected the header"),
        (
            "ima-oracle model 1\ndim 3\nprior gaussian 1.0\nstep linaer W.npy\n",
            ":4:",
            "unknown step 'linaer'",
        ),
        (
            "ima-oracle model 1\ndim 3\nprior gaussian 1.0\nstep linear missing.npy\n",
            "missing.npy",
            "named on line 4",
        ),
        (
            "ima-oracle model 1\ndim 3\nprior gaussian 1.0\nstep linear W.npy v.npy\n",
            ":4:",
            "the bias b (v.npy) must be 1-d of length 3, found shape (4,)",
        ),
        (
            "ima-oracle model 1\ndim 2\nprior gaussian 1.0\nstep linear W.npy\n",
            ":4:",
            "dimension 2",
        ),
        (
            "ima-oracle model 1\ndim 3\nprior gausian 1.0\n",
            ":3:",
            "unknown prior",
        ),
        (
            "ima-oracle model 1\ndim 3\nprior gaussian -1\n",
            ":3:",
            "variance",
        ),
        (
            "ima-oracle model 1\ndim 3\nprior gaussian 1.0\nstep leaky_softplus 1.5\n",
            ":4:",
            "alpha",
        ),
        (
            "ima-oracle model 1\ndim 3\nstep leaky_softplus 0.2\n",
            "model.txt",
            "no 'prior' line",
        ),
        (
            "ima-oracle model 1\ndim 3\nprior logistic 1.0 extra\n",
            ":3:",
            "unexpected 'extra'",
        ),
        (
            "ima-oracle model 1\ndim 3\nprior gaussian 1.0\nstep moebius 1.0 W.npy v.npy v.npy\n",
            ":4:",
            "pole a",
        ),
    ];
    for (text, place, what) in cases {
        std::fs::write(dir.join("model.txt"), text).unwrap();
        let e = load_model(&dir).unwrap_err().to_string();
        assert!(e.contains(place) && e.contains(what), "for {text:?}: {e}");
    }
    assert!(load_model(dir.join("nonexistent"))
        .unwrap_err()
        .to_string()
        .contains("nonexistent"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The bytes of a C-order `<f4` `.npy` (version 1) holding `m` rounded to float32.
fn f4_npy(m: &DMatrix<f64>) -> Vec<u8> {
    let (r, c) = m.shape();
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({r}, {c}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    for i in 0..r {
        for j in 0..c {
            b.extend_from_slice(&(m[(i, j)] as f32).to_le_bytes());
        }
    }
    b
}

/// A Möbius folder whose A is `a_bytes` (an `.npy`), pole at distance 3, no shift.
fn moebius_folder(name: &str, a_bytes: &[u8]) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("A.npy"), a_bytes).unwrap();
    let pole = NpyArray::from_vector(&DVector::from_vec(vec![3.0, 0.0, 0.0]));
    ima_oracle::io::npy::write_npy(dir.join("a.npy"), &pole).unwrap();
    ima_oracle::io::npy::write_npy(
        dir.join("b.npy"),
        &NpyArray::from_vector(&DVector::zeros(3)),
    )
    .unwrap();
    std::fs::write(
        dir.join("model.txt"),
        "ima-oracle model 1\ndim 3\nprior gaussian 1\nstep moebius 1.0 A.npy a.npy b.npy\n",
    )
    .unwrap();
    dir
}

/// A Möbius A saved in float32 (orthogonal only to ~1e-7) is accepted, replaced by its polar
/// factor P and reported in one note. P is checked by its defining properties, independently of
/// the SVD that computed it: PᵀP = I to 1e-14 (a few n·eps of f64), and Pᵀ A symmetric positive
/// definite (A = P H, H = PᵀA the symmetric positive factor: symmetric to 1e-14·‖A‖, smallest
/// eigenvalue > 0.5 for a matrix 1e-7 from orthogonal); P lies within 4 eps₃₂ of the f64 matrix
/// the float32 one was rounded from (the polar factor moves A by at most its distance to any
/// orthogonal matrix, twice). An exactly orthogonal float32 A (a permutation) is kept as it is,
/// without a note.
#[test]
fn float32_moebius_matrix_is_orthogonalised_with_a_note() {
    let mut r = test_rng(62);
    let q0 = haar_orthogonal(3, &mut r);
    let dir = moebius_folder("f4-moebius", &f4_npy(&q0));
    let (model, notes) = load_model_with_notes(&dir, &Limits::default()).unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("model.txt:4") && notes[0].contains("polar factor"),
        "{}",
        notes[0]
    );
    let Step::Moebius(m) = &model.decoder().steps()[0] else {
        panic!("not a Möbius step")
    };
    let p = m.rotation().clone();
    let a = q0.map(|t| t as f32 as f64);
    let eye = DMatrix::<f64>::identity(3, 3);
    assert_within(
        "PᵀP",
        (p.transpose() * &p).as_slice(),
        eye.as_slice(),
        Tol::Scaled(1e-14, 1.0),
    );
    let h = p.transpose() * &a;
    assert_within(
        "PᵀA symmetric",
        h.as_slice(),
        h.transpose().as_slice(),
        Tol::Scaled(1e-14, 1.0),
    );
    assert!(h.symmetric_eigenvalues().min() > 0.5);
    assert_within(
        "P vs the f64 original",
        p.as_slice(),
        q0.as_slice(),
        Tol::Scaled(4.0 * f32::EPSILON as f64, 1.0),
    );
    assert!(load_model(&dir).is_ok());
    let perm = DMatrix::from_row_slice(3, 3, &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    std::fs::write(dir.join("A.npy"), f4_npy(&perm)).unwrap();
    let (model, notes) = load_model_with_notes(&dir, &Limits::default()).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    let Step::Moebius(m) = &model.decoder().steps()[0] else {
        panic!("not a Möbius step")
    };
    assert_eq!(m.rotation(), &perm);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A float32 A further from orthogonal than float32 round-off (1e-4 added to one entry:
/// max |AᵀA − I| ≈ 2e-4 > 4·3·eps₃₂ ≈ 1.4e-6) is an error giving the departure, the threshold and
/// the remedy; so is a float64 A 1e-7 from orthogonal (the f64 threshold 1e-12 applies to f64
/// files).
#[test]
fn non_orthogonal_moebius_matrices_are_errors_that_say_how_far() {
    let mut r = test_rng(63);
    let mut a = haar_orthogonal(3, &mut r);
    a[(0, 1)] += 1e-4;
    let dir = moebius_folder("f4-bad", &f4_npy(&a));
    let e = load_model(&dir).unwrap_err().to_string();
    for needle in [
        "model.txt:4",
        "float32 round-off",
        "4·n·eps_f32",
        "polar factor",
    ] {
        assert!(e.contains(needle), "{needle}: {e}");
    }
    let mut b = haar_orthogonal(3, &mut r);
    b[(2, 2)] += 1e-7;
    ima_oracle::io::npy::write_npy(dir.join("A.npy"), &NpyArray::from_matrix(&b)).unwrap();
    let e = load_model(&dir).unwrap_err().to_string();
    for needle in [
        "model.txt:4",
        "not orthogonal",
        "1e-12",
        "save it in float64",
    ] {
        assert!(e.contains(needle), "{needle}: {e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Models with the sigmoid, tanh and leaky ReLU steps and the Beta-logistic prior survive a
/// save/load round trip bit for bit (f, J, and the prior's parameters).
#[test]
fn new_steps_round_trip() {
    use ima_oracle::{Affine, Decoder, LeakyRelu, Sigmoid, Tanh};
    let mut r = test_rng(64);
    let lin = |r: &mut ima_oracle::generate::OracleRng| -> Step {
        Affine::new(haar_orthogonal(3, r), Some(normal_vector(3, 0.3, r)))
            .unwrap()
            .into()
    };
    let steps = vec![
        lin(&mut r),
        Sigmoid::new(3).unwrap().into(),
        lin(&mut r),
        Tanh::new(3).unwrap().into(),
        lin(&mut r),
        LeakyRelu::new(3, 0.37).unwrap().into(),
    ];
    let model = Model::new(
        Prior::beta_logistic(0.3, 2.5).unwrap(),
        Decoder::new(3, steps).unwrap(),
    )
    .unwrap();
    let dir = scratch("new-steps");
    save_model(&model, &dir).unwrap();
    let back = load_model(&dir).unwrap();
    assert_eq!(back.prior(), model.prior());
    let names: Vec<&str> = back.decoder().steps().iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        [
            "affine",
            "sigmoid",
            "affine",
            "tanh",
            "affine",
            "leaky_relu"
        ]
    );
    for _ in 0..5 {
        let z = normal_vector(3, 1.0, &mut r);
        assert_eq!(
            back.decoder().forward(&z).unwrap(),
            model.decoder().forward(&z).unwrap()
        );
        assert_eq!(
            back.decoder().jacobian(&z).unwrap(),
            model.decoder().jacobian(&z).unwrap()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// VAE folders: an encoder manifest names its arrays (a missing bias is zero, named `enc_b{l}`), its
/// linear layers need not have full rank, and its own mistakes — a prior, the model's header, an
/// output that is not 2d — are errors naming encoder.txt and the line.
#[test]
fn encoder_manifests_load_and_their_errors_name_the_line() {
    use ima_oracle::io::model_file::load_vae;
    use ima_oracle::io::npy::{write_npy, NpyArray};
    let dir = scratch("vae-folder");
    std::fs::copy(fixtures().join("mlp3/model.txt"), dir.join("model.txt")).unwrap();
    for w in ["W1", "W2", "W3"] {
        std::fs::copy(
            fixtures().join(format!("mlp3/{w}.npy")),
            dir.join(format!("{w}.npy")),
        )
        .unwrap();
    }
    // A rank-one first layer (every row equal) and a 6 × 4 output layer.
    let e1: Vec<f64> = (0..12).map(|k| [1.0, -2.0, 0.5][k % 3]).collect();
    write_npy(dir.join("e1.npy"), &NpyArray::new(vec![4, 3], e1).unwrap()).unwrap();
    let e2: Vec<f64> = (0..24).map(|k| k as f64 / 10.0).collect();
    write_npy(
        dir.join("e2.npy"),
        &NpyArray::new(vec![6, 4], e2.clone()).unwrap(),
    )
    .unwrap();
    write_npy(
        dir.join("c2.npy"),
        &NpyArray::new(vec![6], vec![0.5; 6]).unwrap(),
    )
    .unwrap();
    let write = |text: &str| std::fs::write(dir.join("encoder.txt"), text).unwrap();
    write("ima-oracle encoder 1\ndim 3\nstep linear e1.npy\nstep leaky_softplus 0.2\nstep linear e2.npy c2.npy\n");
    let v = load_vae(&dir).unwrap();
    assert_eq!(
        v.encoder_names,
        vec![
            ["e1".to_string(), "enc_b0".into()],
            ["e2".into(), "c2".into()]
        ]
    );
    assert_eq!(v.decoder_names[0], ["W1".to_string(), "b0".into()]);
    let lin: Vec<_> = v.vae.encoder().linears().collect();
    assert!(lin[0].b.iter().all(|&b| b == 0.0));
    assert_eq!(lin[1].w[(1, 0)], e2[4]); // row-major (out, in) on disk
    for (text, line, needle) in [
        (
            "ima-oracle model 1\ndim 3\n",
            Some(1),
            "expected the header 'ima-oracle encoder 1'",
        ),
        (
            "ima-oracle encoder 1\ndim 3\nprior gaussian 1\n",
            Some(3),
            "an encoder has no prior",
        ),
        (
            "ima-oracle encoder 1\ndim 3\nstep linear e1.npy\n",
            None,
            "the encoder maps R^3 to R^4",
        ),
        (
            "ima-oracle encoder 1\ndim 2\nstep linear e1.npy\n",
            Some(3),
            "previous output has dimension 2",
        ),
    ] {
        write(text);
        let e = load_vae(&dir).unwrap_err();
        assert!(e.path.ends_with("encoder.txt"), "{e}");
        assert_eq!(e.line, line, "{e}");
        assert!(e.message.contains(needle), "{e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
