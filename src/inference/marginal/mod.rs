//! The marginal likelihood log pθ(x) = log ∫ N(x; f(z), γ⁻² I) p0(z) dz at finite γ, by two
//! independent quadrature routes (`laplace.rs`, `x_space.rs`) raced against each other.
//!
//! # Laplace-centred quadrature (the main route)
//!
//! With φ(z) = −(γ²/2)‖x − f(z)‖² + log p0(z), the mode ẑ = argmax φ ([`super::posterior_mode`])
//! and H = −∇²φ(ẑ) = γ²(JᵀJ − Σ_i r_i ∇²f_i) − diag((log m)'') = L Lᵀ,
//! the substitution z = ẑ + L⁻ᵀu gives
//!
//! log pθ(x) = (D/2) log(γ²/2π) + φ(ẑ) + (d/2) log 2π − Σ_k log L_kk + log E_{u~N(0,I)}[e^{ψ(u)}],
//! ψ(u) = φ(ẑ + L⁻ᵀu) − φ(ẑ) + ½‖u‖².
//!
//! The first four terms are the Laplace approximation; ψ = O(‖u‖³/γ) measures the posterior's
//! departure from its Laplace Gaussian, so the Gauss–Hermite rule converges the faster the larger γ.
//! Where the posterior's tail along an axis of L⁻ᵀ is heavier than the Gaussian's, e^ψ grows and the
//! rule converges slowly; each axis k is therefore widened by s_k = min(3, max(1, 4/√(2Δ_k))), Δ_k
//! the drop of φ at u = ±4 e_k (a Gaussian drops by 8; [`crate::tol::LAPLACE_PROBE`],
//! [`crate::tol::LAPLACE_MAX_WIDEN`]), i.e. L⁻ᵀ → L⁻ᵀ diag(s) and the log-Jacobian
//! Σ log s_k joins the offset. Any such linear change of variables leaves the integral unchanged; it
//! only moves the nodes, and the node-doubling test still decides convergence.
//! Inside ψ, φ(z) − φ(ẑ) = −(γ²/2)(‖Δf‖² − 2 r̂·Δf) + Σ_k [log m(z_k) − log m(ẑ_k)] with
//! Δf = f(z) − f(ẑ) in difference form: no cancellation at large γ. The node count grows until two
//! rules agree to the tolerance; their difference is the error estimate.
//!
//! # x-space route (an independent check, square invertible decoders)
//!
//! pθ is the flow density p_flow(y) = p0(g(y))/|det J_f(g(y))| (eq. 4) blurred by N(0, γ⁻² I):
//! log pθ(x) = log E_{ξ~N(0, I_D)}[p_flow(x + ξ/γ)], by Gauss–Hermite over ξ. It needs only g and
//! log|det J| and its integrand flattens as γ grows. It needs p_flow smooth on all of R^D: a
//! decoder with a sigmoid or tanh step maps onto a bounded set, at whose boundary p_flow jumps to
//! 0, and a rule whose nodes all fall inside would converge to the wrong value with a tiny error
//! estimate (the blur's mass outside, e.g. 1e-6 at 4.7 blur widths from a face, is missed). Such
//! decoders are refused by this route (`OracleError::BoundedImage`) and left to the
//! Laplace-centred one (`tests/marginal_bounded_image.rs` checks both against a closed form).
//!
//! # Which route
//!
//! [`log_marginal`] runs both routes in lockstep for square invertible decoders and takes the first
//! to converge (the x-space route only up to [`crate::tol::AUTO_X_SPACE_MAX_NODES`] nodes per
//! dimension, since each of its nodes costs an inverse of the decoder). Where the posterior has one-sided heavy tails (a leaky-softplus unit near its kink:
//! slope α on one side, 1 on the other) the Laplace-centred integrand e^ψ grows against the Gaussian
//! weight and Gauss–Hermite converges slowly; the x-space integrand does not see this at large γ,
//! while at small γ the blur is wide and the x-space route is the slow one.
//!
//! # Polar route around the pole (models with one Möbius step)
//!
//! log pθ(x) = (D/2) log(γ²/2π) + log ∫ p0(z) e^{−(γ²/2)‖x − f(z)‖²} dz in the coordinates
//! z = a + e^ρ ω around the latent pole a: the integrand is analytic in (ρ, ω), the pole being the
//! end ρ → −∞ where the likelihood factor vanishes; trapezoid in ρ, a product rule on the sphere
//! (`polar.rs`). It needs no curvature and no inverse, and is best at small γ², where the
//! likelihood is broad. Where the posterior is narrow beside the pole (γ² ≈ 1e2–1e3, above all
//! after an ill-conditioned linear step) round shells resolve it only with ~6/w nodes per angle,
//! w the angle its narrowest axis subtends; a second, whitened rule (z = a + e^ρ C ω, C ∝ L⁻ᵀ,
//! H = L Lᵀ at the posterior mode) makes the posterior round, subtending 1/R with R the pole's
//! Mahalanobis distance (≲ 10 wherever the other routes refuse). The two race; the first to
//! converge answers. At large γ² the other routes answer and it is not used. In d = 2 its angular
//! rule is a trapezoid alone (no polar angle), n² evaluations, so its cap is higher there
//! ([`crate::tol::POLAR_MAX_NODES_2D`]).
//!
//! # Cube route (a leading sigmoid and a Beta-logistic prior: the authors' §4.3 and Sprites models)
//!
//! With y = σ(z) the prior becomes Beta(a, b) on each coordinate of the unit cube and
//! pθ(x) = ∫_{(0,1)^d} Π Beta(y_k; a, b) N(x; h(y), γ⁻² I) dy, h the steps after the sigmoid
//! (`cube.rs`). Where the posterior reaches a face of the cube (σ(z) → 0 or 1 within the
//! likelihood's reach), the likelihood in z turns flat and the posterior keeps the prior's
//! exponential tail — a tail the Laplace-centred rule cannot see (it refuses there, above) — while in
//! y the same mass is a bump cut by the face: Gauss–Legendre on the box of ±12 likelihood widths
//! around σ(ẑ), clipped to the cube, converges geometrically (checked against one-dimensional
//! closed-form integrals in `tests/marginal_bounded_image.rs`, to ≤ 2e-14). The route needs the
//! Beta density smooth on the faces the box touches (integer a − 1, b − 1 there; the uniform prior
//! always). Its box is checked on its own faces only, so a second local maximum of the likelihood
//! elsewhere in the cube would not be seen — possible even for an injective h, e.g. a
//! crescent-shaped image whose far end comes back near x, cut by a face (a review found such a
//! case 6e-9 off with a 2e-15 estimate, h = an anisotropic affine step then a Möbius step). The
//! route therefore joins the race of [`log_marginal`] only where its integrand is proved to have
//! one maximum on the (convex) cube: h a single affine step (log-concave likelihood, log-concave
//! Beta factors) or, with the uniform prior, a single Möbius step where the levels at which its
//! superlevel sets may stop being convex lie e^{−60} below the centre's (`cube.rs`,
//! `integrand_is_unimodal`). That covers the authors' §4.3 model at large γ². Elsewhere — the
//! authors' model at small γ², where the likelihood is broad — the race gets the route over the
//! whole cube (`Cube::whole`), where nothing is truncated; its rules count only once their node
//! spacing is below half the narrowest width 1/(γ L_eff) any maximum that matters can have, L_eff
//! from bounds on h's first and second derivatives over the cube (`cube.rs`; checked against
//! composite Gauss–Legendre over the whole square and cube, to 3e-15).
//! Otherwise the route is offered as [`log_marginal_cube`], for a caller who knows the integrand
//! has one maximum on the cube.
//!
//! An x outside the decoder's image (noisy data beside a face of the cube) has no g(x), but a
//! posterior all the same: its mode is searched from the preimage of a point of the image nearby
//! (`Decoder::inverse_clamped`), and the routes above answer as for any x.
//!
//! # Poles
//!
//! The Laplace route refuses (an error, not a number) when a latent Möbius pole has Gaussian mass
//! above [`crate::tol::POLE_MASS_TOL`] under N(ẑ, H⁻¹); the x-space route likewise for the
//! observation-space singularities of g under N(x, γ⁻² I). (At small γ² the x-space route has no
//! pole of consequence, but its blur N(x, γ⁻² I) is far wider than the flow density it averages,
//! and Gauss–Hermite over it does not resolve that density: at γ² = 1 in d = 3 it has not
//! converged to two digits with 128 nodes per dimension.) When both refuse and the model has one
//! Möbius pole, [`log_marginal`] answers by the polar route.

mod cube;
mod laplace;
mod polar;
mod x_space;

use super::posterior_mode::{posterior_mode, PosteriorMode};
use crate::error::OracleError;
use crate::input::Query;
use crate::quadrature::{race, Candidate, QuadratureOptions};
use crate::tol::{
    AUTO_X_SPACE_MAX_NODES, LAPLACE_TAIL_SHARE, POLAR_MAX_EVALUATIONS, POLAR_MAX_NODES,
    POLAR_MAX_NODES_2D,
};
use cube::Cube;
use laplace::LaplaceCentred;
use polar::Polar;
use x_space::XSpace;

/// log pθ(x) with its error estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginalEstimate {
    /// log pθ(x).
    pub value: f64,
    /// The difference between the last two rules.
    pub error_estimate: f64,
    /// Nodes per dimension of the rule that produced `value`.
    pub nodes_per_dim: usize,
    /// The Laplace approximation (the first four terms of the module formula); 0 for the x-space route.
    pub laplace: f64,
    /// Which route produced the value.
    pub route: Route,
}

/// The quadrature route of a [`MarginalEstimate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Gauss–Hermite in z around the posterior mode, scaled by the Laplace curvature.
    LaplaceCentred,
    /// Gauss–Hermite over the N(0, γ⁻² I) blur of the flow density, in x.
    XSpace,
    /// The prior-weighted likelihood in polar coordinates around the latent Möbius pole.
    PolarAroundPole,
    /// Gauss–Legendre in y = σ(z) over a box of the unit cube (a leading sigmoid step and a
    /// Beta-logistic prior).
    Cube,
}

/// A route in the race, with what the estimate reports about it.
struct Entry<'a> {
    candidate: Candidate<'a, f64, OracleError>,
    route: Route,
    offset: f64,
}

/// A route whose rule of n nodes per dimension gives log pθ(x) itself (no offset).
fn plain_entry<'a>(
    route: Route,
    what: &'static str,
    solve: impl FnMut(usize) -> Result<Option<f64>, OracleError> + 'a,
) -> Entry<'a> {
    let mut solve = solve;
    Entry {
        offset: 0.0,
        route,
        candidate: Candidate {
            what,
            solve: Box::new(move |n, _| solve(n)),
        },
    }
}

fn x_space_entry<'a>(mut route: XSpace<'a>) -> Entry<'a> {
    plain_entry(Route::XSpace, "log marginal (x-space)", move |n| {
        route.log_mean(n)
    })
}

fn cube_entry<'a>(mut route: Cube<'a>) -> Entry<'a> {
    plain_entry(
        Route::Cube,
        "log marginal (cube, y = sigmoid(z))",
        move |n| route.log_marginal(n),
    )
}

fn polar_entry<'a>(mut route: Polar<'a>) -> Entry<'a> {
    plain_entry(
        Route::PolarAroundPole,
        "log marginal (polar around the pole)",
        move |n| route.log_marginal(n),
    )
}

/// The Laplace-centred route in the race. A rule whose outermost nodes end inside a posterior
/// tail heavier than the rule can see ([`LaplaceCentred::tail_beyond_rule`] above
/// [`LAPLACE_TAIL_SHARE`] of the tolerance) reports NaN: not a value to compare, so the race grows the rule until two successive
/// rules both see the tail and agree — or refuses.
fn laplace_entry<'a>(route: LaplaceCentred<'a>, opts: &QuadratureOptions) -> Entry<'a> {
    let mut route = route;
    let offset = route.offset();
    let tol = opts.tol();
    Entry {
        offset,
        route: Route::LaplaceCentred,
        candidate: Candidate {
            what: "log marginal (Laplace-centred)",
            solve: Box::new(move |n, _| {
                let Some((log_mean, outermost)) = route.log_mean(n)? else {
                    return Ok(None);
                };
                let value = offset + log_mean;
                let tail = route.tail_beyond_rule(outermost, log_mean);
                Ok(Some(
                    if tail <= LAPLACE_TAIL_SHARE * tol * value.abs().max(1.0) {
                        value
                    } else {
                        f64::NAN
                    },
                ))
            }),
        },
    }
}

/// Races the routes (see [`crate::quadrature`]'s refinement) and reports the winner.
fn converge(
    entries: Vec<Entry<'_>>,
    opts: &QuadratureOptions,
    error: Option<OracleError>,
) -> Result<MarginalEstimate, OracleError> {
    let meta: Vec<(Route, f64)> = entries.iter().map(|e| (e.route, e.offset)).collect();
    let candidates = entries.into_iter().map(|e| e.candidate).collect();
    let r = race(opts, candidates, |v| *v, error)?;
    let (route, laplace) = meta[r.winner];
    Ok(MarginalEstimate {
        value: r.cur,
        error_estimate: r.err,
        nodes_per_dim: r.nodes,
        laplace,
        route,
    })
}

/// log pθ(x), by whichever route converges first: for square invertible decoders the x-space and
/// the Laplace-centred routes run in lockstep (the same node counts, growing together; the x-space
/// route only up to [`AUTO_X_SPACE_MAX_NODES`]) and the first to meet the tolerance answers — the
/// x-space route usually at large γ (narrow blur), the Laplace-centred one at small γ (broad
/// posterior). Otherwise (D > d) the Laplace-centred route alone. A route that refuses (a pole
/// in reach, a decoder failure) drops out; if none answers and the model has exactly one Möbius
/// pole, the polar route around it answers ([`log_marginal_polar`]; at small γ², where the pole is
/// within reach of both); if that fails too, the last refusal of the race is returned. The result
/// says which route answered.
pub fn log_marginal(
    query: &Query,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    let mut entries = Vec::new();
    let mut error = None;
    // A decoder with a bounded image (a sigmoid or tanh step) has a flow density that jumps to 0
    // at the image's boundary: the x-space route does not enter the race (its refusal,
    // `BoundedImage`, would only hide the Laplace route's reason).
    if query.model().decoder().is_square() && query.model().first_bounded_step().is_none() {
        match XSpace::new(query, opts.max_total(), AUTO_X_SPACE_MAX_NODES) {
            Ok(r) => entries.push(x_space_entry(r)),
            Err(e) => error = Some(e),
        }
    }
    let mode = posterior_mode(query, None);
    match mode
        .clone()
        .and_then(|m| LaplaceCentred::new(query, m, opts.max_total()))
    {
        Ok(r) => entries.push(laplace_entry(r, opts)),
        Err(e) => error = Some(e),
    }
    // A leading sigmoid with a Beta-logistic prior, followed by one affine or one Möbius step
    // where the integrand is proved unimodal: the cube route too (it answers where the posterior
    // reaches a face of the cube, which the Laplace route refuses; module docs, "Cube route").
    // Elsewhere, the whole cube with a rule fine enough to see every maximum (`cube.rs`).
    if let Ok(m) = &mode {
        let route = if cube::integrand_is_unimodal(query) {
            cube_at(query, m, opts)
        } else {
            Cube::whole(query, &cube_centre(m), opts.max_nodes(), opts.max_total())
        };
        match route {
            Ok(Some(r)) => entries.push(cube_entry(r)),
            Ok(None) => {}
            Err(e) => error = Some(e),
        }
    }
    match converge(entries, opts, error) {
        // Neither route answered (the pole within reach of both, or a route that could not
        // converge beside a refused one): integrate around the pole; if that fails too, the first
        // refusal stands.
        Err(e) if query.model().poles().len() == 1 => {
            polar_at(query, opts, mode.as_ref().ok()).map_err(|_| e)
        }
        r => r,
    }
}

/// log pθ(x) by the polar route alone (module docs): models with exactly one Möbius pole.
pub fn log_marginal_polar(
    query: &Query,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    polar_at(query, opts, posterior_mode(query, None).ok().as_ref())
}

/// The polar route, whitened by the posterior mode's curvature where there is one (`polar.rs`).
fn polar_at(
    query: &Query,
    opts: &QuadratureOptions,
    mode: Option<&PosteriorMode>,
) -> Result<MarginalEstimate, OracleError> {
    // Its own node range and evaluation budget (crate::tol::POLAR_MAX_NODES,
    // crate::tol::POLAR_MAX_EVALUATIONS): its nodes are not those of a tensor rule.
    // In d = 2 its rule is a trapezoid in the angle, and larger (crate::tol::POLAR_MAX_NODES_2D).
    let popts = opts.with_nodes(opts.min_nodes(), opts.max_nodes().max(POLAR_MAX_NODES))?;
    let popts = if query.model().dim_latent() == 2 {
        popts.with_max_nodes_beyond_rules(POLAR_MAX_NODES_2D)
    } else {
        popts
    };
    let mut entries = vec![polar_entry(Polar::new(query, POLAR_MAX_EVALUATIONS, None)?)];
    if let Some(whitened) = mode.and_then(|m| Polar::whitened(query, POLAR_MAX_EVALUATIONS, m)) {
        entries.push(polar_entry(whitened));
    }
    converge(entries, &popts, None)
}

/// log pθ(x) by the Laplace-centred quadrature alone (module docs).
pub fn log_marginal_laplace(
    query: &Query,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    log_marginal_at_mode(query, &posterior_mode(query, None)?, opts)
}

/// As [`log_marginal_laplace`], from a mode already found.
pub fn log_marginal_at_mode(
    query: &Query,
    mode: &PosteriorMode,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    let route = LaplaceCentred::new(query, mode.clone(), opts.max_total())?;
    converge(vec![laplace_entry(route, opts)], opts, None)
}

/// The cube route centred at σ(ẑ), ẑ the posterior mode; `None` where it does not apply.
fn cube_at<'a>(
    query: &'a Query<'a>,
    mode: &PosteriorMode,
    opts: &QuadratureOptions,
) -> Result<Option<Cube<'a>>, OracleError> {
    Cube::new(query, &cube_centre(mode), opts.max_total())
}

/// σ(ẑ), the posterior mode in the cube's coordinates y = σ(z).
fn cube_centre(mode: &PosteriorMode) -> Vec<f64> {
    mode.z.iter().map(|&t| crate::model::sigmoid(t)).collect()
}

/// log pθ(x) by the cube route alone (module docs), **assuming the likelihood N(x; h(y), γ⁻² I)
/// has a single local maximum on the unit cube** (checked only on the faces of the box it
/// integrates): a decoder whose first step is a sigmoid and a
/// Beta-logistic prior, the integral over y = σ(z) in the unit cube ([`OracleError::RouteNotApplicable`]
/// where it does not apply).
pub fn log_marginal_cube(
    query: &Query,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    let mode = posterior_mode(query, None)?;
    match cube_at(query, &mode, opts)? {
        Some(route) => converge(vec![cube_entry(route)], opts, None),
        None => Err(OracleError::RouteNotApplicable {
            route: "cube",
            why: "the cube route needs a first step `sigmoid`, a beta-logistic prior, and integer \
                  exponents a - 1, b - 1 on the faces of the cube the posterior reaches",
        }),
    }
}

/// log pθ(x) by the x-space route alone (module docs): square invertible decoders onto R^D only
/// (a sigmoid or tanh step is refused, `OracleError::BoundedImage`).
pub fn log_marginal_x_space(
    query: &Query,
    opts: &QuadratureOptions,
) -> Result<MarginalEstimate, OracleError> {
    let route = XSpace::new(query, opts.max_total(), usize::MAX)?;
    converge(vec![x_space_entry(route)], opts, None)
}
