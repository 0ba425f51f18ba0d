//! The paper's synthetic experiments (§4), trained, with the oracle's exact optimum beside every
//! trained number (`proofs-check --experiment NAME`). Each experiment writes a CSV, SVG figures and
//! a section of `experiments/report.md`, with progress on stderr; the same command gives the same
//! CSV on every machine and thread count, byte for byte (every run is seeded, training is
//! deterministic, and the CSVs hold no timings: those go to the report).
//!
//! | file | experiment |
//! | --- | --- |
//! | `elbo_gap.rs` | §4.2, Fig. 4: the decoder fixed to a non-IMA ground truth, the encoder trained: the trained ELBO and the exact ELBO* against log pθ(x) and L_IMA |
//! | `moebius.rs` | §4.3, Fig. 3: MCC and c_IMA against γ² on a Möbius mixing; MCC against the mixing's c_IMA with a linear map after it |
//! | `sprites.rs` | §4.3, Fig. 5: Sprites images, d = 4, Beta prior through a sigmoid: MCC per factor, c_IMA during training, σ² against eq. 12 for D > d |
//! | `self_consistency.rs` | §4.1, Fig. 2: σ² against γ² and eq. 12, ‖f(μ(x)) − x‖² against γ², split into finite γ², amortisation and optimisation |

pub mod elbo_gap;
pub mod moebius;
pub mod self_consistency;
pub mod sprites;

use crate::svg::{Line, Style};

/// The experiments, by name.
pub const EXPERIMENTS: [&str; 5] = [
    "self-consistency",
    "elbo-gap",
    "moebius",
    "moebius-linear",
    "sprites",
];

/// The median of `v` (NaN-free; NaN when empty).
pub fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|t| !t.is_nan()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// A figure line from points.
pub fn line_of(name: &str, points: Vec<(f64, f64)>, style: Style) -> Line {
    Line {
        name: name.into(),
        points,
        style,
    }
}

/// Least-squares slope of log y against log x over the finite positive points.
pub fn log_slope(points: &[(f64, f64)]) -> f64 {
    let p: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0 && y.is_finite())
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    if p.len() < 2 {
        return f64::NAN;
    }
    let (xs, ys): (Vec<f64>, Vec<f64>) = p.into_iter().unzip();
    crate::fit::slope(&xs, &ys)
}

/// A run of a γ² sweep: the γ² it was trained at.
pub trait AtGamma {
    /// γ².
    fn gamma2(&self) -> f64;
}

/// The median over the runs at γ² = `g` of `f`.
pub fn median_at<R: AtGamma>(rows: &[R], g: f64, f: impl Fn(&R) -> f64) -> f64 {
    median(
        &rows
            .iter()
            .filter(|r| r.gamma2() == g)
            .map(f)
            .collect::<Vec<_>>(),
    )
}

/// (γ², median over the runs at γ² of `f`) for each of `gammas`: a figure's line.
pub fn per_gamma<R: AtGamma>(gammas: &[f64], rows: &[R], f: impl Fn(&R) -> f64) -> Vec<(f64, f64)> {
    gammas
        .iter()
        .map(|&g| (g, median_at(rows, g, &f)))
        .collect()
}

/// Runs `one(γ², seed)` for every γ² of `gammas` and seed below `seeds`, spread over `threads`
/// (each run sequential, so the rows do not depend on the thread count), printing `summary` of
/// each finished run on stderr as "NAME: run k/n: gamma2 G seed S: SUMMARY".
pub fn sweep<R: Send>(
    name: &str,
    gammas: &[f64],
    seeds: usize,
    threads: usize,
    one: impl Fn(f64, usize) -> R + Sync,
    summary: impl Fn(&R) -> String + Sync,
) -> Vec<R> {
    let runs: Vec<(f64, usize)> = gammas
        .iter()
        .flat_map(|&g| (0..seeds).map(move |s| (g, s)))
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    ima_oracle::parallel::par_map(
        runs.len(),
        threads,
        || (),
        |i, _| {
            let (g, s) = runs[i];
            let r = one(g, s);
            let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            eprintln!(
                "{name}: run {k}/{}: gamma2 {g:e} seed {s}: {}",
                runs.len(),
                summary(&r)
            );
            r
        },
    )
}

/// A VAE of the experiments: encoder MLP D → H → H → 2d, decoder d → H → H → D (leaky softplus 0.2
/// between linear layers, PyTorch's initialisation from `rng`), with a fixed sigmoid before the
/// decoder when `sigmoid_first` (the authors' uniform or Beta prior through a sigmoid).
pub fn mlp_vae(
    prior: ima_oracle::Prior,
    (d, dd, h): (usize, usize, usize),
    sigmoid_first: bool,
    rng: &mut ima_oracle::generate::OracleRng,
) -> ima_oracle::vae::Vae {
    use ima_oracle::vae::{init, Layer, Network, Vae};
    let enc = init::mlp(&[dd, h, h, 2 * d], 0.2, rng).expect("valid widths");
    let mlp = init::mlp(&[d, h, h, dd], 0.2, rng).expect("valid widths");
    let dec = if sigmoid_first {
        let mut layers = vec![Layer::Fixed(
            ima_oracle::Sigmoid::new(d).expect("d >= 1").into(),
        )];
        layers.extend(mlp.layers().iter().cloned());
        Network::new(d, layers).expect("shapes fit")
    } else {
        mlp
    };
    Vae::new(prior, enc, dec).expect("shapes fit")
}

/// The encoder's outputs (μ, log σ²) for every row of `xs` (row-major, D = the encoder's input).
pub fn encode_all(
    vae: &ima_oracle::vae::Vae,
    xs: &[f64],
) -> (nalgebra::DMatrix<f64>, nalgebra::DMatrix<f64>) {
    let (dd, d) = (vae.dim_observed(), vae.dim_latent());
    let n = xs.len() / dd;
    let mut tape = vae.encoder().tape();
    let (mut mu, mut lv) = (
        nalgebra::DMatrix::zeros(n, d),
        nalgebra::DMatrix::zeros(n, d),
    );
    for (i, x) in xs.chunks(dd).enumerate() {
        vae.encoder().forward(x, &mut tape);
        for k in 0..d {
            mu[(i, k)] = tape.output()[k];
            lv[(i, k)] = tape.output()[d + k];
        }
    }
    (mu, lv)
}

/// The training throughput of a sweep: `points × epochs` per run over the runs' summed training
/// seconds (each run trains on one thread), and the wall time.
pub fn throughput(
    runs: usize,
    points: usize,
    epochs: usize,
    train_seconds: f64,
    wall: f64,
) -> String {
    format!(
        "training throughput {:.0} points/s per thread ({runs} runs of {points} points x {epochs} \
         epochs, {train_seconds:.0} s of training; {wall:.0} s wall for the experiment)",
        (runs * points * epochs) as f64 / train_seconds.max(1e-9)
    )
}

/// The authors' training setting (§4.1): Adam with lr 1e-3, batch 64, one noise sample per point,
/// the ELBO (β = 1), at γ² for `epochs` from `seed`, on `threads` threads.
pub fn paper_training(
    gamma2: f64,
    epochs: usize,
    seed: u64,
    threads: usize,
) -> ima_oracle::vae::TrainOptions {
    ima_oracle::vae::TrainOptions {
        gamma2: ima_oracle::Gamma2::new(gamma2).expect("the experiments' gamma^2 are positive"),
        beta: ima_oracle::Beta::ONE,
        epochs,
        batch: 64,
        samples: 1,
        adam: ima_oracle::vae::AdamConfig::new(1e-3).expect("positive"),
        seed,
        freeze_decoder: false,
        threads,
    }
}
