//! The ima-oracle binary: help, version, and npy-info on good and bad files.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ima-oracle"))
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/npy/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn help_version_and_unknown_command() {
    let h = bin().arg("--help").output().unwrap();
    assert!(h.status.success() && String::from_utf8_lossy(&h.stdout).contains("npy-info"));
    let v = bin().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&v.stdout).contains(env!("CARGO_PKG_VERSION")));
    let u = bin().arg("frobnicate").output().unwrap();
    assert_eq!(u.status.code(), Some(2));
    let sub = bin().args(["npy-info", "--help"]).output().unwrap();
    assert!(sub.status.success() && String::from_utf8_lossy(&sub.stdout).contains("USAGE"));
}

#[test]
fn npy_info_reports_shapes_and_errors() {
    let ok = bin()
        .args(["npy-info", &fixture("f8_fortran_2x3x4.npy")])
        .output()
        .unwrap();
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("shape [2, 3, 4], 24 values"));
    let bad = bin()
        .args(["npy-info", &fixture("object_refused.npy")])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("object_refused.npy") && err.contains("unsupported dtype"),
        "{err}"
    );
    let missing = bin()
        .args(["npy-info", "/no/such/file.npy"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}
