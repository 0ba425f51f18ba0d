//! The paper's synthetic experiments (§4), trained, with the oracle's exact optimum beside every
//! trained number (`proofs-check --experiment NAME`). Each experiment writes a CSV, SVG figures and
//! a section of `experiments/report.md`, with progress on stderr; the same command gives the same
//! CSV on every machine (every run is seeded; training is deterministic whatever the threads).
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
