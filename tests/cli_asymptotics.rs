//! `ima-oracle asymptotics`: the written coefficients are the library's (bit for bit: the same
//! computation, whatever the thread count), --help, and bad input refused with nothing written.

mod cli_support;

use cli_support::{fails_with, mlp3, moebius_model, npy, run, s, scratch, stderr, stdout};
use ima_oracle::io::model_file::load_model;
use ima_oracle::io::npy::read_npy;
use ima_oracle::paper::Asymptotics;
use nalgebra::DVector;

/// Points x = f(z) of the MLP3 fixture at a few z; every coefficient file equals the library's
/// `Asymptotics` at that x exactly (the CLI calls it), on 1 and 2 threads.
#[test]
fn writes_the_library_coefficients() {
    let dir = scratch("asym", "writes");
    let model = load_model(mlp3()).unwrap();
    let zs = [[0.3, -0.2, 0.5], [-1.0, 0.4, 0.1], [0.7, 0.8, -0.6]];
    let xs: Vec<DVector<f64>> = zs
        .iter()
        .map(|z| {
            model
                .decoder()
                .forward(&DVector::from_row_slice(z))
                .unwrap()
        })
        .collect();
    let flat: Vec<f64> = xs.iter().flat_map(|x| x.iter().copied()).collect();
    let xp = dir.join("x.npy");
    npy(&xp, &[3, 3], &flat);
    for threads in ["1", "2"] {
        let out = dir.join(format!("out{threads}"));
        let o = run(&[
            "asymptotics",
            &mlp3(),
            "--x",
            s(&xp),
            "--out",
            s(&out),
            "--threads",
            threads,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("3 points (0 without coefficients)"));
        let read = |name: &str| read_npy(out.join(format!("{name}.npy"))).unwrap();
        let (c_mu, k) = (read("c_mu"), read("k"));
        assert_eq!(c_mu.shape(), &[3, 3]);
        assert_eq!(read("gap").shape(), &[3]);
        for (i, x) in xs.iter().enumerate() {
            let a = Asymptotics::new(&model, x).unwrap();
            assert_eq!(&c_mu.data()[3 * i..3 * i + 3], a.c_mu.as_slice());
            assert_eq!(&k.data()[3 * i..3 * i + 3], a.k.as_slice());
            assert_eq!(read("marginal").data()[i], a.marginal);
            assert_eq!(read("elbo").data()[i], a.elbo);
            assert_eq!(read("gap").data()[i], a.gap);
            assert_eq!(read("status_asymptotics").data()[i], 0.0);
        }
    }
}

/// --help; a point at a Möbius step's image of infinity (x = b: no g(x)) is refused with the
/// point named and nothing written, or written as NaN with status 5 under --allow-refusals; a
/// missing --x is a usage error.
#[test]
fn help_and_bad_input() {
    let o = run(&["asymptotics", "--help"]);
    assert!(o.status.success() && stdout(&o).contains("USAGE"));
    let dir = scratch("asym", "bad");
    let m = dir.join("moebius");
    moebius_model(&m);
    let xp = dir.join("x.npy");
    npy(&xp, &[2, 3], &[0.1, 0.2, 0.3, 0.0, 0.0, 0.0]);
    let out = dir.join("out");
    fails_with(
        &["asymptotics", s(&m), "--x", s(&xp), "--out", s(&out)],
        1,
        &["point 1"],
    );
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
    let o = run(&[
        "asymptotics",
        s(&m),
        "--x",
        s(&xp),
        "--out",
        s(&out),
        "--allow-refusals",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let st = read_npy(out.join("status_asymptotics.npy")).unwrap();
    assert_eq!(st.data(), &[0.0, 5.0]);
    assert!(read_npy(out.join("gap.npy")).unwrap().data()[1].is_nan());
    fails_with(
        &["asymptotics", s(&m), "--out", s(&dir.join("o2"))],
        2,
        &["--x"],
    );
}
