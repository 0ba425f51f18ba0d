//! A network of the amortised VAE: a chain of layers, each a learnable linear map u ↦ W u + b or a
//! fixed decoder step (leaky softplus, or any other [`Step`] of the decoder chains), evaluated with
//! a tape and differentiated by hand-written reverse mode.
//!
//! The encoder x ↦ (μ, log σ²) and the decoder z ↦ f(z) are both networks; a decoder network
//! converts to and from the oracle's [`Decoder`] (linear layers ↔ affine steps), so a trained
//! decoder is at once an oracle model, with c_IMA, ELBO* and log pθ.
//!
//! # Reverse mode
//!
//! With activations u_0 = input, u_{l+1} = layer_l(u_l) and a cotangent r_{l+1} = ∂L/∂u_{l+1}:
//!
//! | layer | ∂L/∂W | ∂L/∂b | r_l = ∂L/∂u_l |
//! | --- | --- | --- | --- |
//! | linear W u + b | r_{l+1} u_lᵀ | r_{l+1} | Wᵀ r_{l+1} |
//! | fixed step s | — | — | J_s(u_l)ᵀ r_{l+1} (the step's own `vjp`) |
//!
//! Every product is a loop over a contiguous column of W (column-major, as nalgebra stores it):
//! the forward pass adds u_j W[:, j], the backward pass takes the dot product W[:, j]·r and adds
//! u_j r to ∂L/∂W[:, j]. Accuracy: the forward pass is the plain sums (no compensation), as a
//! backend's; each gradient entry is exact up to the round-off of the same sums.

use crate::model::decoder::StepOps;
use crate::model::{Affine, Decoder, DecoderError, Step};
use nalgebra::{DMatrix, DVector};

/// A learnable linear layer u ↦ W u + b, W stored (out, in) like `torch.nn.Linear.weight`.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// W (out × in).
    pub w: DMatrix<f64>,
    /// b (out).
    pub b: DVector<f64>,
}

impl Linear {
    /// out = W u + b.
    #[inline]
    fn forward(&self, u: &[f64], out: &mut [f64]) {
        out.copy_from_slice(self.b.as_slice());
        let n = out.len();
        let w = self.w.as_slice();
        // Four columns per pass over `out`: each entry still adds its terms in the order j = 0, 1,
        // … (the same bits as one column per pass), with a quarter of the loads and stores of out.
        let mut cols = w.chunks_exact(4 * n).zip(u.chunks_exact(4));
        for (c, uj) in &mut cols {
            let (c0, rest) = c.split_at(n);
            let (c1, rest) = rest.split_at(n);
            let (c2, c3) = rest.split_at(n);
            for i in 0..n {
                out[i] = out[i] + c0[i] * uj[0] + c1[i] * uj[1] + c2[i] * uj[2] + c3[i] * uj[3];
            }
        }
        let done = u.len() / 4 * 4;
        for (col, &uj) in w[done * n..].chunks_exact(n).zip(&u[done..]) {
            for (o, &wij) in out.iter_mut().zip(col) {
                *o += wij * uj;
            }
        }
    }

    /// cot = Wᵀ r, each entry the sum Σ_i W[i, j] r_i taken in the order i = 0, 1, … from 0 (the
    /// plain dot product): [`WT_GROUP`] columns at once, each with its own accumulator, so that
    /// the additions of different columns overlap instead of waiting on one another.
    #[inline]
    fn transpose_mul(&self, r: &[f64], cot: &mut [f64]) {
        let n = r.len();
        let w = self.w.as_slice();
        let mut cols = cot.chunks_mut(WT_GROUP).zip(w.chunks(WT_GROUP * n));
        for (c, wg) in &mut cols {
            if c.len() == WT_GROUP {
                let mut acc = [0.0; WT_GROUP];
                for (i, &ri) in r.iter().enumerate() {
                    for (k, a) in acc.iter_mut().enumerate() {
                        *a += wg[k * n + i] * ri;
                    }
                }
                c.copy_from_slice(&acc);
            } else {
                for (k, ck) in c.iter_mut().enumerate() {
                    let mut dot = 0.0;
                    for (&wij, &ri) in wg[k * n..(k + 1) * n].iter().zip(r) {
                        dot += wij * ri;
                    }
                    *ck = dot;
                }
            }
        }
    }
}

/// Columns of W whose dot products with r are accumulated together in [`Linear::transpose_mul`]
/// (enough independent additions to cover the latency of one).
const WT_GROUP: usize = 8;

/// One layer: learnable linear, or a fixed step of the decoder chains.
#[derive(Debug, Clone)]
pub enum Layer {
    /// W u + b, learnable.
    Linear(Linear),
    /// A step with fixed parameters (leaky softplus, sigmoid, Möbius …).
    Fixed(Step),
}

impl Layer {
    /// Input dimension.
    pub fn dim_in(&self) -> usize {
        match self {
            Layer::Linear(l) => l.w.ncols(),
            Layer::Fixed(s) => s.dim_in(),
        }
    }

    /// Output dimension.
    pub fn dim_out(&self) -> usize {
        match self {
            Layer::Linear(l) => l.w.nrows(),
            Layer::Fixed(s) => s.dim_out(),
        }
    }
}

/// A chain of layers.
#[derive(Debug, Clone)]
pub struct Network {
    dim_in: usize,
    layers: Vec<Layer>,
}

/// Why a network cannot be built: layers whose dimensions do not chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkError {
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for NetworkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NetworkError {}

impl Network {
    /// The chain of `layers` from R^`dim_in`; errors when a layer's input dimension differs from
    /// the previous output, or a parameter is not finite.
    pub fn new(dim_in: usize, layers: Vec<Layer>) -> Result<Self, NetworkError> {
        let mut dim = dim_in;
        if dim == 0 {
            return Err(NetworkError {
                message: "network: input dimension 0".into(),
            });
        }
        for (l, layer) in layers.iter().enumerate() {
            if layer.dim_in() != dim {
                return Err(NetworkError {
                    message: format!(
                        "layer {l}: input dimension {} where the previous output is {dim}",
                        layer.dim_in()
                    ),
                });
            }
            if let Layer::Linear(lin) = layer {
                if lin.b.len() != lin.w.nrows() {
                    return Err(NetworkError {
                        message: format!(
                            "layer {l}: bias of length {} for W with {} rows",
                            lin.b.len(),
                            lin.w.nrows()
                        ),
                    });
                }
                if lin.w.iter().chain(lin.b.iter()).any(|t| !t.is_finite()) {
                    return Err(NetworkError {
                        message: format!("layer {l}: a weight or bias is NaN or infinite"),
                    });
                }
            }
            dim = layer.dim_out();
        }
        Ok(Network { dim_in, layers })
    }

    /// The decoder chain as a network: affine steps become learnable linear layers, the others
    /// stay fixed.
    pub fn from_decoder(decoder: &Decoder) -> Self {
        let layers = decoder
            .steps()
            .iter()
            .map(|s| match s {
                Step::Affine(a) => Layer::Linear(Linear {
                    w: a.weight().clone(),
                    b: a.bias().clone(),
                }),
                other => Layer::Fixed(other.clone()),
            })
            .collect();
        Network {
            dim_in: decoder.dim_in(),
            layers,
        }
    }

    /// The network as a decoder chain (linear layers become affine steps, which checks that each W
    /// has full rank: the oracle's quantities need it).
    pub fn to_decoder(&self) -> Result<Decoder, DecoderError> {
        let steps = self
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| match layer {
                Layer::Linear(lin) => Affine::new(lin.w.clone(), Some(lin.b.clone()))
                    .map(Step::Affine)
                    .map_err(|e| e.at_step(l)),
                Layer::Fixed(s) => Ok(s.clone()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Decoder::new(self.dim_in, steps)
    }

    /// Input dimension.
    pub fn dim_in(&self) -> usize {
        self.dim_in
    }

    /// Output dimension.
    pub fn dim_out(&self) -> usize {
        self.layers.last().map_or(self.dim_in, Layer::dim_out)
    }

    /// The layers.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The learnable linear layers, in order (mutable: an optimiser's update).
    pub fn linears_mut(&mut self) -> impl Iterator<Item = &mut Linear> {
        self.layers.iter_mut().filter_map(|l| match l {
            Layer::Linear(lin) => Some(lin),
            Layer::Fixed(_) => None,
        })
    }

    /// The learnable linear layers, in order.
    pub fn linears(&self) -> impl Iterator<Item = &Linear> {
        self.layers.iter().filter_map(|l| match l {
            Layer::Linear(lin) => Some(lin),
            Layer::Fixed(_) => None,
        })
    }

    /// A tape for this network (activations and step caches), made once and reused.
    pub fn tape(&self) -> Tape {
        let mut acts = vec![vec![0.0; self.dim_in]];
        let mut aux = Vec::new();
        let mut width = self.dim_in;
        for layer in &self.layers {
            acts.push(vec![0.0; layer.dim_out()]);
            aux.push(vec![
                0.0;
                match layer {
                    Layer::Fixed(s) => s.aux_len(),
                    Layer::Linear(_) => 0,
                }
            ]);
            width = width.max(layer.dim_out());
        }
        Tape {
            acts,
            aux,
            cot: vec![0.0; width],
            cot_next: vec![0.0; width],
        }
    }

    /// Zero gradients shaped like the learnable layers.
    pub fn zero_grads(&self) -> Grads {
        Grads {
            layers: self
                .linears()
                .map(|l| Linear {
                    w: DMatrix::zeros(l.w.nrows(), l.w.ncols()),
                    b: DVector::zeros(l.b.len()),
                })
                .collect(),
        }
    }

    /// Runs the network on `input` (length dim_in), keeping every activation on the tape; the
    /// output is `tape.output()`.
    pub fn forward(&self, input: &[f64], tape: &mut Tape) {
        tape.acts[0].copy_from_slice(input);
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, rest) = tape.acts.split_at_mut(l + 1);
            let (u, out) = (&done[l], &mut rest[0]);
            match layer {
                Layer::Linear(lin) => lin.forward(u, out),
                Layer::Fixed(Step::LeakySoftplus(s)) => {
                    s.forward_with_aux(u, out, &mut tape.aux[l])
                }
                Layer::Fixed(s) => {
                    s.forward(u, out);
                    s.fill_aux(u, &mut tape.aux[l]);
                }
            }
        }
    }

    /// Reverse mode after [`Network::forward`]: adds ∂L/∂θ for the cotangent `r_out` = ∂L/∂output
    /// to `grads`, and writes ∂L/∂input into `r_in` when given.
    pub fn backward(
        &self,
        tape: &mut Tape,
        r_out: &[f64],
        grads: &mut Grads,
        r_in: Option<&mut [f64]>,
    ) {
        let Tape {
            acts,
            aux,
            cot,
            cot_next,
        } = tape;
        let n_out = r_out.len();
        cot_next[..n_out].copy_from_slice(r_out);
        let mut k = grads.layers.len();
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (n_in, n_out) = (layer.dim_in(), layer.dim_out());
            let r = &cot_next[..n_out];
            let u = &acts[l];
            match layer {
                Layer::Linear(lin) => {
                    k -= 1;
                    let g = &mut grads.layers[k];
                    for (gb, &ri) in g.b.iter_mut().zip(r) {
                        *gb += ri;
                    }
                    lin.transpose_mul(r, &mut cot[..n_in]);
                    for (gcol, &uj) in g.w.as_mut_slice().chunks_exact_mut(n_out).zip(u) {
                        for (gw, &ri) in gcol.iter_mut().zip(r) {
                            *gw += ri * uj;
                        }
                    }
                }
                Layer::Fixed(s) => s.vjp(u, &aux[l], r, &mut cot[..n_in]),
            }
            std::mem::swap(cot, cot_next);
        }
        if let Some(r_in) = r_in {
            r_in.copy_from_slice(&cot_next[..self.dim_in]);
        }
    }
}

/// The activations and caches of one evaluation, for the backward pass.
#[derive(Debug, Clone)]
pub struct Tape {
    acts: Vec<Vec<f64>>,
    aux: Vec<Vec<f64>>,
    cot: Vec<f64>,
    cot_next: Vec<f64>,
}

impl Tape {
    /// The network's output after [`Network::forward`].
    pub fn output(&self) -> &[f64] {
        self.acts.last().expect("a tape holds the input at least")
    }
}

/// Gradients (or any other per-parameter quantity: Adam's moments) shaped like a network's
/// learnable layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Grads {
    /// One entry per linear layer, in order.
    pub layers: Vec<Linear>,
}

impl Grads {
    /// Sets every entry to 0.
    pub fn clear(&mut self) {
        for l in &mut self.layers {
            l.w.as_mut_slice().fill(0.0);
            l.b.as_mut_slice().fill(0.0);
        }
    }

    /// self += c·other (same shapes).
    pub fn add_scaled(&mut self, c: f64, other: &Grads) {
        for (a, b) in self.layers.iter_mut().zip(&other.layers) {
            let pairs = [
                (a.w.as_mut_slice(), b.w.as_slice()),
                (a.b.as_mut_slice(), b.b.as_slice()),
            ];
            for (x, y) in pairs {
                x.iter_mut().zip(y).for_each(|(x, y)| *x += c * y);
            }
        }
    }

    /// Every entry, layer by layer, W (column-major) then b.
    pub fn iter(&self) -> impl Iterator<Item = &f64> {
        self.layers
            .iter()
            .flat_map(|l| l.w.iter().chain(l.b.iter()))
    }

    /// Every entry, mutable, in the order of [`Grads::iter`].
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut f64> {
        self.layers
            .iter_mut()
            .flat_map(|l| l.w.iter_mut().chain(l.b.iter_mut()))
    }
}
