//! Runs the proofs-check binary: it must exit 0 with every row holding, print help, and refuse
//! unknown arguments with exit status 2.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_proofs-check"))
}

#[test]
fn every_identity_holds() {
    let out = bin()
        .args(["--seed", "3", "--points", "4"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One row per family, each with the verdict "holds".
    let rows = stdout.lines().filter(|l| l.ends_with("holds")).count();
    assert_eq!(rows, ima_oracle::generate::Family::ALL.len(), "{stdout}");
}

#[test]
fn help_and_bad_arguments() {
    let help = bin().arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("USAGE"));
    let bad = bin().arg("--frobnicate").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--frobnicate"));
}
