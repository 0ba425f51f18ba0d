//! §4.3 (Fig. 3): disentanglement and the IMA principle on Möbius mixings. Sources uniform on
//! [0, 1]³; the mixing is a Möbius transformation f(s) = αA(u − a)/‖u − a‖², u = s − ½ (A Haar
//! orthogonal, the pole a at distance 2 from the cube's centre: a conformal map, in the IMA class,
//! c_IMA = 0), optionally followed by a random volume-preserving linear map W (|det W| = 1), which
//! makes c_IMA > 0. The VAE is the authors': a Gaussian posterior on z ∈ R³, the uniform prior
//! through a sigmoid — exactly the oracle model with prior `beta-logistic 1 1` and a first decoder
//! step `sigmoid` (docs/model-format.md) — then the MLP 3 → H → H → 3 of §4.1.
//!
//! * `moebius` (Fig. 3 left): γ² ∈ {1e1, …, 1e5}: MCC between the sources and σ(μ_φ(x)) (Pearson,
//!   and Spearman, which is invariant to the sigmoid) and the mean c_IMA of the learned decoder at
//!   the encodings, against γ².
//! * `moebius-linear` (Fig. 3 right): with the linear map, many seeds, γ² = 1e5: MCC against the
//!   mixing's mean c_IMA, and Spearman's rank correlation between them with a 95 % interval
//!   (Fisher's z with the variance 1.06/(n − 3) of Fieller, Hartley & Pearson 1957).

use super::{
    encode_all, line_of, median_at, mlp_vae, paper_training, per_gamma, sweep, throughput, AtGamma,
};
use crate::svg::{loglog, Style};
use ima_oracle::generate::{haar_orthogonal, rng, volume_preserving};
use ima_oracle::metrics::{mcc, Correlation};
use ima_oracle::paper::c_ima;
use ima_oracle::vae::train;
use ima_oracle::{Affine, Decoder, Moebius, Prior, Step};
use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// The settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Training points.
    pub n: usize,
    /// Epochs.
    pub epochs: usize,
    /// Seeds per γ² (`moebius`) or mixings (`moebius-linear`).
    pub seeds: usize,
    /// Hidden width.
    pub hidden: usize,
    /// γ² values (`moebius-linear` uses the last).
    pub gamma2: Vec<f64>,
    /// Apply a random volume-preserving linear map after the Möbius transformation.
    pub linear: bool,
    /// Worker threads.
    pub threads: usize,
    /// Base seed.
    pub seed: u64,
}

impl Config {
    /// `moebius` (linear = false) or `moebius-linear` (linear = true) at the default size.
    pub fn default_with(linear: bool, threads: usize, seed: u64) -> Self {
        Config {
            n: 4000,
            epochs: 300,
            seeds: if linear { 8 } else { 2 },
            hidden: 30,
            gamma2: if linear {
                vec![1e5]
            } else {
                vec![1e1, 1e2, 1e3, 1e4, 1e5]
            },
            linear,
            threads,
            seed,
        }
    }
}

/// One trained VAE.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// γ².
    pub gamma2: f64,
    /// Seed index (the mixing's, with `linear`).
    pub seed: usize,
    /// Mean c_IMA of the true mixing over the data.
    pub c_ima_mixing: f64,
    /// Mean c_IMA of the learned decoder at the encodings μ_φ(x).
    pub c_ima_learned: f64,
    /// MCC (Pearson) between the sources and σ(μ_φ(x)).
    pub mcc_pearson: f64,
    /// MCC (Spearman).
    pub mcc_spearman: f64,
    /// Final training loss.
    pub loss: f64,
    /// Seconds (training and measurements).
    pub seconds: f64,
    /// Seconds of training.
    pub train_seconds: f64,
}

impl AtGamma for RunResult {
    fn gamma2(&self) -> f64 {
        self.gamma2
    }
}

/// The mixing of seed `k`: u = s − ½, Möbius, then (with `linear`) a volume-preserving map.
fn mixing(cfg: &Config, k: usize) -> Decoder {
    let mut r = rng(cfg.seed.wrapping_mul(7919).wrapping_add(k as u64));
    let centre = Affine::new(
        DMatrix::identity(3, 3),
        Some(DVector::from_element(3, -0.5)),
    );
    let a = haar_orthogonal(3, &mut r);
    let dir = DVector::from_fn(3, |_, _| r.random_range(-1.0..1.0));
    let pole = dir.normalize() * 2.0;
    let m = Moebius::new(1.0, a, pole, DVector::zeros(3)).expect("a valid Möbius map");
    let mut steps: Vec<Step> = vec![centre.expect("identity").into(), m.into()];
    if cfg.linear {
        steps.push(
            Affine::new(volume_preserving(3, &mut r), None)
                .expect("full rank")
                .into(),
        );
    }
    Decoder::new(3, steps).expect("a valid chain")
}

/// One run: data from the mixing, the VAE trained at γ², MCC and c_IMA.
fn run_one(cfg: &Config, gamma2: f64, seed: usize) -> RunResult {
    let t = Instant::now();
    let f = mixing(cfg, if cfg.linear { seed } else { 0 });
    let run_seed = cfg.seed.wrapping_mul(1000).wrapping_add(seed as u64) ^ 0x43;
    let mut r = rng(run_seed);
    let n = cfg.n;
    let s = DMatrix::from_fn(n, 3, |_, _| r.random_range(0.0..1.0));
    let mut xs = Vec::with_capacity(3 * n);
    let mut c_mix = 0.0;
    for i in 0..n {
        let si = DVector::from_fn(3, |k, _| s[(i, k)]);
        xs.extend(f.forward(&si).expect("the pole is outside the cube").iter());
        c_mix += c_ima(&f, &si).unwrap_or(f64::NAN);
    }
    let prior = Prior::beta_logistic(1.0, 1.0).expect("the uniform prior through a sigmoid");
    let mut vae = mlp_vae(prior, (3, 3, cfg.hidden), true, &mut r);
    let opts = paper_training(gamma2, cfg.epochs, run_seed, 1);
    let mut out = RunResult {
        gamma2,
        seed,
        c_ima_mixing: c_mix / n as f64,
        ..Default::default()
    };
    let t_train = Instant::now();
    let trained = train(&mut vae, &xs, &opts, |_, _| Ok(()));
    out.train_seconds = t_train.elapsed().as_secs_f64();
    match trained {
        Ok(recs) => out.loss = recs.last().map_or(f64::NAN, |r| r.loss),
        Err(_) => out.loss = f64::NAN,
    }
    // Encodings μ_φ(x), their sigmoid, and c_IMA of the learned decoder there.
    let (mu, _) = encode_all(&vae, &xs);
    let squashed = mu.map(ima_oracle::model::sigmoid);
    out.mcc_pearson = mcc(&s, &squashed, Correlation::Pearson).map_or(f64::NAN, |m| m.score);
    out.mcc_spearman = mcc(&s, &mu, Correlation::Spearman).map_or(f64::NAN, |m| m.score);
    if let Ok(dec) = vae.decoder().to_decoder() {
        let sample = n.min(500);
        let total: f64 = (0..sample)
            .map(|i| {
                let z = DVector::from_fn(3, |k, _| mu[(i, k)]);
                c_ima(&dec, &z).unwrap_or(f64::NAN)
            })
            .sum();
        out.c_ima_learned = total / sample as f64;
    } else {
        out.c_ima_learned = f64::NAN;
    }
    out.seconds = t.elapsed().as_secs_f64();
    out
}

/// Every run, spread over the threads (each sequential: independent of the thread count).
pub fn run_rows(cfg: &Config) -> Vec<RunResult> {
    let name = if cfg.linear {
        "moebius-linear"
    } else {
        "moebius"
    };
    eprintln!(
        "{name}: {} gamma2 x {} seeds, {} points, {} epochs, {} threads",
        cfg.gamma2.len(),
        cfg.seeds,
        cfg.n,
        cfg.epochs,
        cfg.threads
    );
    sweep(
        name,
        &cfg.gamma2,
        cfg.seeds,
        cfg.threads,
        |g, s| run_one(cfg, g, s),
        |r| {
            format!(
                "MCC {:.4}, c_IMA learned {:.3e}, mixing {:.3e} ({:.1} s)",
                r.mcc_pearson, r.c_ima_learned, r.c_ima_mixing, r.seconds
            )
        },
    )
}

/// Spearman's rank correlation of the finite pairs and its 95 % interval by Fisher's z with
/// variance 1.06/(n − 3) (Fieller, Hartley & Pearson 1957): (ρ, lower, upper, n). The interval is
/// (NaN, NaN) when |ρ| = 1 (z is infinite: the approximation says nothing there). None below 4
/// finite pairs.
pub fn rank_correlation(pairs: &[(f64, f64)]) -> Option<(f64, f64, f64, usize)> {
    let finite: Vec<(f64, f64)> = pairs
        .iter()
        .copied()
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    let n = finite.len();
    if n < 4 {
        return None;
    }
    let a = DMatrix::from_fn(n, 1, |i, _| finite[i].0);
    let b = DMatrix::from_fn(n, 1, |i, _| finite[i].1);
    let rho = ima_oracle::metrics::correlation_matrix(&a, &b, Correlation::Spearman).ok()?[(0, 0)];
    if rho.abs() >= 1.0 {
        return Some((rho, f64::NAN, f64::NAN, n));
    }
    let z = rho.atanh();
    let half = 1.96 * (1.06 / (n as f64 - 3.0)).sqrt();
    Some((rho, (z - half).tanh(), (z + half).tanh(), n))
}

/// Runs the experiment: CSV, figure, report section.
pub fn run(cfg: &Config, out: &Path) -> std::io::Result<String> {
    let start = Instant::now();
    let rows = run_rows(cfg);
    let name = if cfg.linear {
        "moebius-linear"
    } else {
        "moebius"
    };
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join(format!("{name}.csv")), csv(&rows))?;
    let seconds = start.elapsed().as_secs_f64();
    if cfg.linear {
        std::fs::write(out.join("moebius-linear.svg"), linear_figure(&rows))?;
        Ok(linear_section(cfg, &rows, seconds))
    } else {
        std::fs::write(out.join("moebius.svg"), sweep_figure(cfg, &rows))?;
        Ok(sweep_section(cfg, &rows, seconds))
    }
}

/// The CSV of the runs.
fn csv(rows: &[RunResult]) -> String {
    let mut csv = String::from(
        "gamma2,seed,c_ima_mixing,c_ima_learned,mcc_pearson,mcc_spearman,final_loss\n",
    );
    for r in rows {
        let _ = writeln!(
            csv,
            "{:e},{},{:e},{:e},{:.6},{:.6},{:e}",
            r.gamma2,
            r.seed,
            r.c_ima_mixing,
            r.c_ima_learned,
            r.mcc_pearson,
            r.mcc_spearman,
            r.loss,
        );
    }
    csv
}

/// Fig. 3 left: 1 − MCC and c_IMA of the learned decoder against γ².
fn sweep_figure(cfg: &Config, rows: &[RunResult]) -> String {
    loglog(
        "4.3: Moebius mixing - MCC and c_IMA of the learned decoder against gamma^2",
        "gamma^2",
        "median over seeds",
        &[
            line_of(
                "1 - MCC (Pearson)",
                per_gamma(&cfg.gamma2, rows, |r| 1.0 - r.mcc_pearson),
                Style::LineMarkers,
            ),
            line_of(
                "c_IMA of the learned decoder",
                per_gamma(&cfg.gamma2, rows, |r| r.c_ima_learned),
                Style::LineMarkers,
            ),
        ],
    )
}

/// The report section of `moebius`.
fn sweep_section(cfg: &Config, rows: &[RunResult], seconds: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## moebius (§4.3, Fig. 3 left)\n\nUniform sources on [0, 1]^3, a Moebius mixing \
         (c_IMA = 0), the VAE with the uniform prior through a sigmoid (prior beta-logistic 1 1, \
         first decoder step sigmoid): {} points, {} epochs, {} seed(s); {seconds:.0} s. Medians \
         over seeds.\n",
        cfg.n, cfg.epochs, cfg.seeds,
    );
    let trained: f64 = rows.iter().map(|r| r.train_seconds).sum();
    let _ = writeln!(
        s,
        "{}.\n",
        throughput(rows.len(), cfg.n, cfg.epochs, trained, seconds)
    );
    s += "| gamma^2 | MCC (Pearson, sigma(mu)) | MCC (Spearman) | c_IMA learned decoder | c_IMA mixing |\n";
    s += "| --- | --- | --- | --- | --- |\n";
    for &g in &cfg.gamma2 {
        let m = |f: fn(&RunResult) -> f64| median_at(rows, g, f);
        let _ = writeln!(
            s,
            "| {g:.0e} | {:.4} | {:.4} | {:.3e} | {:.1e} |",
            m(|r| r.mcc_pearson),
            m(|r| r.mcc_spearman),
            m(|r| r.c_ima_learned),
            m(|r| r.c_ima_mixing)
        );
    }
    s += "\nThe paper: MCC rises and c_IMA falls as gamma^2 grows (Fig. 3 left).\n\n";
    s
}

/// The (c_IMA of the mixing, MCC) pairs of the runs.
fn pairs(rows: &[RunResult]) -> Vec<(f64, f64)> {
    rows.iter()
        .map(|r| (r.c_ima_mixing, r.mcc_pearson))
        .collect()
}

/// Fig. 3 right: 1 − MCC against the mixing's c_IMA.
fn linear_figure(rows: &[RunResult]) -> String {
    loglog(
        "4.3: Moebius + volume-preserving linear map: 1 - MCC against the mixing's c_IMA",
        "c_IMA of the mixing",
        "1 - MCC (Pearson)",
        &[line_of(
            "one mixing (seed)",
            pairs(rows).iter().map(|&(c, m)| (c, 1.0 - m)).collect(),
            Style::Markers,
        )],
    )
}

/// The report section of `moebius-linear`.
fn linear_section(cfg: &Config, rows: &[RunResult], seconds: f64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## moebius-linear (§4.3, Fig. 3 right)\n\nThe Moebius mixing followed by a random \
         volume-preserving linear map (c_IMA > 0), gamma^2 = {:.0e}, {} mixings, {} points, {} \
         epochs; {seconds:.0} s.\n",
        cfg.gamma2.last().copied().unwrap_or(f64::NAN),
        cfg.seeds,
        cfg.n,
        cfg.epochs,
    );
    let trained: f64 = rows.iter().map(|r| r.train_seconds).sum();
    let _ = writeln!(
        s,
        "{}.\n",
        throughput(rows.len(), cfg.n, cfg.epochs, trained, seconds)
    );
    s += "| mixing | c_IMA mixing | MCC (Pearson) | MCC (Spearman) | c_IMA learned |\n| --- | --- | --- | --- | --- |\n";
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.4} | {:.4} | {:.3e} |",
            r.seed, r.c_ima_mixing, r.mcc_pearson, r.mcc_spearman, r.c_ima_learned
        );
    }
    match rank_correlation(&pairs(rows)) {
        Some((rho, lo, hi, n)) => {
            let _ = writeln!(
                s,
                "\nSpearman's rank correlation between the mixing's c_IMA and MCC: {rho:.3} \
                 (95 % interval {lo:.3} to {hi:.3}, Fisher's z; n = {n} of {} runs with finite \
                 numbers). The paper: MCC decreases as c_IMA grows (100 seeds).\n",
                rows.len()
            );
        }
        None => s += "\n(Fewer than 4 runs with finite MCC and c_IMA: no rank correlation.)\n",
    }
    s
}
