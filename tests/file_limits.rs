//! Regression tests for files that claim too much or say it unclearly (issue 15): every size a file
//! states is checked against the limits before anything is allocated or read after it, and the
//! errors name the limit, how to raise it, and the shapes as numpy writes them.

mod fuzz;

use fuzz::npy::file;
use ima_oracle::io::model_file::{load_model, load_model_with, save_model};
use ima_oracle::io::npy::{parse_npy, parse_npy_with, read_npy, write_npy, NpyArray, NpyErrorKind};
use ima_oracle::io::Limits;
use ima_oracle::{generate, Model, Prior};
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("ima-limits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// The 78-byte file of the issue: a v1.0 header claiming 2^61 − 1 f8 entries and no data. It used
/// to overflow `data_start + needed` (a panic with overflow checks, a wrong "needs 70 bytes, has
/// 78" without). Now: the limit refuses it, naming itself; with no limit at all, the byte count
/// 78 + 8(2^61 − 1) > 2^64 is still refused, never wrapped.
#[test]
fn the_78_byte_reproducer() {
    let header = "{'descr':'<f8','fortran_order':False,'shape':(2305843009213693951,)}";
    let bytes = file(1, header, &[]);
    assert_eq!(bytes.len(), 78);
    let e = parse_npy(&bytes).unwrap_err();
    assert_eq!(
        e,
        NpyErrorKind::TooLarge {
            shape: vec![2305843009213693951],
            limit: 1 << 27
        }
    );
    let m = e.to_string();
    assert!(
        m.contains("(2305843009213693951,) holds 2305843009213693951 entries")
            && m.contains("limit of 134217728")
            && m.contains("--max-elements"),
        "{m}"
    );
    let unlimited = Limits {
        max_elements: u64::MAX,
        max_dim: usize::MAX,
    };
    assert!(matches!(
        parse_npy_with(&bytes, &unlimited),
        Err(NpyErrorKind::TooLarge { .. })
    ));
    // One entry fewer than 2^61 − 9 fits in u64 bytes: then it is a plain truncation, with the
    // true byte count (computed here independently, in u128).
    let header = "{'descr':'<f8','fortran_order':False,'shape':(2305843009213693940,)}";
    let bytes = file(1, header, &[]);
    let needed = 78u128 + 8 * 2305843009213693940u128;
    assert_eq!(
        parse_npy_with(&bytes, &unlimited),
        Err(NpyErrorKind::Truncated {
            needed: needed as u64,
            found: 78
        })
    );
}

/// A claim within the limit but beyond the file is refused from the file's length, before the data
/// is read; an axis beyond the limit is refused even when another axis is 0 (an empty array, which
/// would cost nothing to read but is no array any backend wrote).
#[test]
fn claims_beyond_the_file_or_the_limit() {
    let big = file(
        1,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }",
        &[0; 16],
    );
    let start = big.len() as u64 - 16;
    assert_eq!(
        parse_npy(&big),
        Err(NpyErrorKind::Truncated {
            needed: start + 400_000_000,
            found: start + 16
        })
    );
    let empty_but_huge = file(
        1,
        "{'descr': '<f8', 'fortran_order': True, 'shape': (0, 4294967296, 4294967296), }",
        &[],
    );
    assert!(matches!(
        parse_npy(&empty_but_huge),
        Err(NpyErrorKind::TooLarge { .. })
    ));
    let small = Limits {
        max_elements: 5,
        max_dim: 3,
    };
    let six = file(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
        &[0; 48],
    );
    assert!(parse_npy(&six).is_ok());
    assert_eq!(
        parse_npy_with(&six, &small),
        Err(NpyErrorKind::TooLarge {
            shape: vec![2, 3],
            limit: 5
        })
    );
    // Headers longer than numpy's own limit, and more axes than numpy allows.
    let mut long = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }".to_string();
    long.push_str(&" ".repeat(10_000));
    assert!(matches!(
        parse_npy(&file(2, &long, &[0; 8])),
        Err(NpyErrorKind::HeaderTooLong {
            len: 10_055,
            limit: 10_000
        })
    ));
    let axes = vec!["1"; 65].join(", ");
    let many = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({axes}), }}");
    let e = parse_npy(&file(1, &many, &[0; 8])).unwrap_err();
    assert!(e.to_string().contains("65 axes"), "{e}");
}

/// `/dev/zero` as an array or a model is refused after a few bytes (it used to be read until
/// memory ran out).
#[cfg(unix)]
#[test]
fn dev_zero_is_not_read_to_the_end() {
    let e = read_npy("/dev/zero").unwrap_err();
    assert_eq!(e.kind, NpyErrorKind::BadMagic);
    let e = load_model("/dev/zero").unwrap_err();
    assert!(e.to_string().contains("more than 1048576 bytes"), "{e}");
}

/// A pickled array (what `jnp.save` writes for a dict) is refused with the reason and what to save
/// instead.
#[test]
fn pickles_are_refused_with_an_explanation() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy/object_refused.npy");
    let m = read_npy(&fixture).unwrap_err().to_string();
    for part in [
        "|O",
        "pickled Python object",
        "arbitrary code",
        "np.save('x.npy'",
    ] {
        assert!(m.contains(part), "{part}: {m}");
    }
    let ints = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy/i8_refused.npy");
    let m = read_npy(&ints).unwrap_err().to_string();
    assert!(
        m.contains("integers") && m.contains("dtype=np.float64"),
        "{m}"
    );
}

/// A Möbius model whose pole array has shape (1, 3) (the format says 1-d) is refused, naming the
/// file, the line and both shapes; a model's arrays together are bounded, as is its dimension.
#[test]
fn model_folders_within_limits_and_shapes() {
    let dir = scratch("moebius");
    let model = Model::new(
        Prior::standard_normal(),
        generate::moebius_decoder(3, &mut generate::rng(3)).unwrap(),
    )
    .unwrap();
    save_model(&model, &dir).unwrap();
    assert!(load_model(&dir).is_ok());
    let pole = read_npy(dir.join("a0.npy")).unwrap();
    write_npy(
        dir.join("a0.npy"),
        &NpyArray::new(vec![1, 3], pole.data().to_vec()).unwrap(),
    )
    .unwrap();
    let e = load_model(&dir).unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert!(
        e.message
            .ends_with("the pole a (a0.npy) must be 1-d of length 3, found shape (1, 3)"),
        "{e}"
    );
    write_npy(dir.join("a0.npy"), &pole).unwrap();
    // A: 9 entries, a and b: 3 each — 15 together.
    let tight = Limits {
        max_elements: 14,
        max_dim: 3,
    };
    let e = load_model_with(&dir, &tight).unwrap_err();
    assert!(
        e.message
            .contains("hold 15 entries up to this line, more than the limit of 14"),
        "{e}"
    );
    let e = load_model_with(
        &dir,
        &Limits {
            max_elements: 15,
            max_dim: 2,
        },
    )
    .unwrap_err();
    assert!(
        e.message
            .starts_with("'dim' 3 is larger than the limit of 2"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
