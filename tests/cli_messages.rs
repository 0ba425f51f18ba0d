//! The messages issue 15 found unclear, as the CLI now prints them: shapes as the user wrote them,
//! pickles refused with the reason, invisible characters shown escaped and named, the pole named when
//! a pole is the cause, and files that claim too much refused at once with the limit named.

mod cli_support;

use cli_support::{fails_with, mlp3, moebius_model, npy, s, scratch};

#[test]
fn shapes_pickles_and_invisible_characters() {
    let dir = scratch("messages", "files");
    let out = dir.join("out");
    // A 1-d x of length 3 (one point without its row axis), reported as (3,), not (3, 1).
    let x = dir.join("x.npy");
    npy(&x, &[3], &[0.1, 0.2, 0.3]);
    fails_with(
        &[
            "eval",
            &mlp3(),
            "--x",
            s(&x),
            "--gamma2",
            "1e4",
            "--out",
            s(&out),
        ],
        1,
        &["x must have shape (N, 3), found shape (3,)", "shape (1, 3)"],
    );
    // A pickled object array (jnp.save of a dict).
    let pickle = format!(
        "{}/tests/fixtures/npy/object_refused.npy",
        env!("CARGO_MANIFEST_DIR")
    );
    fails_with(
        &[
            "eval",
            &mlp3(),
            "--x",
            &pickle,
            "--gamma2",
            "1e4",
            "--out",
            s(&out),
        ],
        1,
        &["pickled Python object", "refused on purpose"],
    );
    // A manifest whose header holds a no-break space.
    let m = dir.join("model");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(
        m.join("model.txt"),
        "ima-oracle\u{a0}model 1\ndim 3\nprior gaussian 1\n",
    )
    .unwrap();
    fails_with(&["sample", s(&m), "--n", "2", "--out", s(&out)], 1, &["model.txt:1: expected the header 'ima-oracle model 1', found 'ima-oracle\\u{00a0}model 1'; column 11 holds U+00A0, a no-break space"]);
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The 78-byte file of the issue, `dim 1000000000000`, and `/dev/zero` as a model or an array: each
/// refused at once, naming the limit and how to raise it (before, a panic, an abort on a failed
/// allocation, or a read until memory ran out).
#[test]
fn files_that_claim_too_much() {
    let dir = scratch("messages", "limits");
    let out = dir.join("out");
    let mut bytes = b"\x93NUMPY\x01\x00\x44\x00".to_vec();
    bytes
        .extend_from_slice(b"{'descr':'<f8','fortran_order':False,'shape':(2305843009213693951,)}");
    assert_eq!(bytes.len(), 78);
    let f = dir.join("claim.npy");
    std::fs::write(&f, &bytes).unwrap();
    fails_with(
        &["npy-info", s(&f)],
        1,
        &["more than the limit of 134217728", "--max-elements N"],
    );
    let m = dir.join("big");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(
        m.join("model.txt"),
        "ima-oracle model 1\ndim 1000000000000\nprior gaussian 1\n",
    )
    .unwrap();
    fails_with(
        &["sample", s(&m), "--n", "2", "--out", s(&out)],
        1,
        &[
            "model.txt:2: 'dim' 1000000000000 is larger than the limit of 4096",
            "--max-dim N",
        ],
    );
    if cfg!(unix) {
        fails_with(
            &["sample", "/dev/zero", "--n", "2", "--out", s(&out)],
            1,
            &["more than 1048576 bytes"],
        );
        fails_with(
            &[
                "eval",
                &mlp3(),
                "--x",
                "/dev/zero",
                "--gamma2",
                "1",
                "--out",
                s(&out),
            ],
            1,
            &["/dev/zero: not an .npy file"],
        );
    }
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A Möbius x whose g(x) is on the pole (|x| = 1e14, so g(x) lies 1e-14 from the pole a, computed
/// as 1.02e-14 after the round-off of a − αx/|x|²): the refusal names the pole and the step, not
/// only the solver's symptom.
#[test]
fn a_pole_is_named_when_it_is_the_cause() {
    let dir = scratch("messages", "pole");
    let (model, out) = (dir.join("model"), dir.join("out"));
    moebius_model(&model);
    let x = dir.join("x.npy");
    npy(&x, &[1, 3], &[1e14, 0.0, 0.0]);
    fails_with(
        &[
            "eval",
            s(&model),
            "--x",
            s(&x),
            "--gamma2",
            "1e4",
            "--out",
            s(&out),
        ],
        1,
        &[
            "point 0: ",
            "the cause is a pole: g(x) lies 1.0",
            "e-14 from the pole a of the Moebius step 0",
        ],
    );
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
