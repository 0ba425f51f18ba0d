//! Every tolerance, round-off floor, margin and threshold of proofs-check, each named and with the
//! argument for its value. Nothing else in proofs-check writes a bare tolerance: a floor is built
//! from [`ROUNDOFF`] times the sizes of the terms involved plus [`ESTIMATE_FACTOR`] times the
//! oracle's error estimates, a fit reads [`ASYMPTOTIC_FROM`], [`AT_FLOOR`], [`MIN_FIT_POINTS`] and
//! [`STABLE`], a verdict [`BELOW_STATED`] and [`SHARPER_BY`].

/// Round-off of one computed quantity relative to the sizes of the terms it is built from:
/// 64 eps ≈ 1.4e-14. Each f64 operation errs by at most half an ulp of its result, and every
/// quantity compared here (ELBO*'s four terms, log pθ, c_IMA, log p_flow, μ̂ after Newton, σ̂²)
/// takes a few dozen operations on numbers of the size it is multiplied by; 64 eps is a few ulps
/// per operation times those dozens. Where a quantity goes through J_f or its inverse the floor is
/// multiplied by κ(J_f) once per solve.
/// It is the library's [`ima_oracle::tol::ROUND_OFF`]: one definition for both crates.
pub const ROUNDOFF: f64 = ima_oracle::tol::ROUND_OFF;

/// What the oracle's own error estimates are multiplied by in a floor or slack: 10. An estimate is
/// the difference between the last two quadrature rules (or Newton iterates) — the size of the
/// error, not a bound on it — so ten times it is taken as the bound; the quadrature tolerance
/// ([`quadrature`]) keeps even this well below the residuals measured.
pub const ESTIMATE_FACTOR: f64 = 10.0;

/// A residual is at its round-off floor — excluded from the fit, never fitted — when it is at most
/// 10 × its floor: within an order of magnitude of the floor at most one significant digit of the
/// asymptotic term is left, and fitting it would bend the slope towards 0.
pub const AT_FLOOR: f64 = 10.0;

/// Round trip g(f(z)) = z, relative to 1 + ‖z‖: 1e-13 ≈ 450 eps — a few eps per step amplified by
/// the steps' conditioning (each step is inverted in closed form or by a few Newton iterations).
pub const ROUND_TRIP: f64 = 1e-13;

/// |c_IMA| of a Möbius map (zero in exact arithmetic) and the most negative c_IMA accepted
/// (Hadamard: c_IMA ≥ 0): 1e-13. c_IMA is a sum of d + 1 = 4 logarithms of O(1) numbers, each good
/// to a few eps; 1e-13 ≈ 450 eps is far above that and far below the contrast of any non-conformal
/// family here (≥ [`GAP_MIN_CONTRAST`]).
pub const ZERO_CONTRAST: f64 = 1e-13;

/// Chain log|det J| against the LU determinant of the assembled J: backward-stable LU agrees with
/// the exact determinant to ~eps·κ(J) in the logarithm, so [`ROUNDOFF`] per unit of κ(J).
pub const LOGDET_PER_KAPPA: f64 = ROUNDOFF;

/// Outside the IMA class the gap must stay open: c_IMA ≥ 1e-3 at every point — bounded away from 0
/// by ten orders of magnitude above [`ZERO_CONTRAST`], so that an open gap is not round-off.
pub const GAP_MIN_CONTRAST: f64 = 1e-3;

/// … and |ELBO* − log pθ| > c_IMA/2 at the largest γ²: by eq. 13 the gap is c_IMA + O(1/γ²), and at
/// the end of the sweep (γ² ≥ 1e9) the correction is orders of magnitude below c_IMA; a closing gap
/// would have ratio → 0, so the factor ½ separates the two with room on both sides.
pub const GAP_OPEN_RATIO: f64 = 0.5;

/// eq. 10–11 on average: Σ ELBO(linear encoder) ≤ Σ ELBO* + 1e-12·max(1, |Σ ELBO*|). 1e-12 ≈ 4500
/// eps relative covers the round-off of summing at most 20 values; it does not cover the
/// quadrature error (up to [`quadrature`]'s 1e-6 at small γ²) — the per-point comparisons carry
/// those slacks, and the average is the strict check.
pub const MEAN_SLACK: f64 = 1e-12;

/// The least-squares fit of the linear encoder treats singular values of [x 1] below 1e-12 as zero
/// (an absolute threshold, nalgebra's `SVD::solve`): the points are O(1) and in general position,
/// so their singular values are O(1), and only an exactly degenerate design is cut.
pub const LSQ_SINGULAR: f64 = 1e-12;

/// The first decade of the sweep is never fitted: orders are read from γ² ≥ 1e2, where the
/// leading term dominates the residual (it is also where the whole-sweep slope starts).
pub const ASYMPTOTIC_FROM: f64 = 1e2;

/// Fewer than 4 points above the round-off floor and no order is read: the last-three-decades
/// slope needs at least 3 points, and a fourth is the least that lets the asymptotic range be
/// judged against it.
pub const MIN_FIT_POINTS: usize = 4;

/// How far the slope over the asymptotic range may stray from the last three decades' slope: 0.02,
/// below the [`BELOW_STATED`] margin of the verdict, so that a range is never stretched into a
/// failure.
pub const STABLE: f64 = 0.02;

/// An order claim holds when the observed order p̂ ≥ p − 0.05: the fit of a true O(1/γ^p) series
/// with a next-order correction recovers p within this (the fit module's tests), while a residual
/// of a lower order misses by ½ or more (the orders here are integers or halves).
pub const BELOW_STATED: f64 = 0.05;

/// … and is reported *sharper than stated* when p̂ ≥ p + 0.5: half an order is ten times
/// [`BELOW_STATED`], so no fitting noise can produce it; it means the residual is of a higher
/// order than the paper says.
pub const SHARPER_BY: f64 = 0.5;

/// Slack when comparing log γ values in the fit (where the last three decades start): 1e-9, far
/// above the round-off of log γ (~1e-15) and far below the spacing of the grid (≥ 0.38 in log γ).
pub const LOG_SLACK: f64 = 1e-9;

/// The quadrature tolerance at γ²: [`QUADRATURE_AT_UNIT_GAMMA`]/γ², clamped to
/// [the library's default 1e-13, [`QUADRATURE_MAX`]] relative — at least 1e4 times below the
/// 1/γ²-sized residuals the claims measure (the finite-γ corrections are O(1/γ²) or larger, with
/// constants ≳ 1e-2 here), so the relaxation at small γ² cannot change a verdict; each value's own
/// error estimate also enters the round-off floors ([`ESTIMATE_FACTOR`]).
pub fn quadrature(gamma2: f64) -> f64 {
    (QUADRATURE_AT_UNIT_GAMMA / gamma2).clamp(ima_oracle::tol::DEFAULT_TOL, QUADRATURE_MAX)
}

/// The numerator of [`quadrature`]: 1e-5, i.e. the tolerance 1e-5/γ² sits at least 1e3·(1e-2/γ²)
/// … 1e4 times below the O(1/γ²) residuals.
pub const QUADRATURE_AT_UNIT_GAMMA: f64 = 1e-5;

/// The loosest quadrature tolerance of the sweep: 1e-6 relative (reached for γ² ≤ 10).
pub const QUADRATURE_MAX: f64 = 1e-6;

/// The tolerance of log pθ(x) where [`quadrature`]'s cannot be reached (the routes' error estimates
/// stall on their node budget — the authors' sigmoid + Möbius model at γ² ≈ 1e3–1e6, whose
/// posterior has exponential, not Gaussian, tails): 1e-3/γ², clamped to
/// [[`MARGINAL_RELAXED_MIN`], 1e-4]. Every floor carries [`ESTIMATE_FACTOR`] × the estimate
/// actually achieved (observed ≤ 1.2e-7), so a residual is never fitted below it: where that floor
/// reaches the O(1/γ²) residuals (γ² ≳ 1e6) the points are excluded as "at floor", not fitted.
pub fn marginal_relaxed(gamma2: f64) -> f64 {
    (MARGINAL_RELAXED_AT_UNIT_GAMMA / gamma2).clamp(MARGINAL_RELAXED_MIN, 1e-4)
}

/// The tightest [`marginal_relaxed`] tolerance: 3e-7 relative, above the plateau (~1e-7) of the
/// Laplace route's error estimate on the authors' model.
pub const MARGINAL_RELAXED_MIN: f64 = 3e-7;

/// The numerator of [`marginal_relaxed`]: 1e-3.
pub const MARGINAL_RELAXED_AT_UNIT_GAMMA: f64 = 1e-3;

/// The last three decades of γ², over which the stated-order fit's reference slope is read, are
/// 1.5 decades of γ: 1.5·ln 10 in log γ.
pub const LAST_THREE_DECADES: f64 = 1.5 * std::f64::consts::LN_10;

/// The eq. 2 check perturbs the optimal encoder by half a standard deviation: μ_k by 0.5·σ̂_k·ξ,
/// log σ_k² by 0.5·ξ (ξ standard normal) — far enough that the KL to the posterior is clearly
/// positive, near enough that the perturbed q stays where the quadrature converges.
pub const PERTURBATION: f64 = 0.5;
