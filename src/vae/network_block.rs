//! A network on a block of [`LANES`] inputs at once (structure-of-arrays: each activation a run of
//! lanes), forward with a [`BlockTape`] and reverse mode — the same operations in the same order as
//! [`Network::forward`] and [`Network::backward`] on each lane, so the same bits lane by lane.
//!
//! | layer | forward, per lane | backward, per lane | parameter gradient |
//! | --- | --- | --- | --- |
//! | linear | out_i = b_i + Σ_j W_ij u_j, j = 0, 1, … | cot_j = Σ_i W_ij r_i from 0, i = 0, 1, … | ∂W += r uᵀ, ∂b += r, lane after lane |
//! | leaky softplus | a(t) and the cached σ(±t) from one e^{−\|t\|} | r_i a'(t_i) | — |
//! | other steps | the step's block form (`StepBlockOps`) | its block vjp | — |
//!
//! The lanes of a block are consecutive points (or samples) of the scalar reference's loop, and the
//! gradient sums take the valid lanes in lane order, each entry adding its terms one lane after the
//! other exactly as the scalar loop adds one point after the other: a batch run block by block gives
//! the reference's gradient bit for bit (tests in `step_loss`). Lanes beyond `valid` are computed
//! (on finite filler) but never reach a gradient.
//!
//! The kernels are plain loops over fixed-size lane arrays, which the compiler vectorises; see
//! [`crate::lanes`] for why such loops give the same bits at every vector width.

use super::network::{Grads, Layer, Linear, Network};
use crate::lanes::{Block, Lanes, LANES};
use crate::model::decoder::{LaneScratch, StepBlockOps, StepOps};
use crate::model::Step;

/// Output rows of a linear layer accumulated together in the forward kernel (each a run of lanes;
/// four rows × eight lanes fill the vector registers without spilling).
const ROWS: usize = 4;

/// Activations, caches and cotangents of one block evaluation, made once per network and reused.
#[derive(Debug, Clone)]
pub struct BlockTape {
    acts: Vec<Block>,
    aux: Vec<Block>,
    /// cots[l] = ∂L/∂acts[l], shaped like acts[l].
    cots: Vec<Block>,
    /// One cotangent row per lane (lane-major), the layout of the gradient sums.
    rows: Vec<f64>,
    scratch: Vec<Option<LaneScratch>>,
}

impl BlockTape {
    /// The network's output after [`Network::forward_block`].
    pub fn output(&self) -> &Block {
        self.acts.last().expect("a tape holds the input at least")
    }

    /// The input block of the last evaluation.
    pub fn input(&self) -> &Block {
        &self.acts[0]
    }

    /// The input block, to be filled before [`Network::forward_block`].
    pub fn input_mut(&mut self) -> &mut Block {
        &mut self.acts[0]
    }
}

impl Network {
    /// A block tape for this network.
    pub fn block_tape(&self) -> BlockTape {
        let mut acts = vec![Block::zeros(self.dim_in())];
        let mut aux = Vec::new();
        let mut scratch = Vec::new();
        let mut width = self.dim_in();
        for layer in self.layers() {
            acts.push(Block::zeros(layer.dim_out()));
            match layer {
                Layer::Fixed(s) => {
                    aux.push(Block::zeros(s.aux_len()));
                    scratch.push(Some(LaneScratch::new(s, 1)));
                }
                Layer::Linear(_) => {
                    aux.push(Block::zeros(0));
                    scratch.push(None);
                }
            }
            width = width.max(layer.dim_out());
        }
        BlockTape {
            cots: acts.clone(),
            acts,
            aux,
            rows: vec![0.0; width * LANES],
            scratch,
        }
    }

    /// Runs the network on the block in `tape.input_mut()`, keeping every activation; the output is
    /// `tape.output()`. Lane by lane the same bits as [`Network::forward`]. (Inlined always, so
    /// that a caller compiled for a wider vector unit compiles the kernels for it too.)
    #[inline(always)]
    pub fn forward_block(&self, tape: &mut BlockTape) {
        for (l, layer) in self.layers().iter().enumerate() {
            let (done, rest) = tape.acts.split_at_mut(l + 1);
            let (u, out) = (&done[l], &mut rest[0]);
            match layer {
                Layer::Linear(lin) => linear_forward(lin, u.coords(), out.coords_mut()),
                Layer::Fixed(Step::LeakySoftplus(s)) => {
                    s.forward_with_aux_block(u, out, &mut tape.aux[l])
                }
                Layer::Fixed(s) => {
                    let sc = tape.scratch[l].as_mut().expect("a fixed layer has scratch");
                    s.forward_block(u, out, sc);
                    s.fill_aux_block(u, &mut tape.aux[l], sc);
                }
            }
        }
    }

    /// Reverse mode after [`Network::forward_block`]: adds ∂L/∂θ for the cotangents `r_out`
    /// (lane by lane, of the lanes `0..valid` in lane order) to `grads`, and writes ∂L/∂input into
    /// `r_in` when given. Lane by lane the same bits as [`Network::backward`] called on the lanes
    /// one after the other. (Inlined always, as [`Network::forward_block`].)
    #[inline(always)]
    pub fn backward_block(
        &self,
        tape: &mut BlockTape,
        r_out: &Block,
        valid: usize,
        grads: &mut Grads,
        r_in: Option<&mut Block>,
    ) {
        let BlockTape {
            acts,
            aux,
            cots,
            rows,
            scratch,
        } = tape;
        cots.last_mut()
            .expect("a tape holds the input at least")
            .copy_from(r_out);
        let mut k = grads.layers.len();
        for (l, layer) in self.layers().iter().enumerate().rev() {
            let (below, above) = cots.split_at_mut(l + 1);
            let (cot, r) = (&mut below[l], &above[0]);
            let u = &acts[l];
            match layer {
                Layer::Linear(lin) => {
                    k -= 1;
                    let rows = &mut rows[..r.dim() * LANES];
                    transpose_lanes(r.coords(), rows);
                    add_linear_grads(&mut grads.layers[k], rows, u.coords(), valid);
                    linear_transpose_mul(lin, r.coords(), cot.coords_mut());
                }
                Layer::Fixed(Step::LeakySoftplus(s)) => {
                    s.vjp_lanes(aux[l].coords(), r.coords(), cot.coords_mut())
                }
                Layer::Fixed(s) => {
                    let sc = scratch[l].as_mut().expect("a fixed layer has scratch");
                    s.vjp_block(u, &aux[l], r, cot, sc);
                }
            }
        }
        if let Some(r_in) = r_in {
            r_in.copy_from(&cots[0]);
        }
    }
}

/// out_i = b_i + Σ_j W_ij u_j per lane, the terms added in the order j = 0, 1, … ([`ROWS`] rows
/// at a time: each row's sum is unchanged, the loads of u are shared).
#[inline(always)]
fn linear_forward(lin: &Linear, u: &[Lanes], out: &mut [Lanes]) {
    let n = out.len();
    let w = lin.w.as_slice();
    let b = lin.b.as_slice();
    let mut i0 = 0;
    while i0 + ROWS <= n {
        let mut acc = [[0.0; LANES]; ROWS];
        for (a, &bi) in acc.iter_mut().zip(&b[i0..i0 + ROWS]) {
            *a = [bi; LANES];
        }
        for (j, uj) in u.iter().enumerate() {
            let col = &w[j * n + i0..j * n + i0 + ROWS];
            for (a, &wij) in acc.iter_mut().zip(col) {
                for (al, &ul) in a.iter_mut().zip(uj) {
                    *al += wij * ul;
                }
            }
        }
        out[i0..i0 + ROWS].copy_from_slice(&acc);
        i0 += ROWS;
    }
    for i in i0..n {
        let mut a = [b[i]; LANES];
        for (j, uj) in u.iter().enumerate() {
            let wij = w[j * n + i];
            for (al, &ul) in a.iter_mut().zip(uj) {
                *al += wij * ul;
            }
        }
        out[i] = a;
    }
}

/// cot_j = Σ_i W_ij r_i per lane, from 0 in the order i = 0, 1, … (the plain dot product of
/// [`Linear`]'s scalar transpose product), [`ROWS`] columns at a time.
#[inline(always)]
fn linear_transpose_mul(lin: &Linear, r: &[Lanes], cot: &mut [Lanes]) {
    let n = r.len();
    let w = lin.w.as_slice();
    let m = cot.len();
    let mut j0 = 0;
    while j0 + ROWS <= m {
        let mut acc = [[0.0; LANES]; ROWS];
        for (i, ri) in r.iter().enumerate() {
            for (k, a) in acc.iter_mut().enumerate() {
                let wij = w[(j0 + k) * n + i];
                for (al, &rl) in a.iter_mut().zip(ri) {
                    *al += wij * rl;
                }
            }
        }
        cot[j0..j0 + ROWS].copy_from_slice(&acc);
        j0 += ROWS;
    }
    for (j, c) in cot.iter_mut().enumerate().skip(j0) {
        let mut a = [0.0; LANES];
        for (&wij, ri) in w[j * n..(j + 1) * n].iter().zip(r) {
            for (al, &rl) in a.iter_mut().zip(ri) {
                *al += wij * rl;
            }
        }
        *c = a;
    }
}

/// rows[l·n + i] = r_i[l]: the cotangent block lane-major, so that the gradient sums run over
/// contiguous rows.
#[inline(always)]
fn transpose_lanes(r: &[Lanes], rows: &mut [f64]) {
    let n = r.len();
    for (i, ri) in r.iter().enumerate() {
        for (l, &x) in ri.iter().enumerate() {
            rows[l * n + i] = x;
        }
    }
}

/// ∂W += r uᵀ and ∂b += r for the lanes 0..valid, one lane after the other (the scalar backward's
/// order over points), `rows` the cotangents lane-major. Runs of 8, 4, 2 and 1 entries of a column
/// of ∂W (and of ∂b) stay in registers while the lanes pass; the order of each entry's additions is
/// unchanged.
#[inline(always)]
fn add_linear_grads(g: &mut Linear, rows: &[f64], u: &[Lanes], valid: usize) {
    let n = g.b.len();
    let rows = &rows[..valid * n];
    add_rows_blocked(g.b.as_mut_slice(), rows, &[1.0; LANES], n);
    for (gcol, uj) in g.w.as_mut_slice().chunks_exact_mut(n).zip(u) {
        add_rows_blocked(gcol, rows, uj, n);
    }
}

/// gcol[a] += Σ_l rows[l·n + a]·s[l] over the lanes of `rows` in order (s = 1 for the bias: the
/// product by 1 is exact), in runs of 8, 4, 2, 1 entries.
#[inline(always)]
fn add_rows_blocked(gcol: &mut [f64], rows: &[f64], s: &Lanes, n: usize) {
    let mut a0 = 0;
    a0 = add_rows::<8>(gcol, rows, s, n, a0);
    a0 = add_rows::<4>(gcol, rows, s, n, a0);
    a0 = add_rows::<2>(gcol, rows, s, n, a0);
    add_rows::<1>(gcol, rows, s, n, a0);
}

/// The runs of `G` entries from `a0` while they fit; returns where they stopped.
#[inline(always)]
fn add_rows<const G: usize>(
    gcol: &mut [f64],
    rows: &[f64],
    s: &Lanes,
    n: usize,
    a0: usize,
) -> usize {
    let mut a0 = a0;
    while a0 + G <= n {
        let mut acc = [0.0; G];
        acc.copy_from_slice(&gcol[a0..a0 + G]);
        for (row, &sl) in rows.chunks_exact(n).zip(s) {
            let r: &[f64; G] = row[a0..a0 + G].try_into().expect("G entries");
            for (a, &ri) in acc.iter_mut().zip(r) {
                *a += ri * sl;
            }
        }
        gcol[a0..a0 + G].copy_from_slice(&acc);
        a0 += G;
    }
    a0
}
