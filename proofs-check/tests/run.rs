//! Runs the proofs-check binary: `--quick` must exit 0 with every verdict holding and write its
//! report; `--help` prints usage; bad arguments exit 2.

use ima_oracle::generate::{rng, Family};
use proofs_check::claims::{CLAIMS, MINUS_INFINITY};
use proofs_check::sweep::cases;
use std::process::Command;

/// Verdict rows per claim: one per case of `sweep::cases` (family, prior and dimension).
fn rows_per_claim() -> usize {
    cases(0, &mut rng(1)).len()
}

/// Identity rows: the families in d = 3 and the Möbius families in d = 2.
fn identity_rows() -> usize {
    Family::WITH_AUTHORS.len() + Family::MOEBIUS.len()
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_proofs-check"))
}

#[test]
fn quick_run_holds_and_writes_its_report() {
    let out_dir = std::env::temp_dir().join(format!("proofs-check-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = bin()
        .args(["--quick", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every claim × model × prior row and every identity row (one per family) holds, or is n/a
    // because ELBO* = −∞ exactly.
    let verdicts: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            (l.contains("holds") || l.contains("FAILS") || l.contains("n/a: "))
                && !l.starts_with("every claim")
        })
        .collect();
    let claim_rows = CLAIMS.len() * rows_per_claim();
    assert_eq!(verdicts.len(), claim_rows + identity_rows(), "{stdout}");
    assert!(
        verdicts
            .iter()
            .all(|l| l.contains("holds") || l.contains("n/a: ")),
        "{stdout}"
    );
    // n/a exactly for the claims that read ELBO* on the d = 2 cases whose pole is reachable (the
    // two §4.3 Möbius families under both priors), and nothing refused.
    let na: Vec<&&str> = verdicts.iter().filter(|l| l.contains("n/a: ")).collect();
    let elbo_claims = CLAIMS.iter().filter(|c| c.uses_elbo).count();
    assert_eq!(na.len(), elbo_claims * 4, "{stdout}");
    assert!(
        na.iter()
            .all(|l| l.contains(" d=2") && l.contains(MINUS_INFINITY) && !l.contains("sigmoid")),
        "{stdout}"
    );
    assert!(stdout.contains("every claim holds"));
    for f in [
        "report.md",
        "claims.csv",
        "fig2-left-variance.svg",
        "fig2-center-eq12.svg",
        "fig2-right-reconstruction.svg",
        "fig4-gap.svg",
        "claim-eq13.svg",
    ] {
        let p = out_dir.join(f);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!text.is_empty());
    }
    let csv = std::fs::read_to_string(out_dir.join("claims.csv")).unwrap();
    // A header, then one line per claim row.
    assert_eq!(csv.lines().count(), 1 + claim_rows);
    std::fs::remove_dir_all(&out_dir).unwrap();
}

#[test]
fn single_claim_and_list() {
    let out_dir = std::env::temp_dir().join(format!("proofs-check-claim-{}", std::process::id()));
    let out = bin()
        .args(["--quick", "--claim", "eq12", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().filter(|l| l.starts_with("eq12 ")).count() == rows_per_claim(),
        "{stdout}"
    );
    assert!(!stdout.lines().any(|l| l.starts_with("eq13 ")));
    let list = bin().arg("--list").output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("prop1-mean"));
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn help_and_bad_arguments() {
    let help = bin().arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("USAGE"));
    for bad in [
        vec!["--frobnicate"],
        vec!["--claim", "nope"],
        vec!["--seed"],
        vec!["--points", "x"],
    ] {
        let out = bin().args(&bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(!out.stderr.is_empty());
    }
}
