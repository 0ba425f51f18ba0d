//! NPY files written by numpy itself (tests/fixtures/npy/make_fixtures.py) load to the values the
//! script wrote, and our encoder reproduces numpy's bytes exactly for `<f8` C-order arrays — so what
//! we write, numpy reads.

use ima_oracle::io::npy::{encode_npy, read_npy, NpyErrorKind};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npy")
        .join(name)
}

/// k·0.25 − 1.5 in C order: what make_fixtures.py stores (exact in f4 and f8).
fn expected(n: usize) -> Vec<f64> {
    (0..n).map(|k| k as f64 * 0.25 - 1.5).collect()
}

#[test]
fn numpy_files_load_exactly() {
    let cases: [(&str, &[usize]); 11] = [
        ("f8_le_2x3.npy", &[2, 3]),
        ("f8_be_2x3.npy", &[2, 3]),
        ("f4_le_2x3.npy", &[2, 3]),
        ("f4_be_2x3.npy", &[2, 3]),
        ("f8_fortran_2x3x4.npy", &[2, 3, 4]),
        ("f4_be_fortran_3x2.npy", &[3, 2]),
        ("f8_scalar.npy", &[]),
        ("f8_vector_5.npy", &[5]),
        ("f8_empty_0x3.npy", &[0, 3]),
        ("f8_v2_2x3.npy", &[2, 3]),
        ("f8_v3_2x3.npy", &[2, 3]),
    ];
    for (name, shape) in cases {
        let a = read_npy(fixture(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.shape(), shape, "{name}");
        assert_eq!(
            a.data(),
            expected(shape.iter().product()).as_slice(),
            "{name}"
        );
    }
}

#[test]
fn our_bytes_are_numpys_bytes() {
    for name in [
        "f8_le_2x3.npy",
        "f8_scalar.npy",
        "f8_vector_5.npy",
        "f8_empty_0x3.npy",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let a = read_npy(fixture(name)).unwrap();
        assert_eq!(encode_npy(&a), bytes, "{name}");
    }
}

#[test]
fn refused_dtypes_name_the_file() {
    for name in ["i8_refused.npy", "object_refused.npy"] {
        let e = read_npy(fixture(name)).unwrap_err();
        assert!(
            matches!(e.kind, NpyErrorKind::UnsupportedDtype(_)),
            "{name}: {e}"
        );
        assert!(e.to_string().contains(name));
    }
}

/// Every truncation and every single-byte corruption of a real file is either parsed (when the
/// corruption only touches data bytes or header padding) or refused with an error — never a panic.
#[test]
fn truncated_and_corrupted_files_never_panic() {
    use ima_oracle::io::npy::parse_npy;
    for name in [
        "f8_le_2x3.npy",
        "f4_be_fortran_3x2.npy",
        "f8_v3_2x3.npy",
        "f8_scalar.npy",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        for cut in 0..bytes.len() {
            assert!(
                parse_npy(&bytes[..cut]).is_err(),
                "{name} cut at {cut} parsed"
            );
        }
        for pos in 0..bytes.len() {
            for v in [0u8, b'(', b')', b',', b'9', 0xff] {
                let mut b = bytes.clone();
                b[pos] = v;
                let _ = parse_npy(&b); // must return, Ok or Err
            }
        }
    }
}
