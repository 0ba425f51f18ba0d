//! The numbers behind every claim: for each model, point x and γ², the optimal encoder, the
//! finite-γ marginal, and the paper's right-hand sides.

use crate::tol;
use ima_oracle::generate::{family_cases_of, Family, FamilyCase, OracleRng};
use ima_oracle::inference::{log_marginal, optimal_encoder, Eq12Terms};
use ima_oracle::objective::{beta_vae, elbo, ElboEstimate};
use ima_oracle::paper::ima;
use ima_oracle::{Beta, Encoder, Gamma2, Model, OracleError, Prior, QuadratureOptions, Query};
use nalgebra::DVector;
use rand::RngExt;
use rand_distr::StandardNormal;

/// One model with its points: a family of §4 in d = 3 (or a Möbius family in d = 2) with a prior,
/// and observations x = f(z) (the library's [`FamilyCase`], shared with the golden vectors).
pub type Case = FamilyCase;

/// "family", "prior", for tables: the family's name, with " d=2" outside d = 3; the prior's name,
/// "uniform" for the authors' beta-logistic 1 1 (σ(z) uniform on (0, 1)^d).
pub fn label(case: &Case) -> (String, String) {
    let d = case.model.dim_latent();
    let model = if d == DIM {
        case.family.name().to_string()
    } else {
        format!("{} d={d}", case.family.name())
    };
    let prior = if case.family.own_prior().is_some() {
        "uniform".to_string()
    } else {
        case.model.prior().name().to_string()
    };
    (model, prior)
}

/// The latent (and observed) dimension of the paper's cases: d = D = 3, as in its §4.1–4.3.
pub const DIM: usize = 3;

/// The dimension of the further Möbius cases: d = D = 2, the IMA paper's own Möbius examples,
/// where ELBO* = −∞ exactly when the pole is reachable (its integral diverges) but the flow
/// quantities and log pθ(x) are finite.
pub const DIM_SMALL: usize = 2;

/// The priors every family is checked under: the standard normal and the logistic with scale 0.6.
pub fn priors() -> [Prior; 2] {
    [
        Prior::standard_normal(),
        Prior::logistic(0.6).expect("valid"),
    ]
}

/// Builds the cases: every family of [`Family::WITH_AUTHORS`] in d = 3 with each of [`priors`]
/// (the authors' model with its own uniform prior), then the Möbius families ([`Family::MOEBIUS`])
/// in d = 2 likewise; `points` observations each, drawn from the family's data source
/// ([`ima_oracle::generate::Family::data_source`]: the prior, or uniform on [−½, ½]^d for the
/// Möbius families, §4.3, which keeps the data away from the pole). The d = 3 cases of
/// [`Family::ALL`] are drawn first, so they are those of the golden vectors' generator.
pub fn cases(points: usize, rng: &mut OracleRng) -> Vec<Case> {
    let mut out = family_cases_of(&Family::WITH_AUTHORS, DIM, &priors(), points, rng)
        .expect("the generators build valid decoders and data");
    out.extend(
        family_cases_of(&Family::MOEBIUS, DIM_SMALL, &priors(), points, rng)
            .expect("the generators build valid decoders and data"),
    );
    out
}

/// Why a point has no [`PointResult`] at one γ².
#[derive(Debug, Clone)]
pub enum Refusal {
    /// ELBO* = −∞ exactly (a reachable Möbius pole in d ≤ 2: E_q‖f(z)‖² diverges for every
    /// Gaussian q), so μ̂ and σ̂² are undefined; log pθ(x) is finite — here, or why not.
    ElboMinusInfinity(Result<Marginal, String>),
    /// The oracle refused, with its reason.
    Other(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::ElboMinusInfinity(_) => write!(f, "ELBO* = −∞ exactly"),
            Refusal::Other(why) => write!(f, "{why}"),
        }
    }
}

/// The finite-γ marginal at one (x, γ²).
#[derive(Debug, Clone, Copy)]
pub struct Marginal {
    /// γ².
    pub gamma2: f64,
    /// log pθ(x).
    pub log_p: f64,
    /// Its error estimate.
    pub log_p_err: f64,
}

/// The marginal at one (x, γ²) where there is one: from the full result, or from beside ELBO* = −∞.
pub fn marginal_of(entry: &Result<PointResult, Refusal>) -> Option<Marginal> {
    match entry {
        Ok(pr) => Some(Marginal {
            gamma2: pr.gamma2,
            log_p: pr.log_p,
            log_p_err: pr.log_p_err,
        }),
        Err(Refusal::ElboMinusInfinity(Ok(m))) => Some(*m),
        Err(_) => None,
    }
}

/// What does not depend on γ at one x.
#[derive(Debug, Clone)]
pub struct PointStatic {
    /// g(x) and the γ-independent terms of eq. 12 there.
    pub eq12: Eq12Terms,
    /// κ(J_f(g(x))).
    pub kappa: f64,
    /// c_IMA(f, g(x)).
    pub c_ima: f64,
    /// log p_flow(x) (eq. 4).
    pub log_flow: f64,
}

impl PointStatic {
    /// g(x).
    pub fn g(&self) -> &DVector<f64> {
        &self.eq12.z
    }

    /// L_IMA = log p_flow(x) − c_IMA(f, g(x)): the γ → ∞ limit of ELBO* (eq. 13 with eq. 4).
    pub fn l_ima(&self) -> f64 {
        self.log_flow - self.c_ima
    }
}

impl PointResult {
    /// The RHS of eq. 13 at this γ: log pθ(x) − c_IMA(f, g(x)).
    pub fn eq13_rhs(&self, st: &PointStatic) -> f64 {
        self.log_p - st.c_ima
    }

    /// The gap ELBO* − log pθ(x) (eq. 2 at the optimum; → −c_IMA by eq. 13).
    pub fn gap(&self) -> f64 {
        self.elbo - self.log_p
    }
}

/// The results at one (x, γ²).
#[derive(Debug, Clone)]
pub struct PointResult {
    /// γ².
    pub gamma2: f64,
    /// μ̂.
    pub mu: DVector<f64>,
    /// σ̂².
    pub sigma2: DVector<f64>,
    /// ELBO*.
    pub elbo: f64,
    /// Σ of the sizes of ELBO*'s four terms (for round-off floors).
    pub elbo_scale: f64,
    /// Error estimate of ELBO*.
    pub elbo_err: f64,
    /// log pθ(x) at this γ.
    pub log_p: f64,
    /// Its error estimate.
    pub log_p_err: f64,
    /// ‖f(μ̂) − x‖.
    pub reconstruction: f64,
    /// ELBO of the self-consistent encoder μ = g(x), σ² = RHS(12).
    pub elbo_self_consistent: ElboEstimate,
    /// ELBO of a perturbed encoder (for eq. 2).
    pub elbo_perturbed: ElboEstimate,
    /// β = γ0²/γ² of the β-VAE sweep.
    pub beta: Beta,
    /// The β-VAE objective at (γ0², β) evaluated at q̂(γ²).
    pub beta_objective: ElboEstimate,
}

/// The fixed γ0² of the β-VAE sweep: β = γ0²/γ² runs to 0 as γ² grows.
pub const BETA_GAMMA0_SQ: f64 = 10.0;

/// γ-independent quantities at x.
pub fn point_static(model: &Model, x: &DVector<f64>) -> Result<PointStatic, OracleError> {
    let dec = model.decoder();
    let eq12 = Eq12Terms::at_observation(model, x)?;
    let sv = dec.jacobian(&eq12.z)?.singular_values();
    Ok(PointStatic {
        kappa: sv.max() / sv.min(),
        c_ima: ima::c_ima(dec, &eq12.z)?,
        log_flow: ima::log_flow_likelihood(dec, model.prior(), x)?,
        eq12,
    })
}

/// Everything at (x, γ²), or why not; where ELBO* = −∞ exactly, the marginal alone. `rng` draws
/// the perturbed encoder of eq. 2.
pub fn point_result(
    model: &Model,
    x: &DVector<f64>,
    st: &PointStatic,
    gamma2: f64,
    rng: &mut OracleRng,
) -> Result<PointResult, Refusal> {
    let q = QuadratureOptions::new(tol::quadrature(gamma2)).map_err(other)?;
    let query = Query::new(model, x.as_slice(), gamma2).map_err(other)?;
    let o = match optimal_encoder(&query, &q) {
        Ok(o) => o,
        Err(OracleError::MinusInfinity { .. }) => {
            let m = marginal(&query, &q)
                .map(|m| Marginal {
                    gamma2,
                    log_p: m.value,
                    log_p_err: m.error_estimate,
                })
                .map_err(|e| e.to_string());
            return Err(Refusal::ElboMinusInfinity(m));
        }
        Err(e) => return Err(other(e)),
    };
    full_result(model, x, st, &query, &q, o, rng).map_err(other)
}

/// log pθ(x) to the sweep's tolerance `q`, or, where its routes' error estimates stall above it
/// (a node budget exhausted), to [`tol::marginal_relaxed`]: the achieved error estimate enters
/// every floor, so the looser value cannot fake an order.
fn marginal(
    query: &Query,
    q: &QuadratureOptions,
) -> Result<ima_oracle::inference::MarginalEstimate, OracleError> {
    match log_marginal(query, q) {
        Err(OracleError::QuadratureNotConverged { .. }) => log_marginal(
            query,
            &QuadratureOptions::new(tol::marginal_relaxed(query.gamma2()))?,
        ),
        other => other,
    }
}

fn other(e: impl std::fmt::Display) -> Refusal {
    Refusal::Other(e.to_string())
}

/// The rest of [`point_result`] once the optimal encoder `o` is known.
fn full_result(
    model: &Model,
    x: &DVector<f64>,
    st: &PointStatic,
    query: &Query,
    q: &QuadratureOptions,
    o: ima_oracle::inference::OptimalEncoder,
    rng: &mut OracleRng,
) -> Result<PointResult, OracleError> {
    let gamma2 = query.gamma2();
    let dim = x.len();
    let m = marginal(query, q)?;
    let f_mu = model.decoder().forward(&o.mu)?;
    let sc = elbo(query, &st.eq12.encoder(query.precision())?, q)?;
    let pert_mu: Vec<f64> = (0..dim)
        .map(|k| {
            o.mu[k] + tol::PERTURBATION * o.sigma2[k].sqrt() * rng.sample::<f64, _>(StandardNormal)
        })
        .collect();
    let pert_lv: Vec<f64> = (0..dim)
        .map(|k| o.logvar[k] + tol::PERTURBATION * rng.sample::<f64, _>(StandardNormal))
        .collect();
    let pert = elbo(query, &query.encoder(&pert_mu, &pert_lv)?, q)?;
    let beta = Beta::new(BETA_GAMMA0_SQ / gamma2)?;
    let optimum = Encoder::new(o.mu.as_slice(), o.logvar.as_slice())?;
    let at_gamma0 = query.at_gamma2(Gamma2::new(BETA_GAMMA0_SQ)?);
    let b = beta_vae(&at_gamma0, &optimum, beta, q)?;
    Ok(PointResult {
        gamma2,
        reconstruction: (&f_mu - x).norm(),
        elbo_scale: o.parts.size(),
        elbo: o.elbo,
        elbo_err: o.error_estimate,
        mu: o.mu,
        sigma2: o.sigma2,
        log_p: m.value,
        log_p_err: m.error_estimate,
        elbo_self_consistent: sc,
        elbo_perturbed: pert,
        beta,
        beta_objective: b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ima_oracle::generate::Family;

    /// The cases are every family under every prior, each pair once — the count the integration
    /// tests rely on (families × priors), checked against the cases actually built.
    #[test]
    fn cases_are_families_times_priors() {
        let cases = cases(0, &mut ima_oracle::generate::rng(1));
        // 5 families × 2 priors + the authors' model in d = 3; (2 × 2 + 1) Möbius cases in d = 2.
        assert_eq!(cases.len(), 11 + 5);
        for (families, d) in [(&Family::WITH_AUTHORS[..], DIM), (&Family::MOEBIUS[..], 2)] {
            for &family in families {
                let own = family.own_prior().map(|p| vec![p]);
                for prior in own.unwrap_or(priors().to_vec()) {
                    let n = cases
                        .iter()
                        .filter(|c| {
                            c.family == family
                                && c.model.dim_latent() == d
                                && c.model.prior().name() == prior.name()
                        })
                        .count();
                    assert_eq!(n, 1, "{} {} d={d}", family.name(), prior.name());
                }
            }
        }
    }
}
