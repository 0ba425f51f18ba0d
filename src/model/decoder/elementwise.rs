//! Elementwise steps t ↦ a(t), coordinate by coordinate (sigmoid, tanh, leaky ReLU): the scalar
//! functions each such step provides ([`Elementwise`]), and one macro, [`elementwise_step!`], that
//! turns them into the whole step contract — [`StepOps`](super::StepOps) and its lane-blocked form
//! [`StepBlockOps`](super::step_block::StepBlockOps) — with J = diag(a'(t_i)),
//! Σ_i r_i ∇²s_i = diag(r_i a''(t_i)), Σ_i r_i ∇³s_i[w] = diag(r_i a'''(t_i) w_i),
//! log|det J| = Σ_i log|a'(t_i)|.
//!
//! The cache of an activation u holds [`Elementwise::AUX`] numbers per coordinate, laid out as
//! the leaky softplus's: entry k of coordinate i at `aux[k·n + i]` (a run of lanes per entry in the
//! block form). The block forms run the same scalar functions in the same order, lane by lane, so
//! they are bit-identical to the scalar forms.

/// The scalar functions of an elementwise step a: R → R (strictly increasing, so invertible on its
/// image). `aux` is the cache of one coordinate (entries past [`Elementwise::AUX`] are unused).
pub(crate) trait Elementwise {
    /// The step's name in model files.
    const NAME: &'static str;
    /// Cached numbers per coordinate (0, 1 or 2).
    const AUX: usize;
    /// The dimension n (input = output).
    fn dim(&self) -> usize;
    /// a(t).
    fn value(&self, t: f64) -> f64;
    /// The cache of coordinate value t.
    fn aux(&self, t: f64) -> [f64; 2];
    /// a(t0 + Δ) − a(t0) without cancellation, given the cache of t0.
    fn diff(&self, t0: f64, aux0: [f64; 2], dt: f64) -> f64;
    /// a'(t), given the cache of t.
    fn d1(&self, t: f64, aux: [f64; 2]) -> f64;
    /// a''(t), given the cache of t.
    fn d2(&self, t: f64, aux: [f64; 2]) -> f64;
    /// a'''(t), given the cache of t: the step's third-derivative sandwich
    /// (h += Pᵀ diag(r_i a'''(u_i) w_i) P, for [`crate::Decoder::third_contraction`]); tested
    /// against central differences of a''.
    fn d3(&self, t: f64, aux: [f64; 2]) -> f64;
    /// log a'(t), accurate where a'(t) underflows.
    fn log_d1(&self, t: f64) -> f64;
    /// a⁻¹(y); `None` when y is outside the image of a.
    fn inverse_scalar(&self, y: f64) -> Option<f64>;
    /// The image of a, as error messages name it: "(0, 1)", "R" …
    const IMAGE: &'static str;
}

/// The cache of coordinate i of an activation of dimension n (`aux` laid out as the module docs
/// say).
#[inline(always)]
pub(crate) fn aux_at<const K: usize>(aux: &[f64], n: usize, i: usize) -> [f64; 2] {
    let mut a = [0.0; 2];
    for (k, ak) in a.iter_mut().enumerate().take(K) {
        *ak = aux[k * n + i];
    }
    a
}

/// Stores the cache `a` of coordinate i (the inverse of [`aux_at`]).
#[inline(always)]
pub(crate) fn store_aux<const K: usize>(aux: &mut [f64], n: usize, i: usize, a: [f64; 2]) {
    for (k, &ak) in a.iter().enumerate().take(K) {
        aux[k * n + i] = ak;
    }
}

/// Stores the cache `a` of coordinate i, lane l, of a block cache.
#[inline(always)]
pub(crate) fn store_block_aux<const K: usize>(
    aux: &mut crate::lanes::Block,
    n: usize,
    i: usize,
    l: usize,
    a: [f64; 2],
) {
    for (k, &ak) in a.iter().enumerate().take(K) {
        aux[k * n + i][l] = ak;
    }
}

/// Implements `StepOps` and `StepBlockOps` for a type implementing [`Elementwise`] (module docs).
macro_rules! elementwise_step {
    ($t:ty) => {
        impl $crate::model::decoder::StepOps for $t {
            fn dim_in(&self) -> usize {
                $crate::model::decoder::elementwise::Elementwise::dim(self)
            }
            fn dim_out(&self) -> usize {
                $crate::model::decoder::elementwise::Elementwise::dim(self)
            }
            fn name(&self) -> &'static str {
                <$t as $crate::model::decoder::elementwise::Elementwise>::NAME
            }
            fn aux_len(&self) -> usize {
                <$t as $crate::model::decoder::elementwise::Elementwise>::AUX
                    * $crate::model::decoder::elementwise::Elementwise::dim(self)
            }
            #[inline]
            fn forward(&self, z: &[f64], out: &mut [f64]) {
                for (o, &t) in out.iter_mut().zip(z) {
                    *o = self.value(t);
                }
            }
            #[inline]
            fn fill_aux(&self, u: &[f64], aux: &mut [f64]) {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                let n = u.len();
                for (i, &t) in u.iter().enumerate() {
                    $crate::model::decoder::elementwise::store_aux::<K>(aux, n, i, self.aux(t));
                }
            }
            /// out_i = a(u0_i + Δ_i) − a(u0_i) by the step's difference form; the cache of
            /// u0 + Δ is that of the rounded sum (the activation the chain holds).
            #[inline]
            fn forward_diff(
                &self,
                u0: &[f64],
                base_aux: &[f64],
                du: &[f64],
                out: &mut [f64],
                aux: &mut [f64],
            ) {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                let n = u0.len();
                for i in 0..n {
                    let a0 = $crate::model::decoder::elementwise::aux_at::<K>(base_aux, n, i);
                    out[i] = self.diff(u0[i], a0, du[i]);
                    let a = self.aux(u0[i] + du[i]);
                    $crate::model::decoder::elementwise::store_aux::<K>(aux, n, i, a);
                }
            }
            #[inline]
            fn jacobian_mul(
                &self,
                z: &[f64],
                aux: &[f64],
                m: &nalgebra::DMatrix<f64>,
                out: &mut nalgebra::DMatrix<f64>,
            ) {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                let n = z.len();
                for (oc, mc) in out
                    .as_mut_slice()
                    .chunks_exact_mut(n)
                    .zip(m.as_slice().chunks_exact(n))
                {
                    for (i, (o, &mi)) in oc.iter_mut().zip(mc).enumerate() {
                        let a = $crate::model::decoder::elementwise::aux_at::<K>(aux, n, i);
                        *o = self.d1(z[i], a) * mi;
                    }
                }
            }
            #[inline]
            fn vjp(&self, z: &[f64], aux: &[f64], r: &[f64], out: &mut [f64]) {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                let n = z.len();
                for (i, (o, &ri)) in out.iter_mut().zip(r).enumerate() {
                    let a = $crate::model::decoder::elementwise::aux_at::<K>(aux, n, i);
                    *o = self.d1(z[i], a) * ri;
                }
            }
            /// h += Pᵀ diag(r_i a''(u_i)) P (zero curvatures skipped).
            #[inline]
            fn add_hessian_sandwich(
                &self,
                z: &[f64],
                aux: &[f64],
                r: &[f64],
                p: &nalgebra::DMatrix<f64>,
                h: &mut nalgebra::DMatrix<f64>,
                _scratch: &mut [f64],
            ) {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                let n = z.len();
                $crate::model::decoder::step::add_diagonal_sandwich(p, h, |i| {
                    let a = $crate::model::decoder::elementwise::aux_at::<K>(aux, n, i);
                    r[i] * self.d2(z[i], a)
                });
            }
            /// h += Pᵀ diag(r_i a'''(u_i) w_i) P (a''' from [`Elementwise::d3`]).
            fn add_third_sandwich(
                &self,
                z: &[f64],
                aux: &[f64],
                r: &[f64],
                w: &[f64],
                p: &nalgebra::DMatrix<f64>,
                h: &mut nalgebra::DMatrix<f64>,
            ) -> Result<(), $crate::model::decoder::DecoderError> {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                let n = z.len();
                $crate::model::decoder::step::add_diagonal_sandwich(p, h, |i| {
                    let a = $crate::model::decoder::elementwise::aux_at::<K>(aux, n, i);
                    r[i] * w[i] * self.d3(z[i], a)
                });
                Ok(())
            }
            #[inline]
            fn log_abs_det(&self, z: &[f64]) -> f64 {
                z.iter().map(|&t| self.log_d1(t)).sum()
            }
            fn inverse(
                &self,
                x: &[f64],
                out: &mut [f64],
            ) -> Result<(), $crate::model::decoder::DecoderError> {
                for (i, (o, &y)) in out.iter_mut().zip(x).enumerate() {
                    *o = self.inverse_scalar(y).ok_or(
                        $crate::model::decoder::DecoderError::OutsideImage {
                            step: None,
                            index: i,
                            value: y,
                            image: <$t as $crate::model::decoder::elementwise::Elementwise>::IMAGE,
                        },
                    )?;
                }
                Ok(())
            }
        }

        /// The block forms: the scalar functions with the lanes innermost, in the scalar order.
        impl $crate::model::decoder::step_block::StepBlockOps for $t {
            fn forward_block(
                &self,
                z: &$crate::lanes::Block,
                out: &mut $crate::lanes::Block,
                _: &mut $crate::model::decoder::step_block::LaneScratch,
            ) {
                for (o, zi) in out.coords_mut().iter_mut().zip(z.coords()) {
                    for (ol, &t) in o.iter_mut().zip(zi) {
                        *ol = self.value(t);
                    }
                }
            }

            fn fill_aux_block(
                &self,
                u: &$crate::lanes::Block,
                aux: &mut $crate::lanes::Block,
                _: &mut $crate::model::decoder::step_block::LaneScratch,
            ) {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                let n = u.dim();
                for i in 0..n {
                    for l in 0..$crate::lanes::LANES {
                        let a = self.aux(u[i][l]);
                        $crate::model::decoder::elementwise::store_block_aux::<K>(aux, n, i, l, a);
                    }
                }
            }

            fn forward_diff_block(
                &self,
                u0: &[f64],
                base_aux: &[f64],
                du: &$crate::lanes::Block,
                out: &mut $crate::lanes::Block,
                aux: &mut $crate::lanes::Block,
                _: &mut $crate::model::decoder::step_block::LaneScratch,
            ) {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                let n = u0.len();
                for i in 0..n {
                    let a0 = $crate::model::decoder::elementwise::aux_at::<K>(base_aux, n, i);
                    for l in 0..$crate::lanes::LANES {
                        out[i][l] = self.diff(u0[i], a0, du[i][l]);
                        let a = self.aux(u0[i] + du[i][l]);
                        $crate::model::decoder::elementwise::store_block_aux::<K>(aux, n, i, l, a);
                    }
                }
            }

            fn jacobian_mul_block(
                &self,
                z: &$crate::lanes::Block,
                aux: &$crate::lanes::Block,
                m: &$crate::lanes::MatBlock,
                out: &mut $crate::lanes::MatBlock,
                _: &mut $crate::model::decoder::step_block::LaneScratch,
            ) {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                let n = z.dim();
                for c in 0..m.ncols() {
                    for i in 0..n {
                        for l in 0..$crate::lanes::LANES {
                            let a =
                                $crate::model::decoder::elementwise::block_aux::<K>(aux, n, i, l);
                            out[(i, c)][l] = self.d1(z[i][l], a) * m[(i, c)][l];
                        }
                    }
                }
            }

            fn vjp_block(
                &self,
                z: &$crate::lanes::Block,
                aux: &$crate::lanes::Block,
                r: &$crate::lanes::Block,
                out: &mut $crate::lanes::Block,
                _: &mut $crate::model::decoder::step_block::LaneScratch,
            ) {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                let n = z.dim();
                for i in 0..n {
                    for l in 0..$crate::lanes::LANES {
                        let a = $crate::model::decoder::elementwise::block_aux::<K>(aux, n, i, l);
                        out[i][l] = self.d1(z[i][l], a) * r[i][l];
                    }
                }
            }

            fn add_hessian_sandwich_block(
                &self,
                z: &$crate::lanes::Block,
                aux: &$crate::lanes::Block,
                r: &$crate::lanes::Block,
                p: &$crate::lanes::MatBlock,
                h: &mut $crate::lanes::MatBlock,
                _: &mut $crate::model::decoder::step_block::LaneScratch,
            ) {
                const K: usize = <$t as $crate::model::decoder::elementwise::Elementwise>::AUX;
                const L: usize = $crate::lanes::LANES;
                let (n, d) = (z.dim(), p.ncols());
                for i in 0..n {
                    let mut c = [0.0; L];
                    for (l, cl) in c.iter_mut().enumerate() {
                        let a = $crate::model::decoder::elementwise::block_aux::<K>(aux, n, i, l);
                        *cl = r[i][l] * self.d2(z[i][l], a);
                    }
                    if c.iter().all(|&cl| cl == 0.0) {
                        continue;
                    }
                    // The scalar form's order: for each row k of h (column k of P), then each m.
                    for k in 0..d {
                        let pik = p[(i, k)];
                        let mut pk = [0.0; L];
                        for l in 0..L {
                            pk[l] = c[l] * pik[l];
                        }
                        for m in 0..d {
                            let pim = p[(i, m)];
                            let hmk = &mut h[(m, k)];
                            for l in 0..L {
                                // The scalar form skips c = 0 (h keeps its exact bits, −0 included).
                                let sum = hmk[l] + pk[l] * pim[l];
                                hmk[l] = if c[l] == 0.0 { hmk[l] } else { sum };
                            }
                        }
                    }
                }
            }

            fn log_abs_det_block(
                &self,
                z: &$crate::lanes::Block,
                out: &mut $crate::lanes::Lanes,
                _: &mut $crate::model::decoder::step_block::LaneScratch,
            ) {
                for (l, o) in out.iter_mut().enumerate() {
                    *o = z.coords().iter().map(|zi| self.log_d1(zi[l])).sum();
                }
            }
        }
    };
}

/// The cache of coordinate i, lane l, of a block cache (laid out as the module docs say).
#[inline(always)]
pub(crate) fn block_aux<const K: usize>(
    aux: &crate::lanes::Block,
    n: usize,
    i: usize,
    l: usize,
) -> [f64; 2] {
    let mut a = [0.0; 2];
    for (k, ak) in a.iter_mut().enumerate().take(K) {
        *ak = aux[k * n + i][l];
    }
    a
}

pub(crate) use elementwise_step;
