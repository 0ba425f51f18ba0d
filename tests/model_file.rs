//! Model folders: the shared MLP3 example loads to the decoder its manifest describes, every built-in
//! family survives a save/load round trip bit for bit, and broken manifests give errors naming the
//! file and line.

mod common;

use common::{assert_within, normal_vector, test_rng, Tol};
use ima_oracle::generate::{haar_orthogonal, Family};
use ima_oracle::io::model_file::{load_model, save_model};
use ima_oracle::io::npy::read_npy;
use ima_oracle::{Model, Prior};
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
