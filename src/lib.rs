//! # ima-oracle
//!
//! An f64 reference implementation of the mathematics of *Embrace the Gap: VAEs perform Independent
//! Mechanism Analysis* (Reizinger, Gresele, Brady, von Kügelgen, Zietlow, Schölkopf, Martius,
//! Brendel, Besserve; NeurIPS 2022), for checking other implementations against.
//!
//! ## The model (paper eq. 3)
//!
//! * latent z ∈ R^d with a factorized prior p0(z) = Π_k m(z_k) ([`Prior`], Assumption 1 (i));
//! * decoder mean f: R^d → R^D, a chain of steps with exact derivatives ([`Decoder`]); for the theory
//!   D = d and f is invertible with inverse g = f⁻¹ (Assumption 1 (iv));
//! * observation model p(x | z) = N(f(z), γ⁻² I_D), precision γ²;
//! * encoder q(z | x) = N(μ, diag σ²).
//!
//! The paper's claims: the optimal encoder satisfies μ̂ = g(x) + O(1/γ), σ̂_k² = O(1/γ²) (Prop. 1,
//! eq. 9) and σ̂_k² = (−(log m)''(g_k(x)) + γ²‖J_f(g(x))[:, k]‖²)⁻¹ + O(1/γ³) (eq. 12), and
//! ELBO* = log pθ(x) − c_IMA(f, g(x)) + O(1/γ²) (Thm. 1, eq. 13), where
//! c_IMA(f, z) = Σ_k log‖J_f(z)[:, k]‖ − log|det J_f(z)| (eq. 6) is the IMA contrast.
//!
//! ## Modules
//!
//! | module | contents |
//! | --- | --- |
//! | [`prior`] | Gaussian and logistic priors: log m and its first three derivatives, sampling |
//! | [`source`] | data sources of §4 (uniform, shifted Beta, Laplace — outside Assumption 1) |
//! | [`decoder`] | affine, leaky-softplus and Möbius steps; the chain: f, J_f, Σ r_i ∇²f_i, log|det J|, g |
//! | [`generate`] | seeded generators of the paper's mixings and its model families |
//! | [`ima`] | c_IMA, C_IMA, the flow log-likelihood (eq. 4), L_IMA |
//! | [`quadrature`] | Gauss–Hermite rules (probabilists' convention), tensor products, compensated sums |
//! | [`elbo`], [`prior_expectation`] | the exact ELBO (eq. 1) with gradient and Hessian in (μ, log σ²); the β-VAE objective (§6) |
//! | [`newton`], [`optimal`] | safeguarded Newton; the optimal encoder μ̂, σ̂², ELBO* (eq. 7–8) |
//! | [`marginal`] | log pθ(x) at finite γ (two quadrature routes), the posterior mode, KL(q ‖ pθ(z|x)) (eq. 2) |
//! | [`montecarlo`] | the reparameterised Monte Carlo ELBO and gradient, with standard errors |
//! | [`theory`] | RHS of eq. 12 and eq. 13, closed forms of the affine–Gaussian case |
//! | [`evaluate()`], [`compare`] | every quantity at one (x, γ²); the comparison criterion for other implementations |
//! | [`io`] (`io::model_file`, `io::npy`) | model folders (`docs/model-format.md`); NumPy `.npy` files |
//! | [`batch`] | parallel maps over points whose results do not depend on the thread count |
//! | [`special`] | ln Γ, ln B |
//!
//! Every routine either returns a number good to its documented accuracy (with an error estimate
//! where a quadrature is involved) or an [`OracleError`] / [`DecoderError`] that says what and where.
//!
//! Randomness only ever comes from an explicitly seeded [`generate::OracleRng`].
//!
//! ```
//! use ima_oracle::{generate, ima, Prior};
//! use nalgebra::DVector;
//! // A §4.3 Möbius decoder is in the IMA class: c_IMA = 0 at every z.
//! let f = generate::moebius_decoder(3, &mut generate::rng(1)).unwrap();
//! let z = DVector::from_vec(vec![0.1, -0.2, 0.3]);
//! assert!(ima::c_ima(&f, &z).unwrap().abs() < 1e-13);
//! // g(f(z)) = z.
//! let x = f.forward(&z).unwrap();
//! assert!((f.inverse(&x).unwrap() - &z).amax() < 1e-14);
//! let _log_p = ima::log_flow_likelihood(&f, &Prior::standard_normal(), &x).unwrap();
//! ```
//!
//! The affine–Gaussian ELBO equals its closed form (an identity the quadrature reproduces exactly):
//!
//! ```
//! use ima_oracle::{elbo, generate, theory::AffineGaussian, Model, Prior};
//! let model = Model::new(Prior::standard_normal(), generate::affine_decoder(2, &mut generate::rng(2)).unwrap()).unwrap();
//! let (x, mu, lv) = ([0.5, -1.0], [0.1, 0.2], [-3.0, -2.0]);
//! let q = elbo::elbo(&model, &x, &mu, &lv, 100.0, &Default::default()).unwrap();
//! let exact = AffineGaussian::elbo(&model, &x, &mu, &lv, 100.0).unwrap();
//! assert!((q.value - exact).abs() < 1e-12 * exact.abs());
//! ```

#![deny(missing_docs)]

pub mod batch;
pub mod compare;
pub mod decoder;
pub mod elbo;
mod error;
mod evaluate;
pub mod generate;
pub mod ima;
pub mod io;
pub mod marginal;
mod model;
pub mod montecarlo;
pub mod newton;
pub mod optimal;
pub mod prior;
pub mod prior_expectation;
pub mod quadrature;
pub mod source;
pub mod special;
pub mod theory;

pub use decoder::{Affine, Decoder, DecoderError, LeakySoftplus, Moebius, Step, Workspace};
pub use error::OracleError;
pub use evaluate::{evaluate, Evaluation};
pub use model::{chi2_tail_bound, Model};
pub use prior::{Prior, PriorError};
pub use source::Source;
