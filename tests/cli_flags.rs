//! Every out-of-domain flag is a usage error (exit status 2) found before any file is read or any
//! computation starts, and leaves no output behind (issue 15: `--threads 0`, `--tol 10`, `--out ''`,
//! `--gamma2 --out OUT`, `golden --out FILE`, `sample --n 1e12`, `elbo --samples 1e11`, …).

mod cli_support;

use cli_support::{mlp3, names, npy, run, s, scratch, stderr};

#[test]
fn out_of_domain_flags_are_usage_errors() {
    let dir = scratch("flags", "usage");
    let x = dir.join("x.npy");
    npy(&x, &[2, 3], &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    let file = dir.join("FILE");
    std::fs::write(&file, "not a folder").unwrap();
    let out = dir.join("out");
    let (m, xs, o, f) = (
        mlp3(),
        s(&x).to_string(),
        s(&out).to_string(),
        s(&file).to_string(),
    );
    let eval = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = ["eval", &m, "--x", &xs, "--gamma2", "1e4", "--out", &o]
            .iter()
            .map(|t| t.to_string())
            .collect();
        v.extend(extra.iter().map(|t| t.to_string()));
        v
    };
    let elbo = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "elbo", &m, "--x", &xs, "--mu", &xs, "--logvar", &xs, "--gamma2", "1", "--out", &o,
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        v.extend(extra.iter().map(|t| t.to_string()));
        v
    };
    let words = |w: &[&str]| -> Vec<String> { w.iter().map(|t| t.to_string()).collect() };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (eval(&["--threads", "0"]), "--threads must be at least 1, got 0"),
        (eval(&["--threads", "5000"]), "--threads 5000 is larger than the limit of 1024"),
        (eval(&["--tol", "10"]), "--tol must be in (0, 1e-3]"),
        (eval(&["--tol", "0"]), "--tol must be in (0, 1e-3]"),
        (eval(&["--max-elements", "0"]), "--max-elements must be at least 1"),
        (
            words(&["eval", &m, "--x", &xs, "--gamma2", "--out", &o]),
            "--gamma2 needs a value, but the next argument is the option --out",
        ),
        (
            words(&["eval", &m, "--x", &xs, "--gamma2", "1", "--out", ""]),
            "--out: the value is empty",
        ),
        (words(&["golden", "--out", &f]), "exists and is not a folder"),
        (words(&["golden", "--out", &o, "extra"]), "unexpected argument 'extra'"),
        (words(&["sample", &m, "--n", "0", "--out", &o]), "--n must be at least 1"),
        (words(&["sample", &m, "--n", "abc", "--out", &o]), "not a non-negative integer"),
        (
            words(&["sample", &m, "--n", "1e12", "--out", &o]),
            "--n 1000000000000: z.npy would hold 1000000000000 x 3 entries, more than the limit of 134217728",
        ),
        (
            words(&["sample", &m, "--n", "5", "--source", "gausian", "--out", &o]),
            "unknown source 'gausian'",
        ),
        (elbo(&["--samples", "1"]), "--samples must be at least 2"),
        (
            elbo(&["--samples", "1e11"]),
            "--samples 100000000000 is larger than the limit of 1000000 (raise it with --max-samples N",
        ),
        (
            elbo(&["--samples", "1000", "--max-draws", "1000"]),
            "--samples 1000 for 2 points is 2000 draws, more than the limit of 1000",
        ),
        (elbo(&["--beta", "-1"]), "--beta must be finite and >= 0"),
        (
            words(&["check", &m, "--ours", &xs, "--theirs", &xs]),
            "--ours",
        ),
        (
            words(&["check", &m, "--ours", s(&dir), "--theirs", s(&dir), "--rtol", "-1"]),
            "--rtol must be in [0, 1)",
        ),
        (
            words(&["check", &m, "--ours", s(&dir), "--theirs", s(&dir), "--alpha", "2"]),
            "--alpha must be in (0, 1)",
        ),
    ];
    for (args, needle) in cases {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&refs);
        assert_eq!(o.status.code(), Some(2), "{refs:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{refs:?}: {}", stderr(&o));
        assert!(!out.exists(), "{refs:?} left output behind");
        assert_eq!(
            names(&dir),
            ["FILE", "x.npy"],
            "{refs:?} left something in the folder"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Flags are checked before files: with both a missing model and a bad flag, the flag is reported.
#[test]
fn flags_before_files() {
    let o = run(&[
        "eval",
        "/nonexistent/model",
        "--x",
        "x.npy",
        "--gamma2",
        "1",
        "--threads",
        "0",
        "--out",
        "o",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--threads"), "{}", stderr(&o));
}
