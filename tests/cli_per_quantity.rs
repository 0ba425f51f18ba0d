//! Per-quantity answers (issue 10): `eval` writes every quantity that is defined, with a status per
//! quantity; a Möbius decoder in d = 2 has finite flow quantities and log p(x) but ELBO* = −∞
//! exactly; `flow` writes the flow quantities alone, without γ² and without quadrature.

mod cli_support;

use cli_support::{npy, run, s, scratch, stderr, stdout};
use ima_oracle::io::npy::read_npy;
use nalgebra::DMatrix;
use std::path::Path;

/// A d = 2 Möbius model: α = 1.5, A a rotation by 0.3 rad, pole a = (3, −1), shift b = (0.2, 0).
fn moebius_2d(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("model.txt"),
        "ima-oracle model 1\ndim 2\nprior gaussian 1\nstep moebius 1.5 A.npy a.npy b.npy\n",
    )
    .unwrap();
    let (c, s) = (0.3f64.cos(), 0.3f64.sin());
    npy(&dir.join("A.npy"), &[2, 2], &[c, -s, s, c]);
    npy(&dir.join("a.npy"), &[2], &[3.0, -1.0]);
    npy(&dir.join("b.npy"), &[2], &[0.2, 0.0]);
}

/// The Möbius map of [`moebius_2d`] and its closed-form log|det J| = d log|α| − 2d log‖z − a‖
/// (J = α A (I − 2 û ûᵀ)/‖u‖², a scaled orthogonal matrix times a reflection).
fn moebius_2d_closed_form(z: &[f64]) -> (Vec<f64>, f64) {
    let (c, s) = (0.3f64.cos(), 0.3f64.sin());
    let u = [z[0] - 3.0, z[1] + 1.0];
    let r2 = u[0] * u[0] + u[1] * u[1];
    let v = [1.5 * u[0] / r2, 1.5 * u[1] / r2];
    let x = vec![0.2 + c * v[0] - s * v[1], s * v[0] + c * v[1]];
    (x, 2.0 * 1.5f64.ln() - 2.0 * r2.ln())
}

fn data(p: &Path) -> Vec<f64> {
    read_npy(p).unwrap().data().to_vec()
}

#[test]
fn moebius_in_two_dimensions_answers_every_finite_quantity() {
    let dir = scratch("per-quantity", "moebius2d");
    let model = dir.join("model");
    moebius_2d(&model);
    let zs = [[0.1, -0.2], [-0.4, 0.3], [0.25, 0.05]];
    let mut xs = Vec::new();
    for z in &zs {
        xs.extend(moebius_2d_closed_form(z).0);
    }
    let x = dir.join("x.npy");
    npy(&x, &[3, 2], &xs);
    let out = dir.join("out");
    // No --allow-refusals: −∞ is an exact answer, not a refusal.
    let o = run(&[
        "eval",
        s(&model),
        "--x",
        s(&x),
        "--gamma2",
        "1e4",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("3 with ELBO* = -inf exactly"),
        "{}",
        stdout(&o)
    );
    let g = data(&out.join("g.npy"));
    let log_det = data(&out.join("log_abs_det.npy"));
    let c_ima = data(&out.join("c_ima.npy"));
    let log_flow = data(&out.join("log_flow.npy"));
    let l_ima = data(&out.join("l_ima.npy"));
    let log_p = data(&out.join("log_marginal.npy"));
    let log_p_err = data(&out.join("log_marginal_err.npy"));
    for (i, z) in zs.iter().enumerate() {
        // g(f(z)) = z: the inverse's round trip, a few eps·(1 + ‖z‖) (the map's condition number
        // at ‖z − a‖ ≈ 3 is ‖u‖²/α ≈ 6, so 1e-14 is ample).
        for k in 0..2 {
            assert!((g[2 * i + k] - z[k]).abs() < 1e-14, "g[{i}]");
        }
        let (_, ld) = moebius_2d_closed_form(z);
        // log|det J| against the closed form: a few eps on values of size ~4.
        assert!((log_det[i] - ld).abs() < 1e-14, "log_abs_det[{i}]");
        // A Möbius map is conformal: its Jacobian's columns are orthogonal, c_IMA = 0 up to the
        // round-off of the column norms and log|det| (a few eps times their size, ~4).
        assert!(c_ima[i].abs() < 1e-14, "c_ima[{i}] = {}", c_ima[i]);
        // log p_flow = log N(z; 0, I) − log|det J| by the closed form.
        let log_n = -(z[0] * z[0] + z[1] * z[1]) / 2.0 - (2.0 * std::f64::consts::PI).ln();
        assert!((log_flow[i] - (log_n - ld)).abs() < 1e-14, "log_flow[{i}]");
        assert_eq!(l_ima[i], log_flow[i] - c_ima[i]);
        // log p(x) at γ² = 1e4 is finite and O(1/γ²) from the flow likelihood (Thm. 1 territory:
        // the blur moves it by ~Δp/(2pγ²), well below 1e-2 for these moderate curvatures).
        assert!(log_p[i].is_finite() && log_p_err[i] < 1e-10);
        assert!(
            (log_p[i] - log_flow[i]).abs() < 1e-2,
            "log p vs flow at {i}"
        );
    }
    // ELBO* = −∞ exactly (status 1, error estimate 0); μ̂ and σ̂² are undefined (NaN).
    assert!(data(&out.join("elbo_star.npy"))
        .iter()
        .all(|&v| v == f64::NEG_INFINITY));
    assert!(data(&out.join("elbo_star_err.npy"))
        .iter()
        .all(|&v| v == 0.0));
    assert!(data(&out.join("mu_hat.npy")).iter().all(|v| v.is_nan()));
    assert!(data(&out.join("sigma2_hat.npy")).iter().all(|v| v.is_nan()));
    assert_eq!(data(&out.join("status_elbo_star.npy")), [1.0; 3]);
    assert_eq!(data(&out.join("status_log_marginal.npy")), [0.0; 3]);
    assert_eq!(data(&out.join("status_flow.npy")), [0.0; 3]);
    // eq12_rhs is finite (it needs only J and the prior).
    assert!(data(&out.join("eq12_rhs.npy"))
        .iter()
        .all(|v| v.is_finite() && *v > 0.0));
}

#[test]
fn flow_writes_the_flow_quantities_without_gamma() {
    let dir = scratch("per-quantity", "flow");
    let mlp3 = cli_support::mlp3();
    let smp = dir.join("smp");
    let o = run(&["sample", &mlp3, "--n", "7", "--seed", "3", "--out", s(&smp)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.join("flow");
    let o = run(&[
        "flow",
        &mlp3,
        "--x",
        s(&smp.join("x.npy")),
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let z = data(&smp.join("z.npy"));
    let g = data(&out.join("g.npy"));
    let jac = data(&out.join("jacobian.npy"));
    let norms = data(&out.join("column_norms.npy"));
    let log_det = data(&out.join("log_abs_det.npy"));
    let c_ima = data(&out.join("c_ima.npy"));
    assert_eq!(
        read_npy(out.join("jacobian.npy")).unwrap().shape(),
        [7, 3, 3]
    );
    for i in 0..7 {
        // g(x) recovers the sampled z: the leaky-softplus inverse's round trip (1e-13 relative to
        // 1 + ‖z‖ is the documented accuracy).
        for k in 0..3 {
            assert!((g[3 * i + k] - z[3 * i + k]).abs() < 1e-13 * (1.0 + z[3 * i + k].abs()));
        }
        let j = DMatrix::from_row_slice(3, 3, &jac[9 * i..9 * i + 9]);
        // log|det J| (sum of the steps' closed forms) against nalgebra's LU determinant of the
        // written J, and c_IMA against Σ log‖J[:,k]‖ − log|det J| from the same J: both agree to
        // the determinant's backward error, a few eps·κ(J) (κ < 1e2 for MLP3).
        let lu_det = j.determinant().abs().ln();
        assert!((log_det[i] - lu_det).abs() < 1e-12, "log_abs_det[{i}]");
        let col: Vec<f64> = j.column_iter().map(|c| c.norm()).collect();
        for k in 0..3 {
            assert!((norms[3 * i + k] - col[k]).abs() < 1e-14 * col[k]);
        }
        let c = col.iter().map(|n| n.ln()).sum::<f64>() - lu_det;
        assert!((c_ima[i] - c).abs() < 1e-12, "c_ima[{i}]");
        assert!(
            c_ima[i] > 0.0,
            "Hadamard: an MLP's Jacobian is not column-orthogonal"
        );
    }
    assert_eq!(data(&out.join("status_flow.npy")), [0.0; 7]);
    // No gamma-dependent file.
    assert!(!out.join("elbo_star.npy").exists() && !out.join("log_marginal.npy").exists());
    // A point without g(x) (NaN is refused when read; an x at the image of the pole is not): the
    // Möbius shift b is where g is singular.
    let mdir = dir.join("moebius");
    moebius_2d(&mdir);
    let xb = dir.join("xb.npy");
    let (x0, _) = moebius_2d_closed_form(&[0.1, 0.1]);
    npy(&xb, &[2, 2], &[x0[0], x0[1], 0.2, 0.0]);
    let o = run(&["flow", s(&mdir), "--x", s(&xb), "--out", s(&dir.join("f2"))]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("point 1: g(x)"), "{}", stderr(&o));
    assert!(!dir.join("f2").exists());
    let f3 = dir.join("f3");
    let o = run(&[
        "flow",
        s(&mdir),
        "--x",
        s(&xb),
        "--out",
        s(&f3),
        "--allow-refusals",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(data(&f3.join("status_flow.npy")), [0.0, 5.0]);
    assert!(data(&f3.join("c_ima.npy"))[1].is_nan());
    assert!(data(&f3.join("c_ima.npy"))[0].abs() < 1e-14);
}
