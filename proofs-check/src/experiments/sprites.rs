//! §4.3 (Fig. 5): Sprites. Images of one anti-aliased triangle (`ima_oracle::sprites`, the
//! authors' spriteworld geometry and factor laws, 32 × 32 × 3 in [0, 1]) rendered from four
//! Beta-distributed factors — x, y, size, hue — and a VAE (not a β-VAE) with d = 4 latents, a
//! factorised Gaussian posterior and the Beta prior through a sigmoid as the authors build it
//! (prior beta-logistic, first decoder step sigmoid; here Beta(1, 1)), γ² = 1. Encoder MLP
//! 3072 → H → H → 8, decoder sigmoid, 4 → H → H → 3072, leaky softplus 0.2 (the authors: ReLU conv
//! nets, proofs-check/README.md).
//!
//! Training (measured, README): Adam lr 1e-3, batch 16, a warm-up of a few epochs at γ² = 1e3 (a
//! KL warm-up: with Adam, γ² = 1e3 is β = 1e-3 at γ² = 1 up to ε) before the rest at γ², each phase
//! with a fresh Adam; without it the posterior collapses at γ² = 1 in our budget. Seeds run in
//! parallel, one thread each; the figures show the best seed by final MCC, as the paper its best
//! model.
//!
//! Reported: MCC (Spearman, components matched) per factor and overall, per seed, during and after
//! training, with the correlation matrix and the authors' measure (Pearson on the sigmoid of the
//! latent); c_IMA of the decoder for D > d (½ log det diag(JᵀJ) − ½ log det JᵀJ, J = 3072 × 4 by
//! the chain) at the encodings, during training; σ_φ² against eq. 12 generalised to D > d
//! (1/σ_k² = −(log m)''(μ_k) + γ²‖J_{:,k}‖², J at μ_φ(x)); figures of true against estimated
//! factors and of latent interpolations (SVG). D ≫ d is outside the theory: the comparison shows
//! how far its predictions carry.

use super::{encode_all, median, mlp_vae, paper_training};
use crate::svg::{loglog, Line, Style};
use ima_oracle::generate::rng;
use ima_oracle::inference::Eq12Terms;
use ima_oracle::metrics::{correlation_matrix, mcc, Correlation};
use ima_oracle::paper::c_ima;
use ima_oracle::sprites::{render, RenderOptions, SpriteLaw};
use ima_oracle::vae::{train, AdamConfig, Vae};
use ima_oracle::{Gamma2, Model, Prior};
use nalgebra::{DMatrix, DVector};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// The settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Training images.
    pub n: usize,
    /// Epochs.
    pub epochs: usize,
    /// Hidden width of both networks.
    pub hidden: usize,
    /// Images for MCC and the per-epoch measurements.
    pub probe: usize,
    /// The decoder precision γ² (the paper: 1).
    pub gamma2: f64,
    /// Image side in pixels (the authors: 64).
    pub pixels: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Minibatch size.
    pub batch: usize,
    /// The Beta(a, b) prior through the sigmoid.
    pub prior: (f64, f64),
    /// Warm-up: epochs trained first at γ² = `warmup_gamma2` (0: none).
    pub warmup_epochs: usize,
    /// γ² of the warm-up.
    pub warmup_gamma2: f64,
    /// Threads of the training crew.
    pub threads: usize,
    /// Seeds (independent initialisations and training noise on the same data), run in parallel.
    pub seeds: usize,
    /// Seed.
    pub seed: u64,
}

impl Config {
    /// The default run (about ten minutes on 2 shared cores; a few on 2 idle ones): the authors'
    /// data at 32 × 32, γ² = 1 after a warm-up, two seeds in parallel.
    pub fn default_with(threads: usize, seed: u64) -> Self {
        Config {
            n: 6000,
            epochs: 60,
            hidden: 64,
            probe: 500,
            gamma2: 1.0,
            pixels: 32,
            lr: 1e-3,
            batch: 16,
            prior: (1.0, 1.0),
            warmup_epochs: 5,
            warmup_gamma2: 1e3,
            seeds: 2,
            threads,
            seed,
        }
    }
}

/// What one epoch's measurements gave.
#[derive(Debug, Clone, Copy, Default)]
pub struct EpochRow {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Training loss.
    pub loss: f64,
    /// Overall MCC (Spearman) on the probe images.
    pub mcc: f64,
    /// Mean c_IMA of the decoder at the probe encodings (the first 32).
    pub c_ima: f64,
    /// MCC (Spearman) per factor x, y, size, hue.
    pub per_factor: [f64; 4],
}

/// Mean c_IMA of `model`'s decoder at the first 32 encodings.
fn mean_c_ima(model: &Model, mu: &DMatrix<f64>) -> f64 {
    let k = mu.nrows().min(32);
    let v: Vec<f64> = (0..k)
        .filter_map(|i| c_ima(model.decoder(), &mu.row(i).transpose()).ok())
        .collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// An SVG grid of images (rows × cols, each `px` × `px` RGB in [0, 1]), one rect per pixel.
fn image_grid(
    title: &str,
    images: &[Vec<f64>],
    cols: usize,
    px: usize,
    labels: &[String],
) -> String {
    let cell = 3usize;
    let rows = images.len().div_ceil(cols);
    let (w, h) = (cols * (px * cell + 4) + 160, rows * (px * cell + 4) + 30);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" shape-rendering=\"crispEdges\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n<text x=\"4\" y=\"16\" font-size=\"13\">{title}</text>\n"
    );
    for (k, img) in images.iter().enumerate() {
        let (r, c) = (k / cols, k % cols);
        let (ox, oy) = (160 + c * (px * cell + 4), 24 + r * (px * cell + 4));
        if c == 0 {
            if let Some(l) = labels.get(r) {
                let _ = writeln!(
                    s,
                    "<text x=\"4\" y=\"{}\" font-size=\"12\">{l}</text>",
                    oy + px * cell / 2
                );
            }
        }
        let _ = writeln!(
            s,
            "<rect x=\"{ox}\" y=\"{oy}\" width=\"{}\" height=\"{}\" fill=\"black\"/>",
            px * cell,
            px * cell
        );
        for y in 0..px {
            for x in 0..px {
                let p = &img[(y * px + x) * 3..(y * px + x) * 3 + 3];
                if p.iter().all(|&v| v < 0.02) {
                    continue;
                }
                let q = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                let _ = writeln!(
                    s,
                    "<rect x=\"{}\" y=\"{}\" width=\"{cell}\" height=\"{cell}\" fill=\"#{:02x}{:02x}{:02x}\"/>",
                    ox + x * cell,
                    oy + y * cell,
                    q(p[0]),
                    q(p[1]),
                    q(p[2])
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

/// A scatter of true against estimated factors, one panel per factor, linear axes on [0, 1].
fn factor_scatter(
    truth: &DMatrix<f64>,
    est: &DMatrix<f64>,
    matching: &[usize],
    names: &[&str],
) -> String {
    let (pw, ph) = (220.0, 220.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        4.0 * (pw + 30.0) + 20.0,
        ph + 60.0
    );
    for (k, name) in names.iter().enumerate() {
        let l = matching[k];
        let col = est.column(l);
        let (lo, hi) = col
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let ox = 20.0 + k as f64 * (pw + 30.0);
        let _ = writeln!(
            s,
            "<rect x=\"{ox}\" y=\"30\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"black\"/>\n\
             <text x=\"{}\" y=\"20\" font-size=\"12\">{name}: true (x) vs latent {l} (y)</text>",
            ox + 4.0
        );
        for i in 0..truth.nrows().min(500) {
            let u = truth[(i, k)];
            let v = (est[(i, l)] - lo) / (hi - lo).max(1e-300);
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"1.5\" fill=\"#1f77b4\" fill-opacity=\"0.5\"/>",
                ox + u * pw,
                30.0 + (1.0 - v) * ph
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

/// The rendered images (training rows, then the probe rows; row-major N × D) and the probe
/// images' true factors (probe × 4).
fn dataset(
    cfg: &Config,
    opts: &RenderOptions,
    r: &mut ima_oracle::generate::OracleRng,
) -> (Vec<f64>, DMatrix<f64>) {
    let dd = opts.pixels * opts.pixels * 3;
    let factors = SpriteLaw::default()
        .sample(cfg.n + cfg.probe, r)
        .expect("valid law");
    let mut xs = Vec::with_capacity((cfg.n + cfg.probe) * dd);
    for f in &factors {
        xs.extend(render(f, opts).expect("factors in [0, 1]"));
    }
    let truth = DMatrix::from_fn(cfg.probe, 4, |i, k| factors[cfg.n + i].to_array()[k]);
    (xs, truth)
}

/// MCC and c_IMA of the current VAE on the probe images (the per-epoch measurement).
fn epoch_row(v: &Vae, probe_x: &[f64], truth: &DMatrix<f64>, epoch: usize, loss: f64) -> EpochRow {
    let (mu, _) = encode_all(v, probe_x);
    let m = mcc(truth, &mu, Correlation::Spearman).ok();
    EpochRow {
        epoch,
        loss,
        mcc: m.as_ref().map_or(f64::NAN, |m| m.score),
        c_ima: v.model().map_or(f64::NAN, |model| mean_c_ima(&model, &mu)),
        per_factor: m.map_or([f64::NAN; 4], |m| {
            [
                m.per_source[0],
                m.per_source[1],
                m.per_source[2],
                m.per_source[3],
            ]
        }),
    }
}

/// One seed's training: the VAE, its per-epoch rows, and the error that stopped it, if any.
struct SeedRun {
    vae: Vae,
    rows: Vec<EpochRow>,
    stopped: Option<String>,
    train_seconds: f64,
}

/// Trains the VAE of seed `s` (its own initialisation, shuffles and noise): the warm-up at
/// `warmup_gamma2`, then the rest at `gamma2`, each phase with a fresh Adam, on `threads` threads.
fn train_seed(
    cfg: &Config,
    s: usize,
    threads: usize,
    (train_x, probe_x, truth, dd): (&[f64], &[f64], &DMatrix<f64>, usize),
) -> SeedRun {
    let start = Instant::now();
    let mut r = rng(cfg.seed ^ 0x5921 ^ ((s as u64 + 1) << 20));
    let prior = Prior::beta_logistic(cfg.prior.0, cfg.prior.1).expect("valid prior");
    let mut vae = mlp_vae(prior, (4, dd, cfg.hidden), true, &mut r);
    let mut rows: Vec<EpochRow> = Vec::new();
    let mut last = Instant::now();
    let mut stopped = None;
    let warm = cfg.warmup_epochs.min(cfg.epochs);
    for (phase, (g2, epochs)) in [(cfg.warmup_gamma2, warm), (cfg.gamma2, cfg.epochs - warm)]
        .into_iter()
        .enumerate()
    {
        if epochs == 0 || stopped.is_some() {
            continue;
        }
        let seed = cfg.seed.wrapping_mul(1_000_003) + 2 * s as u64 + phase as u64;
        let mut topts = paper_training(g2, epochs, seed, threads);
        topts.batch = cfg.batch;
        topts.adam = AdamConfig::new(cfg.lr).expect("positive learning rate");
        let offset = rows.len();
        let result = train(&mut vae, train_x, &topts, |v, rec| {
            let row = epoch_row(v, probe_x, truth, offset + rec.epoch + 1, rec.loss);
            let secs = last.elapsed().as_secs_f64();
            eprintln!(
                "sprites: seed {s}: epoch {}/{} (gamma^2 {g2:e}): loss {:.5e}, MCC {:.4} (x {:.2} \
                 y {:.2} size {:.2} hue {:.2}), c_IMA {:.4} ({secs:.1} s, {:.0} images/s)",
                row.epoch,
                cfg.epochs,
                row.loss,
                row.mcc,
                row.per_factor[0],
                row.per_factor[1],
                row.per_factor[2],
                row.per_factor[3],
                row.c_ima,
                cfg.n as f64 / secs
            );
            last = Instant::now();
            rows.push(row);
            Ok(())
        });
        if let Err(e) = result {
            stopped = Some(e.to_string());
        }
    }
    SeedRun {
        vae,
        rows,
        stopped,
        train_seconds: start.elapsed().as_secs_f64(),
    }
}

/// Runs the experiment: the seeds in parallel (one thread each while there are as many seeds as
/// threads), CSV per seed and epoch, figures of the best seed (by final MCC, as the paper shows
/// its best model), report section.
pub fn run(cfg: &Config, out: &Path) -> std::io::Result<String> {
    let start = Instant::now();
    let opts = RenderOptions {
        pixels: cfg.pixels,
        ..RenderOptions::default()
    };
    let dd = opts.pixels * opts.pixels * 3;
    let mut r = rng(cfg.seed ^ 0x5921);
    let (xs, truth) = dataset(cfg, &opts, &mut r);
    let (train_x, probe_x) = xs.split_at(cfg.n * dd);
    let seeds = cfg.seeds.max(1);
    let per_run = (cfg.threads / seeds).max(1);
    eprintln!(
        "sprites: {} images rendered ({:.1} s); training {seeds} seed(s) x {} epochs, {} thread(s) each",
        cfg.n + cfg.probe,
        start.elapsed().as_secs_f64(),
        cfg.epochs,
        per_run
    );
    let runs = ima_oracle::parallel::par_map(
        seeds,
        cfg.threads.min(seeds),
        || (),
        |s, _| train_seed(cfg, s, per_run, (train_x, probe_x, &truth, dd)),
    );
    let seconds = start.elapsed().as_secs_f64();
    std::fs::create_dir_all(out)?;
    let csv = csv_of(cfg, &runs);
    std::fs::write(out.join("sprites.csv"), csv)?;
    let final_mcc = |run: &SeedRun| run.rows.last().map_or(f64::NAN, |r| r.mcc);
    let best = (0..runs.len())
        .max_by(|&a, &b| final_mcc(&runs[a]).total_cmp(&final_mcc(&runs[b])))
        .unwrap_or(0);
    let law = SpriteLaw::default().params;
    let train_passes = (cfg.n * cfg.epochs * seeds) as f64;
    let train_seconds: f64 = runs.iter().map(|r| r.train_seconds).sum();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## sprites (§4.3, Fig. 5)\n\n{} training images {px}x{px}x3 in [0, 1] (one triangle, the \
         authors' spriteworld geometry; x, y, size, hue from Beta({:.2},{:.2}), Beta({:.2},{:.2}), \
         Beta({:.2},{:.2}), Beta({:.2},{:.2}), the authors' laws), {} probe images; VAE with d = 4, \
         MLPs of hidden width {}, prior Beta({},{}) through a sigmoid, gamma^2 = {:e} (after a \
         warm-up of {} epochs at gamma^2 = {:e}), Adam lr {:e}, batch {}, {} epochs, {seeds} \
         seed(s); {seconds:.0} s wall ({:.0} images/s per thread in training).\n",
        cfg.n,
        law[0].0,
        law[0].1,
        law[1].0,
        law[1].1,
        law[2].0,
        law[2].1,
        law[3].0,
        law[3].1,
        cfg.probe,
        cfg.hidden,
        cfg.prior.0,
        cfg.prior.1,
        cfg.gamma2,
        cfg.warmup_epochs.min(cfg.epochs),
        cfg.warmup_gamma2,
        cfg.lr,
        cfg.batch,
        cfg.epochs,
        train_passes / (train_seconds * per_run as f64).max(1e-9),
        px = opts.pixels,
    );
    s += &seed_table(&runs, best);
    s.push('\n');
    let best_run = &runs[best];
    let _ = writeln!(s, "The best seed ({best}) in detail:\n");
    s += &final_analysis(
        &best_run.vae,
        probe_x,
        &truth,
        &best_run.rows,
        (opts.pixels, cfg.gamma2),
        out,
    )?;
    Ok(s)
}

/// The CSV: one row per seed and epoch (no timings: the same bytes on any thread count).
fn csv_of(cfg: &Config, runs: &[SeedRun]) -> String {
    let mut csv =
        String::from("seed,epoch,gamma2,loss,mcc_spearman,mcc_x,mcc_y,mcc_size,mcc_hue,c_ima\n");
    for (s, run) in runs.iter().enumerate() {
        for r in &run.rows {
            let g2 = if r.epoch <= cfg.warmup_epochs {
                cfg.warmup_gamma2
            } else {
                cfg.gamma2
            };
            let _ = writeln!(
                csv,
                "{s},{},{g2:e},{:e},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6}",
                r.epoch,
                r.loss,
                r.mcc,
                r.per_factor[0],
                r.per_factor[1],
                r.per_factor[2],
                r.per_factor[3],
                r.c_ima
            );
        }
    }
    csv
}

/// The report's table of the seeds' final MCC, per-factor MCC, loss and c_IMA.
fn seed_table(runs: &[SeedRun], best: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| seed | MCC | x | y | size | hue | final loss | c_IMA |\n| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (k, run) in runs.iter().enumerate() {
        if let Some(r) = run.rows.last() {
            let _ = writeln!(
                s,
                "| {k}{} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2} | {:.4} |",
                if k == best { " (best)" } else { "" },
                r.mcc,
                r.per_factor[0],
                r.per_factor[1],
                r.per_factor[2],
                r.per_factor[3],
                r.loss,
                r.c_ima
            );
        }
        if let Some(e) = &run.stopped {
            let _ = writeln!(s, "\nSeed {k}: training stopped: {e}\n");
        }
    }
    s
}

/// After training: MCC per factor, σ² against eq. 12 for D > d, the figures; the report text.
fn final_analysis(
    vae: &Vae,
    probe_x: &[f64],
    truth: &DMatrix<f64>,
    rows: &[EpochRow],
    (px, gamma2): (usize, f64),
    out: &Path,
) -> std::io::Result<String> {
    let mut s = String::new();
    let names = ["x", "y", "size", "hue"];
    let (mu, lv) = encode_all(vae, probe_x);
    if let Ok(m) = mcc(truth, &mu, Correlation::Spearman) {
        let _ = writeln!(
            s,
            "MCC (Spearman, components matched) per factor: x {:.3}, y {:.3}, size {:.3}, hue {:.3}; \
             overall {:.3}. The paper (its best model, Fig. 5): y 0.989, x 0.996, scale 0.933, colour \
             0.989.\n",
            m.per_source[0], m.per_source[1], m.per_source[2], m.per_source[3], m.score
        );
        std::fs::write(
            out.join("sprites-factors.svg"),
            factor_scatter(truth, &mu, &m.matching, &names),
        )?;
    }
    if let Ok(c) = correlation_matrix(truth, &mu, Correlation::Spearman) {
        let _ = writeln!(
            s,
            "Spearman correlations, factor (rows) against latent (columns):\n"
        );
        let _ = writeln!(
            s,
            "| factor | z0 | z1 | z2 | z3 |\n| --- | --- | --- | --- | --- |"
        );
        for (k, name) in names.iter().enumerate() {
            let _ = writeln!(
                s,
                "| {name} | {:.3} | {:.3} | {:.3} | {:.3} |",
                c[(k, 0)],
                c[(k, 1)],
                c[(k, 2)],
                c[(k, 3)]
            );
        }
        s.push('\n');
    }
    // The authors' measure: Pearson between the factors and the sigmoid of the latent (they take
    // one posterior sample; here its mean μ).
    let squashed = mu.map(|t| 1.0 / (1.0 + (-t).exp()));
    if let Ok(m) = mcc(truth, &squashed, Correlation::Pearson) {
        let _ = writeln!(
            s,
            "MCC (Pearson on sigmoid(mu), the authors' measure) per factor: x {:.3}, y {:.3}, size \
             {:.3}, hue {:.3}; overall {:.3}.\n",
            m.per_source[0], m.per_source[1], m.per_source[2], m.per_source[3], m.score
        );
    }
    let epochs: Vec<(f64, f64)> = rows.iter().map(|r| (r.epoch as f64, r.c_ima)).collect();
    let one_minus: Vec<(f64, f64)> = rows.iter().map(|r| (r.epoch as f64, 1.0 - r.mcc)).collect();
    std::fs::write(
        out.join("sprites-training.svg"),
        loglog(
            "4.3 Sprites: c_IMA of the decoder and 1 - MCC during training",
            "epoch",
            "value",
            &[
                Line {
                    name: "c_IMA (D > d)".into(),
                    points: epochs,
                    style: Style::LineMarkers,
                },
                Line {
                    name: "1 - MCC".into(),
                    points: one_minus,
                    style: Style::LineMarkers,
                },
            ],
        ),
    )?;
    let Ok(model) = vae.model() else {
        return Ok(s);
    };
    let ratio = eq12_ratios(&model, &mu, &lv, gamma2);
    let _ = writeln!(
        s,
        "sigma_phi^2 / RHS(12) (generalised to D > d, J at mu_phi(x)): median {:.3} over {} \
         (point, latent) pairs; c_IMA of the decoder at the end {:.4}. Per epoch: sprites.csv; \
         figures sprites-training.svg, sprites-factors.svg, sprites-interpolation.svg.\n",
        median(&ratio),
        ratio.len(),
        mean_c_ima(&model, &mu)
    );
    std::fs::write(
        out.join("sprites-interpolation.svg"),
        interpolations(&model, &mu, px),
    )?;
    Ok(s)
}

/// σ_φ²/RHS(12) per (point, latent) for the first 64 probe points, J at μ_φ(x).
fn eq12_ratios(model: &Model, mu: &DMatrix<f64>, lv: &DMatrix<f64>, gamma2: f64) -> Vec<f64> {
    let Ok(g2) = Gamma2::new(gamma2) else {
        return Vec::new();
    };
    let mut ratio = Vec::new();
    for i in 0..mu.nrows().min(64) {
        if let Ok(t) = Eq12Terms::at(model, mu.row(i).transpose()) {
            let rhs = t.sigma2(g2);
            for k in 0..mu.ncols() {
                ratio.push(lv[(i, k)].exp() / rhs[k]);
            }
        }
    }
    ratio
}

/// The latent interpolation strip: each latent swept over its 5–95 % range among the encodings,
/// the others at their medians, decoded (SVG).
fn interpolations(model: &Model, mu: &DMatrix<f64>, px: usize) -> String {
    let (steps, d) = (8, mu.ncols());
    let dd = px * px * 3;
    let centre: Vec<f64> = (0..d)
        .map(|k| median(&mu.column(k).iter().copied().collect::<Vec<_>>()))
        .collect();
    let mut images = Vec::new();
    for k in 0..d {
        let mut col: Vec<f64> = mu.column(k).iter().copied().collect();
        col.sort_by(f64::total_cmp);
        let (lo, hi) = (col[col.len() / 20], col[col.len() * 19 / 20]);
        for t in 0..steps {
            let mut z = DVector::from_column_slice(&centre);
            z[k] = lo + (hi - lo) * t as f64 / (steps - 1) as f64;
            images.push(
                model
                    .decoder()
                    .forward(&z)
                    .map_or(vec![0.0; dd], |x| x.iter().copied().collect()),
            );
        }
    }
    let labels: Vec<String> = (0..d).map(|k| format!("latent {k}")).collect();
    image_grid(
        "4.3 Sprites: latent interpolations (rows: latents)",
        &images,
        steps,
        px,
        &labels,
    )
}
