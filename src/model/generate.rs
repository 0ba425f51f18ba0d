//! Seeded generators for the paper's mixings (§4) and ready-made decoders of its four model families.
//!
//! All randomness comes from a [`OracleRng`] (ChaCha8) passed in explicitly: the same seed gives the
//! same numbers on every machine. Every generated matrix is validated by the step constructors, so a
//! (probability-zero) singular draw is an error, never a silently bad model.
//!
//! | generator | law | paper |
//! | --- | --- | --- |
//! | [`haar_orthogonal`] | Haar measure on O(n): Q of the QR of a Gaussian matrix, columns signed by diag R | §4.1 weights |
//! | [`upper_triangular`] | U(−1, 1) above the diagonal, diagonal ±U(0.5, 1.5) | §4.2 weights |
//! | [`uniform_matrix`] | i.i.d. U(lo, hi) entries | |
//! | [`moebius_step`] | α = 1, A Haar, b = 0, pole a at distance `pole_distance` in a uniform direction | §4.3 |
//! | [`volume_preserving`] | Gaussian matrix scaled to |det| = 1 (generically c_IMA > 0) | §4.3 |
//! | [`column_normalised`] | Gaussian matrix with unit-norm columns (c_IMA = −log|det| > 0) | §4.3 |
//! | [`sigmoid_moebius_decoder`] | elementwise sigmoid, then a Möbius step with its pole at distance 2 from the centre of (0, 1)^d | §4.3, the authors' model |

use super::decoder::{Affine, Decoder, DecoderError, LeakySoftplus, Moebius, Sigmoid, Step};
use super::{Model, Prior, Source};
use nalgebra::{DMatrix, DVector};
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

/// The project's random number generator: ChaCha with 8 rounds, seeded explicitly.
pub type OracleRng = rand_chacha::ChaCha8Rng;

/// A generator seeded with `seed`.
pub fn rng(seed: u64) -> OracleRng {
    OracleRng::seed_from_u64(seed)
}

fn gaussian_matrix(rows: usize, cols: usize, rng: &mut OracleRng) -> DMatrix<f64> {
    // Filled column by column, in a fixed order, so the draw is reproducible.
    DMatrix::from_fn(rows, cols, |_, _| rng.sample::<f64, _>(StandardNormal))
}

/// A Haar-random n×n orthogonal matrix (Mezzadri's recipe: QR of a Gaussian matrix, with the
/// columns of Q multiplied by the signs of diag R so that the law is exactly Haar).
pub fn haar_orthogonal(n: usize, rng: &mut OracleRng) -> DMatrix<f64> {
    let qr = gaussian_matrix(n, n, rng).qr();
    let (mut q, r) = (qr.q(), qr.r());
    for k in 0..n {
        if r[(k, k)] < 0.0 {
            q.column_mut(k).neg_mut();
        }
    }
    q
}

/// An n×n upper-triangular matrix: entries above the diagonal U(−1, 1), diagonal entries of random
/// sign and magnitude U(0.5, 1.5) — invertible, generically with non-orthogonal columns (§4.2).
pub fn upper_triangular(n: usize, rng: &mut OracleRng) -> DMatrix<f64> {
    let mut m = DMatrix::zeros(n, n);
    for j in 0..n {
        for i in 0..=j {
            let u: f64 = rng.random();
            m[(i, j)] = if i == j {
                let s: bool = rng.random();
                (0.5 + u) * if s { 1.0 } else { -1.0 }
            } else {
                2.0 * u - 1.0
            };
        }
    }
    m
}

/// A rows×cols matrix with i.i.d. U(lo, hi) entries.
pub fn uniform_matrix(
    rows: usize,
    cols: usize,
    lo: f64,
    hi: f64,
    rng: &mut OracleRng,
) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| lo + (hi - lo) * rng.random::<f64>())
}

/// A Gaussian n×n matrix rescaled to |det| = 1: volume-preserving, generically not in the IMA class.
pub fn volume_preserving(n: usize, rng: &mut OracleRng) -> DMatrix<f64> {
    let m = gaussian_matrix(n, n, rng);
    let det = m.clone().lu().determinant().abs();
    m / det.powf(1.0 / n as f64)
}

/// A Gaussian n×n matrix with unit-norm columns, so c_IMA = −log|det| ≥ 0 (Hadamard).
pub fn column_normalised(n: usize, rng: &mut OracleRng) -> DMatrix<f64> {
    let mut m = gaussian_matrix(n, n, rng);
    for mut c in m.column_iter_mut() {
        let norm = c.norm();
        c /= norm;
    }
    m
}

/// A Möbius step of §4.3: α = 1, A Haar-orthogonal, b = 0, and the pole a at distance
/// `pole_distance` from the origin in a uniformly random direction (place it outside the data's
/// support: for sources on [−½, ½]^n, any distance > √n/2).
pub fn moebius_step(
    n: usize,
    pole_distance: f64,
    rng: &mut OracleRng,
) -> Result<Moebius, DecoderError> {
    let a_mat = haar_orthogonal(n, rng);
    let dir = DVector::from_fn(n, |_, _| rng.sample::<f64, _>(StandardNormal));
    let pole = dir.normalize() * pole_distance;
    Moebius::new(1.0, a_mat, pole, DVector::zeros(n))
}

/// The default pole distance of the ready-made Möbius decoders: 2, outside [−½, ½]^d for d ≤ 15.
pub const DEFAULT_POLE_DISTANCE: f64 = 2.0;

/// The half-width of the authors' model's test sources in z: logit(0.95) ≈ 2.944, so σ(z) lies in
/// [0.05, 0.95] ([`Family::data_source`]).
pub const AUTHORS_Z_MAX: f64 = 2.944_438_979_166_440_5;

/// The slope of the smooth leaky ReLU in the paper's experiments (§4.1): 0.2.
pub const PAPER_ALPHA: f64 = 0.2;

/// §4.1: `layers` × (Haar-orthogonal linear map, leaky softplus(α)) on R^d, no biases —
/// not in the IMA class in general. `mlp_orthogonal(3, 3, 0.2, rng)` has the shape of MLP3.
pub fn mlp_orthogonal(
    d: usize,
    layers: usize,
    alpha: f64,
    rng: &mut OracleRng,
) -> Result<Decoder, DecoderError> {
    mlp(d, layers, alpha, rng, haar_orthogonal)
}

/// `layers` × (linear map drawn by `weights`, leaky softplus(α)) on R^d, no biases.
fn mlp(
    d: usize,
    layers: usize,
    alpha: f64,
    rng: &mut OracleRng,
    weights: fn(usize, &mut OracleRng) -> DMatrix<f64>,
) -> Result<Decoder, DecoderError> {
    let mut steps: Vec<Step> = Vec::with_capacity(2 * layers);
    for _ in 0..layers {
        steps.push(Affine::new(weights(d, rng), None)?.into());
        steps.push(LeakySoftplus::new(d, alpha)?.into());
    }
    Decoder::new(d, steps)
}

/// §4.2: `layers` × (upper-triangular linear map, leaky softplus(α)) on R^d — an invertible mixing
/// outside the IMA class.
pub fn mlp_triangular(
    d: usize,
    layers: usize,
    alpha: f64,
    rng: &mut OracleRng,
) -> Result<Decoder, DecoderError> {
    mlp(d, layers, alpha, rng, upper_triangular)
}

/// §4.3: a Möbius map (in the IMA class: c_IMA = 0 everywhere).
pub fn moebius_decoder(d: usize, rng: &mut OracleRng) -> Result<Decoder, DecoderError> {
    Decoder::new(d, vec![moebius_step(d, DEFAULT_POLE_DISTANCE, rng)?.into()])
}

/// §4.3: a Möbius map followed by a volume-preserving linear map (leaves the IMA class).
pub fn moebius_volume_preserving(d: usize, rng: &mut OracleRng) -> Result<Decoder, DecoderError> {
    let m = moebius_step(d, DEFAULT_POLE_DISTANCE, rng)?;
    let v = Affine::new(volume_preserving(d, rng), None)?;
    Decoder::new(d, vec![m.into(), v.into()])
}

/// §4.3 as the authors implement it: an elementwise sigmoid onto (0, 1)^d, then a Möbius step
/// (α = 1, A Haar, b = 0) whose pole lies at distance [`DEFAULT_POLE_DISTANCE`] from the cube's
/// centre (½, …, ½) in a uniform direction — outside [0, 1]^d with margin 2 − √d/2 for d ≤ 15, so
/// the decoder never reaches it (no pole guard; [`Model::new`]). With the prior
/// [`Family::own_prior`] (beta-logistic 1 1 = the standard logistic: σ(z) uniform on (0, 1)^d)
/// this is exactly the authors' uniform prior on the cube mixed by a Möbius map. In the IMA class:
/// the sigmoid's Jacobian is diagonal and the Möbius map conformal, so the product has orthogonal
/// columns (c_IMA = 0).
pub fn sigmoid_moebius_decoder(d: usize, rng: &mut OracleRng) -> Result<Decoder, DecoderError> {
    let a_mat = haar_orthogonal(d, rng);
    let dir = DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
    let pole = DVector::from_element(d, 0.5) + dir.normalize() * DEFAULT_POLE_DISTANCE;
    let m = Moebius::new(1.0, a_mat, pole, DVector::zeros(d))?;
    Decoder::new(d, vec![Sigmoid::new(d)?.into(), m.into()])
}

/// An affine decoder W z + b with Gaussian W and b (non-orthogonal columns): the case with closed
/// forms when the prior is Gaussian.
pub fn affine_decoder(d: usize, rng: &mut OracleRng) -> Result<Decoder, DecoderError> {
    let w = gaussian_matrix(d, d, rng);
    let b = DVector::from_fn(d, |_, _| rng.sample::<f64, _>(StandardNormal));
    Decoder::new(d, vec![Affine::new(w, Some(b))?.into()])
}

/// The model families of the paper's §4 (plus the affine case), for loops over "every family".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// [`affine_decoder`].
    Affine,
    /// [`mlp_orthogonal`] with 3 layers and α = 0.2 (§4.1).
    MlpOrthogonal,
    /// [`mlp_triangular`] with 3 layers and α = 0.2 (§4.2).
    MlpTriangular,
    /// [`moebius_decoder`] (§4.3).
    Moebius,
    /// [`moebius_volume_preserving`] (§4.3).
    MoebiusVolumePreserving,
    /// [`sigmoid_moebius_decoder`] with its own prior, the uniform on (0, 1)^d through the sigmoid
    /// ([`Family::own_prior`]): the authors' §4.3 model. Not in [`Family::ALL`] (the golden
    /// vectors' set); in [`Family::WITH_AUTHORS`].
    SigmoidMoebius,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 5] = [
        Family::Affine,
        Family::MlpOrthogonal,
        Family::MlpTriangular,
        Family::Moebius,
        Family::MoebiusVolumePreserving,
    ];

    /// [`Family::ALL`] and the authors' §4.3 model ([`Family::SigmoidMoebius`]): proofs-check's
    /// families.
    pub const WITH_AUTHORS: [Family; 6] = [
        Family::Affine,
        Family::MlpOrthogonal,
        Family::MlpTriangular,
        Family::Moebius,
        Family::MoebiusVolumePreserving,
        Family::SigmoidMoebius,
    ];

    /// The families with a Möbius step.
    pub const MOEBIUS: [Family; 3] = [
        Family::Moebius,
        Family::MoebiusVolumePreserving,
        Family::SigmoidMoebius,
    ];

    /// A short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Family::Affine => "affine",
            Family::MlpOrthogonal => "mlp-orthogonal",
            Family::MlpTriangular => "mlp-triangular",
            Family::Moebius => "moebius",
            Family::MoebiusVolumePreserving => "moebius+volume-preserving",
            Family::SigmoidMoebius => "sigmoid-moebius",
        }
    }

    /// Whether the family is in the IMA class (c_IMA = 0 everywhere).
    pub fn in_ima_class(&self) -> bool {
        matches!(self, Family::Moebius | Family::SigmoidMoebius)
    }

    /// The prior the family is defined with, if it has one: the authors' uniform on (0, 1)^d
    /// through the sigmoid, `beta-logistic 1 1`, for [`Family::SigmoidMoebius`]; `None` for the
    /// others, which are checked under any prior.
    pub fn own_prior(&self) -> Option<Prior> {
        match self {
            Family::SigmoidMoebius => Some(Prior::beta_logistic(1.0, 1.0).expect("valid")),
            _ => None,
        }
    }

    /// A decoder of this family on R^d.
    pub fn build(&self, d: usize, rng: &mut OracleRng) -> Result<Decoder, DecoderError> {
        match self {
            Family::Affine => affine_decoder(d, rng),
            Family::MlpOrthogonal => mlp_orthogonal(d, 3, PAPER_ALPHA, rng),
            Family::MlpTriangular => mlp_triangular(d, 3, PAPER_ALPHA, rng),
            Family::Moebius => moebius_decoder(d, rng),
            Family::MoebiusVolumePreserving => moebius_volume_preserving(d, rng),
            Family::SigmoidMoebius => sigmoid_moebius_decoder(d, rng),
        }
    }

    /// The law of the latent sources of this family's data: the prior for the affine and MLP
    /// families; uniform on [−½, ½]^d for the Möbius families (§4.3), which keeps the data away
    /// from the pole (at distance [`DEFAULT_POLE_DISTANCE`]). The authors' model: z uniform on
    /// [−[`AUTHORS_Z_MAX`], [`AUTHORS_Z_MAX`]]^d, i.e. σ(z) ∈ [0.05, 0.95]^d — test points inside
    /// the cube (their prior draws σ(z) uniform on all of (0, 1)^d). The range is kept so that
    /// proofs-check's sweeps stay comparable; log pθ(x) itself is answered nearer the faces too
    /// (σ(z) = 0.001 and 0.999 at γ² = 1e1 … 1e10 in a probe, by the cube route), and the
    /// asymptotic claims need the sigmoid's slope away from 0.
    pub fn data_source(&self, prior: Prior) -> Source {
        match self {
            Family::Moebius | Family::MoebiusVolumePreserving => {
                Source::uniform(-0.5, 0.5).expect("a valid interval")
            }
            Family::SigmoidMoebius => {
                Source::uniform(-AUTHORS_Z_MAX, AUTHORS_Z_MAX).expect("a valid interval")
            }
            _ => Source::Prior(prior),
        }
    }
}

/// A model of one family with data drawn from its source (see [`family_cases`]).
#[derive(Debug, Clone)]
pub struct FamilyCase {
    /// The family.
    pub family: Family,
    /// Its model: a decoder of the family in d dimensions with the given prior.
    pub model: Model,
    /// Latent sources z, from [`Family::data_source`].
    pub zs: Vec<DVector<f64>>,
    /// Observations x = f(z).
    pub xs: Vec<DVector<f64>>,
}

/// For every family (in the order of [`Family::ALL`]) and every prior: a decoder on R^d and
/// `points` observations x = f(z), all drawn from `rng` in that order (the decoder, then the
/// coordinates of each z in turn) — the cases of `proofs-check` and of the golden vectors.
/// Errors if a decoder cannot be built or a point hits a pole (both of probability zero).
pub fn family_cases(
    d: usize,
    priors: &[Prior],
    points: usize,
    rng: &mut OracleRng,
) -> Result<Vec<FamilyCase>, DecoderError> {
    family_cases_of(&Family::ALL, d, priors, points, rng)
}

/// [`family_cases`] for the given families, in order: each family under every prior of `priors`,
/// or under its [`Family::own_prior`] alone if it has one.
pub fn family_cases_of(
    families: &[Family],
    d: usize,
    priors: &[Prior],
    points: usize,
    rng: &mut OracleRng,
) -> Result<Vec<FamilyCase>, DecoderError> {
    let mut out = Vec::with_capacity(families.len() * priors.len());
    for &family in families {
        let own = family.own_prior().map(|p| vec![p]);
        for &prior in own.as_deref().unwrap_or(priors) {
            let model = Model::new(prior, family.build(d, rng)?)?;
            let source = family.data_source(prior);
            let zs: Vec<DVector<f64>> = (0..points)
                .map(|_| DVector::from_fn(d, |_, _| source.sample_1d(rng)))
                .collect();
            let xs = zs
                .iter()
                .map(|z| model.decoder().forward(z))
                .collect::<Result<_, _>>()?;
            out.push(FamilyCase {
                family,
                model,
                zs,
                xs,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// QᵀQ = I to round-off (8n·eps absolute, entry by entry), and the same seed gives the same
    /// matrix.
    #[test]
    fn haar_is_orthogonal_and_reproducible() {
        for n in 1..=6 {
            let q = haar_orthogonal(n, &mut rng(n as u64));
            assert_within(
                &format!("QᵀQ, n={n}"),
                (q.transpose() * &q).as_slice(),
                DMatrix::<f64>::identity(n, n).as_slice(),
                Tol::Scaled(8.0 * n as f64 * f64::EPSILON, 1.0),
            );
            assert_eq!(q, haar_orthogonal(n, &mut rng(n as u64)));
        }
    }

    /// Haar: E[Q_11²] = 1/n; over 20 000 draws of n = 3 the standard error is ≈ 0.002; allow 0.01
    /// absolute.
    #[test]
    fn haar_first_moment() {
        let mut r = rng(5);
        let m = 20_000;
        let s: f64 = (0..m)
            .map(|_| haar_orthogonal(3, &mut r)[(0, 0)].powi(2))
            .sum();
        assert_within(
            "mean of Q_11²",
            &[s / m as f64],
            &[1.0 / 3.0],
            Tol::Scaled(0.01, 1.0),
        );
    }

    /// The authors' §4.3 model: the pole lies outside [0, 1]^d (at distance 2 from the centre, so
    /// ≥ 2 − √d/2 from the cube), the model has no reachable pole, and it is in the IMA class:
    /// JᵀJ is diagonal (a diagonal sigmoid Jacobian times a conformal Möbius one) — off-diagonal
    /// entries ≤ 1e-14 relative to the diagonal (a few eps per product of O(1) entries) — and
    /// c_IMA ≤ 1e-13 (a sum of d + 1 logarithms, as proofs-check's ZERO_CONTRAST), at prior draws
    /// of d = 2, 3, 5.
    #[test]
    fn authors_moebius_is_in_the_ima_class_with_an_unreachable_pole() {
        let mut r = rng(21);
        for d in [2, 3, 5] {
            let cases = family_cases_of(
                &[Family::SigmoidMoebius],
                d,
                &[Prior::standard_normal()],
                8,
                &mut r,
            )
            .unwrap();
            // Its own prior only, not the one asked for.
            assert_eq!(cases.len(), 1);
            let case = &cases[0];
            assert_eq!(case.model.prior().name(), "beta-logistic");
            assert!(case.model.poles().is_empty(), "d={d}");
            let Step::Moebius(m) = &case.model.decoder().steps()[1] else {
                panic!("the second step is the Möbius step");
            };
            let centre = DVector::from_element(d, 0.5);
            assert_within(
                "pole distance from the centre",
                &[(m.pole() - &centre).norm()],
                &[DEFAULT_POLE_DISTANCE],
                Tol::Scaled(1e-15, 1.0),
            );
            let to_cube = m.pole().map(|p| (p - p.clamp(0.0, 1.0)).abs()).norm();
            assert!(to_cube >= DEFAULT_POLE_DISTANCE - (d as f64).sqrt() / 2.0 - 1e-12);
            for z in &case.zs {
                let j = case.model.decoder().jacobian(z).unwrap();
                let jtj = j.transpose() * &j;
                for a in 0..d {
                    for b in 0..d {
                        if a != b {
                            let scale = (jtj[(a, a)] * jtj[(b, b)]).sqrt();
                            assert!(jtj[(a, b)].abs() <= 1e-14 * scale, "d={d} JᵀJ {jtj}");
                        }
                    }
                }
                let c = crate::paper::ima::c_ima(case.model.decoder(), z).unwrap();
                assert!(c.abs() <= 1e-13, "d={d} c_IMA {c:e}");
            }
        }
    }

    /// Adding the authors' family leaves [`family_cases`] (the golden vectors' set) as it was: the
    /// same five families, drawn in the same order.
    #[test]
    fn family_cases_is_the_five_families() {
        let priors = [Prior::standard_normal()];
        let a = family_cases(3, &priors, 2, &mut rng(3)).unwrap();
        let b = family_cases_of(&Family::WITH_AUTHORS, 3, &priors, 2, &mut rng(3)).unwrap();
        assert_eq!(a.len(), Family::ALL.len());
        assert_eq!(b.len(), a.len() + 1);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.family, y.family);
            assert_eq!(x.xs, y.xs);
        }
    }

    #[test]
    fn volume_and_columns() {
        let mut r = rng(9);
        for n in 2..=5 {
            let v = volume_preserving(n, &mut r);
            // |det| = 1 to the round-off of an LU of an n ≤ 5 matrix (1e-13 absolute); unit
            // columns to a few ulps (1e-15 absolute).
            assert_within(
                "|det V|",
                &[v.clone().lu().determinant().abs()],
                &[1.0],
                Tol::Scaled(1e-13, 1.0),
            );
            let c = column_normalised(n, &mut r);
            for col in c.column_iter() {
                assert_within(
                    "column norm",
                    &[col.norm()],
                    &[1.0],
                    Tol::Scaled(1e-15, 1.0),
                );
            }
            let t = upper_triangular(n, &mut r);
            for i in 0..n {
                assert!(t[(i, i)].abs() >= 0.5);
                for j in 0..i {
                    assert_eq!(t[(i, j)], 0.0);
                }
            }
        }
    }
}
