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
//! * observation model p(x | z) = N(f(z), γ⁻² I_D), precision γ² ([`Gamma2`]);
//! * encoder q(z | x) = N(μ, diag σ²), given as (μ, log σ²) ([`Encoder`]).
//!
//! The paper's claims: the optimal encoder satisfies μ̂ = g(x) + O(1/γ), σ̂_k² = O(1/γ²) (Prop. 1,
//! eq. 9) and σ̂_k² = (−(log m)''(g_k(x)) + γ²‖J_f(g(x))[:, k]‖²)⁻¹ + O(1/γ³) (eq. 12), and
//! ELBO* = log pθ(x) − c_IMA(f, g(x)) + O(1/γ²) (Thm. 1, eq. 13), where
//! c_IMA(f, z) = Σ_k log‖J_f(z)[:, k]‖ − log|det J_f(z)| (eq. 6) is the IMA contrast.
//!
//! ## Layers
//!
//! Data flow one way: each layer uses only those above it in this table (and [`tol`], which every
//! layer reads).
//!
//! | layer | contents |
//! | --- | --- |
//! | [`tol`] | every tolerance, floor and budget, named, with the argument for its value |
//! | [`lanes`] | blocks of lanes (structure-of-arrays) for the vectorised forms of the steps and chains |
//! | [`model`] | priors, sources, decoder steps and chains, [`Model`] (with its poles: [`model::PoleRefusal`]), seeded generators of the paper's families |
//! | [`quadrature`] | Gauss–Hermite and tensor rules, compensated sums, the one refinement loop ([`QuadratureOptions`], [`quadrature::QuadratureError`]) |
//! | [`error`], [`input`] | [`OracleError`], which wraps the model's and the quadrature's errors; the validated inputs [`Gamma2`], [`Beta`], [`Encoder`], [`Query`] |
//! | [`objective`] | the exact ELBO (eq. 1) with gradient and Hessian, the β-VAE objective (§6), the Monte Carlo estimator |
//! | [`inference`] | Newton; the self-consistent start (μ = g(x), eq. 12); the optimal encoder μ̂, σ̂², ELBO* (eq. 7–8); the posterior mode; log pθ(x) at finite γ; KL (eq. 2) |
//! | [`paper`] | c_IMA, C_IMA, the flow likelihood, L_IMA (eq. 4, 6); the RHS of eq. 12 and 13; affine–Gaussian closed forms |
//! | [`flow_quantities()`], [`evaluate()`], [`compare`], [`parallel`] | the flow quantities at x (no γ²); every quantity at one query, each answered on its own; the comparison criterion; thread-count-independent parallel maps |
//! | [`metrics`] | the MCC of the experiments: Pearson/Spearman correlation matrices, the optimal matching of components (Hungarian algorithm) |
//! | [`sprites`] | the Sprites images of §4.3 (Fig. 5): a deterministic renderer of one anti-aliased triangle from position, size and hue, Beta-distributed factors |
//! | [`vae`] | amortised VAEs (§4): networks, the loss of one training step with its exact parameter gradient, Adam, training |
//! | [`io`] | `.npy` files, model folders (`docs/model-format.md`) and VAE folders (`docs/vae-format.md`), beside the numerical layers (it builds models and VAEs) |
//!
//! Validation happens once, at the boundary: a [`Query`] (model, x, γ²) and an [`Encoder`] are
//! checked when built, [`QuadratureOptions`] too, and the numerical core takes them as they are.
//! Every routine either returns a number good to its documented accuracy (with an error estimate
//! where a quadrature is involved) or an [`OracleError`] / [`DecoderError`] that says what and where.
//! Randomness only ever comes from an explicitly seeded [`generate::OracleRng`].
//!
//! ```
//! use ima_oracle::{generate, paper, Prior};
//! use nalgebra::DVector;
//! // A §4.3 Möbius decoder is in the IMA class: c_IMA = 0 at every z.
//! let f = generate::moebius_decoder(3, &mut generate::rng(1)).unwrap();
//! let z = DVector::from_vec(vec![0.1, -0.2, 0.3]);
//! assert!(paper::c_ima(&f, &z).unwrap().abs() < 1e-13);
//! // g(f(z)) = z.
//! let x = f.forward(&z).unwrap();
//! assert!((f.inverse(&x).unwrap() - &z).amax() < 1e-14);
//! let _log_p = paper::log_flow_likelihood(&f, &Prior::standard_normal(), &x).unwrap();
//! ```
//!
//! The affine–Gaussian ELBO equals its closed form (an identity the quadrature reproduces exactly):
//!
//! ```
//! use ima_oracle::{elbo, generate, AffineGaussian, Encoder, Model, Prior, Query};
//! let f = generate::affine_decoder(2, &mut generate::rng(2)).unwrap();
//! let model = Model::new(Prior::standard_normal(), f).unwrap();
//! let query = Query::new(&model, &[0.5, -1.0], 100.0).unwrap();
//! let q = Encoder::new(&[0.1, 0.2], &[-3.0, -2.0]).unwrap();
//! let quadrature = elbo(&query, &q, &Default::default()).unwrap();
//! let exact = AffineGaussian::elbo(&query, &q).unwrap();
//! assert!((quadrature.value - exact).abs() < 1e-12 * exact.abs());
//! ```

#![deny(missing_docs)]
// One `unsafe` block in the crate, allowed where it stands: in the `avx2_kernel!` macro
// (`lanes/dispatch.rs`), the call of a kernel's AVX2 compilation after run-time detection
// (soundness argued there); the leaky-softplus and affine block kernels and the VAE's chunk use it.
#![deny(unsafe_code)]

pub mod compare;
pub mod error;
mod evaluate;
mod flow_quantities;
pub mod inference;
pub mod input;
pub mod io;
pub mod lanes;
pub mod metrics;
pub mod model;
pub mod objective;
pub mod paper;
pub mod parallel;
pub mod quadrature;
pub mod sprites;
pub mod tol;
pub mod vae;

pub use error::{OracleError, StopReason};
pub use evaluate::{evaluate, Evaluation};
pub use flow_quantities::{flow_quantities, FlowQuantities};
pub use inference::{log_marginal, optimal_encoder, OptimalEncoder};
pub use input::{Beta, Encoder, Gamma2, Query};
pub use model::{
    generate, Affine, Decoder, DecoderError, LeakyRelu, LeakySoftplus, Model, Moebius, Prior,
    Sigmoid, Source, Step, Tanh,
};
pub use objective::{elbo, ElboEstimate};
pub use paper::AffineGaussian;
pub use quadrature::QuadratureOptions;
