//! The paper's synthetic experiments (§4), trained, with the oracle's exact optimum beside every
//! trained number (`proofs-check --experiment NAME`). Each experiment writes a CSV, SVG figures and
//! a section of `experiments/report.md`, with progress on stderr; the same command gives the same
//! CSV on every machine (every run is seeded; training is deterministic whatever the threads).
//!
//! | file | experiment |
//! | --- | --- |
//! | `self_consistency.rs` | §4.1, Fig. 2: σ² against γ² and eq. 12, ‖f(μ(x)) − x‖² against γ², split into finite γ², amortisation and optimisation |

pub mod self_consistency;

/// The experiments, by name.
pub const EXPERIMENTS: [&str; 1] = ["self-consistency"];

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
