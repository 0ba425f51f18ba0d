//! The golden vectors (tests/golden, see its README) are regenerated and must not have moved beyond
//! the accuracy their README states.

mod common;

use common::{assert_near, Tol};
use ima_oracle::io::npy::read_npy;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (file, tolerance): the accuracy the golden README states, relative to max(1, |value|)
/// (`Tol::Mixed`) — or relative to the value itself for sigma2_hat and eq12_rhs (`Tol::Rel`),
/// which are tiny at large γ².
const TOLERANCES: [(&str, f64); 15] = [
    ("z.npy", 1e-12),
    ("x.npy", 1e-12),
    ("gamma2.npy", 0.0),
    ("g.npy", 1e-12),
    ("log_abs_det.npy", 1e-12),
    ("c_ima.npy", 1e-12),
    ("log_flow.npy", 1e-12),
    ("elbo_star.npy", 1e-10),
    ("log_marginal.npy", 1e-10),
    ("mu_hat.npy", 1e-10),
    ("sigma2_hat.npy", 1e-10),
    ("eq12_rhs.npy", 1e-10),
    ("status_elbo_star.npy", 0.0),
    ("status_log_marginal.npy", 0.0),
    ("model/model.txt", 0.0),
];

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn compare(name: &str, a: &Path, b: &Path, tol: f64) {
    if name.ends_with(".txt") {
        assert_eq!(
            std::fs::read_to_string(a).unwrap(),
            std::fs::read_to_string(b).unwrap(),
            "{}",
            a.display()
        );
        return;
    }
    let (x, y) = (read_npy(a).unwrap(), read_npy(b).unwrap());
    assert_eq!(x.shape(), y.shape(), "{}", a.display());
    for (k, (u, v)) in x.data().iter().zip(y.data()).enumerate() {
        if u.is_nan() || v.is_nan() {
            assert!(
                u.is_nan() && v.is_nan(),
                "{}[{k}]: {u} vs {v} (refusal changed)",
                a.display()
            );
            continue;
        }
        // σ̂² and eq12_rhs are relative to themselves (they are tiny at large γ²); the rest to max(1, |v|).
        let kind = if name.starts_with("sigma2") || name.starts_with("eq12") {
            Tol::Rel(tol)
        } else {
            Tol::Mixed(tol)
        };
        assert_near(
            &format!("{}[{k}] (regenerated vs committed)", a.display()),
            *u,
            *v,
            kind,
        );
    }
}

/// Every file of the committed `vae-step/` against its regenerated namesake: the README's 1e-12
/// (plain f64 sums: only a platform's last-ulp differences could move them) and 1e-10 for
/// `step_exact/` (quadrature at tolerance 1e-12).
fn compare_vae_step(fresh: &Path, committed: &Path) {
    let mut files = 0;
    for entry in std::fs::read_dir(committed).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        if p.is_dir() {
            compare_vae_step(&fresh.join(&name), &p);
            continue;
        }
        let tol = if committed.ends_with("step_exact") {
            1e-10
        } else {
            1e-12
        };
        compare(&name, &fresh.join(&name), &p, tol);
        files += 1;
    }
    assert!(files > 0, "{} is empty", committed.display());
}

#[test]
fn golden_vectors_have_not_moved() {
    let fresh = std::env::temp_dir().join(format!("ima-golden-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&fresh);
    let out = Command::new(env!("CARGO_BIN_EXE_ima-oracle"))
        .args(["golden", "--out"])
        .arg(&fresh)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut models = 0;
    for entry in std::fs::read_dir(committed()).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_owned();
        if name == "vae-step" {
            compare_vae_step(&fresh.join(&name), &dir);
            continue;
        }
        models += 1;
        for (file, tol) in TOLERANCES {
            compare(file, &fresh.join(&name).join(file), &dir.join(file), tol);
        }
    }
    assert_eq!(models, 10);
    std::fs::remove_dir_all(&fresh).unwrap();
}
