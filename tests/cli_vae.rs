//! The VAE commands (issue 11): `vae-init` writes the documented initialisation, `vae-loss` writes
//! gradients that central finite differences of its own loss confirm (every array perturbed at
//! once, through the files), `check` compares them, `train` is deterministic whatever the thread
//! count, trains what the library trains, keeps a frozen decoder, stops on divergence with the last
//! good checkpoint, and bad input leaves no output.

mod cli_support;

use cli_support::{fails_with, npy, run, s, scratch, stderr, stdout};
use ima_oracle::generate::rng;
use ima_oracle::io::model_file::{load_vae, save_vae};
use ima_oracle::io::npy::{read_npy, write_npy, NpyArray};
use ima_oracle::vae::{init, train, AdamConfig, TrainOptions, Vae};
use ima_oracle::{Beta, Gamma2, Prior};
use rand::RngExt;
use rand_distr::StandardNormal;
use std::path::Path;

/// Every parameter of a VAE, encoder then decoder, layer by layer, W (column-major) then b.
fn flat(v: &Vae) -> Vec<f64> {
    [v.encoder(), v.decoder()]
        .iter()
        .flat_map(|n| {
            n.linears()
                .flat_map(|l| l.w.iter().chain(l.b.iter()))
                .copied()
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `n` standard normal draws from seed `seed`.
fn normals(n: usize, seed: u64) -> Vec<f64> {
    let mut r = rng(seed);
    (0..n).map(|_| r.sample(StandardNormal)).collect()
}

/// The `.npy` files of a folder, sorted.
fn arrays(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".npy"))
        .collect();
    v.sort();
    v
}

/// Runs `vae-init --latent d --observed D --hidden H --seed S --out dir` and asserts it succeeded.
fn vae_init(dir: &Path, (d, dd, h): (usize, usize, usize), seed: u64) {
    let (d, dd, h, seed) = (
        d.to_string(),
        dd.to_string(),
        h.to_string(),
        seed.to_string(),
    );
    let o = run(&[
        "vae-init",
        "--latent",
        &d,
        "--observed",
        &dd,
        "--hidden",
        &h,
        "--seed",
        &seed,
        "--out",
        s(dir),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The scalar in `dir/loss.npy`.
fn loss(dir: &Path) -> f64 {
    read_npy(dir.join("loss.npy")).unwrap().data()[0]
}

/// `vae-init` draws the layers in the documented order (encoder D → H → 2d, then decoder
/// d → H → D, PyTorch's law), writes a folder that loads back bit for bit, and takes a model's
/// decoder with `--decoder`.
#[test]
fn init_writes_the_documented_vae() {
    let dir = scratch("vae", "init");
    let v = dir.join("v");
    vae_init(&v, (2, 3, 5), 7);
    let got = load_vae(&v).unwrap();
    let mut r = rng(7);
    let enc = init::mlp(&[3, 5, 4], 0.2, &mut r).unwrap();
    let dec = init::mlp(&[2, 5, 3], 0.2, &mut r).unwrap();
    let want = Vae::new(Prior::standard_normal(), enc, dec).unwrap();
    assert_eq!(flat(&got.vae), flat(&want));
    assert_eq!(
        got.encoder_names[0],
        ["enc_W0".to_string(), "enc_b0".into()]
    );
    assert_eq!(got.decoder_names[1], ["W2".to_string(), "b2".into()]);
    // save → load is exact (f64 arrays are written bit for bit).
    save_vae(&got.vae, dir.join("again")).unwrap();
    assert_eq!(flat(&load_vae(dir.join("again")).unwrap().vae), flat(&want));
    // The decoder of MLP3, a fresh encoder R^3 → R^10 → R^6.
    let m = dir.join("m");
    let o = run(&[
        "vae-init",
        "--decoder",
        &cli_support::mlp3(),
        "--hidden",
        "10",
        "--out",
        s(&m),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = load_vae(&m).unwrap().vae;
    let model = ima_oracle::io::model_file::load_model(cli_support::mlp3()).unwrap();
    assert_eq!(
        got.model().unwrap().decoder().steps().len(),
        model.decoder().steps().len()
    );
    assert_eq!(got.encoder().dim_out(), 6);
}

/// Writes `v0` with every parameter array moved by `c · direction[name]`.
fn perturbed(v0: &Path, out: &Path, c: f64, dirs: &[(String, Vec<f64>)]) {
    std::fs::create_dir_all(out).unwrap();
    for f in ["model.txt", "encoder.txt"] {
        std::fs::copy(v0.join(f), out.join(f)).unwrap();
    }
    for (name, dir) in dirs {
        let a = read_npy(v0.join(name)).unwrap();
        let data: Vec<f64> = a.data().iter().zip(dir).map(|(w, r)| w + c * r).collect();
        write_npy(
            out.join(name),
            &NpyArray::new(a.shape().to_vec(), data).unwrap(),
        )
        .unwrap();
    }
}

/// The directional derivative Σ_arrays ⟨grad_NAME, R_NAME⟩ from `vae-loss`'s gradient files
/// matches the central difference (L(θ + hR) − L(θ − hR))/2h of its loss files, with given noise
/// and exact; `check` accepts the arrays and spots a changed gradient entry.
#[test]
fn loss_gradients_agree_with_finite_differences_of_the_loss() {
    let dir = scratch("vae", "fd");
    let v0 = dir.join("v0");
    vae_init(&v0, (2, 3, 4), 3);
    let (b, samples, d, dd) = (5, 2, 2, 3);
    npy(&dir.join("x.npy"), &[b, dd], &normals(b * dd, 11));
    npy(
        &dir.join("eps.npy"),
        &[b, samples, d],
        &normals(b * samples * d, 12),
    );
    let names = arrays(&v0);
    // One hidden layer: two linear layers per network, W and b each.
    assert_eq!(names.len(), 8, "{names:?}");
    let dirs: Vec<(String, Vec<f64>)> = names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            let len = read_npy(v0.join(n)).unwrap().data().len();
            (n.clone(), normals(len, 100 + k as u64))
        })
        .collect();
    // h = 1e-4: the loss is O(10²) with third derivatives O(10³) along R (γ² = 10, weights O(1)),
    // so the truncation error h²/6·L‴ is ~1e-6 absolute (measured: 1.0e-6 and 1.2e-6 against
    // directional derivatives of 32 and 18); round-off ε·|L|/h ~ 1e-10; the exact loss adds its
    // quadrature error (tol 1e-13 relative, ~1e-11 absolute) / h ~ 1e-7. A wrong entry, a
    // transposed W or a missing term moves the derivative by O(1).
    let h = 1e-4;
    perturbed(&v0, &dir.join("vp"), h, &dirs);
    perturbed(&v0, &dir.join("vm"), -h, &dirs);
    for (mode, extra) in [
        ("noise", vec!["--eps", "eps.npy"]),
        ("exact", vec!["--exact"]),
    ] {
        let out = |v: &str| dir.join(format!("{mode}-{v}"));
        for v in ["v0", "vp", "vm"] {
            let mut args = vec![
                "vae-loss".to_string(),
                s(&dir.join(v)).into(),
                "--x".into(),
                s(&dir.join("x.npy")).into(),
                "--gamma2".into(),
                "10".into(),
                "--out".into(),
                s(&out(v)).into(),
            ];
            args.extend(extra.iter().map(|a| {
                if a.ends_with(".npy") {
                    s(&dir.join(a)).to_string()
                } else {
                    a.to_string()
                }
            }));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = run(&args);
            assert!(o.status.success(), "{mode} {v}: {}", stderr(&o));
        }
        let fd = (loss(&out("vp")) - loss(&out("vm"))) / (2.0 * h);
        let dd_grad: f64 = dirs
            .iter()
            .map(|(n, r)| {
                let g = read_npy(out("v0").join(format!("grad_{n}"))).unwrap();
                let w = read_npy(v0.join(n)).unwrap();
                assert_eq!(g.shape(), w.shape(), "grad_{n}");
                g.data().iter().zip(r).map(|(g, r)| g * r).sum::<f64>()
            })
            .sum();
        let err = (fd - dd_grad).abs();
        assert!(
            err <= 1e-6 * dd_grad.abs().max(1.0),
            "{mode}: finite difference {fd} vs gradient {dd_grad} (error {err:e})"
        );
        let elbo = read_npy(out("v0").join("elbo.npy")).unwrap();
        let mean = elbo.data().iter().sum::<f64>() / b as f64;
        // loss = −mean ELBO: the same sum in another order, a few ulps of |L| ~ 1e2.
        assert!((loss(&out("v0")) + mean).abs() <= 1e-12 * mean.abs());
    }
    // check: the oracle's gradients against a copy, then with one entry moved by 1e-6 relative.
    let (ours, theirs) = (dir.join("noise-v0"), dir.join("theirs"));
    std::fs::create_dir_all(&theirs).unwrap();
    for n in arrays(&ours) {
        std::fs::copy(ours.join(&n), theirs.join(&n)).unwrap();
    }
    let agree = run(&["check", s(&v0), "--ours", s(&ours), "--theirs", s(&theirs)]);
    assert_eq!(agree.status.code(), Some(0), "{}", stdout(&agree));
    let g = read_npy(ours.join("grad_enc_W0.npy")).unwrap();
    let mut data = g.data().to_vec();
    data[3] *= 1.0 + 1e-6;
    write_npy(
        theirs.join("grad_enc_W0.npy"),
        &NpyArray::new(g.shape().to_vec(), data).unwrap(),
    )
    .unwrap();
    let differ = run(&["check", s(&v0), "--ours", s(&ours), "--theirs", s(&theirs)]);
    assert_eq!(differ.status.code(), Some(1));
    assert!(
        stdout(&differ).contains("grad_enc_W0"),
        "{}",
        stdout(&differ)
    );
}

/// Runs `train` on `v0` and `x` into `out` with the given extra flags.
/// (`--gamma2 10 --epochs 2 --lr 1e-2` unless `extra` gives them.)
fn train_cli(v0: &Path, x: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "train",
        s(v0),
        "--x",
        s(x),
        "--batch",
        "16",
        "--seed",
        "5",
        "--samples",
        "2",
        "--out",
        s(out),
    ];
    for (flag, default) in [("--gamma2", "10"), ("--epochs", "2"), ("--lr", "1e-2")] {
        if !extra.contains(&flag) {
            args.extend([flag, default]);
        }
    }
    args.extend(extra);
    run(&args)
}

/// The same command gives the same weights bit for bit on 1 and 2 threads, the weights the
/// library's `train` gives with the same options; `--freeze-decoder` leaves the decoder's files
/// as they were.
#[test]
fn training_is_deterministic_and_trains_what_the_library_trains() {
    let dir = scratch("vae", "train");
    let v0 = dir.join("v0");
    vae_init(&v0, (2, 3, 6), 1);
    let n = 40;
    let xs = normals(n * 3, 21);
    npy(&dir.join("x.npy"), &[n, 3], &xs);
    let x = dir.join("x.npy");
    for threads in ["1", "2"] {
        let o = train_cli(
            &v0,
            &x,
            &dir.join(format!("t{threads}")),
            &["--threads", threads],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("epoch 2/2"), "{}", stderr(&o));
    }
    let (t1, t2) = (dir.join("t1/vae"), dir.join("t2/vae"));
    assert_eq!(arrays(&t1), arrays(&v0));
    for n in arrays(&t1) {
        assert_eq!(
            std::fs::read(t1.join(&n)).unwrap(),
            std::fs::read(t2.join(&n)).unwrap()
        );
    }
    assert!(!dir.join("t1/checkpoint").exists());
    let csv = std::fs::read_to_string(dir.join("t1/epochs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    // The library with the options the help text documents.
    let mut lib = load_vae(&v0).unwrap().vae;
    let opts = TrainOptions {
        gamma2: Gamma2::new(10.0).unwrap(),
        beta: Beta::ONE,
        epochs: 2,
        batch: 16,
        samples: 2,
        adam: AdamConfig::new(1e-2).unwrap(),
        seed: 5,
        freeze_decoder: false,
        threads: 1,
    };
    let recs = train(&mut lib, &xs, &opts, |_, _| Ok(())).unwrap();
    assert_eq!(flat(&load_vae(&t1).unwrap().vae), flat(&lib));
    assert_eq!(recs.last().unwrap().steps, 2 * 3);
    // Frozen decoder: its arrays are the input's, byte for byte; the encoder moved.
    let o = train_cli(&v0, &x, &dir.join("frozen"), &["--freeze-decoder"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f = dir.join("frozen/vae");
    for n in arrays(&v0) {
        let same = std::fs::read(f.join(&n)).unwrap() == std::fs::read(v0.join(&n)).unwrap();
        assert_eq!(same, !n.starts_with("enc_"), "{n}");
    }
}

/// A run whose loss becomes infinite stops with an error naming the epoch and step and leaves the
/// last good checkpoint, a loadable VAE folder with finite weights.
#[test]
fn divergence_keeps_the_last_good_checkpoint() {
    let dir = scratch("vae", "diverge");
    let v0 = dir.join("v0");
    vae_init(&v0, (2, 3, 6), 0);
    npy(&dir.join("x.npy"), &[40, 3], &normals(120, 22));
    let out = dir.join("wild");
    // lr 1e3 at γ² = 1e6: the first Adam steps move every weight by ~1e3, the loss overflows.
    let o = train_cli(
        &v0,
        &dir.join("x.npy"),
        &out,
        &["--lr", "1e3", "--gamma2", "1e6", "--epochs", "50"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    for needle in ["NaN or infinite at epoch", "step", "checkpoint"] {
        assert!(stderr(&o).contains(needle), "{needle}: {}", stderr(&o));
    }
    let ck = load_vae(out.join("checkpoint")).unwrap().vae;
    assert!(flat(&ck).iter().all(|t| t.is_finite()));
    assert!(!out.join("vae").exists());
    // A second run into the same folder would mix its vae/ with that checkpoint/: refused.
    fails_with(
        &[
            "train",
            s(&v0),
            "--x",
            s(&dir.join("x.npy")),
            "--gamma2",
            "10",
            "--epochs",
            "1",
            "--out",
            s(&out),
            "--force",
        ],
        2,
        &["checkpoint/ from an earlier run"],
    );
}

/// Bad input is an error naming the problem, and leaves no output folder.
#[test]
fn bad_input_is_an_error_without_output() {
    let dir = scratch("vae", "bad");
    let v0 = dir.join("v0");
    vae_init(&v0, (2, 3, 4), 0);
    let x = dir.join("x.npy");
    npy(&x, &[4, 3], &normals(12, 1));
    npy(&dir.join("eps_d3.npy"), &[4, 1, 3], &normals(12, 2));
    npy(&dir.join("x_d2.npy"), &[4, 2], &normals(8, 3));
    let out = dir.join("out");
    let (v, xs) = (s(&v0), s(&x));
    let eps_bad = dir.join("eps_d3.npy");
    let x_bad = dir.join("x_d2.npy");
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec![
                "vae-loss",
                v,
                "--x",
                xs,
                "--eps",
                s(&eps_bad),
                "--gamma2",
                "1",
            ],
            1,
            "eps must have shape (4, S, 2) or (4, 2)",
        ),
        (
            vec!["vae-loss", v, "--x", s(&x_bad), "--exact", "--gamma2", "1"],
            1,
            "x must have shape (B, 3)",
        ),
        (
            vec![
                "vae-loss",
                v,
                "--x",
                xs,
                "--exact",
                "--eps",
                s(&eps_bad),
                "--gamma2",
                "1",
            ],
            2,
            "not both",
        ),
        (
            vec!["vae-loss", v, "--x", xs, "--gamma2", "1"],
            2,
            "--exact",
        ),
        (
            vec!["vae-loss", v, "--x", xs, "--exact", "--gamma2", "0"],
            2,
            "--gamma2 must be positive",
        ),
        (
            vec![
                "train", v, "--x", xs, "--gamma2", "1", "--epochs", "1", "--lr", "0",
            ],
            2,
            "--lr must be > 0",
        ),
        (
            vec![
                "train", v, "--x", xs, "--gamma2", "1", "--epochs", "1", "--batch", "0",
            ],
            2,
            "--batch must be at least 1",
        ),
        (
            vec![
                "train",
                v,
                "--x",
                s(&x_bad),
                "--gamma2",
                "1",
                "--epochs",
                "1",
            ],
            1,
            "x must have shape (B, 3)",
        ),
    ];
    let huge = dir.join("x_huge.npy");
    npy(&huge, &[1, 3], &[1e300, -1e300, 1e300]);
    let eps1 = dir.join("eps1.npy");
    npy(&eps1, &[1, 2], &[0.1, -0.2]);
    let cases: Vec<(Vec<&str>, i32, &str)> = cases
        .into_iter()
        .chain([
            (
                vec![
                    "vae-init",
                    "--latent",
                    "1",
                    "--observed",
                    "1",
                    "--hidden",
                    "1048576,1048576",
                ],
                2,
                "more than the limit of 134217728 weights",
            ),
            (
                vec![
                    "train",
                    v,
                    "--x",
                    xs,
                    "--gamma2",
                    "1",
                    "--epochs",
                    "1",
                    "--samples",
                    "1048576",
                    "--max-elements",
                    "1000000",
                ],
                1,
                "noise draws per step is more than the limit",
            ),
            (
                vec![
                    "vae-loss",
                    v,
                    "--x",
                    s(&huge),
                    "--eps",
                    s(&eps_bad),
                    "--gamma2",
                    "1e300",
                ],
                1,
                "eps must have shape",
            ),
        ])
        .collect();
    for (mut args, code, needle) in cases {
        args.extend(["--out", s(&out)]);
        fails_with(&args, code, &[needle]);
        assert!(!out.exists(), "{args:?} left {}", out.display());
    }
    // A NaN weight, and an encoder for another latent dimension.
    let nan = dir.join("nan");
    perturbed(&v0, &nan, 0.0, &[]);
    for n in arrays(&v0) {
        std::fs::copy(v0.join(&n), nan.join(&n)).unwrap();
    }
    let w = read_npy(nan.join("enc_W2.npy")).unwrap();
    let mut data = w.data().to_vec();
    data[1] = f64::NAN;
    write_npy(
        nan.join("enc_W2.npy"),
        &NpyArray::new(w.shape().to_vec(), data).unwrap(),
    )
    .unwrap();
    fails_with(
        &[
            "vae-loss",
            s(&nan),
            "--x",
            xs,
            "--exact",
            "--gamma2",
            "1",
            "--out",
            s(&out),
        ],
        1,
        &["enc_W2.npy", "entry 1 is NaN"],
    );
    let other = dir.join("other");
    vae_init(&other, (3, 3, 4), 0);
    std::fs::copy(v0.join("model.txt"), other.join("model.txt")).unwrap();
    for n in ["W0.npy", "b0.npy", "W2.npy", "b2.npy"] {
        std::fs::copy(v0.join(n), other.join(n)).unwrap();
    }
    fails_with(
        &[
            "train",
            s(&other),
            "--x",
            xs,
            "--gamma2",
            "1",
            "--epochs",
            "1",
            "--out",
            s(&out),
        ],
        1,
        &["encoder.txt", "the encoder maps R^3 to R^6"],
    );
    assert!(!out.exists());
}
