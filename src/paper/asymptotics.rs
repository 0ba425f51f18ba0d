//! The leading coefficients of the γ → ∞ expansions behind Thm. 1 (issue 14), in closed form at any
//! x, for square decoders (derivation: `proofs-check/README.md`, "The leading coefficients").
//!
//! Notation at z0 = g(x): J = J_f(z0) (d × d), c_k = ‖J_{:,k}‖², D = diag(1/c_k), A = JᵀJ,
//! H_i = ∇²f_i(z0), H[u, w] ∈ R^d the vector (uᵀH_i w)_i, S_k = Σ_i J_{ik} ∇³f_i(z0)[e_k, ·, ·]
//! ([`crate::Decoder::third_contraction`]), p1_k = (log m)'(z0_k), p2_k = (log m)''(z0_k).
//!
//! | coefficient | expansion | closed form | next order |
//! | --- | --- | --- | --- |
//! | C_μ | μ̂ − g(x) = γ⁻² C_μ + O(γ⁻⁴) | A⁻¹(p1 − b), b_a = ½ Σ_k D_k [J_{:,a}·H[e_k, e_k] + 2 J_{:,k}·H[e_a, e_k]] | γ⁻⁴ |
//! | K_k | 1/σ̂_k² = γ² c_k − p2_k + K_k + O(γ⁻²) (eq. 12 with its correction) | 2 J_{:,k}·H[e_k, C_μ] + H[e_k, e_k]·J C_μ + ½ Σ_a D_a (H[e_k,e_k]·H[e_a,e_a] + 2‖H[e_k,e_a]‖² + 2 S_k[a,a] + 2 S_a[k,k]) | γ⁻² |
//! | M | log pθ(x) − log p_flow(x) = γ⁻² M + O(γ⁻⁴), M = Δp_flow/(2 p_flow) | ½(Δ_x L + ‖∇_x L‖²), L = log p_flow (eq. 4) | γ⁻⁴ |
//! | E_elbo | ELBO* − (log p_flow(x) − c_IMA) = γ⁻² E_elbo + O(γ⁻⁴) | ½ C_μᵀ A C_μ + ½ Σ_k p2_k D_k − ⅛ Σ_i [(tr H_i D)² + 2 tr(H_i D H_i D)] − ½ Σ_{a,b} D_a D_b S_a[b,b] | γ⁻⁴ |
//! | E | ELBO* − (log pθ(x) − c_IMA) = γ⁻² E + O(γ⁻⁴) (eq. 13's gap) | E_elbo − M | γ⁻⁴ |
//!
//! With L(x) = ℓ(g(x)), ℓ(z) = Σ_k log m(z_k) − log|det J_f(z)| and G = J⁻¹:
//! ∇_x L = Gᵀ∇ℓ, Δ_x L = tr(Gᵀ ∇²ℓ G) − ∇ℓ·G h with h_i = tr(GGᵀ H_i),
//! ∂_a log|det J| = Σ_i (H_i G_{:,i})_a, ∂_a∂_c log|det J| = Σ_b [Σ_i G_{bi} ∇³f_i[e_b]]_{ac} − tr(G ∂_c J G ∂_a J),
//! (∂_a J)_{ib} = (H_i)_{ab}.
//!
//! Vanishing cases: affine decoders (H = S = 0) have K = 0, so σ̂_k² − RHS(12)_k =
//! −K_k/(c_k²γ⁴) + O(γ⁻⁶) is O(γ⁻⁶) for any prior and exactly 0 for a Gaussian prior, and
//! C_μ = A⁻¹p1; for a Gaussian prior N(0, vI), E = (tr A⁻¹ − Σ_k 1/A_kk)/(2v) ≥ 0, zero exactly
//! when the columns of J are orthogonal. The next order of every expansion is γ⁻² beyond the
//! leading one (the expansion goes in powers of γ⁻²).
//!
//! Accuracy: sums of products of closed forms, with one Cholesky solve by A (relative error
//! ~eps·κ(J)²); away from poles a few hundred ulps relative to the size of the terms.

use crate::error::OracleError;
use crate::model::Model;
use nalgebra::{DMatrix, DVector};

/// The leading coefficients at one x (module table).
#[derive(Debug, Clone, PartialEq)]
pub struct Asymptotics {
    /// z0 = g(x).
    pub z0: DVector<f64>,
    /// C_μ: μ̂ − g(x) = γ⁻² C_μ + O(γ⁻⁴).
    pub c_mu: DVector<f64>,
    /// K: 1/σ̂_k² = γ² ‖J_{:,k}‖² − (log m)''(z0_k) + K_k + O(γ⁻²).
    pub k: DVector<f64>,
    /// M = Δp_flow/(2 p_flow): log pθ(x) − log p_flow(x) = γ⁻² M + O(γ⁻⁴).
    pub marginal: f64,
    /// E_elbo: ELBO* − (log p_flow(x) − c_IMA) = γ⁻² E_elbo + O(γ⁻⁴).
    pub elbo: f64,
    /// E = E_elbo − M: ELBO* − (log pθ(x) − c_IMA) = γ⁻² E + O(γ⁻⁴) (the gap of eq. 13).
    pub gap: f64,
}

/// H[u, w] = (uᵀ H_i w)_i.
fn h_pair(hs: &[DMatrix<f64>], u: &DVector<f64>, w: &DVector<f64>) -> DVector<f64> {
    DVector::from_iterator(hs.len(), hs.iter().map(|h| u.dot(&(h * w))))
}

fn unit(d: usize, k: usize) -> DVector<f64> {
    DVector::from_fn(d, |i, _| f64::from(i == k))
}

/// The derivatives at z0 = g(x) that every coefficient is built from (module notation).
struct Terms {
    z0: DVector<f64>,
    d: usize,
    /// J, A = JᵀJ and its Cholesky factor, G = J⁻¹.
    j: DMatrix<f64>,
    a: DMatrix<f64>,
    chol: nalgebra::Cholesky<f64, nalgebra::Dyn>,
    g: DMatrix<f64>,
    /// D_k = 1/c_k.
    dk: Vec<f64>,
    /// (log m)' and (log m)'' at z0.
    p1: DVector<f64>,
    p2: DVector<f64>,
    /// H_i, the unit vectors e_k, H[e_k, e_k], S_k.
    hs: Vec<DMatrix<f64>>,
    e: Vec<DVector<f64>>,
    hkk: Vec<DVector<f64>>,
    s: Vec<DMatrix<f64>>,
}

impl Terms {
    /// The terms at g(x); errors as [`Asymptotics::new`].
    fn at(model: &Model, x: &DVector<f64>) -> Result<Self, OracleError> {
        let dec = model.decoder();
        let prior = model.prior();
        let z0 = dec.inverse(x)?;
        let d = z0.len();
        let j = dec.jacobian(&z0)?;
        let a = j.transpose() * &j;
        let chol = a.clone().cholesky().ok_or(OracleError::InvalidParameter {
            what: "asymptotics: JᵀJ at g(x) not positive definite; d",
            value: d as f64,
        })?;
        let g = j
            .clone()
            .try_inverse()
            .ok_or(OracleError::InvalidParameter {
                what: "asymptotics: J_f(g(x)) singular; d",
                value: d as f64,
            })?;
        let dk: Vec<f64> = (0..d).map(|k| 1.0 / j.column(k).norm_squared()).collect();
        let p1 = z0.map(|t| prior.d1(t));
        let p2 = z0.map(|t| prior.d2(t));
        // Full Hessians H_i, i = 1 … D.
        let hs: Vec<DMatrix<f64>> = (0..d)
            .map(|i| dec.hessian_contraction(&z0, &unit(d, i)))
            .collect::<Result<_, _>>()?;
        let e: Vec<DVector<f64>> = (0..d).map(|k| unit(d, k)).collect();
        let hkk: Vec<DVector<f64>> = (0..d).map(|k| h_pair(&hs, &e[k], &e[k])).collect();
        // S_k = Σ_i J_ik ∇³f_i[e_k, ·, ·].
        let s: Vec<DMatrix<f64>> = (0..d)
            .map(|k| dec.third_contraction(&z0, &j.column(k).into_owned(), &e[k]))
            .collect::<Result<_, _>>()?;
        Ok(Terms {
            z0,
            d,
            j,
            a,
            chol,
            g,
            dk,
            p1,
            p2,
            hs,
            e,
            hkk,
            s,
        })
    }

    /// C_μ = A⁻¹(p1 − b).
    fn c_mu(&self) -> DVector<f64> {
        let (d, j, dk, hs, e, hkk) = (self.d, &self.j, &self.dk, &self.hs, &self.e, &self.hkk);
        let b = DVector::from_fn(d, |ai, _| {
            0.5 * (0..d)
                .map(|k| {
                    dk[k]
                        * (j.column(ai).dot(&hkk[k])
                            + 2.0 * j.column(k).dot(&h_pair(hs, &e[ai], &e[k])))
                })
                .sum::<f64>()
        });
        self.chol.solve(&(&self.p1 - &b))
    }

    /// K_k (module table).
    fn k(&self, c_mu: &DVector<f64>) -> DVector<f64> {
        let (d, j, dk, hs, e, hkk, s) = (
            self.d, &self.j, &self.dk, &self.hs, &self.e, &self.hkk, &self.s,
        );
        let jc = j * c_mu;
        DVector::from_fn(d, |kk, _| {
            let lead = 2.0 * j.column(kk).dot(&h_pair(hs, &e[kk], c_mu)) + hkk[kk].dot(&jc);
            let quad: f64 = (0..d)
                .map(|ai| {
                    dk[ai]
                        * (hkk[kk].dot(&hkk[ai])
                            + 2.0 * h_pair(hs, &e[kk], &e[ai]).norm_squared()
                            + 2.0 * s[kk][(ai, ai)]
                            + 2.0 * s[ai][(kk, kk)])
                })
                .sum();
            lead + 0.5 * quad
        })
    }

    /// E_elbo (module table).
    fn e_elbo(&self, c_mu: &DVector<f64>) -> f64 {
        let (d, dk) = (self.d, &self.dk);
        let dmat = DMatrix::from_diagonal(&DVector::from_column_slice(dk));
        let mut hsum = 0.0;
        for h in &self.hs {
            let hd = h * &dmat;
            hsum += hd.trace().powi(2) + 2.0 * (&hd * &hd).trace();
        }
        let mut tsum = 0.0;
        for ai in 0..d {
            for bi in 0..d {
                tsum += dk[ai] * dk[bi] * self.s[ai][(bi, bi)];
            }
        }
        0.5 * c_mu.dot(&(&self.a * c_mu)) + 0.5 * (0..d).map(|kk| self.p2[kk] * dk[kk]).sum::<f64>()
            - hsum / 8.0
            - 0.5 * tsum
    }

    /// M = ½(Δ_x L + ‖∇_x L‖²) (module docs), with d more third-derivative contractions.
    fn marginal(&self, model: &Model) -> Result<f64, OracleError> {
        let (d, g, hs, e, p2) = (self.d, &self.g, &self.hs, &self.e, &self.p2);
        let grad_logdet = DVector::from_fn(d, |ai, _| {
            (0..d).map(|i| (&hs[i] * g.column(i))[ai]).sum::<f64>()
        });
        let grad_l = &self.p1 - &grad_logdet;
        let mut trg3 = DMatrix::zeros(d, d);
        for (bi, eb) in e.iter().enumerate() {
            trg3 += model
                .decoder()
                .third_contraction(&self.z0, &g.row(bi).transpose(), eb)?;
        }
        // (∂_a J)_{ib} = (H_i)_{ab}, and G ∂_a J.
        let gdj: Vec<DMatrix<f64>> = (0..d)
            .map(|ai| g * DMatrix::<f64>::from_fn(d, d, |i, bi| hs[i][(ai, bi)]))
            .collect();
        let hess_l = DMatrix::from_fn(d, d, |ai, ci| {
            let diag = if ai == ci { p2[ai] } else { 0.0 };
            diag - (trg3[(ai, ci)] - (&gdj[ci] * &gdj[ai]).trace())
        });
        let m = g * g.transpose();
        let h = DVector::from_iterator(d, hs.iter().map(|hi| (&m * hi).trace()));
        let lap = (g.transpose() * &hess_l * g).trace() - grad_l.dot(&(g * &h));
        let grad_x = g.transpose() * &grad_l;
        Ok(0.5 * (lap + grad_x.norm_squared()))
    }
}

impl Asymptotics {
    /// The coefficients at x for the model. Errors if the decoder is not smooth
    /// ([`OracleError::NotSmooth`]: a leaky ReLU's kinks break the expansion wherever the posterior
    /// reaches one, and the exact numbers it predicts are refused for such decoders too), not
    /// square, x cannot be inverted, the decoder fails at g(x) (a pole), a step has no third
    /// derivatives, or J_f(g(x)) is singular to working precision.
    pub fn new(model: &Model, x: &DVector<f64>) -> Result<Self, OracleError> {
        model.guard_smooth()?;
        let t = Terms::at(model, x)?;
        let c_mu = t.c_mu();
        let k = t.k(&c_mu);
        let elbo = t.e_elbo(&c_mu);
        let marginal = t.marginal(model)?;
        let out = Asymptotics {
            z0: t.z0,
            c_mu,
            k,
            marginal,
            elbo,
            gap: elbo - marginal,
        };
        let scalars = [out.marginal, out.elbo];
        let mut all = out.c_mu.iter().chain(out.k.iter()).chain(scalars.iter());
        if let Some(i) = all.position(|t| !t.is_finite()) {
            return Err(OracleError::NonFinite {
                what: "asymptotic coefficient",
                index: i,
            });
        }
        Ok(out)
    }
}
