//! The inference layer: what is found by solving, not just integrating — the optimal encoder of
//! eq. 7, the posterior mode, the finite-γ marginal likelihood and the gap of eq. 2.
//!
//! | file | contents |
//! | --- | --- |
//! | `newton.rs` | the safeguarded Newton maximiser shared by the solvers ([`NewtonOptions`], [`Termination`]) |
//! | `self_consistent.rs` | [`Eq12Terms`]: μ = g(x) and the eq. 12 width, the self-consistent start of every solve |
//! | `optimal.rs` | [`optimal_encoder`]: μ̂, σ̂², ELBO* (eq. 7–8) with the evidence of optimality |
//! | `posterior_mode.rs` | [`posterior_mode`]: argmax_z log p(x, z) and the curvature there |
//! | `marginal/` | [`log_marginal`]: log pθ(x) at finite γ by two routes (Laplace-centred, x-space) raced |
//! | `kl.rs` | [`kl_to_posterior`]: KL(q ‖ pθ(z \| x)) = log pθ(x) − ELBO (eq. 2) |

mod kl;
mod marginal;
mod newton;
mod optimal;
mod posterior_mode;
mod self_consistent;

pub use kl::{kl_to_posterior, KlToPosterior};
pub use marginal::{
    log_marginal, log_marginal_at_mode, log_marginal_cube, log_marginal_laplace,
    log_marginal_polar, log_marginal_x_space, MarginalEstimate, Route,
};
pub use newton::{NewtonOptions, Termination};
pub use optimal::{
    newton_on_rule, optimal_encoder, optimal_encoder_from, self_consistent_encoder, NewtonResult,
    OptimalEncoder,
};
pub use posterior_mode::{posterior_mode, PosteriorMode};
pub use self_consistent::Eq12Terms;
