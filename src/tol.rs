//! Every tolerance, floor and budget of the oracle, in one place, each with the argument for its
//! value. Nothing in the numerical code uses a bare threshold: it names one of these.
//!
//! | group | constants |
//! | --- | --- |
//! | round-off | [`EPS`], [`ROUND_OFF`], [`value_noise`], [`newton_decrement_floor`] |
//! | model validation | [`RCOND_MIN`], [`ORTHOGONALITY_TOL`], [`ORTHOGONALITY_TOL_F32_PER_DIM`], [`LOGVAR_MAX`] |
//! | leaky softplus, tanh | [`DIFF_FORM_MAX_STEP`], [`SOFTPLUS_INVERSE_MAX_ITER`], [`TANH_DIFF_MAX_STEP`] |
//! | special functions | [`INCOMPLETE_BETA_MAX_ITER`] |
//! | Gauss–Hermite rules | [`GH_MAX_NODES`], [`GH_POLISH_STEPS`] |
//! | tolerance-driven quadrature | [`DEFAULT_TOL`], [`DEFAULT_MIN_NODES`], [`DEFAULT_MAX_NODES`], [`DEFAULT_MAX_TOTAL`] |
//! | poles | [`POLE_MASS_TOL`] |
//! | Möbius t-integral | [`MOEBIUS_H0`], [`MOEBIUS_MAX_LEVELS`], [`MOEBIUS_T_TOL`], [`MOEBIUS_LEFT_DECAY`], [`MOEBIUS_TAIL_START`], [`MOEBIUS_TRUNC`], [`MOEBIUS_MAX_SPAN`], [`MOEBIUS_CENTRE_MIN`], [`MOEBIUS_EXPM1_MAX`] |
//! | prior term (trapezoid) | [`PRIOR_XI_MAX`], [`PRIOR_NODES_PER_STRIP`], [`PRIOR_MAX_STEP`], [`MAX_SIGMA_OVER_SCALE`] |
//! | Newton | [`NEWTON_MAX_ITER`], [`ARMIJO`], [`MAX_HALVINGS`], [`STALL_FACTOR`], [`LEVENBERG_BASE`], [`LEVENBERG_GROWTH`], [`LEVENBERG_TRIES`], [`MODE_START_MARGIN`] |
//! | marginal likelihood | [`LAPLACE_PROBE`], [`LAPLACE_MAX_WIDEN`], [`LAPLACE_TAIL_EXCESS`], [`LAPLACE_TAIL_SHARE`], [`CUBE_BOX_HALF_WIDTH`], [`CUBE_EDGE_DROP`], [`CUBE_BOX_GROWTH`], [`CUBE_PLAIN_RESIDUAL_MAX`], [`AUTO_X_SPACE_MAX_NODES`], [`POLAR_STEP_TIMES_NODES`], [`POLAR_MARGIN`], [`POLAR_QUIET_SHELLS`], [`POLAR_BULK`], [`POLAR_MAX_SHELLS`], [`POLAR_MAX_NODES`], [`POLAR_MAX_NODES_2D`], [`POLAR_WHITEN_MIN_COND`], [`POLAR_MAX_EVALUATIONS`] |
//! | Gauss–Legendre rules | [`GL_NEWTON_STEPS`] |
//! | sizes from files and flags | [`MAX_ELEMENTS`], [`MAX_DIM`], [`MAX_NPY_HEADER_BYTES`], [`MAX_NPY_RANK`], [`MAX_MANIFEST_BYTES`], [`MAX_MC_SAMPLES`], [`MAX_MC_DRAWS`], [`MAX_THREADS`], [`LOOSEST_TOL`], [`POLE_NEAR`] |
//!
//! Test tolerances are not here: each test states its own next to the argument for it (step size,
//! condition number, node count), compared through [`crate::compare`].

/// Machine epsilon of f64, 2⁻⁵² ≈ 2.2e-16.
pub const EPS: f64 = f64::EPSILON;

/// 64 eps ≈ 1.4e-14: the round-off allowed for a quantity computed by a few dozen floating-point
/// operations, each correctly rounded (≤ ½ ulp) — a few ulps per operation, with room for the
/// partial cancellations of a sum of terms of mixed sign. Floors built on it are multiplied by the
/// size of the terms involved (and by a condition number where one amplifies the error).
pub const ROUND_OFF: f64 = 64.0 * EPS;

/// The absolute round-off of an objective value that is a sum of `terms`: 8 eps (1 + Σ|terms|),
/// summed left to right from 1. Each term is a compensated sum or a closed form accurate to a few
/// ulps (≤ 4 eps relative); doubling that covers the final additions. Newton uses it to know when
/// a predicted increase is too small for the value to judge.
pub fn value_noise(terms: impl IntoIterator<Item = f64>) -> f64 {
    8.0 * EPS * terms.into_iter().fold(1.0, |acc, t| acc + t.abs())
}

/// The round-off floor of a Newton decrement λ² in natural coordinates for an objective with the
/// data term −(γ²/2)‖x − f(z)‖² in `d` latent dimensions: (64 eps)² d (1 + γ² s²), with s the size of
/// the vectors whose difference is the residual (max(‖x‖∞, ‖f(μ)‖∞)). The residual x − f(μ) is known
/// to ~eps·s absolutely, so the gradient γ²Jᵀr carries noise ~eps γ² s ‖J‖, i.e. ~eps γ s per
/// natural coordinate (σ ~ 1/(γ‖J‖)); its square, summed over d coordinates with the
/// [`ROUND_OFF`] allowance per entry, is the decrement a solve cannot go below.
pub fn newton_decrement_floor(d: usize, gamma2: f64, s: f64) -> f64 {
    ROUND_OFF * ROUND_OFF * d as f64 * (1.0 + gamma2 * s * s)
}

/// The smallest reciprocal condition number σ_min/σ_max accepted for an affine step's W:
/// [`ROUND_OFF`] ≈ 1.4e-14. Below it the rank is not determined in f64 and neither an inverse nor
/// log|det W| has any correct digit.
pub const RCOND_MIN: f64 = ROUND_OFF;

/// How far AᵀA may be from I (entrywise) for a Möbius step's A to be accepted as orthogonal: 1e-12
/// allows an A read from a file in f64 after an f64 QR (errors ~1e-15·n) while rejecting any real
/// departure (which would break the conformal closed forms, c_IMA = 0 among them).
pub const ORTHOGONALITY_TOL: f64 = 1e-12;

/// How far AᵀA may be from I (entrywise), per unit of the size n of A, for a Möbius A *stored as
/// float32* to be accepted — and replaced by its nearest orthogonal matrix: 4·eps₃₂ = 4·2⁻²³ ≈
/// 4.8e-7, i.e. max |AᵀA − I| ≤ 4 n eps₃₂. Rounding an exactly orthogonal matrix to float32 moves
/// each entry by ≤ ½ ulp ≤ 2⁻²⁴|a_ij|, so |(AᵀA − I)_jk| ≤ 2·2⁻²⁴·Σ_i |a_ij||a_ik| ≤ eps₃₂
/// (Cauchy–Schwarz on unit columns); a matrix orthogonalised in float32 arithmetic (Householder QR,
/// an SVD) departs by ~c·n·eps₃₂ with c of order 1. 4n covers both, while a real departure from
/// orthogonality (which would change the model beyond float32 round-off) is still refused.
pub const ORTHOGONALITY_TOL_F32_PER_DIM: f64 = 4.0 * f32::EPSILON as f64;

/// The largest |log σ²| of an encoder: 700. Then σ² = e^s and σ = e^{s/2} are finite, normal
/// numbers (e^710 overflows; the smallest normal is 2.2e-308 ≈ e^{−708.4}), so every product σ·ξ
/// in a quadrature stays finite and keeps full relative precision.
pub const LOGVAR_MAX: f64 = 700.0;

/// The largest |Δ| for which the leaky softplus difference a(t + Δ) − a(t) uses the form
/// α Δ + (1 − α) log1p(σ(t)·expm1(Δ)): for |Δ| ≤ 1 the argument of log1p is ≥ σ(t)(e⁻¹ − 1) ≥ −0.64,
/// so every operation is well conditioned; beyond, |a(t + Δ) − a(t)| ≥ α|Δ| > α is large enough
/// that the direct difference (absolute error eps·|a|) is accurate.
pub const DIFF_FORM_MAX_STEP: f64 = 1.0;

/// The largest |Δ| for which the tanh step's difference tanh(t + Δ) − tanh(t) uses the product
/// sinh(Δ)·sech(t)·sech(t + Δ): 700, below the overflow of sinh (|Δ| > 710.5) with room for the
/// product sinh(Δ)·sech(t) ≤ sinh(700) ≈ 5e303 to stay finite. Beyond, t and t + Δ are 700 apart
/// and the direct difference (absolute error ≤ eps, the values being in (−1, 1)) is used.
pub const TANH_DIFF_MAX_STEP: f64 = 700.0;

/// Iteration cap of the leaky softplus inverse. Newton from the right end of the bracket converges
/// quadratically after at most ~log2(|t|/ulp) ≈ 60 halvings of the error for any finite t; 200
/// is never reached for valid parameters, and reaching it is an error, not an answer.
pub const SOFTPLUS_INVERSE_MAX_ITER: usize = 200;

/// Terms of the continued fraction of the incomplete Beta function (`special::ln_incomplete_beta`):
/// 10 000. On the side where it is evaluated it converges in O(√max(a, b)) terms (Numerical
/// Recipes §6.4) — a few hundred for parameters up to 1e4; not converging is an error, not an
/// answer.
pub const INCOMPLETE_BETA_MAX_ITER: usize = 10_000;

/// The largest Gauss–Hermite rule: 256 nodes per dimension. Far beyond any convergence need here
/// (96 is the default budget); the construction (Golub–Welsch + polish, weights from the scaled
/// three-term recurrence) is tested at this size: Σw = 1 and the even moments up to degree 40 to
/// 1e-13 relative.
pub const GH_MAX_NODES: usize = 256;

/// Newton polishing steps per Gauss–Hermite node after the eigenvalue solve: the eigenvalues are
/// accurate to ~n eps; Newton on p_n squares the error, so 3 steps reach round-off from any error
/// below 1e-4.
pub const GH_POLISH_STEPS: usize = 3;

/// The default quadrature tolerance: 1e-13, relative to max(1, |value|). Two successive rules must
/// agree to this; it sits a decade above the round-off of the compensated sums (a few eps times
/// the terms' sizes, which are O(1)–O(10) for the ELBO's terms), so convergence is decided by the
/// quadrature error and not by noise.
pub const DEFAULT_TOL: f64 = 1e-13;

/// The first rule tried: 6 nodes per dimension (exact for polynomials of degree 11, enough for
/// every γ² ≥ 1e4 on the smooth families; smaller starts only cost extra refinement rounds).
pub const DEFAULT_MIN_NODES: usize = 6;

/// The largest rule tried by default: 96 nodes per dimension — what the slowest cases need at
/// γ² ≈ 10 in d = 3 (broad, one-sided heavy-tailed posteriors), and 96³ ≈ 8.8e5 nodes stays below
/// [`DEFAULT_MAX_TOTAL`].
pub const DEFAULT_MAX_NODES: usize = 96;

/// The largest tensor rule by default: 2 000 000 nodes (n^d), a few seconds of work per evaluation;
/// beyond it a point is refused rather than computed for minutes.
pub const DEFAULT_MAX_TOTAL: usize = 2_000_000;

/// The Gaussian mass near a decoder pole below which the pole is invisible to a quadrature: a
/// Chernoff bound of 1e-20, far below the 1e-16 relative precision anything here is computed to.
/// Above it the oracle refuses (`PoleTooClose`): the quadrature cannot see the singular part.
pub const POLE_MASS_TOL: f64 = 1e-20;

/// Half-width of the trapezoid rule of the logistic prior term, in standard deviations of q: the
/// N(0, 1) mass beyond ±39 is below 1e-330, i.e. zero in f64.
pub const PRIOR_XI_MAX: f64 = 39.0;

/// Trapezoid nodes per width of the strip of analyticity of the logistic prior term: h = τ/7 with
/// τ = π s/σ the strip half-width in units of σ gives the discretisation error e^{−2πτ/h} = e^{−14π}
/// ≈ 1e-19 relative.
pub const PRIOR_NODES_PER_STRIP: f64 = 7.0;

/// The largest trapezoid step of the prior term: ½. The Gaussian factor alone then limits the
/// error to e^{−2π²/h²} = e^{−79} ≈ 5e-35.
pub const PRIOR_MAX_STEP: f64 = 0.5;

/// The largest σ/s for which the logistic prior term is computed: 5e3. The rule then has
/// 2·39·7·σ/(π s) ≈ 8.7e5 nodes; beyond, the encoder is refused instead of integrated for ever
/// (σ = 5000 prior scales is far outside any useful range).
pub const MAX_SIGMA_OVER_SCALE: f64 = 5e3;

/// Newton's iteration limit: 100. A converging solve here takes 2–10 iterations (quadratic
/// convergence from the self-consistent start); 100 only stops a solve that is not converging,
/// which is then an error.
pub const NEWTON_MAX_ITER: usize = 100;

/// The Armijo sufficient-increase constant: accept a step t when f(θ + t p) ≥ f(θ) + 1e-4 · t · λ².
/// The textbook value (Nocedal & Wright §3.1): any increase that is not vanishingly small.
pub const ARMIJO: f64 = 1e-4;

/// Backtracking halvings of the line search: 60, so steps down to 2⁻⁶⁰ ≈ 1e-18 of the Newton step —
/// below that the trial point equals the iterate to f64 precision.
pub const MAX_HALVINGS: usize = 60;

/// When no increase is found along the Newton step, the iterate counts as converged to round-off
/// if its decrement is within a factor 1e6 of the floor (three decades of each of the gradient's
/// and the step's noise estimates): the line search then only sees noise.
pub const STALL_FACTOR: f64 = 1e6;

/// The first Levenberg shift when −H is not positive definite: 1e-8 × max(1, max diag(−H)), i.e.
/// a relative perturbation at the square root of eps — large enough to make a matrix that is
/// indefinite only by round-off definite, small enough not to bend a good Newton step.
pub const LEVENBERG_BASE: f64 = 1e-8;

/// Growth of the Levenberg shift per failed Cholesky: ×10.
pub const LEVENBERG_GROWTH: f64 = 10.0;

/// Cholesky attempts before a Hessian counts as unusable: 40, i.e. the shifts 0, base, 10·base, …,
/// 1e38·base — beyond any finite Hessian's spectrum.
pub const LEVENBERG_TRIES: usize = 40;

/// Where the posterior mode's search starts for an x outside a bounded image (a sigmoid model's
/// noisy observation beside a face): the inverse with each coordinate entering the sigmoid clamped
/// a thousandth of the interval inside it (`Decoder::inverse_clamped`), y ∈ [0.001, 0.999],
/// z ∈ [−6.9, 6.9] — inside the region where the likelihood still bends the posterior, so Newton
/// moves from there (a start at y = 1e-9 would sit where the log-likelihood's slope is 1e-9 and
/// the prior's curvature 1e-9: a Newton step of 1e9).
pub const MODE_START_MARGIN: f64 = 1e-3;

/// Where the Laplace-centred marginal probes the posterior's tails: at ±4 Laplace standard
/// deviations (where a Gaussian has dropped by 8 in log density, and where a heavier tail already
/// decides the convergence of Gauss–Hermite).
pub const LAPLACE_PROBE: f64 = 4.0;

/// The largest widening of a Laplace axis: 3. Wider rules waste nodes in the light tail of a
/// one-sided heavy posterior; the node-doubling test still decides convergence.
pub const LAPLACE_MAX_WIDEN: f64 = 3.0;

/// When the Laplace-centred marginal counts a posterior tail as heavier than its rule can see:
/// where the integrand at the rule's outermost node R along an axis exceeds the Laplace Gaussian by
/// more than e¹ (ψ(R e_k) > 1). Gauss–Hermite integrates e^ψ against the Gaussian weight,
/// the weight's own tail included, so a Gaussian-like tail (ψ ≈ 0, up to round-off ~1e-14·R²) is
/// never missed; a tail whose ψ has grown past 1 at R is one the rule's polynomial cannot follow,
/// and its mass beyond R is estimated (`laplace.rs`, `tail_beyond_rule`).
pub const LAPLACE_TAIL_EXCESS: f64 = 1.0;

/// The share of the tolerance such an unseen tail may take: a tenth, so that the rule's own
/// difference (the error estimate) keeps the rest.
pub const LAPLACE_TAIL_SHARE: f64 = 0.1;

/// The cube route's box (`marginal/cube.rs`): K = 12 likelihood widths on each side of the centre,
/// where a Gaussian bump has dropped by K²/2 = 72 (e^{−72} ≈ 5e-32 of its peak); whether the
/// actual integrand has dropped that far is checked on the box's faces ([`CUBE_EDGE_DROP`]) and K
/// doubled until it has.
pub const CUBE_BOX_HALF_WIDTH: f64 = 12.0;

/// How far below its value at the centre the cube route's integrand must be on every face of the
/// box inside the cube: 60 in log (e^{−60} ≈ 9e-27), plus the log of the bump's volume
/// Π √(2π) w_k (so that the mass beyond, in a cube of volume 1, is e^{−60} of the bump's). Where
/// the integrand has one maximum on the cube (the condition under which the route is raced), it
/// keeps falling beyond the faces, and the mass cut off is below e^{−60} ≈ 1e-26 of the total
/// (checked on a 9-point grid per coordinate of each face, not assumed from the Gaussian
/// approximation).
pub const CUBE_EDGE_DROP: f64 = 60.0;

/// The factor by which the cube route's box grows (in likelihood widths, from
/// [`CUBE_BOX_HALF_WIDTH`]) until its faces pass the [`CUBE_EDGE_DROP`] check: 1.25, so that the
/// box is at most a quarter wider than it must be. The rule's nodes grow with the box's width in
/// widths: where the bump's volume is tiny (log vol ≈ −32 at γ² = 2³⁰ in d = 3, so the faces must
/// lie 92 below the peak, ±13.6 widths), a doubling to ±24 widths needed 96 nodes per axis and did
/// not converge to 1e-13 there; ±15 widths converge with fewer.
pub const CUBE_BOX_GROWTH: f64 = 1.25;

/// The cube route for h with other steps than affine and Möbius ones (whose base residual
/// x − h(c) it cannot form beyond the plain difference's eps·|x|) applies only while
/// γ·eps·‖x‖∞ ≤ 1e-15: where the posterior is cut by a face, log pθ(x) moves by ≈ γ·δ for a shift
/// δ of x, so the plain residual's error then stays a hundredth of the default tolerance 1e-13.
pub const CUBE_PLAIN_RESIDUAL_MAX: f64 = 1e-15;

/// The largest rule the x-space route may use inside `log_marginal`: 42 nodes per dimension. Its
/// nodes each cost an inverse of the decoder; where it needs more than this the Laplace-centred
/// route is cheaper.
pub const AUTO_X_SPACE_MAX_NODES: usize = 42;

/// The most entries an array read from a file (or written by the CLI) may hold, and the most the
/// arrays of one model folder may hold together: 2²⁷ = 134 217 728 (1 GiB of f64). The largest
/// array the CLI writes is `eval`'s Jacobian, N·D·d entries: 10⁵ points of a d = D = 30 model are
/// 9·10⁷. A header claiming more is far more likely a wrong or damaged file than data, and honouring
/// it would take gigabytes before anything is computed. Raised per run with the CLI's
/// `--max-elements N` or [`crate::io::Limits`]; nothing larger is ever allocated.
pub const MAX_ELEMENTS: u64 = 1 << 27;

/// The largest dimension a model file may declare (latent d, and every step's output): 4096. Every
/// per-point quantity is dense — J_f is D×d, log|det J| an LU of d×d, Newton's Hessian 2d×2d — so
/// at 4096 one Jacobian is 128 MiB and one LU ~2·10¹⁰ flops per point; beyond it nothing here
/// finishes, and a larger `dim` is a typo. Raised with `--max-dim N` or [`crate::io::Limits`].
pub const MAX_DIM: usize = 4096;

/// The longest `.npy` header read: 10 000 bytes, numpy's own default `max_header_size` (numpy
/// refuses longer headers as unsafe to parse). The header of any array numpy can write (rank ≤
/// [`MAX_NPY_RANK`], 20 digits per axis) is below 1 500 bytes.
pub const MAX_NPY_HEADER_BYTES: u64 = 10_000;

/// The largest rank of an array read: 64, numpy 2's `NPY_MAXDIMS` (numpy 1: 32) — numpy cannot
/// write more.
pub const MAX_NPY_RANK: usize = 64;

/// The largest model manifest read: 1 MiB. A manifest has one line of ~20–60 bytes per step; 1 MiB
/// is ~20 000 steps, beyond any decoder here. A larger file is not a manifest (a device such as
/// `/dev/zero`, a data file named by mistake) and is not read further.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// Monte Carlo samples per point of `ima-oracle elbo --samples`: at most 10⁶. The estimator keeps
/// every sample's value and gradient for the standard errors — 8(1 + 2d) bytes plus a vector header
/// each, ~100 bytes in d = 3 — so 10⁶ samples are ~100 MB per worker thread, and their standard
/// error is 10⁻³ of one sample's spread, far below what any estimate is checked to. Raised with
/// `--max-samples N`.
pub const MAX_MC_SAMPLES: u64 = 1_000_000;

/// Monte Carlo draws of one `ima-oracle elbo` run, points × samples: at most 10⁹. A draw is one
/// decoder pass with its Jacobian, ~0.5 µs in d = 3, so 10⁹ draws are ~10 core-minutes; more is
/// a mistyped flag rather than a plan. Raised with `--max-draws N`.
pub const MAX_MC_DRAWS: u64 = 1_000_000_000;

/// The most worker threads `--threads` accepts: 1024. More threads than cores only add switching;
/// 1024 is above the core count of any machine this runs on, and each thread reserves a stack.
pub const MAX_THREADS: usize = 1024;

/// The loosest quadrature tolerance the CLI accepts (`--tol`): 10⁻³. Looser than that, the
/// oracle's numbers would be no more accurate than an f32 backend's own, and there would be nothing
/// to check against; the library's [`crate::QuadratureOptions`] accepts any positive tolerance.
pub const LOOSEST_TOL: f64 = 1e-3;

/// How near a latent pole g(x) must lie for a refusal to be blamed on it in the CLI's messages:
/// 10⁻⁶ × (1 + ‖pole‖). A Möbius step's Jacobian grows like α/δ² at distance δ from its pole, so
/// within 10⁻⁶ it exceeds 10¹² α: f(z) loses 12 digits to its own conditioning, x lies ~10⁶ α
/// from the step's shift b (its image of infinity), and no quadrature or Newton step there is
/// meaningful.
pub const POLE_NEAR: f64 = 1e-6;

/// The first step of the Möbius t-rule (trapezoid in x = log t, `objective::moebius_integral`):
/// ½. The integrand is analytic in |Im x| < π/2, so the trapezoid error is ~e^{−π²/(2h)} (strip
/// half-width π/4): 5e-5 at h = ½, 3e-9 at ¼, 7e-18 at ⅛ — halving from ½ reaches round-off in
/// three or four levels, and the first level's nodes also fix the truncation.
pub const MOEBIUS_H0: f64 = 0.5;

/// Halvings of the Möbius t-rule before it counts as not converged: 8 (h = 2⁻⁹). By the error
/// bound of [`MOEBIUS_H0`] the rule is at round-off by h = 1/16; more levels only mean the
/// integrand is not what the derivation says (an error, not an answer).
pub const MOEBIUS_MAX_LEVELS: usize = 8;

/// Two levels of the Möbius t-rule agree when every component (value, gradient, Hessian entry)
/// differs by at most 1e-14 × the integral of its |integrand|. The value is summed with
/// compensation and each term carries a few ulps (~1e-15 relative to its size), so the difference
/// of two converged levels is ~1e-15 of that L1 norm: 1e-14 decides convergence by the
/// discretisation error, not by noise. Relative to the ELBO this is ~1e-14·(γ²/2)·E‖δf‖² = O(1e-14 d).
pub const MOEBIUS_T_TOL: f64 = 1e-14;

/// Where the Möbius t-rule's left end lies: e^{−46} ≈ 1e-20 of the integrand's scale. The centred
/// integrand (times the Jacobian t) grows like (t/t0)² from t = 0, the raw one like t/t0, so the rule
/// starts 46/2 (resp. 46) below log t0: the dropped part is ≤ 1e-20 relative.
pub const MOEBIUS_LEFT_DECAY: f64 = 46.0;

/// The truncation test of the Möbius t-rule starts 4 above log of the largest scale 1/min(‖m‖²,
/// σ²_min): there e^{−t‖m‖²} ≤ e^{−e⁴} ≈ 1e-24 and every 2tσ_k² ≥ 2e⁴ ≈ 109, i.e. the integrand is in
/// its algebraic tail t^{−d/2}, which the geometric-series bound of [`MOEBIUS_TRUNC`] assumes.
pub const MOEBIUS_TAIL_START: f64 = 4.0;

/// The Möbius t-rule stops when the tail after the last node, bounded by the geometric series of
/// its term, is below 1e-20 × Σ|terms| in every component: four decades below the convergence
/// test [`MOEBIUS_T_TOL`], so truncation never decides it.
pub const MOEBIUS_TRUNC: f64 = 1e-20;

/// The widest x = log t range of the Möbius t-rule: 2000. The tail decays like e^{−(d/2 − 1)x},
/// slowest (rate ½) in d = 3, where 1e-20 is reached ~100 past the largest scale; the scales
/// themselves span |log σ²| ≤ 1400 ([`LOGVAR_MAX`]) plus the prior's range. Beyond it the
/// integrand does not decay as derived, and the rule refuses.
pub const MOEBIUS_MAX_SPAN: f64 = 2000.0;

/// Newton steps per Gauss–Legendre node: at most 100. From Tricomi's guesses Newton converges
/// quadratically within ~5 steps for every n ≤ [`GH_MAX_NODES`]; the loop stops as soon as a step is
/// below 4 eps, so the cap only bounds a loop that can never need it.
pub const GL_NEWTON_STEPS: usize = 100;

/// The radial step of the polar route of the marginal likelihood, times its node count n: h = 3/n
/// in ρ = log r. For a Gaussian prior the radial integrand is analytic in |Im ρ| < π/4, so the
/// trapezoid error is ~e^{−π²/(2h)} = e^{−1.6 n}: below 1e-13 from n ≈ 19, the rule the
/// angular directions need anyway; the logistic prior's narrower strip at large r is seen by the
/// refinement loop's comparison of successive n.
pub const POLAR_STEP_TIMES_NODES: f64 = 3.0;

/// A radial shell of the polar route counts as negligible below e^{−46} ≈ 1e-20 of the running sum:
/// seven decades below the tightest tolerance (1e-13) the refinement asks for.
pub const POLAR_MARGIN: f64 = 46.0;

/// Negligible shells in a row before the polar route's radial walk stops: 3, so that one shell
/// whose directions happen to miss the integrand's mass cannot end the walk; past the prior's bulk
/// (outward) or inside the pole's distance from the origin (inward) the shells decrease
/// monotonically, and three in a row below e^{−46} bound the remaining geometric tail.
pub const POLAR_QUIET_SHELLS: usize = 3;

/// The outward radial walk of the polar route may stop only past ‖a‖ + 4σ_p (σ_p the prior's
/// standard deviation): beyond, the prior density decreases along every ray, so the shells do too.
pub const POLAR_BULK: f64 = 4.0;

/// The most radial shells of the polar route: 100 000. A shell is kept only while its integrand
/// decays; h ≥ 3/256 over the range of ρ where a prior of any scale has mass (|ρ| ≲ 750 with the
/// factor e^{dρ}) is far below this — reaching it means the integrand does not decay as derived.
pub const POLAR_MAX_SHELLS: usize = 100_000;

/// The largest angular rule of the polar route: 211 Gauss–Legendre nodes per polar angle (422 in
/// the azimuth). With a logistic prior the shells at radius r from the pole need angular
/// resolution ~s/r (the density's complex singularities lie at imaginary distance πs), and the
/// shells out to r ≈ 10 carry mass 1e-9 of the total: the rule converges like e^{−c√n} there —
/// 1e-9 at n = 64, ~1e-13 at 96, round-off by ~130 (measured on the §4.3 cases). 211 is a member
/// of the refinement's sequence 6, 9, 13, …, 94, 141, 211 (n → n + n/2): the last two rules
/// compared differ by the factor 1.5 like every other pair. A cap between two members (160, as
/// before) makes the last comparison 141 vs 160, whose agreement is weak evidence for a rule that
/// converges like e^{−c√n}: a whitened rule was seen to agree to 6e-13 there while 2e-11 off.
pub const POLAR_MAX_NODES: usize = 211;

/// The largest angular rule of the polar route in d = 2: 711 trapezoid nodes ×2 in the azimuth
/// (no polar angle, so no Gauss–Legendre rule and no [`GH_MAX_NODES`] bound), the same sequence
/// continued (… 211, 316, 474, 711). A d = 2 rule costs ~n² evaluations (2n directions, ~n/3·|ρ
/// range| shells), 0.1–0.3 s at n = 316–474: on the §4.3 volume-preserving model with the logistic
/// prior (seed 11) every point at γ² = 1e1–1e3 converged there (error estimates ≤ 1e-13), where the
/// cap of 211 refused 24 of 30.
pub const POLAR_MAX_NODES_2D: usize = 711;

/// The polar route races a whitened rule beside the plain one only when the whitening shape C
/// (the posterior's Laplace covariance, normalised) has condition number above 2: below, its
/// shells are those of the plain rule up to a rotation and a stretch by less than 2 in any
/// direction, which cannot cut the nodes a narrow posterior needs by more than that factor, while
/// the second rule would double the cost.
pub const POLAR_WHITEN_MIN_COND: f64 = 2.0;

/// The most integrand evaluations of one polar rule: 6·10⁷ (a few seconds), its own budget in
/// place of the tensor rules' `max_total` (which counts n^d nodes of a different kind): the n = 141
/// rule of a d = 3 logistic case needs ~3·10⁷, the n = 211 rule ~4·10⁷ (89 000 directions × ~420
/// shells).
pub const POLAR_MAX_EVALUATIONS: usize = 60_000_000;

/// The Möbius route centres its moments at v0 = v(μ) when ‖μ − a‖² ≥ 1 × Σσ² (the pole at least
/// about one standard deviation of q away). There ‖v0‖² ≤ 1/Σσ² is at most the size of E‖v‖², so
/// ‖x − f(μ)‖² and the centred integral do not cancel, and the centring keeps the O(σ²) result's
/// relative accuracy at large γ². Closer, ‖x − f(μ)‖² ~ 1/‖μ − a‖² grows without bound while the
/// result stays O(1/σ²): the raw moments, whose terms are all of the result's size, are used.
pub const MOEBIUS_CENTRE_MIN: f64 = 1.0;

/// Where the Möbius integrand switches from e^{ℓ0}·expm1(y) to e^{ℓ0 + y} − e^{ℓ0}: |y| ≤ 1. Both
/// are the same number; below 1, expm1 avoids the cancellation of e^{y} − 1 (which loses
/// −log10|y| digits); above, e^{y} − 1 ≥ e − 1 ≈ 1.7 (or ≤ 1/e − 1 ≈ −0.63) loses no digit, and the
/// direct form takes log Z, which stays accurate where ℓ0 and Δ are separately huge.
pub const MOEBIUS_EXPM1_MAX: f64 = 1.0;
