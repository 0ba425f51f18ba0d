//! The MCC of the experiments: Pearson and Spearman coefficients against hand computations
//! (ties included), invariance of the MCC under permutation, sign and scale (and, for Spearman,
//! monotone maps) of the latents, the matching against enumeration, and typed errors.

use ima_oracle::generate::rng;
use ima_oracle::metrics::{correlation_matrix, mcc, ranks, Correlation, MetricError};
use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::StandardNormal;

fn col(v: &[f64]) -> DMatrix<f64> {
    DMatrix::from_column_slice(v.len(), 1, v)
}

/// r for x = (1, 2, 3, 4), y = (2, 4, 5, 4): Σ dx dy = 3.5, Σ dx² = 5, Σ dy² = 4.75, so
/// r = 3.5/√23.75; Spearman for x = 1…5, y = (5, 6, 7, 8, 7): ranks of y (1, 2, 3.5, 5, 3.5), so
/// ρ = 8/√95. Both to a few ulps (1e-15).
#[test]
fn coefficients_by_hand() {
    let r = correlation_matrix(
        &col(&[1.0, 2.0, 3.0, 4.0]),
        &col(&[2.0, 4.0, 5.0, 4.0]),
        Correlation::Pearson,
    )
    .unwrap();
    assert!((r[(0, 0)] - 3.5 / 23.75f64.sqrt()).abs() < 1e-15);
    assert_eq!(
        ranks(&[5.0, 6.0, 7.0, 8.0, 7.0]),
        vec![1.0, 2.0, 3.5, 5.0, 3.5]
    );
    assert_eq!(ranks(&[2.0, 2.0, 2.0]), vec![2.0, 2.0, 2.0]);
    let rho = correlation_matrix(
        &col(&[1.0, 2.0, 3.0, 4.0, 5.0]),
        &col(&[5.0, 6.0, 7.0, 8.0, 7.0]),
        Correlation::Spearman,
    )
    .unwrap();
    assert!((rho[(0, 0)] - 8.0 / 95f64.sqrt()).abs() < 1e-15);
    // An offset of 1e8 changes nothing beyond round-off of the data themselves (two-pass means).
    let shifted = correlation_matrix(
        &col(&[1e8 + 1.0, 1e8 + 2.0, 1e8 + 3.0, 1e8 + 4.0]),
        &col(&[2.0, 4.0, 5.0, 4.0]),
        Correlation::Pearson,
    )
    .unwrap();
    assert!((shifted[(0, 0)] - r[(0, 0)]).abs() < 1e-15);
}

/// Latents that are the sources permuted, sign-flipped and scaled have MCC 1 with the inverse
/// permutation as matching; a monotone non-linear map of each keeps Spearman's MCC at 1 while
/// Pearson's drops; added noise lowers it; and the score is the best mean over all 5! matchings.
#[test]
fn mcc_finds_the_components() {
    let mut r = rng(3);
    let (n, d) = (500, 5);
    let s = DMatrix::from_fn(n, d, |_, _| r.sample::<f64, _>(StandardNormal));
    let perm = [3, 0, 4, 1, 2];
    let z = DMatrix::from_fn(n, d, |t, l| {
        let k = perm[l];
        [-2.0, 0.5, 3.0, -1.0, 7.0][l] * s[(t, k)] + 0.3
    });
    for kind in [Correlation::Pearson, Correlation::Spearman] {
        let m = mcc(&s, &z, kind).unwrap();
        // Each matched |r| is 1 up to the round-off of a 500-term sum (~1e-14).
        assert!((m.score - 1.0).abs() < 1e-13, "{kind:?}: {}", m.score);
        for (l, &k) in perm.iter().enumerate() {
            assert_eq!(m.matching[k], l);
        }
    }
    let warped = z.map(|t| t.powi(3) + t.exp());
    let sp = mcc(&s, &warped, Correlation::Spearman).unwrap();
    let pe = mcc(&s, &warped, Correlation::Pearson).unwrap();
    assert!(
        (sp.score - 1.0).abs() < 1e-13 && pe.score < 0.95,
        "{} {}",
        sp.score,
        pe.score
    );
    let noisy = z.map(|t| t + 3.0 * r.sample::<f64, _>(StandardNormal));
    let m = mcc(&s, &noisy, Correlation::Pearson).unwrap();
    assert!(m.score < 0.99);
    // The best matching by enumeration of all 120 permutations.
    let c = &m.abs_corr;
    let mut best: f64 = 0.0;
    let mut p: Vec<usize> = (0..d).collect();
    permutations(&mut p, 0, &mut |q| {
        best = best.max(q.iter().enumerate().map(|(k, &l)| c[(k, l)]).sum::<f64>() / d as f64);
    });
    assert!((m.score - best).abs() < 1e-15, "{} vs {best}", m.score);
    assert_eq!(m.per_source.len(), d);
}

/// Calls `f` on every permutation of `p[k..]` (Heap-free recursive swaps).
fn permutations(p: &mut Vec<usize>, k: usize, f: &mut impl FnMut(&[usize])) {
    if k == p.len() {
        f(p);
        return;
    }
    for i in k..p.len() {
        p.swap(k, i);
        permutations(p, k + 1, f);
        p.swap(k, i);
    }
}

/// Bad inputs are typed errors naming what is wrong.
#[test]
fn bad_inputs_are_errors() {
    let a = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 2.0, 2.0, 3.0, 2.0]);
    let b = DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 2.0, 1.0, 0.0, 5.0]);
    assert_eq!(
        mcc(&a, &b, Correlation::Pearson).unwrap_err(),
        MetricError::Constant {
            input: "sources",
            column: 1
        }
    );
    let mut nan = b.clone();
    nan[(2, 1)] = f64::NAN;
    assert_eq!(
        mcc(&b, &nan, Correlation::Spearman).unwrap_err(),
        MetricError::NonFinite {
            input: "latents",
            at: (2, 1)
        }
    );
    assert!(matches!(
        mcc(&b, &b.rows(0, 2).into_owned(), Correlation::Pearson),
        Err(MetricError::Shape { .. })
    ));
    let wide = DMatrix::from_fn(3, 3, |t, k| (t * 3 + k * k) as f64);
    assert!(mcc(&wide, &b, Correlation::Pearson).is_err());
}
