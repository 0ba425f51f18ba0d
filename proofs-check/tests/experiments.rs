//! The trained experiments: a tiny self-consistency run gives the same numbers on 1 and 2 threads,
//! and its exact-optimum columns obey what holds for any decoder: ELBO* is the maximum (gap ≥ 0 up
//! to the quadrature tolerance), the optimum cannot reconstruct better than the decoder's closest
//! point (‖f(μ̂) − x‖² ≥ misfit up to round-off). (σ̂² against eq. 12 is not asserted here: a
//! barely trained decoder misses the data, and eq. 12 assumes x in the decoder's image.)

use proofs_check::experiments::self_consistency::{run_rows, Config};

#[test]
fn tiny_self_consistency_run() {
    let cfg = |threads| Config {
        n: 400,
        epochs: 4,
        refine_epochs: 2,
        seeds: 1,
        eval_points: 6,
        hidden: 8,
        gamma2: vec![1e2, 1e5],
        threads,
        seed: 3,
    };
    let one = run_rows(&cfg(1));
    let two = run_rows(&cfg(2));
    assert_eq!(one.len(), 2);
    for (a, b) in one.iter().zip(&two) {
        // Everything but the wall time is bit for bit the same.
        let fields = |r: &proofs_check::experiments::self_consistency::RunResult| {
            [
                r.sigma2_enc,
                r.sigma2_hat,
                r.eq12,
                r.rec_enc,
                r.rec_hat,
                r.misfit,
                r.mu_dist,
                r.gap,
                r.gap_refined,
                r.rec_refined,
                r.loss,
            ]
        };
        assert_eq!(fields(a).map(f64::to_bits), fields(b).map(f64::to_bits));
        assert_eq!(a.skipped, 0, "gamma2 {}", a.gamma2);
        // ELBO* − ELBO(q_φ) ≥ 0: both to the 1e-10 relative quadrature tolerance of ELBOs of size
        // ~ γ²·misfit + O(1), so −1e-6 absolute is far below any real negative gap.
        assert!(a.gap >= -1e-6, "gap {}", a.gap);
        // Medians of per-point inequalities rec_hat ≥ misfit (1e-12 relative round-off).
        assert!(
            a.rec_hat >= a.misfit * (1.0 - 1e-9),
            "{} < {}",
            a.rec_hat,
            a.misfit
        );
    }
}

/// elbo-gap: thread independence, and Jensen's inequalities at the fixed decoder — log p(x) ≥
/// ELBO* ≥ ELBO(q_φ) (each mean of exact values to the 1e-10 relative quadrature tolerance, values
/// O(1)–O(10³), so 1e-6 absolute) — and c_IMA > 0 for the non-IMA ground truth.
#[test]
fn tiny_elbo_gap_run() {
    use proofs_check::experiments::elbo_gap;
    let cfg = |threads| elbo_gap::Config {
        n: 300,
        epochs: 3,
        seeds: 1,
        eval_points: 3,
        hidden: 8,
        gamma2: vec![1e3, 1e5],
        threads,
        seed: 5,
    };
    let (one, two) = (elbo_gap::run_rows(&cfg(1)), elbo_gap::run_rows(&cfg(2)));
    for (a, b) in one.iter().zip(&two) {
        let f = |r: &elbo_gap::RunResult| {
            [r.log_p, r.log_flow, r.c_ima, r.elbo_star, r.elbo_trained].map(f64::to_bits)
        };
        assert_eq!(f(a), f(b));
        assert_eq!(a.skipped, 0);
        assert!(
            a.log_p >= a.elbo_star - 1e-6,
            "{} < {}",
            a.log_p,
            a.elbo_star
        );
        assert!(
            a.elbo_star >= a.elbo_trained - 1e-6,
            "{} < {}",
            a.elbo_star,
            a.elbo_trained
        );
        assert!(a.c_ima > 0.0);
    }
}

/// moebius: thread independence, MCC in [0, 1], c_IMA of the Möbius mixing zero to round-off
/// (a conformal map: ~1e-15) and positive with the linear map; the rank correlation of monotone
/// pairs is ±1 and its interval is Fisher's z ± 1.96·√(1.06/(n − 3)) mapped back by tanh.
#[test]
fn tiny_moebius_runs_and_rank_correlation() {
    use proofs_check::experiments::moebius::{rank_correlation, run_rows, Config};
    for linear in [false, true] {
        let cfg = |threads| Config {
            n: 300,
            epochs: 2,
            seeds: 2,
            hidden: 8,
            gamma2: vec![1e3],
            linear,
            threads,
            seed: 9,
        };
        let (one, two) = (run_rows(&cfg(1)), run_rows(&cfg(2)));
        for (a, b) in one.iter().zip(&two) {
            let f = |r: &proofs_check::experiments::moebius::RunResult| {
                [
                    r.c_ima_mixing,
                    r.c_ima_learned,
                    r.mcc_pearson,
                    r.mcc_spearman,
                    r.loss,
                ]
                .map(f64::to_bits)
            };
            assert_eq!(f(a), f(b));
            assert!((0.0..=1.0).contains(&a.mcc_pearson) && (0.0..=1.0).contains(&a.mcc_spearman));
            if linear {
                assert!(a.c_ima_mixing > 1e-6, "{}", a.c_ima_mixing);
            } else {
                assert!(a.c_ima_mixing.abs() < 1e-12, "{}", a.c_ima_mixing);
            }
        }
    }
    let down: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, (-(i as f64)).exp())).collect();
    let (rho, lo, hi, n) = rank_correlation(&down).unwrap();
    // ρ = −1 exactly: Fisher's z is infinite, the interval undefined.
    assert_eq!((rho, n), (-1.0, 10));
    assert!(lo.is_nan() && hi.is_nan());
    let mixed = [
        (1.0, 2.0),
        (2.0, 1.0),
        (3.0, 4.0),
        (4.0, 3.0),
        (5.0, 6.0),
        (6.0, 5.0),
    ];
    let (rho, lo, hi, _) = rank_correlation(&mixed).unwrap();
    // Ranks differ by one in each pair: Σd² = 6, ρ = 1 − 6·6/(6·35) = 29/35. The interval
    // tanh(atanh ρ ± 1.96·√(1.06/3)), computed off-line (Python's math module):
    // 0.018499468930820266 to 0.9819241037373849.
    assert!((rho - 29.0 / 35.0).abs() < 1e-15);
    assert!((lo - 0.018499468930820266).abs() < 1e-14, "{lo}");
    assert!((hi - 0.9819241037373849).abs() < 1e-14, "{hi}");
    let with_nan = [mixed.to_vec(), vec![(f64::NAN, 0.5)]].concat();
    assert_eq!(rank_correlation(&with_nan).unwrap().3, 6);
    assert!(rank_correlation(&mixed[..3]).is_none());
}

/// sprites: the per-seed, per-epoch CSV (loss, MCC, c_IMA) is the same on 1 and 2 threads (two
/// seeds: sequential, or one thread each), the warm-up epoch is at its γ² and the rest at γ², and
/// the values are in range (MCC in [0, 1], c_IMA ≥ 0 up to round-off: Hadamard's inequality).
#[test]
fn tiny_sprites_run() {
    use proofs_check::experiments::sprites::{run, Config};
    let dir = std::env::temp_dir().join(format!("pc-sprites-{}", std::process::id()));
    let csv = |threads: usize| {
        let cfg = Config {
            n: 120,
            epochs: 2,
            hidden: 8,
            probe: 40,
            warmup_epochs: 1,
            seeds: 2,
            ..Config::default_with(threads, 2)
        };
        let out = dir.join(format!("t{threads}"));
        run(&cfg, &out).unwrap();
        std::fs::read_to_string(out.join("sprites.csv")).unwrap()
    };
    let (one, two) = (csv(1), csv(2));
    assert_eq!(one, two);
    assert_eq!(one.lines().count(), 1 + 2 * 2);
    for line in one.lines().skip(1) {
        let v: Vec<f64> = line.split(',').map(|t| t.parse().unwrap()).collect();
        assert_eq!(v[2], if v[1] == 1.0 { 1e3 } else { 1.0 }, "{line}");
        for m in &v[4..9] {
            assert!((0.0..=1.0).contains(m), "{line}");
        }
        assert!(v[9] >= -1e-12, "{line}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The same command gives the same CSV byte for byte whatever the thread count (no timings in it).
#[test]
fn csv_files_do_not_depend_on_the_thread_count() {
    use proofs_check::experiments::moebius::{run, Config};
    let dir = std::env::temp_dir().join(format!("pc-csv-{}", std::process::id()));
    let csv = |threads| {
        let cfg = Config {
            n: 200,
            epochs: 2,
            seeds: 2,
            hidden: 6,
            gamma2: vec![1e2, 1e4],
            linear: false,
            threads,
            seed: 4,
        };
        let out = dir.join(format!("t{threads}"));
        run(&cfg, &out).unwrap();
        std::fs::read(out.join("moebius.csv")).unwrap()
    };
    assert_eq!(csv(1), csv(2));
    std::fs::remove_dir_all(&dir).unwrap();
}
