//! The paper layer: the statements themselves — the IMA quantities of §2 and eq. 6, the
//! right-hand sides of Thm. 1, and the affine–Gaussian closed forms.
//!
//! | file | contents |
//! | --- | --- |
//! | `ima.rs` | [`c_ima`] (eq. 6), [`global_c_ima`] C_IMA, [`log_flow_likelihood`] (eq. 4), [`l_ima`] (§2) |
//! | `theory.rs` | [`eq12_sigma2`], [`eq13_rhs`], [`ima_regularised_flow`]: what Thm. 1 predicts |
//! | `asymptotics.rs` | [`Asymptotics`]: the leading coefficients of the γ → ∞ expansions of μ̂, 1/σ̂², log pθ(x), ELBO* and eq. 13's gap |
//! | `affine_gaussian.rs` | [`AffineGaussian`]: every quantity in closed form for an affine decoder and a Gaussian prior |

mod affine_gaussian;
mod asymptotics;
pub mod ima;
mod theory;

pub use affine_gaussian::AffineGaussian;
pub use asymptotics::Asymptotics;
pub use ima::{
    c_ima, c_ima_many, c_ima_of_jacobian, c_ima_with, global_c_ima, l_ima, log_column_norms,
    log_flow_likelihood,
};
pub use theory::{eq12_sigma2, eq13_rhs, ima_regularised_flow, Eq13Rhs};
