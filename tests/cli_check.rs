//! `check` keeps refusals apart from differences (exit status 3, or 0 with `--allow-refusals`), and
//! tests that the sources z follow the declared law — catching, for instance, a Gaussian prior of
//! variance 2 sampled with "2" as the standard deviation (issue 15).

mod cli_support;

use cli_support::{mlp3, npy, run, s, scratch, stderr, stdout};

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
