//! The gap of eq. 2: KL(q ‖ pθ(z | x)) = log pθ(x) − ELBO(q).
//!
//! Any evaluation of this KL needs log pθ(x) (pθ(z | x) = p(x, z)/pθ(x)), and
//! E_q[log q − log p(x, z)] is −ELBO by definition, so the KL is computed from the converged
//! marginal ([`super::log_marginal`]) and the converged ELBO ([`crate::objective::elbo`]): two
//! independent quadratures. Its error estimate is the sum of theirs; KL ≥ 0 up to that error is
//! the non-trivial check.

use super::marginal::{log_marginal, MarginalEstimate};
use crate::error::OracleError;
use crate::input::{Encoder, Query};
use crate::objective::{elbo, ElboEstimate};
use crate::quadrature::QuadratureOptions;

/// KL(q ‖ pθ(z | x)) with the two estimates it is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct KlToPosterior {
    /// log pθ(x) − ELBO.
    pub kl: f64,
    /// The sum of the two error estimates.
    pub error_estimate: f64,
    /// The ELBO of q.
    pub elbo: ElboEstimate,
    /// log pθ(x).
    pub log_marginal: MarginalEstimate,
}

/// KL(q ‖ pθ(z | x)) for the encoder q (module docs). Errors as [`elbo`] and [`log_marginal`].
pub fn kl_to_posterior(
    query: &Query,
    enc: &Encoder,
    opts: &QuadratureOptions,
) -> Result<KlToPosterior, OracleError> {
    let e = elbo(query, enc, opts)?;
    let m = log_marginal(query, opts)?;
    Ok(KlToPosterior {
        kl: m.value - e.value,
        error_estimate: m.error_estimate + e.error_estimate,
        elbo: e,
        log_marginal: m,
    })
}
