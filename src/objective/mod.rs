//! The objective layer: the ELBO of paper eq. 1 and its relatives, exactly, with derivatives.
//!
//! | file | contents |
//! | --- | --- |
//! | `elbo.rs` | [`elbo`], [`elbo_on_rule`], [`beta_vae`], [`beta_vae_on_rule`]: the ELBO and the β-VAE objective (§6) with gradient and Hessian in (μ, log σ²) |
//! | `reconstruction.rs` | −(γ²/2) E_q‖x − f(z)‖² and its derivatives, node by node; [`ElboWorkspace`] |
//! | `prior_term.rs` | E_q[log m(z_k)] and its derivatives in (μ, log σ²) (closed form, or a trapezoid rule) |
//! | `gaussian.rs` | the closed-form Gaussian terms: (D/2) log(γ²/2π) and the entropy of q |
//! | `moebius_integral.rs` | [`moebius_elbo`]: the ELBO of a Möbius(+affine) decoder up to a 1-D integral, no pole guard (`docs/moebius-integral.md`) |
//! | `jet.rs` | second-order forward-mode derivatives carried through that integrand |
//! | `montecarlo.rs` | [`elbo_monte_carlo`]: the reparameterised estimator backends use, with standard errors |

mod elbo;
mod gaussian;
mod jet;
mod moebius_integral;
mod montecarlo;
mod prior_term;
mod reconstruction;

pub use elbo::{
    beta_vae, beta_vae_offset, beta_vae_on_rule, elbo, elbo_on_rule, DerivativeOrder,
    ElboDerivatives, ElboEstimate, ElboParts,
};
pub(crate) use gaussian::{entropy, log_normaliser};
pub use moebius_integral::{moebius_elbo, moebius_route_applies, MoebiusElbo};
pub use montecarlo::{elbo_monte_carlo, McEstimate};
pub(crate) use prior_term::prior_term;
pub use reconstruction::ElboWorkspace;
