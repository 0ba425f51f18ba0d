//! The manifest parser, directive by directive: every error is the exact message (file, line, text).
//! The expected strings were recorded from `ima-oracle sample` before the loader was split into one
//! function per directive; those about shapes were rewritten when shapes came to be shown as numpy
//! writes them (`(3,)`, not `[3]`), and the pole and shift came to be required 1-d.

use super::{load_model, ModelFileError};
use crate::compare::{assert_within, Tol};
use crate::io::npy::{write_npy, NpyArray};
use nalgebra::{DMatrix, DVector};
use std::path::{Path, PathBuf};

/// A fresh folder holding W.npy (I₃), v.npy (length 3), m.npy (the first two rows of I₃), nan.npy
/// (I₃ with an ∞ at entry 4) and trunc.npy (magic and version only).
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ima-oracle-unit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let eye = DMatrix::<f64>::identity(3, 3);
    write_npy(dir.join("W.npy"), &NpyArray::from_matrix(&eye)).unwrap();
    let v = DVector::from_vec(vec![0.1, 0.2, 0.3]);
    write_npy(dir.join("v.npy"), &NpyArray::from_vector(&v)).unwrap();
    write_npy(
        dir.join("m.npy"),
        &NpyArray::from_matrix(&eye.rows(0, 2).into_owned()),
    )
    .unwrap();
    let mut nan = eye.clone();
    nan[(1, 1)] = f64::INFINITY;
    write_npy(dir.join("nan.npy"), &NpyArray::from_matrix(&nan)).unwrap();
    std::fs::write(dir.join("trunc.npy"), b"\x93NUMPY\x01\x00").unwrap();
    dir
}

/// Loads `text` as `dir/model.txt`.
fn load(dir: &Path, text: &str) -> Result<crate::Model, ModelFileError> {
    std::fs::write(dir.join("model.txt"), text).unwrap();
    load_model(dir)
}

/// A manifest (after a prefix), the line of the error and its message.
type Case = (&'static str, Option<usize>, &'static str);

/// Whole manifests.
const HEADER: &[Case] = &[
    ("", None, "empty manifest (expected 'ima-oracle model 1')"),
    (
        "# a comment\n\n",
        None,
        "empty manifest (expected 'ima-oracle model 1')",
    ),
    (
        "dim 3\n",
        Some(1),
        "expected the header 'ima-oracle model 1', found 'dim 3'",
    ),
    (
        "\u{feff}ima-oracle model 1\n",
        Some(1),
        "expected the header 'ima-oracle model 1', found '\\u{feff}ima-oracle model 1'; column 1 \
         holds U+FEFF, a byte-order mark (save the file as UTF-8 without BOM)",
    ),
    (
        "ima-oracle\u{a0}model 1\n",
        Some(1),
        "expected the header 'ima-oracle model 1', found 'ima-oracle\\u{00a0}model 1'; column 11 \
         holds U+00A0, a no-break space (type an ordinary space)",
    ),
    (
        "ima-oracle model 2\n",
        Some(1),
        "expected the header 'ima-oracle model 1', found 'ima-oracle model 2'",
    ),
    ("ima-oracle model 1\n", None, "no 'dim' line"),
    ("ima-oracle model 1\ndim 3\n", None, "no 'prior' line"),
    (
        "ima-oracle model 1\nprior gaussian 1\nstep leaky_softplus 0.2\n",
        Some(3),
        "'dim' must come before the first step",
    ),
];

/// After the header line.
const DIM: &[Case] = &[
    ("dim 3\ndim 3\n", Some(3), "'dim' given twice"),
    ("dim 0\n", Some(2), "'dim' needs a positive integer"),
    ("dim x\n", Some(2), "'dim' needs a positive integer"),
    ("dim\n", Some(2), "'dim' needs a positive integer"),
    ("dim 3 4\n", Some(2), "unexpected '4'"),
    (
        "dim 1000000000000\n",
        Some(2),
        "'dim' 1000000000000 is larger than the limit of 4096 (max_dim, default tol::MAX_DIM; \
         raise it with --max-dim N on the command line, or io::Limits in code)",
    ),
    (
        "dim\u{a0}3\n",
        Some(2),
        "unknown directive 'dim\\u{00a0}3' (dim | prior | step); column 4 holds U+00A0, a \
         no-break space (type an ordinary space)",
    ),
];

/// After the header and `dim 3`.
const PRIOR: &[Case] = &[
    (
        "prior gaussian 1\nprior gaussian 1\n",
        Some(4),
        "'prior' given twice",
    ),
    ("prior gaussian\n", Some(3), "missing the prior's parameter"),
    ("prior\n", Some(3), "missing the prior's parameter"),
    ("prior cauchy\n", Some(3), "missing the prior's parameter"),
    (
        "prior gaussian abc\n",
        Some(3),
        "the prior's parameter 'abc' is not a number",
    ),
    (
        "prior gaussian 1e999\n",
        Some(3),
        "the prior's parameter '1e999' is not finite",
    ),
    (
        "prior gaussian nan\n",
        Some(3),
        "the prior's parameter 'nan' is not finite",
    ),
    (
        "prior cauchy 1\n",
        Some(3),
        "unknown prior 'cauchy' (gaussian VARIANCE | logistic SCALE | beta-logistic A B)",
    ),
    (
        "prior beta-logistic 2\n",
        Some(3),
        "missing the prior's second parameter (B)",
    ),
    (
        "prior beta-logistic 2 0\n",
        Some(3),
        "beta-logistic distribution: parameter b = 0 is not allowed",
    ),
    (
        "prior beta-logistic -1 2\n",
        Some(3),
        "beta-logistic distribution: parameter a = -1 is not allowed",
    ),
    ("prior beta-logistic 1 2 3\n", Some(3), "unexpected '3'"),
    (
        "prior logistic -2\n",
        Some(3),
        "logistic distribution: parameter scale = -2 is not allowed",
    ),
    ("prior logistic 2 3\n", Some(3), "unexpected '3'"),
];

/// After the header, `dim 3` and `prior gaussian 1`.
const STEP: &[Case] = &[
    (
        "frobnicate\n",
        Some(4),
        "unknown directive 'frobnicate' (dim | prior | step)",
    ),
    (
        "step\n",
        Some(4),
        "unknown step '' (linear | leaky_softplus | moebius | sigmoid | tanh | leaky_relu)",
    ),
    (
        "step conv\n",
        Some(4),
        "unknown step 'conv' (linear | leaky_softplus | moebius | sigmoid | tanh | leaky_relu)",
    ),
    ("step linear\n", Some(4), "missing the file of the weight W"),
    (
        "step linear W.npy v.npy extra\n",
        Some(4),
        "unexpected 'extra'",
    ),
    (
        "step linear v.npy\n",
        Some(4),
        "W must be 2-d (out, in), found shape (3,)",
    ),
    (
        "step linear W.npy m.npy\n",
        Some(4),
        "the bias b (m.npy) must be 1-d of length 3, found shape (2, 3)",
    ),
    (
        "step linear m.npy\nstep leaky_softplus 0.5\nstep linear W.npy\n",
        Some(6),
        "this affine step takes inputs of dimension 3, but the previous output has dimension 2",
    ),
    ("step leaky_softplus\n", Some(4), "missing alpha"),
    (
        "step leaky_softplus 0\n",
        Some(4),
        "step: leaky softplus: alpha = 0 is outside (0, 1]",
    ),
    ("step leaky_softplus 0.2 0.3\n", Some(4), "unexpected '0.3'"),
    ("step sigmoid 1\n", Some(4), "unexpected '1'"),
    ("step tanh x\n", Some(4), "unexpected 'x'"),
    ("step leaky_relu\n", Some(4), "missing slope"),
    (
        "step leaky_relu 0\n",
        Some(4),
        "step: leaky relu: slope = 0 must be finite and positive (invertibility)",
    ),
    (
        "step leaky_relu -0.1\n",
        Some(4),
        "step: leaky relu: slope = -0.1 must be finite and positive (invertibility)",
    ),
    ("step leaky_relu 0.1 0.2\n", Some(4), "unexpected '0.2'"),
    ("step moebius\n", Some(4), "missing alpha"),
    (
        "step moebius x W.npy v.npy v.npy\n",
        Some(4),
        "alpha 'x' is not a number",
    ),
    (
        "step moebius 1.0\n",
        Some(4),
        "missing the file of the orthogonal matrix A",
    ),
    (
        "step moebius 1.0 W.npy\n",
        Some(4),
        "missing the file of the pole a",
    ),
    (
        "step moebius 1.0 W.npy v.npy\n",
        Some(4),
        "missing the file of the shift b",
    ),
    (
        "step moebius 1.0 m.npy v.npy v.npy\n",
        Some(4),
        "A must be square, found shape (2, 3)",
    ),
    (
        "step moebius 0 W.npy v.npy v.npy\n",
        Some(4),
        "step: moebius: alpha = 0 must be finite and non-zero",
    ),
    (
        "step moebius 1 W.npy v.npy v.npy x\n",
        Some(4),
        "unexpected 'x'",
    ),
    (
        "step linear W.npy W.npy\n",
        Some(4),
        "the bias b (W.npy) must be 1-d of length 3, found shape (3, 3)",
    ),
    (
        "step moebius 1 W.npy v.npy m.npy\n",
        Some(4),
        "the shift b (m.npy) must be 1-d of length 3, found shape (2, 3)",
    ),
    (
        "step moebius 1 W.npy m.npy v.npy\n",
        Some(4),
        "the pole a (m.npy) must be 1-d of length 3, found shape (2, 3)",
    ),
];

const H: &str = "ima-oracle model 1\n";
const D: &str = "ima-oracle model 1\ndim 3\n";
const S: &str = "ima-oracle model 1\ndim 3\nprior gaussian 1\n";

#[test]
fn manifest_errors_name_the_line() {
    let dir = folder("manifest");
    let manifest = dir.join("model.txt");
    for (prefix, cases) in [("", HEADER), (H, DIM), (D, PRIOR), (S, STEP)] {
        for &(rest, line, message) in cases {
            let text = format!("{prefix}{rest}");
            let e = load(&dir, &text).unwrap_err();
            let want = ModelFileError::new(&manifest, line, message.into());
            assert_eq!(e, want, "for {text:?}");
        }
    }
    // The dimension chain starts at `dim`.
    let e = load(
        &dir,
        "ima-oracle model 1\ndim 2\nprior gaussian 1\nstep linear W.npy\n",
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        format!(
            "{}:4: this affine step takes inputs of dimension 3, but the previous output has dimension 2",
            manifest.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn array_errors_name_the_array_and_the_line() {
    let dir = folder("arrays");
    let named = |what: &str| {
        format!(
            "{what} (named on line 4 of {})",
            dir.join("model.txt").display()
        )
    };
    let cases = [
        (
            format!("{S}step linear nan.npy\n"),
            "nan.npy",
            "entry 4 is NaN or infinite".to_string(),
        ),
        (
            format!("{S}step linear W.npy nan.npy\n"),
            "nan.npy",
            "entry 4 is NaN or infinite".into(),
        ),
        (
            format!("{S}step linear trunc.npy\n"),
            "trunc.npy",
            named("truncated: needs 10 bytes, has 8"),
        ),
        (
            format!("{S}step moebius 1 W.npy v.npy trunc.npy\n"),
            "trunc.npy",
            named("truncated: needs 10 bytes, has 8"),
        ),
    ];
    for (text, file, message) in cases {
        let e = load(&dir, &text).unwrap_err();
        assert_eq!(
            e,
            ModelFileError::new(&dir.join(file), None, message),
            "for {text:?}"
        );
    }
    let e = load(&dir, &format!("{S}step linear nope.npy\n")).unwrap_err();
    assert_eq!((e.path, e.line), (dir.join("nope.npy"), None));
    assert!(e.message.ends_with(&named("")[1..]), "{}", e.message);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn comments_blanks_and_the_manifest_path() {
    let dir = folder("comments");
    let text = "ima-oracle model 1 # c\n  dim 3  # d\n\nprior   gaussian 1.0\nstep linear W.npy v.npy # w\nstep leaky_softplus 0.2 # step x\n";
    let m = load(&dir, text).unwrap();
    assert_eq!(
        (m.dim_latent(), m.dim_observed(), m.decoder().steps().len()),
        (3, 3, 2)
    );
    // f(0) = a(I·0 + v) with a(t) = 0.2 t + 0.8 log(1 + eᵗ), computed here from the definition;
    // the two evaluations of the same formula differ by a few roundings (4 eps relative).
    let f0 = m.decoder().forward(&DVector::zeros(3)).unwrap();
    let want: Vec<f64> = [0.1_f64, 0.2, 0.3]
        .iter()
        .map(|vk| 0.2 * vk + 0.8 * vk.exp().ln_1p())
        .collect();
    assert_within("f(0)", f0.as_slice(), &want, Tol::Rel(4.0 * f64::EPSILON));
    // The manifest may be named directly; a model without steps is the identity.
    std::fs::write(dir.join("other.txt"), S).unwrap();
    assert_eq!(
        load_model(dir.join("other.txt"))
            .unwrap()
            .decoder()
            .steps()
            .len(),
        0
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
