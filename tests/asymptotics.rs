//! The leading coefficients of the γ → ∞ expansions (issue 14; `ima_oracle::paper::Asymptotics`)
//! against the library's exact numbers at finite γ² — the optimal encoder (Newton on the exact
//! ELBO), log pθ(x) by quadrature — and against the affine–Gaussian closed forms.
//!
//! The check of a coefficient C with predicted next order γ⁻²: the residual
//! y(γ²) = γ^p·(exact − leading terms) − C is, by the derivation, c₂u + c₃u² + c₄u³ + … with
//! u = γ⁻² (an expansion in powers of γ⁻²). It is computed at γ² = 1e4 … 1e8, a decade apart, and
//! checked by [`assert_converges`]:
//!
//! 1. **Richardson extrapolation to γ² → ∞.** On three consecutive decades (u₁, u₁/10, u₁/100),
//!    R₂ = (1000 y₃ − 110 y₂ + y₁)/891 eliminates the u and u² terms exactly, leaving c₄u₁³/1000
//!    plus the rounding noise n of the exact numbers, amplified to (1000 n₃ + 110 n₂ + n₁)/891. A
//!    wrong coefficient C + δ gives R₂ ≈ −δ on every triple. The truncation is estimated by the
//!    change from the one-step extrapolation R₁ = (10 y₃ − y₂)/9 (error ≈ −c₃u₁²/1000):
//!    |R₂ − R₁| ≥ |c₄|u₁³/1000 whenever |c₄|u₁ ≤ |c₃| (the series' terms decrease at u₁), and it
//!    does not grow with δ. Each triple thus resolves C to
//!    b = 2·(1000 n₃ + 110 n₂ + n₁)/891 + 10·|R₂ − R₁| (a factor 2 on the noise bound, 10 on the
//!    truncation estimate, which is not a bound). Low triples are limited by truncation at
//!    ill-conditioned points (C up to ~10³, where the terms decrease slowly at γ² = 1e4), high ones
//!    by noise (which grows like a power of γ); the test requires |R₂| ≤ b on at least one triple —
//!    C is then right to the best resolution the exact numbers allow — and reports that resolution.
//! 2. **Decay.** On the last decade whose end is above the noise, |y(γ²)/y(10γ²)| ≥ [`MIN_DECAY`]
//!    (a wrong C gives a ratio → 1) or y is already within [`DIRECT`] of C there. Earlier decades are printed but not tested: at
//!    ill-conditioned points (C_μ up to ~10⁴ with other seeds) the u² term can rival the u one up
//!    to γ² = 1e6 (residuals that change sign).
//!
//! Observed (default seed, 342 sequences: C_μ and K per coordinate, M, E_elbo and E per point, the
//! §4 families and the authors' sigmoid–tanh shape with a Beta-logistic prior): on the
//! best-resolved triple |R₂|/max(1, |C|) has median 1.7e-10 and maximum 2.8e-7, the resolution
//! median 5e-7 and maximum 1.9e-4 (K at an ill-conditioned point); the test also passes for the
//! seeds 1–15 (with other points, C_μ up to 1.7e4).
//!
//! The noise n(γ²) of y is argued per quantity at each test. An oracle refusal at some γ² (a
//! quadrature that does not reach its tolerance at an extreme point) skips that point, which is
//! printed; at most one point in ten may be skipped.

mod common;

use common::{assert_near, assert_within, normal_vector, test_rng, Tol};
use ima_oracle::generate::{family_cases, haar_orthogonal, Family};
use ima_oracle::inference::Eq12Terms;
use ima_oracle::paper::{c_ima, log_flow_likelihood, AffineGaussian, Asymptotics};
use ima_oracle::{
    log_marginal, optimal_encoder, Affine, Decoder, Model, OracleError, Prior, QuadratureOptions,
    Query, Sigmoid, Tanh,
};
use nalgebra::{DMatrix, DVector};

/// On the last decade above the noise, |y(γ²)/y(10γ²)| ≥ 4 (module docs). The ratio is
/// 10(1 + ρu)/(1 + ρu/10) with ρ = c₃/c₂, and |ρu| ≤ 0.1 there at every point seen (observed
/// 8.7–13.3 with the default seed); where c₂ happens to be ≈ 0 the u² term shows as a ratio ≈ 100
/// or a sign change (|ratio| large); a wrong coefficient gives ≈ 1.
const MIN_DECAY: f64 = 4.0;

/// ... unless the residual there is already ≤ 1e-5·max(1, |C|): the exact numbers then agree with C
/// directly to 1e-5 (a pre-asymptotic decade where c₂ ≈ 0 and c₃u² cancels c₂u, seen with other
/// seeds), and the Richardson test resolves the rest.
const DIRECT: f64 = 1e-5;

/// The best resolution of every sequence must be ≤ 5e-2·max(1, |C|), so that a pass says something
/// about C rather than resting on a bound as large as C (observed ≤ 1.9e-4 with the default seed;
/// 2.5e-2 at one Möbius point close to its pole with seed 9, still pre-asymptotic at γ² = 1e6, whose
/// extrapolated residual is nevertheless 4.5e-5 of C).
const RESOLVED: f64 = 5e-2;

/// The γ² of every sweep: 1e4 … 1e8, a decade apart.
const SWEEP: [f64; 5] = [1e4, 1e5, 1e6, 1e7, 1e8];

/// A model with its label and observation points.
struct Case {
    name: String,
    model: Model,
    xs: Vec<DVector<f64>>,
}

/// The §4 families in d = 1, 2, 3 with both priors of the paper (standard normal, logistic), two
/// points each; the Möbius families only in d = 3 (in d ≤ 2 their ELBO* is −∞: no finite optimum to
/// expand); and the authors' decoder shape (sigmoid first, tanh inside) in d = 3 with the
/// Beta-logistic prior Beta(2, 3) through the sigmoid, at a fixed draw (see there).
fn cases() -> Vec<Case> {
    let mut rg = test_rng(150);
    let priors = [Prior::standard_normal(), Prior::logistic(1.0).unwrap()];
    let mut out = Vec::new();
    for d in [1, 2, 3] {
        for c in family_cases(d, &priors, 2, &mut rg).unwrap() {
            if d < 3 && matches!(c.family, Family::Moebius | Family::MoebiusVolumePreserving) {
                continue;
            }
            out.push(Case {
                name: format!("{} d={d} {}", c.family.name(), c.model.prior().name()),
                model: c.model,
                xs: c.xs,
            });
        }
    }
    // A fixed draw, independent of IMA_TEST_SEED, of a well-conditioned instance: Haar-orthogonal
    // weights, the last scaled by 4, and sources N(0, 0.5²), so that σ' ≥ 0.2 and tanh' ≥ 0.4 and
    // the singular values of J_f are O(0.3–1). (With Gaussian weights and sources the sigmoid or the
    // tanh saturate at some draws, J_f shrinks like their derivatives, and the coefficients grow like
    // its inverse powers — C_μ up to 1e10 was seen — so that the expansion would need γ² far beyond
    // the sweep's 1e8.)
    let mut fixed = ima_oracle::generate::rng(2024);
    let (q1, q2) = (
        haar_orthogonal(3, &mut fixed),
        haar_orthogonal(3, &mut fixed),
    );
    let dec = Decoder::new(
        3,
        vec![
            Sigmoid::new(3).unwrap().into(),
            Affine::new(q1, None).unwrap().into(),
            Tanh::new(3).unwrap().into(),
            Affine::new(q2 * 4.0, None).unwrap().into(),
        ],
    )
    .unwrap();
    let model = Model::new(Prior::beta_logistic(2.0, 3.0).unwrap(), dec).unwrap();
    let xs = (0..2)
        .map(|_| {
            model
                .decoder()
                .forward(&normal_vector(3, 0.5, &mut fixed))
                .unwrap()
        })
        .collect();
    out.push(Case {
        name: "sigmoid-tanh d=3 beta-logistic".into(),
        model,
        xs,
    });
    out
}

/// Asserts that the residuals `ys` (one per γ² of [`SWEEP`]) extrapolate to 0 within the best
/// resolution of some triple, and decay (module docs); `noise(γ²)` bounds the rounding error of y.
/// Returns (|R₂|, b) of the best-resolved triple.
#[track_caller]
fn assert_converges(what: &str, c: f64, ys: &[f64], noise: impl Fn(f64) -> f64) -> (f64, f64) {
    let g2s = &SWEEP;
    let n: Vec<f64> = g2s.iter().map(|&g| noise(g)).collect();
    let triples: Vec<(f64, f64)> = (0..ys.len() - 2)
        .map(|i| {
            let r2 = (1000.0 * ys[i + 2] - 110.0 * ys[i + 1] + ys[i]) / 891.0;
            let r1 = (10.0 * ys[i + 2] - ys[i + 1]) / 9.0;
            let b = 2.0 * (1000.0 * n[i + 2] + 110.0 * n[i + 1] + n[i]) / 891.0
                + 10.0 * (r2 - r1).abs();
            (r2.abs(), b)
        })
        .collect();
    let best = triples
        .iter()
        .copied()
        .fold((f64::INFINITY, f64::INFINITY), |a, t| {
            if t.1 < a.1 {
                t
            } else {
                a
            }
        });
    eprintln!("{what}: residuals {ys:?}; extrapolated (|R₂|, resolution) per triple {triples:?}");
    assert!(
        triples.iter().any(|&(r, b)| r <= b),
        "{what}: the residuals {ys:?} extrapolate to |R₂| > resolution on every triple: {triples:?}"
    );
    // The last decade whose end is above the noise.
    if let Some(i) = (0..ys.len() - 1)
        .rev()
        .find(|&i| ys[i + 1].abs() > n[i + 1])
    {
        let ratio = ys[i] / ys[i + 1];
        assert!(
            ratio.abs() >= MIN_DECAY || ys[i + 1].abs() <= DIRECT * c.abs().max(1.0),
            "{what}: residual ratio {ratio} between γ² = {:e} and {:e} is below {MIN_DECAY} in \
             magnitude (residuals {ys:?})",
            g2s[i],
            g2s[i + 1]
        );
    }
    best
}

/// Runs `sweep` at every point of [`cases`] (it returns the residual sequences of that point with
/// their names and noise functions, or the oracle's refusal), checks each sequence, and asserts that
/// at most one point in ten was skipped for a refusal.
fn check_all<F>(sweep: F)
where
    F: Fn(
        &Case,
        &DVector<f64>,
    ) -> Result<Vec<(String, Vec<f64>, Box<dyn Fn(f64) -> f64>)>, OracleError>,
{
    let (mut points, mut skipped, mut seqs) = (0, 0, 0);
    let mut worst_rel: f64 = 0.0;
    for case in cases() {
        for x in &case.xs {
            points += 1;
            match sweep(&case, x) {
                Ok(list) => {
                    for (name, ys, noise) in list {
                        let c: f64 = name.rsplit("= ").next().unwrap().parse().unwrap();
                        let (r, b) = assert_converges(&name, c, &ys, noise);
                        // The test must resolve C, not pass on a bound as large as C itself.
                        assert!(
                            b <= RESOLVED * c.abs().max(1.0),
                            "{name}: best resolution {b:e} is not below {RESOLVED} of the coefficient"
                        );
                        worst_rel = worst_rel.max(r.max(b) / c.abs().max(1.0));
                        seqs += 1;
                    }
                }
                Err(e) => {
                    eprintln!("skipped a {} point: {e}", case.name);
                    skipped += 1;
                }
            }
        }
    }
    eprintln!(
        "{seqs} sequences checked; worst best-resolution relative to max(1, |C|): {worst_rel:e}"
    );
    assert!(
        10 * skipped <= points,
        "{skipped} of {points} points skipped"
    );
}

/// μ̂ − g(x) = γ⁻² C_μ + O(γ⁻⁴): y = γ²(μ̂ − g(x)) − C_μ, per coordinate. Noise: Newton stops at the
/// decrement floor eps·γ·size (size = 1 + ‖x‖∞ + ‖g(x)‖∞) in natural units, μ in units of
/// σ̂_k ≈ 1/(γ‖J_:k‖), so μ̂ is known to ~eps·size/‖J_:k‖ absolutely (quadratic convergence usually
/// does far better); with a factor 10 for the quadrature sums, y carries
/// 10·eps·γ²·size/min_k ‖J_:k‖.
#[test]
fn mean_coefficient_is_the_limit_of_gamma2_times_the_offset() {
    let opts = QuadratureOptions::default();
    check_all(|case, x| {
        let model = &case.model;
        let a = Asymptotics::new(model, x).unwrap();
        let terms = Eq12Terms::at(model, a.z0.clone()).unwrap();
        let scale = (1.0 + x.amax() + a.z0.amax()) / terms.colnorm2.min().sqrt();
        let mut ys: Vec<Vec<f64>> = vec![vec![]; x.len()];
        for &g2 in &SWEEP {
            let q = Query::new(model, x.as_slice(), g2)?;
            let o = optimal_encoder(&q, &opts)?;
            let y = (&o.mu - &a.z0) * g2 - &a.c_mu;
            for (k, yk) in ys.iter_mut().enumerate() {
                yk.push(y[k]);
            }
        }
        Ok(ys
            .into_iter()
            .enumerate()
            .map(|(k, y)| {
                let noise: Box<dyn Fn(f64) -> f64> =
                    Box::new(move |g2| 100.0 * f64::EPSILON * g2 * scale);
                (
                    format!("{} C_μ[{k}] = {:.6e}", case.name, a.c_mu[k]),
                    y,
                    noise,
                )
            })
            .collect())
    });
}

/// 1/σ̂_k² = γ²‖J_:k‖² − (log m)''(g_k(x)) + K_k + O(γ⁻²): y = 1/σ̂_k² − P_k(eq. 12) − K_k. Noise:
/// Newton's floor in log σ̂² is eps·γ·size (natural units, size = 1 + ‖x‖∞ + ‖g(x)‖∞), so
/// 1/σ̂_k² ≈ γ²‖J_:k‖² carries ~eps·γ³‖J_:k‖²·size absolutely; with a factor 10, y carries
/// 10·eps·γ³‖J_:k‖²·size.
#[test]
fn variance_correction_k_is_the_limit_beyond_eq12() {
    let opts = QuadratureOptions::default();
    check_all(|case, x| {
        let model = &case.model;
        let a = Asymptotics::new(model, x).unwrap();
        let terms = Eq12Terms::at(model, a.z0.clone()).unwrap();
        let size = 1.0 + x.amax() + a.z0.amax();
        let mut ys: Vec<Vec<f64>> = vec![vec![]; x.len()];
        for &g2 in &SWEEP {
            let q = Query::new(model, x.as_slice(), g2)?;
            let o = optimal_encoder(&q, &opts)?;
            for (k, yk) in ys.iter_mut().enumerate() {
                yk.push(1.0 / o.sigma2[k] - terms.precision(k, q.precision()) - a.k[k]);
            }
        }
        Ok(ys
            .into_iter()
            .enumerate()
            .map(|(k, y)| {
                let c = terms.colnorm2[k];
                let noise: Box<dyn Fn(f64) -> f64> =
                    Box::new(move |g2: f64| 10.0 * f64::EPSILON * g2.powf(1.5) * c * size);
                (format!("{} K[{k}] = {:.6e}", case.name, a.k[k]), y, noise)
            })
            .collect())
    });
}

/// log pθ(x) − log p_flow(x) = γ⁻² M + O(γ⁻⁴) with M = Δp_flow/(2p_flow), ELBO* − (log p_flow −
/// c_IMA) = γ⁻² E_elbo + O(γ⁻⁴), and the gap of eq. 13, ELBO* − (log pθ(x) − c_IMA) = γ⁻² E + O(γ⁻⁴):
/// y = γ²·(difference) − coefficient. Noise: log pθ and ELBO* are converged to the quadrature
/// tolerance 1e-13 relative to max(1, |value|), so y carries γ²·1e-13·max(1, |log p_flow|,
/// |ELBO*|) per term — with a factor 10 of margin, 1e-12·γ²·max(1, |log p_flow|, |L_IMA|).
#[test]
fn marginal_and_gap_coefficients_are_the_limits() {
    let opts = QuadratureOptions::default();
    check_all(|case, x| {
        let model = &case.model;
        let a = Asymptotics::new(model, x).unwrap();
        let lf = log_flow_likelihood(model.decoder(), model.prior(), x).unwrap();
        let ci = c_ima(model.decoder(), &a.z0).unwrap();
        let (mut ym, mut ye, mut yel) = (vec![], vec![], vec![]);
        for &g2 in &SWEEP {
            let q = Query::new(model, x.as_slice(), g2)?;
            let lp = log_marginal(&q, &opts)?.value;
            let elbo = optimal_encoder(&q, &opts)?.elbo;
            ym.push((lp - lf) * g2 - a.marginal);
            ye.push((elbo - (lp - ci)) * g2 - a.gap);
            yel.push((elbo - (lf - ci)) * g2 - a.elbo);
        }
        let size = lf.abs().max((lf - ci).abs()).max(1.0);
        let noise = move || -> Box<dyn Fn(f64) -> f64> { Box::new(move |g2| 1e-12 * g2 * size) };
        let name = &case.name;
        Ok(vec![
            (format!("{name} M = {:.6e}", a.marginal), ym, noise()),
            (format!("{name} E = {:.6e}", a.gap), ye, noise()),
            (format!("{name} E_elbo = {:.6e}", a.elbo), yel, noise()),
        ])
    });
}

/// Affine decoder W z + b, Gaussian prior N(0, v I): closed forms from the Gaussian posterior
/// (precision Λ = γ²A + I/v, A = WᵀW, mean (A + I/(vγ²))⁻¹A g(x)) and the Gaussian p_flow =
/// N(b, vWWᵀ), derived independently of the general formulas:
/// C_μ = −A⁻¹g(x)/v; K = 0 (eq. 12 is exact); M = ½(g(x)ᵀA⁻¹g(x)/v² − tr A⁻¹/v);
/// E = ½(tr A⁻¹ − Σ_k 1/A_kk)/v ≥ 0 (the O(γ⁻²) term of −KL(q̂‖p(z|x)) + c_IMA), zero for
/// orthogonal columns. Both sides are a few Cholesky/inverse solves with A, κ(A) ≤ 16 here
/// (singular values of W in [0.5, 2]): agreement to 1e-12 relative to the size of the terms.
/// Also the finite-γ² closed forms: γ²(μ̂ − g(x)) − C_μ and γ²·gap − E are O(γ⁻²) — checked at
/// γ² = 1e6 to 1e-4 relative (their next coefficient is ≤ ‖A⁻¹‖²/v² ~ 10² here, so the residual is
/// ≤ 1e-4).
#[test]
fn affine_gaussian_coefficients_in_closed_form() {
    let mut rg = test_rng(151);
    for d in [1usize, 2, 3, 4] {
        let v = 1.3;
        let sv = DVector::from_fn(d, |k, _| 0.5 + 1.5 * k as f64 / (d as f64 - 0.99));
        let w =
            haar_orthogonal(d, &mut rg) * DMatrix::from_diagonal(&sv) * haar_orthogonal(d, &mut rg);
        let b = normal_vector(d, 1.0, &mut rg);
        let dec = Decoder::new(
            d,
            vec![Affine::new(w.clone(), Some(b.clone())).unwrap().into()],
        )
        .unwrap();
        let model = Model::new(Prior::gaussian(v).unwrap(), dec).unwrap();
        let x = normal_vector(d, 1.0, &mut rg);
        let z0 = w.clone().try_inverse().unwrap() * (&x - &b);
        let a = w.transpose() * &w;
        let ainv = a.clone().try_inverse().unwrap();
        let c_mu = -(&ainv * &z0) / v;
        let m = 0.5 * (z0.dot(&(&ainv * &z0)) / (v * v) - ainv.trace() / v);
        let e = 0.5 * (ainv.trace() - (0..d).map(|k| 1.0 / a[(k, k)]).sum::<f64>()) / v;
        let got = Asymptotics::new(&model, &x).unwrap();
        let scale = 1.0 + c_mu.amax();
        assert_within(
            &format!("d={d}: C_μ"),
            got.c_mu.as_slice(),
            c_mu.as_slice(),
            Tol::Scaled(1e-12, scale),
        );
        assert!(got.k.iter().all(|&t| t == 0.0), "d={d}: K = {}", got.k);
        let msize = 1.0 + z0.norm_squared() * ainv.norm() / (v * v) + ainv.trace() / v;
        assert_near(
            &format!("d={d}: M"),
            got.marginal,
            m,
            Tol::Scaled(1e-12, msize),
        );
        assert_near(&format!("d={d}: E"), got.gap, e, Tol::Scaled(1e-12, msize));
        assert!(got.gap >= -1e-12 * msize);
        let g2 = 1e6;
        let q = Query::new(&model, x.as_slice(), g2).unwrap();
        let cf = AffineGaussian::new(&q).unwrap();
        let y = (&cf.posterior_mean - &z0) * g2;
        assert_within(
            &format!("d={d}: γ²(m − g(x))"),
            y.as_slice(),
            c_mu.as_slice(),
            Tol::Scaled(1e-4, scale),
        );
        let ci = c_ima(model.decoder(), &z0).unwrap();
        let gap = (cf.elbo_star - (cf.log_marginal - ci)) * g2;
        assert_near(
            &format!("d={d}: γ²·gap(13)"),
            gap,
            e,
            Tol::Scaled(1e-4, msize),
        );
    }
}

/// Bad input is a typed error: a non-square decoder (no g), x at a Möbius step's image of
/// infinity (no inverse), x of the wrong length or not finite, a decoder that is not smooth.
#[test]
fn bad_input_is_an_error() {
    let mut rg = test_rng(152);
    let w = DMatrix::from_fn(3, 2, |i, j| (i + 2 * j) as f64 + 1.0);
    let dec = Decoder::new(2, vec![Affine::new(w, None).unwrap().into()]).unwrap();
    let model = Model::new(Prior::standard_normal(), dec).unwrap();
    assert!(Asymptotics::new(&model, &normal_vector(3, 1.0, &mut rg)).is_err());
    let case = &family_cases(3, &[Prior::standard_normal()], 1, &mut rg).unwrap()[3];
    let ima_oracle::model::Step::Moebius(mb) = &case.model.decoder().steps()[0] else {
        panic!("family 3 is the Möbius family");
    };
    assert!(Asymptotics::new(&case.model, &mb.shift().clone()).is_err());
    assert!(Asymptotics::new(&case.model, &DVector::zeros(2)).is_err());
    assert!(Asymptotics::new(&case.model, &DVector::from_element(3, f64::NAN)).is_err());
    // A leaky-ReLU decoder is not smooth: refused as the oracle's Gaussian expectations are.
    let kinked = Decoder::new(
        2,
        vec![
            Affine::new(DMatrix::identity(2, 2), None).unwrap().into(),
            ima_oracle::model::LeakyRelu::new(2, 0.2).unwrap().into(),
        ],
    )
    .unwrap();
    let model = Model::new(Prior::standard_normal(), kinked).unwrap();
    let e = Asymptotics::new(&model, &DVector::from_vec(vec![0.5, 0.7])).unwrap_err();
    assert!(matches!(e, OracleError::NotSmooth { step: 1 }), "{e:?}");
}

/// M = Δp_flow/(2p_flow) = ½(ΔL + ‖∇L‖²), L = log p_flow, against central differences of the
/// library's log p_flow (eq. 4, `log_flow_likelihood`: g(x) by the steps' inverses, no derivative
/// beyond the first) — independent of the third-derivative chain the closed form uses. Central
/// differences with h and h/2, h = 1e-2·s, s = min(1, 1/‖∇L‖) (the x-scale over which L varies),
/// Richardson-combined: truncation O(h⁴L⁽⁶⁾) ~ 1e-8 relative, round-off ~eps|L|/h² ≲ 1e-11·|L|/s².
/// Tolerance 1e-6 relative to 1 + |ΔL| + ‖∇L‖² (observed ≤ 1.1e-7 with the default seed, ≤ 3e-7
/// with seeds 1–10).
#[test]
fn marginal_coefficient_matches_differences_of_the_flow_density() {
    let mut worst: f64 = 0.0;
    for case in cases() {
        let model = &case.model;
        for x in &case.xs {
            let a = Asymptotics::new(model, x).unwrap();
            let l =
                |y: &DVector<f64>| log_flow_likelihood(model.decoder(), model.prior(), y).unwrap();
            let d = x.len();
            let l0 = l(x);
            let grad_and_lap = |h: f64| {
                let (mut g2, mut lap) = (0.0, 0.0);
                for k in 0..d {
                    let mut xp = x.clone();
                    let mut xm = x.clone();
                    xp[k] += h;
                    xm[k] -= h;
                    let (lp, lm) = (l(&xp), l(&xm));
                    let g = (lp - lm) / (2.0 * h);
                    g2 += g * g;
                    lap += (lp - 2.0 * l0 + lm) / (h * h);
                }
                (g2, lap)
            };
            let (g2c, _) = grad_and_lap(1e-4);
            let s = (1.0 / g2c.sqrt()).min(1.0);
            let h = 1e-2 * s;
            let (g2a, lapa) = grad_and_lap(h);
            let (g2b, lapb) = grad_and_lap(h / 2.0);
            let g2 = (4.0 * g2b - g2a) / 3.0;
            let lap = (4.0 * lapb - lapa) / 3.0;
            let m = 0.5 * (lap + g2);
            let scale = 1.0 + lap.abs() + g2;
            worst = worst.max((a.marginal - m).abs() / scale);
            assert_near(
                &format!("{}: M", case.name),
                a.marginal,
                m,
                Tol::Scaled(1e-6, scale),
            );
        }
    }
    eprintln!("worst |M − differences|/(1 + |ΔL| + ‖∇L‖²): {worst:e}");
}
