//! `check` keeps refusals apart from differences (exit status 3, or 0 with `--allow-refusals`), and
//! tests that the sources z follow the declared law — catching, for instance, a Gaussian prior of
//! variance 2 sampled with "2" as the standard deviation (issue 15).

mod cli_support;

use cli_support::{affine_model, mlp3, npy, run, s, scratch, stderr, stdout};
use ima_oracle::generate::rng;
use ima_oracle::Prior;
use rand::RngExt;
use rand_distr::StandardNormal;

/// Entries the oracle refused (NaN in ours) are unverified, not different: exit 3, the count on the
/// line and in the verdict; `--allow-refusals` makes it 0; a real difference elsewhere is still 1.
/// The same for a Monte Carlo estimate whose exact value the oracle refused.
#[test]
fn refusals_are_not_differences() {
    let dir = scratch("check", "refusals");
    let (ours, theirs) = (dir.join("ours"), dir.join("theirs"));
    std::fs::create_dir_all(&ours).unwrap();
    std::fs::create_dir_all(&theirs).unwrap();
    npy(
        &ours.join("c_ima.npy"),
        &[4],
        &[1.0, f64::NAN, f64::NAN, 2.0],
    );
    npy(&theirs.join("c_ima.npy"), &[4], &[1.0, 5.0, f64::NAN, 2.0]);
    npy(&ours.join("elbo.npy"), &[2], &[-3.0, f64::NAN]);
    npy(&theirs.join("elbo_mc.npy"), &[2], &[-3.01, 7.0]);
    npy(&theirs.join("elbo_mc_se.npy"), &[2], &[0.01, 0.01]);
    let args = ["check", &mlp3(), "--ours", s(&ours), "--theirs", s(&theirs)];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let line = |q: &str| out.lines().find(|l| l.starts_with(q)).unwrap().to_string();
    assert!(
        line("c_ima").contains("unverified")
            && line("c_ima").contains(
                "1 entries the oracle refused (NaN in ours) not verified; the other 2 compared"
            ),
        "{out}"
    );
    assert!(
        line("elbo_mc").contains("unverified")
            && line("elbo_mc").contains("1 entries the oracle refused"),
        "{out}"
    );
    assert!(
        out.contains("2 entries it refused") && !out.contains("DIFFER"),
        "{out}"
    );
    let mut allowed = args.to_vec();
    allowed.push("--allow-refusals");
    let o = run(&allowed);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    npy(&theirs.join("c_ima.npy"), &[4], &[1.0, 5.0, f64::NAN, 2.5]);
    let o = run(&allowed);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("DIFFERS"), "{}", stdout(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `n` × 3 sources: N(0, 1) scaled per coordinate by `scales`, from a seeded generator.
fn gaussian_sources(n: usize, scales: [f64; 3], seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..n * 3)
        .map(|i| scales[i % 3] * r.sample::<f64, _>(StandardNormal))
        .collect()
}

/// With a prior N(0, 2): sources of standard deviation √2 pass; sources drawn with 2 as the
/// standard deviation (variance 4, the anchor code's `normal(mean, var)` mistake) in coordinate 1
/// fail, and the report names coordinate 1 and its variance; uniform sources fail the test against
/// the prior, and pass with `--source uniform`.
#[test]
fn sources_must_follow_the_declared_law() {
    let dir = scratch("check", "gof");
    let (model, ours, theirs) = (dir.join("model"), dir.join("ours"), dir.join("theirs"));
    affine_model(&model, 3, Prior::gaussian(2.0).unwrap());
    std::fs::create_dir_all(&ours).unwrap();
    std::fs::create_dir_all(&theirs).unwrap();
    let n = 500;
    let z = theirs.join("z.npy");
    let check = |extra: &[&str]| {
        let mut args = vec![
            "check",
            s(&model),
            "--ours",
            s(&ours),
            "--theirs",
            s(&theirs),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let sd = 2f64.sqrt();
    npy(&z, &[n, 3], &gaussian_sources(n, [sd, sd, sd], 1));
    let o = check(&[]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("z ~ gaussian(variance 2)"),
        "{}",
        stdout(&o)
    );
    npy(&z, &[n, 3], &gaussian_sources(n, [sd, 2.0, sd], 1));
    let o = check(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("goodness of fit FAILS") && out.contains("z[:, 1]: Anderson-Darling"),
        "{out}"
    );
    assert!(
        !out.contains("z[:, 0]") && !out.contains("z[:, 2]"),
        "{out}"
    );
    assert!(
        out.contains("vs 2 (p < 1e-5)"),
        "the variance is named: {out}"
    );
    let mut r = rng(2);
    let uniform: Vec<f64> = (0..n * 3).map(|_| r.random::<f64>() - 0.5).collect();
    npy(&z, &[n, 3], &uniform);
    assert_eq!(check(&[]).status.code(), Some(1));
    let o = check(&["--source", "uniform"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Too few points for the test: reported, not failed.
    npy(&z, &[5, 3], &uniform[..15]);
    let o = check(&["--source", "uniform"]);
    assert!(
        stdout(&o).contains("N = 5 < 8: too few points"),
        "{}",
        stdout(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
