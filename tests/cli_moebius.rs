//! The CLI on a d = 3 Möbius model at γ² = 1, where the pole is within reach of q and of the
//! posterior (refused before issue 10.1–10.2): `elbo` answers by the Möbius integral route (its
//! value and gradient equal the library's `moebius_elbo`), `eval` computes ELBO* and log p(x).

mod cli_support;

use cli_support::{npy, run, s, scratch, stderr};
use ima_oracle::io::model_file::load_model;
use ima_oracle::io::npy::read_npy;
use ima_oracle::objective::{moebius_elbo, DerivativeOrder};
use ima_oracle::{Beta, Query};
use std::path::Path;

/// α = 1, A a rotation by 0.4 rad about the third axis, pole a = (2, 0, 0), shift b = 0.
fn moebius_3d(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("model.txt"),
        "ima-oracle model 1\ndim 3\nprior gaussian 1\nstep moebius 1 A.npy a.npy b.npy\n",
    )
    .unwrap();
    let (c, s) = (0.4f64.cos(), 0.4f64.sin());
    npy(
        &dir.join("A.npy"),
        &[3, 3],
        &[c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0],
    );
    npy(&dir.join("a.npy"), &[3], &[2.0, 0.0, 0.0]);
    npy(&dir.join("b.npy"), &[3], &[0.0, 0.0, 0.0]);
}

#[test]
fn moebius_at_small_gamma2() {
    let dir = scratch("cli_moebius", "small_gamma2");
    let m = dir.join("model");
    moebius_3d(&m);
    let x = [0.3, -0.2, 0.1];
    let (mu, lv) = ([1.0, 0.0, 0.0], [0.0, 0.0, 0.0]);
    npy(&dir.join("x.npy"), &[1, 3], &x);
    npy(&dir.join("mu.npy"), &[1, 3], &mu);
    npy(&dir.join("lv.npy"), &[1, 3], &lv);
    let el = dir.join("elbo");
    let o = run(&[
        "elbo",
        s(&m),
        "--x",
        s(&dir.join("x.npy")),
        "--mu",
        s(&dir.join("mu.npy")),
        "--logvar",
        s(&dir.join("lv.npy")),
        "--gamma2",
        "1",
        "--out",
        s(&el),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let model = load_model(&m).unwrap();
    let q = Query::new(&model, &x, 1.0).unwrap();
    let enc = q.encoder(&mu, &lv).unwrap();
    let want = moebius_elbo(&q, &enc, Beta::ONE, DerivativeOrder::Gradient).unwrap();
    // The same computation through the same code: bit for bit.
    assert_eq!(read_npy(el.join("elbo.npy")).unwrap().data(), &[want.value]);
    let g = want.gradient.unwrap();
    assert_eq!(
        read_npy(el.join("grad_mu.npy")).unwrap().data(),
        &g.as_slice()[..3]
    );
    assert_eq!(
        read_npy(el.join("grad_logvar.npy")).unwrap().data(),
        &g.as_slice()[3..]
    );
    let ev = dir.join("eval");
    let o = run(&[
        "eval",
        s(&m),
        "--x",
        s(&dir.join("x.npy")),
        "--gamma2",
        "1",
        "--out",
        s(&ev),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["status_elbo_star.npy", "status_log_marginal.npy"] {
        assert_eq!(read_npy(ev.join(f)).unwrap().data(), &[0.0], "{f}");
    }
    let (es, lm) = (
        read_npy(ev.join("elbo_star.npy")).unwrap().data()[0],
        read_npy(ev.join("log_marginal.npy")).unwrap().data()[0],
    );
    // ELBO* ≤ log p(x) (eq. 2), both finite.
    assert!(es.is_finite() && lm.is_finite() && es <= lm, "{es} {lm}");
    std::fs::remove_dir_all(&dir).unwrap();
}
