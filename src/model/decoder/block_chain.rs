//! The chain rule on blocks of [`LANES`] points or quadrature nodes: the lane-blocked form of
//! [`Decoder::eval`], [`Decoder::eval_offset`], [`Decoder::hessian_contraction_into`] and
//! [`Decoder::log_abs_det_from`] (formulas in `chain.rs`).
//!
//! Every lane is computed by the operations of the scalar form in the same order, so each lane's
//! result equals the scalar result for that point, bit for bit — whatever the lane and however
//! many lanes a block has. The hot loops of the crate (c_IMA over points, the ELBO over quadrature
//! nodes, the Laplace-centred marginal) run on blocks; the scalar form stays the readable reference
//! the tests compare against.

use super::chain::Decoder;
use super::error::DecoderError;
use super::step_block::{LaneScratch, StepBlockOps};
use super::workspace::Workspace;
use super::StepOps;
use crate::lanes::{Block, Lanes, MatBlock, LANES};

/// Buffers for evaluating one [`Decoder`] on blocks of lanes (one per thread).
#[derive(Debug, Clone)]
pub(crate) struct BlockWorkspace {
    /// Activations u_0, …, u_L per lane.
    acts: Vec<Block>,
    /// Differences u_l − u_l(z0) per lane.
    dacts: Vec<Block>,
    /// Each step's cache of its input, per lane.
    aux: Vec<Block>,
    /// Partial Jacobians P_l per lane.
    partial: Vec<MatBlock>,
    /// Cotangents of the second-derivative contraction per lane.
    cot: Vec<Block>,
    /// log|det J_l| per step, per lane.
    log_dets: Vec<Lanes>,
    /// Per step, buffers for the scalar form on one lane.
    scratch: Vec<LaneScratch>,
    /// The base point's evaluation (shared by every lane of `eval_offset_block`).
    base: Workspace,
    has_jacobian: bool,
}

impl BlockWorkspace {
    /// f(z) per lane after [`Decoder::eval_block`].
    pub(crate) fn output(&self) -> &Block {
        self.acts.last().expect("a workspace has an activation")
    }

    /// z per lane after [`Decoder::eval_block`] or [`Decoder::inverse_block`].
    pub(crate) fn input(&self) -> &Block {
        &self.acts[0]
    }

    /// f(z) − f(z0) per lane after [`Decoder::eval_offset_block`].
    pub(crate) fn output_diff(&self) -> &Block {
        self.dacts.last().expect("a workspace has an activation")
    }

    /// f(z0) after [`Decoder::set_base_block`].
    pub(crate) fn base_output(&self) -> &[f64] {
        self.base.base_output()
    }

    /// J_f(z) per lane (D × d) after an evaluation with the Jacobian.
    pub(crate) fn jacobian(&self) -> &MatBlock {
        debug_assert!(self.has_jacobian, "evaluated without the Jacobian");
        self.partial.last().expect("a workspace has a matrix")
    }
}

impl Decoder {
    /// Buffers for the block forms.
    pub(crate) fn block_workspace(&self) -> BlockWorkspace {
        let d = self.dim_in();
        let mut dims = vec![d];
        dims.extend(self.steps().iter().map(|s| s.dim_out()));
        BlockWorkspace {
            acts: dims.iter().map(|&n| Block::zeros(n)).collect(),
            dacts: dims.iter().map(|&n| Block::zeros(n)).collect(),
            aux: self
                .steps()
                .iter()
                .map(|s| Block::zeros(s.aux_len()))
                .collect(),
            partial: dims.iter().map(|&n| MatBlock::zeros(n, d)).collect(),
            cot: dims.iter().map(|&n| Block::zeros(n)).collect(),
            log_dets: vec![[0.0; LANES]; self.steps().len()],
            scratch: self
                .steps()
                .iter()
                .map(|s| LaneScratch::new(s, d))
                .collect(),
            base: self.workspace(),
            has_jacobian: false,
        }
    }

    /// A block workspace belongs to the decoder that made it.
    fn check_block_workspace(&self, ws: &BlockWorkspace) -> Result<(), DecoderError> {
        let fits = ws.acts.len() == self.steps().len() + 1
            && ws.acts[0].dim() == self.dim_in()
            && self
                .steps()
                .iter()
                .zip(&ws.acts[1..])
                .all(|(s, a)| a.dim() == s.dim_out());
        if fits {
            self.check_workspace(&ws.base)
        } else {
            Err(DecoderError::DimensionMismatch {
                what: "block workspace (made by another decoder)".into(),
                expected: self.steps().len() + 1,
                found: ws.acts.len(),
            })
        }
    }

    /// f(z) and, if `jacobian`, J_f(z) for every lane of `z` (read them with
    /// [`BlockWorkspace::output`] and [`BlockWorkspace::jacobian`]). Errors as [`Decoder::eval`]:
    /// a wrong dimension, a non-finite input, or a pole or overflow in any lane, naming the step.
    pub(crate) fn eval_block(
        &self,
        z: &Block,
        ws: &mut BlockWorkspace,
        jacobian: bool,
    ) -> Result<(), DecoderError> {
        self.check_block_workspace(ws)?;
        if z.dim() != self.dim_in() {
            return Err(DecoderError::DimensionMismatch {
                what: "z (block)".into(),
                expected: self.dim_in(),
                found: z.dim(),
            });
        }
        if !z.all_finite() {
            return Err(DecoderError::NonFinite {
                what: "z (block)".into(),
                index: 0,
            });
        }
        ws.acts[0].copy_from(z);
        if jacobian {
            ws.partial[0].fill_with_identity();
        }
        for (l, step) in self.steps().iter().enumerate() {
            let (before, after) = ws.acts.split_at_mut(l + 1);
            step.forward_block(&before[l], &mut after[0], &mut ws.scratch[l]);
            if !after[0].all_finite() {
                return Err(pole(l, "forward"));
            }
            if jacobian {
                step.fill_aux_block(&before[l], &mut ws.aux[l], &mut ws.scratch[l]);
                accumulate_jacobian_block(
                    step,
                    l,
                    &ws.acts[l],
                    &ws.aux[l],
                    &mut ws.partial,
                    &mut ws.scratch[l],
                )?;
            }
        }
        ws.has_jacobian = jacobian;
        Ok(())
    }

    /// Evaluates f at the base point z0 shared by every lane of
    /// [`Decoder::eval_offset_block`]. Errors as [`Decoder::set_base`].
    pub(crate) fn set_base_block(
        &self,
        z0: &[f64],
        ws: &mut BlockWorkspace,
    ) -> Result<(), DecoderError> {
        self.check_block_workspace(ws)?;
        self.set_base(z0, &mut ws.base)
    }

    /// The block form of [`Decoder::eval_offset`]: for every lane, f(z0 + dz) − f(z0) by the steps'
    /// difference forms, the activations at z0 + dz, and J_f there if `jacobian`. The caller set
    /// the base with [`Decoder::set_base_block`] (which checked the workspace) and builds `dz`
    /// (length d per lane) from checked data; a non-finite result in any lane is a
    /// [`DecoderError::Pole`] naming the step.
    pub(crate) fn eval_offset_block(
        &self,
        dz: &Block,
        ws: &mut BlockWorkspace,
        jacobian: bool,
    ) -> Result<(), DecoderError> {
        ws.dacts[0].copy_from(dz);
        add_base(&ws.base.base[0], dz, &mut ws.acts[0]);
        if jacobian {
            ws.partial[0].fill_with_identity();
        }
        for (l, step) in self.steps().iter().enumerate() {
            let (dbefore, dafter) = ws.dacts.split_at_mut(l + 1);
            let (base_l, base_aux_l) = (&ws.base.base[l], &ws.base.base_aux[l]);
            step.forward_diff_block(
                base_l,
                base_aux_l,
                &dbefore[l],
                &mut dafter[0],
                &mut ws.aux[l],
                &mut ws.scratch[l],
            );
            if !add_base(&ws.base.base[l + 1], &dafter[0], &mut ws.acts[l + 1]) {
                return Err(pole(l, "forward"));
            }
            if jacobian {
                accumulate_jacobian_block(
                    step,
                    l,
                    &ws.acts[l],
                    &ws.aux[l],
                    &mut ws.partial,
                    &mut ws.scratch[l],
                )?;
            }
        }
        ws.has_jacobian = jacobian;
        Ok(())
    }

    /// The block form of [`Decoder::hessian_contraction_into`]: h = Σ_i r_i ∇²f_i(z) (d × d) per
    /// lane, after an evaluation with the Jacobian; `r` has length D per lane and `h` is d × d
    /// (the caller sizes both).
    pub(crate) fn hessian_contraction_block(
        &self,
        ws: &mut BlockWorkspace,
        r: &Block,
        h: &mut MatBlock,
    ) {
        for e in h.entries_mut() {
            *e = [0.0; LANES];
        }
        let n = self.steps().len();
        ws.cot[n].copy_from(r);
        for l in (0..n).rev() {
            let step = &self.steps()[l];
            let (cb, ca) = ws.cot.split_at_mut(l + 1);
            step.add_hessian_sandwich_block(
                &ws.acts[l],
                &ws.aux[l],
                &ca[0],
                &ws.partial[l],
                h,
                &mut ws.scratch[l],
            );
            step.vjp_block(
                &ws.acts[l],
                &ws.aux[l],
                &ca[0],
                &mut cb[l],
                &mut ws.scratch[l],
            );
        }
    }

    /// z = g(x) = f⁻¹(x) for every lane of `x` (square chains), the activations into `ws` (then
    /// [`Decoder::log_abs_det_block`] reads them): the steps' inverses from the last to the first,
    /// lane by lane the bits of the scalar inverse walk (`Decoder::inverse_unchecked`). Errors as
    /// that walk, for the first failing step (a lane outside a step's image, a non-finite
    /// result); a caller wanting each lane's own error redoes the block point by point.
    pub(crate) fn inverse_block(
        &self,
        x: &Block,
        ws: &mut BlockWorkspace,
    ) -> Result<(), DecoderError> {
        self.require_square()?;
        self.check_block_workspace(ws)?;
        if x.dim() != self.dim_out() {
            return Err(DecoderError::DimensionMismatch {
                what: "x (block)".into(),
                expected: self.dim_out(),
                found: x.dim(),
            });
        }
        let n = self.steps().len();
        ws.acts[n].copy_from(x);
        for l in (0..n).rev() {
            let (before, after) = ws.acts.split_at_mut(l + 1);
            self.steps()[l]
                .inverse_block(&after[0], &mut before[l], &mut ws.scratch[l])
                .map_err(|e| match e {
                    DecoderError::Pole { what, .. } => DecoderError::Pole { step: l, what },
                    e => e.at_step(l),
                })?;
            if !before[l].all_finite() {
                return Err(pole(l, "inverse"));
            }
        }
        ws.has_jacobian = false;
        Ok(())
    }

    /// The block form of [`Decoder::log_abs_det_from`]: log|det J_f(z)| per lane as the sum of
    /// the steps' closed forms, after an evaluation (square chains: checked here).
    pub(crate) fn log_abs_det_block(&self, ws: &mut BlockWorkspace) -> Result<Lanes, DecoderError> {
        self.require_square()?;
        for (l, step) in self.steps().iter().enumerate() {
            step.log_abs_det_block(&ws.acts[l], &mut ws.log_dets[l], &mut ws.scratch[l]);
        }
        let mut out = [0.0; LANES];
        for (lane, o) in out.iter_mut().enumerate() {
            *o = ws.log_dets.iter().map(|v| v[lane]).sum();
        }
        Ok(out)
    }
}

/// P_{l+1} = J_l(u) P_l for every lane, checking the result is finite.
fn accumulate_jacobian_block(
    step: &super::Step,
    l: usize,
    u: &Block,
    aux: &Block,
    partial: &mut [MatBlock],
    scratch: &mut LaneScratch,
) -> Result<(), DecoderError> {
    let (pb, pa) = partial.split_at_mut(l + 1);
    step.jacobian_mul_block(u, aux, &pb[l], &mut pa[0], scratch);
    if !pa[0].all_finite() {
        return Err(pole(l, "jacobian"));
    }
    Ok(())
}

/// out = base + diff in every lane (the activations at z0 + dz from the base's and the
/// difference's), as the scalar form adds them; returns whether every result is finite.
#[inline]
fn add_base(base: &[f64], diff: &Block, out: &mut Block) -> bool {
    for ((o, d), &b) in out.coords_mut().iter_mut().zip(diff.coords()).zip(base) {
        for (ol, &dl) in o.iter_mut().zip(d) {
            *ol = b + dl;
        }
    }
    out.all_finite()
}

fn pole(step: usize, what: &'static str) -> DecoderError {
    DecoderError::Pole { step, what }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::generate::OracleRng;
    use crate::model::generate::{haar_orthogonal, rng, Family};
    use crate::model::Step;
    use crate::model::{Affine, LeakyRelu, Sigmoid, Tanh};
    use nalgebra::{DMatrix, DVector};
    use rand::RngExt;
    use rand_distr::StandardNormal;

    /// Every block form against the scalar form, lane by lane, for every family in d = 1, 2, 3, 5:
    /// f, J_f, the difference form and its Jacobian, Σ r_i ∇²f_i and log|det J| agree bit for bit
    /// (`==` on every entry: the same operations in the same order).
    #[test]
    fn blocks_equal_the_scalar_form_lane_by_lane() {
        check();
        crate::lanes::dispatch::with_avx2_at_most(check);
    }

    /// The body of `blocks_equal_the_scalar_form_lane_by_lane`, run once per vector unit.
    fn check() {
        let mut inverted = 0;
        let mut r = rng(41);
        for d in [1usize, 2, 3, 5] {
            let mut decs: Vec<(&str, Decoder)> = Family::ALL
                .iter()
                .map(|fam| (fam.name(), fam.build(d, &mut r).unwrap()))
                .collect();
            decs.extend(elementwise_chains(d, &mut r));
            for (name, dec) in decs {
                let dd = dec.dim_out();
                let (mut ws, mut bws) = (dec.workspace(), dec.block_workspace());
                let mut draw =
                    |s: f64| DVector::from_fn(d, |_, _| s * r.sample::<f64, _>(StandardNormal));
                let zs: Vec<DVector<f64>> = (0..LANES).map(|_| draw(0.4)).collect();
                let dzs: Vec<DVector<f64>> =
                    (0..LANES).map(|l| draw(0.1 * (l as f64 + 0.5))).collect();
                let z0 = draw(0.4);
                let rs: Vec<DVector<f64>> = (0..LANES)
                    .map(|_| draw(1.0).resize_vertically(dd, 0.3))
                    .collect();
                let (mut zb, mut dzb, mut rb) =
                    (Block::zeros(d), Block::zeros(d), Block::zeros(dd));
                for l in 0..LANES {
                    zb.write_lane(l, zs[l].as_slice());
                    dzb.write_lane(l, dzs[l].as_slice());
                    rb.write_lane(l, rs[l].as_slice());
                }
                // f and J at z.
                let block_eval = dec.eval_block(&zb, &mut bws, true);
                let (mut out, mut jac) = (vec![0.0; dd], DMatrix::zeros(dd, d));
                for l in 0..LANES {
                    let scalar = dec.eval(zs[l].as_slice(), &mut ws, true);
                    if scalar.is_err() || block_eval.is_err() {
                        // A Möbius pole within 0.4-scale draws: both must refuse.
                        assert!(scalar.is_err() && block_eval.is_err(), "{} d={d}", name);
                        continue;
                    }
                    bws.output().read_lane(l, &mut out);
                    assert_eq!(out.as_slice(), ws.output(), "{} d={d} f lane {l}", name);
                    bws.jacobian().read_lane(l, &mut jac);
                    assert_eq!(&jac, ws.jacobian(), "{} d={d} J lane {l}", name);
                    if dec.is_square() {
                        let ld = dec.log_abs_det_block(&mut bws).unwrap();
                        assert_eq!(
                            ld[l],
                            dec.log_abs_det_from(&ws).unwrap(),
                            "{} log det",
                            name
                        );
                    }
                }
                // The inverse walk from x = f(z) (square chains), and log|det J| read after it.
                if dec.is_square() && block_eval.is_ok() {
                    let xb = bws.output().clone();
                    let inv = dec.inverse_block(&xb, &mut bws);
                    let ld_block = inv.as_ref().ok().map(|_| dec.log_abs_det_block(&mut bws));
                    let mut x = vec![0.0; dd];
                    let mut zl = vec![0.0; d];
                    for l in 0..LANES {
                        xb.read_lane(l, &mut x);
                        let scalar = dec.inverse_unchecked(&x, &mut ws);
                        if scalar.is_err() || inv.is_err() {
                            assert!(
                                inv.is_err(),
                                "{} d={d}: block inverse accepted a failure",
                                name
                            );
                            continue;
                        }
                        bws.input().read_lane(l, &mut zl);
                        assert_eq!(zl.as_slice(), ws.input(), "{} d={d} g(x) lane {l}", name);
                        let ld = ld_block.as_ref().unwrap().as_ref().unwrap()[l];
                        assert_eq!(
                            ld,
                            dec.log_abs_det_unchecked(&ws),
                            "{} log det at g(x)",
                            name
                        );
                        inverted += 1;
                    }
                }
                // The difference form at z0 + dz, its Jacobian and the contraction there.
                dec.set_base_block(z0.as_slice(), &mut bws).unwrap();
                dec.set_base(z0.as_slice(), &mut ws).unwrap();
                let block_eval = dec.eval_offset_block(&dzb, &mut bws, true);
                let mut hb = MatBlock::zeros(d, d);
                if block_eval.is_ok() {
                    dec.hessian_contraction_block(&mut bws, &rb, &mut hb);
                }
                let mut h = DMatrix::zeros(d, d);
                for l in 0..LANES {
                    let scalar = dec.eval_offset(dzs[l].as_slice(), &mut ws, true);
                    if scalar.is_err() || block_eval.is_err() {
                        assert!(block_eval.is_err(), "{} d={d}: block accepted a pole", name);
                        continue;
                    }
                    bws.output_diff().read_lane(l, &mut out);
                    assert_eq!(
                        out.as_slice(),
                        ws.output_diff(),
                        "{} d={d} Δf lane {l}",
                        name
                    );
                    bws.jacobian().read_lane(l, &mut jac);
                    assert_eq!(&jac, ws.jacobian(), "{} d={d} J(z0+dz) lane {l}", name);
                    dec.hessian_contraction_into(&mut ws, rs[l].as_slice(), &mut h)
                        .unwrap();
                    let mut hl = DMatrix::zeros(d, d);
                    hb.read_lane(l, &mut hl);
                    assert_eq!(hl, h, "{} d={d} contraction lane {l}", name);
                }
            }
        }
        // Every square chain of the families and elementwise chains, 4 dimensions, 8 lanes: most
        // of them inverted (a Möbius pole or a saturated sigmoid may refuse a few).
        assert!(inverted >= 200, "only {inverted} lanes inverted");
    }

    /// Chains through the elementwise sigmoid, tanh and leaky ReLU: W₁ → step → W₂ on R^d (W
    /// Haar-orthogonal, scaled by 2 so that the activations reach the curved and saturated parts),
    /// and a widening W₁ (d → d + 2) → tanh, not square.
    fn elementwise_chains(d: usize, r: &mut OracleRng) -> Vec<(&'static str, Decoder)> {
        let lin = |n: usize, r: &mut OracleRng| -> Step {
            Affine::new(haar_orthogonal(n, r) * 2.0, None)
                .unwrap()
                .into()
        };
        let wide = DMatrix::from_fn(d + 2, d, |i, j| if i % d == j { 1.5 } else { 0.2 });
        vec![
            (
                "sigmoid",
                Decoder::new(
                    d,
                    vec![lin(d, r), Sigmoid::new(d).unwrap().into(), lin(d, r)],
                )
                .unwrap(),
            ),
            (
                "tanh",
                Decoder::new(d, vec![lin(d, r), Tanh::new(d).unwrap().into(), lin(d, r)]).unwrap(),
            ),
            (
                "leaky_relu",
                Decoder::new(
                    d,
                    vec![lin(d, r), LeakyRelu::new(d, 0.3).unwrap().into(), lin(d, r)],
                )
                .unwrap(),
            ),
            (
                "wide tanh",
                Decoder::new(
                    d,
                    vec![
                        Affine::new(wide, None).unwrap().into(),
                        Tanh::new(d + 2).unwrap().into(),
                    ],
                )
                .unwrap(),
            ),
        ]
    }
}
