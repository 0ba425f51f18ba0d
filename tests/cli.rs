//! The ima-oracle binary end to end: happy paths of every subcommand, and bad inputs — missing
//! files, wrong shapes, NaN, an unknown step, a manifest typo, data the model does not reproduce.

mod common;

use common::{assert_near, assert_within, Tol};
use ima_oracle::io::npy::{read_npy, write_npy, NpyArray};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ima-oracle"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn mlp3() -> String {
    format!("{}/tests/fixtures/models/mlp3", env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("ima-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn help_everywhere() {
    let h = run(&["--help"]);
    assert!(h.status.success() && stdout(&h).contains("eval MODEL"));
    for cmd in [
        "sample",
        "eval",
        "flow",
        "elbo",
        "check",
        "golden",
        "npy-info",
        "vae-init",
        "vae-loss",
        "train",
        "asymptotics",
    ] {
        let o = run(&[cmd, "--help"]);
        assert!(o.status.success() && stdout(&o).contains("USAGE"), "{cmd}");
    }
    assert!(stdout(&run(&["--version"])).contains(env!("CARGO_PKG_VERSION")));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(run(&[]).status.code(), Some(2));
    let o = run(&["eval", &mlp3(), "--gamma2", "1", "--bogus", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--bogus"));
}

/// sample → eval → elbo → check on MLP3: the oracle agrees with itself, ELBO at (μ̂, σ̂²) is ELBO*,
/// and check spots a perturbed array and data the model does not reproduce.
#[test]
fn sample_eval_elbo_check() {
    let dir = scratch("happy");
    let (data, ev, el, theirs) = (
        dir.join("data"),
        dir.join("eval"),
        dir.join("elbo"),
        dir.join("theirs"),
    );
    let o = run(&[
        "sample",
        &mlp3(),
        "--n",
        "12",
        "--seed",
        "5",
        "--out",
        s(&data),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let x = read_npy(data.join("x.npy")).unwrap();
    assert_eq!(x.shape(), &[12, 3]);
    let o = run(&[
        "eval",
        &mlp3(),
        "--x",
        s(&data.join("x.npy")),
        "--gamma2",
        "1e4",
        "--out",
        s(&ev),
        "--threads",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("mean ELBO*"));
    for (f, shape) in [
        ("g", vec![12, 3]),
        ("jacobian", vec![12, 3, 3]),
        ("c_ima", vec![12]),
        ("elbo_star", vec![12]),
        ("mu_hat", vec![12, 3]),
        ("eq12_rhs", vec![12, 3]),
        ("l_ima", vec![12]),
        ("log_marginal", vec![12]),
    ] {
        assert_eq!(
            read_npy(ev.join(format!("{f}.npy"))).unwrap().shape(),
            shape.as_slice(),
            "{f}"
        );
    }
    // g(x) = z for x = f(z): eval inverts what sample generated.
    let (g, z) = (
        read_npy(ev.join("g.npy")).unwrap(),
        read_npy(data.join("z.npy")).unwrap(),
    );
    assert_within(
        "g(x) vs z",
        g.data(),
        z.data(),
        Tol::AbsRel {
            atol: 1e-13,
            rtol: 1e-13,
        },
    );
    let o = run(&[
        "elbo",
        &mlp3(),
        "--x",
        s(&data.join("x.npy")),
        "--mu",
        s(&ev.join("mu_hat.npy")),
        "--logvar",
        s(&ev.join("logvar_hat.npy")),
        "--gamma2",
        "1e4",
        "--samples",
        "200",
        "--seed",
        "1",
        "--out",
        s(&el),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (e, es) = (
        read_npy(el.join("elbo.npy")).unwrap(),
        read_npy(ev.join("elbo_star.npy")).unwrap(),
    );
    // The same ELBO at the same (μ̂, log σ̂²): only the rule may differ (tolerance 1e-13).
    assert_within(
        "ELBO at (μ̂, log σ̂²) vs ELBO*",
        e.data(),
        es.data(),
        Tol::Mixed(2e-13),
    );
    // The gradient vanishes at the optimum: in natural units (∂/∂μ × σ̂) its round-off is
    // ~eps·γ·‖x‖ ≈ 1e-13 here; 1e-6 only asserts "zero" against gradients of O(1) away from it.
    let gm = read_npy(el.join("grad_mu.npy")).unwrap();
    let s2 = read_npy(ev.join("sigma2_hat.npy")).unwrap();
    for (k, (gr, v)) in gm.data().iter().zip(s2.data()).enumerate() {
        assert_near(
            &format!("∂ELBO/∂μ × σ̂ [{k}] at the optimum"),
            gr * v.sqrt(),
            0.0,
            Tol::Scaled(1e-6, 1.0),
        );
    }
    // check: their copy of our numbers, the MC estimate, and the data agree...
    std::fs::create_dir_all(&theirs).unwrap();
    for f in ["elbo_star.npy", "c_ima.npy", "mu_hat.npy"] {
        std::fs::copy(ev.join(f), theirs.join(f)).unwrap();
    }
    for f in ["elbo_mc.npy", "elbo_mc_se.npy"] {
        std::fs::copy(el.join(f), theirs.join(f)).unwrap();
    }
    std::fs::copy(el.join("elbo.npy"), ev.join("elbo.npy")).unwrap();
    for f in ["z.npy", "x.npy"] {
        std::fs::copy(data.join(f), theirs.join(f)).unwrap();
    }
    let o = run(&["check", &mlp3(), "--ours", s(&ev), "--theirs", s(&theirs)]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("z-test") && stdout(&o).contains("everything agrees"));
    // ... until one entry moves by 1e-6 relative: the worst row is named.
    let mut m = read_npy(theirs.join("mu_hat.npy")).unwrap().data().to_vec();
    m[3 * 7 + 1] *= 1.0 + 1e-6;
    write_npy(
        theirs.join("mu_hat.npy"),
        &NpyArray::new(vec![12, 3], m).unwrap(),
    )
    .unwrap();
    let o = run(&["check", &mlp3(), "--ours", s(&ev), "--theirs", s(&theirs)]);
    assert_eq!(o.status.code(), Some(1));
    let line = stdout(&o)
        .lines()
        .find(|l| l.starts_with("mu_hat"))
        .unwrap()
        .to_string();
    assert!(line.contains("DIFFERS") && line.contains(" 7 "), "{line}");
    // Sources the model does not reproduce: the data-consistency check says so.
    std::fs::copy(ev.join("mu_hat.npy"), theirs.join("mu_hat.npy")).unwrap();
    let mut zz = read_npy(theirs.join("z.npy")).unwrap().data().to_vec();
    zz[5] += 1e-3;
    write_npy(
        theirs.join("z.npy"),
        &NpyArray::new(vec![12, 3], zz).unwrap(),
    )
    .unwrap();
    let o = run(&["check", &mlp3(), "--ours", s(&ev), "--theirs", s(&theirs)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.starts_with("f(z) vs x") && l.contains("DIFFERS")),
        "{}",
        stdout(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Bad inputs: typed errors on stderr naming the problem, a non-zero status, and no output files.
#[test]
fn bad_inputs() {
    let dir = scratch("bad");
    let out = dir.join("out");
    let no_output = |o: &Output, what: &str| {
        assert!(!o.status.success(), "{what}: succeeded");
        assert!(!stderr(o).is_empty(), "{what}: silent");
        assert!(
            std::fs::read_dir(&out)
                .map(|d| d.count() == 0)
                .unwrap_or(true),
            "{what}: left output behind"
        );
    };
    let x_ok = dir.join("x.npy");
    write_npy(
        &x_ok,
        &NpyArray::new(vec![2, 3], vec![0.1, 0.2, 0.3, -0.1, 0.0, 0.4]).unwrap(),
    )
    .unwrap();
    // Missing files.
    let o = run(&[
        "eval",
        &mlp3(),
        "--x",
        s(&dir.join("nope.npy")),
        "--gamma2",
        "10",
        "--out",
        s(&out),
    ]);
    no_output(&o, "missing x");
    assert!(stderr(&o).contains("nope.npy"));
    let o = run(&[
        "eval",
        s(&dir.join("nomodel")),
        "--x",
        s(&x_ok),
        "--gamma2",
        "10",
        "--out",
        s(&out),
    ]);
    no_output(&o, "missing model");
    assert!(stderr(&o).contains("nomodel"));
    // Wrong shape.
    let x_bad = dir.join("x2.npy");
    write_npy(&x_bad, &NpyArray::new(vec![3, 2], vec![0.0; 6]).unwrap()).unwrap();
    let o = run(&[
        "eval",
        &mlp3(),
        "--x",
        s(&x_bad),
        "--gamma2",
        "10",
        "--out",
        s(&out),
    ]);
    no_output(&o, "wrong shape");
    assert!(stderr(&o).contains("(N, 3)"), "{}", stderr(&o));
    // NaN in x.
    let x_nan = dir.join("x3.npy");
    write_npy(
        &x_nan,
        &NpyArray::new(vec![1, 3], vec![0.0, f64::NAN, 0.0]).unwrap(),
    )
    .unwrap();
    let o = run(&[
        "eval",
        &mlp3(),
        "--x",
        s(&x_nan),
        "--gamma2",
        "10",
        "--out",
        s(&out),
    ]);
    no_output(&o, "NaN");
    assert!(stderr(&o).contains("NaN"), "{}", stderr(&o));
    // γ² ≤ 0.
    let o = run(&[
        "eval",
        &mlp3(),
        "--x",
        s(&x_ok),
        "--gamma2",
        "-1",
        "--out",
        s(&out),
    ]);
    no_output(&o, "gamma2");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // β < 0 is a usage error too (status 2), refused before any point is evaluated.
    let o = run(&[
        "elbo",
        &mlp3(),
        "--x",
        s(&x_ok),
        "--mu",
        s(&x_ok),
        "--logvar",
        s(&x_ok),
        "--gamma2",
        "10",
        "--beta",
        "-1",
        "--out",
        s(&out),
    ]);
    no_output(&o, "beta");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--beta"), "{}", stderr(&o));
    // An unknown step and a typo in the manifest name the line.
    let m = dir.join("model");
    std::fs::create_dir_all(&m).unwrap();
    for (text, needle) in [
        (
            "ima-oracle model 1\ndim 3\nprior gaussian 1\nstep convolution 3\n",
            ":4: unknown step 'convolution'",
        ),
        (
            "ima-oracle model 1\ndim 3\nprior gaussain 1\n",
            ":3: unknown prior 'gaussain'",
        ),
        (
            "ima-oracle model 1\ndimm 3\n",
            ":2: unknown directive 'dimm'",
        ),
    ] {
        std::fs::write(m.join("model.txt"), text).unwrap();
        let o = run(&[
            "eval",
            s(&m),
            "--x",
            s(&x_ok),
            "--gamma2",
            "10",
            "--out",
            s(&out),
        ]);
        no_output(&o, needle);
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    }
    // A refused point (Möbius pole within reach) fails the command unless --allow-refusals. One
    // Möbius step (followed by affine steps) is integrated exactly at every γ² (the 1-D integral
    // route, the polar marginal); two Möbius steps are not, and the pole guard still refuses.
    let mb = dir.join("moebius");
    let mut r3 = ima_oracle::generate::rng(3);
    let two_moebius = ima_oracle::Decoder::new(
        3,
        vec![
            ima_oracle::generate::moebius_step(3, 2.0, &mut r3)
                .unwrap()
                .into(),
            ima_oracle::generate::moebius_step(3, 2.0, &mut r3)
                .unwrap()
                .into(),
        ],
    )
    .unwrap();
    let model = ima_oracle::Model::new(ima_oracle::Prior::standard_normal(), two_moebius).unwrap();
    ima_oracle::io::model_file::save_model(&model, &mb).unwrap();
    let xm = dir.join("xm.npy");
    let fx = model
        .decoder()
        .forward(&nalgebra::DVector::from_vec(vec![0.1, 0.0, -0.1]))
        .unwrap();
    write_npy(
        &xm,
        &NpyArray::new(vec![1, 3], fx.as_slice().to_vec()).unwrap(),
    )
    .unwrap();
    let o = run(&[
        "eval",
        s(&mb),
        "--x",
        s(&xm),
        "--gamma2",
        "1",
        "--out",
        s(&out),
    ]);
    no_output(&o, "pole");
    assert!(
        stderr(&o).contains("point 0: elbo_star") && stderr(&o).contains("pole"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "eval",
        s(&mb),
        "--x",
        s(&xm),
        "--gamma2",
        "1",
        "--out",
        s(&out),
        "--allow-refusals",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The refusal names its quantity; the flow quantities of the point are still written.
    assert_eq!(
        read_npy(out.join("status_elbo_star.npy")).unwrap().data(),
        &[2.0]
    );
    assert!(read_npy(out.join("elbo_star.npy")).unwrap().data()[0].is_nan());
    assert!(read_npy(out.join("c_ima.npy")).unwrap().data()[0].abs() < 1e-14);
    // check with nothing to compare fails.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = run(&["check", &mlp3(), "--ours", s(&out), "--theirs", s(&empty)]);
    assert_eq!(o.status.code(), Some(1));
    // npy-info on a refused dtype.
    let bad = format!(
        "{}/tests/fixtures/npy/object_refused.npy",
        env!("CARGO_MANIFEST_DIR")
    );
    let o = run(&["npy-info", &bad]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("object_refused.npy") && stderr(&o).contains("unsupported dtype"));
    std::fs::remove_dir_all(&dir).unwrap();
}
