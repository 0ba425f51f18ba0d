//! Seeded initialisation with PyTorch's default law for `nn.Linear`: every weight and bias of a
//! layer with fan_in inputs drawn from U(−1/√fan_in, 1/√fan_in) (Kaiming-uniform with a = √5 for
//! the weights, which gives the same bound).
//!
//! The draws come from the seeded ChaCha generator passed in, layer by layer, W in row-major
//! (out, in) order — the order of `torch.nn.Linear.weight` — then b: same seed, same weights, on
//! every machine. (PyTorch's own generator is another stream: the law is the same, the numbers are
//! not.)

use super::network::{Layer, Linear, Network, NetworkError};
use crate::model::generate::OracleRng;
use crate::model::{LeakySoftplus, Step};
use nalgebra::{DMatrix, DVector};
use rand::RngExt;

/// A linear layer in → out with PyTorch's default initialisation.
pub fn linear(n_in: usize, n_out: usize, rng: &mut OracleRng) -> Linear {
    let bound = 1.0 / (n_in as f64).sqrt();
    let mut draw = || rng.random_range(-bound..bound);
    let rows: Vec<f64> = (0..n_in * n_out).map(|_| draw()).collect();
    let w = DMatrix::from_row_slice(n_out, n_in, &rows);
    let b = DVector::from_fn(n_out, |_, _| draw());
    Linear { w, b }
}

/// An MLP through the given widths (`widths[0]` inputs, `widths.last()` outputs), linear layers with
/// biases, the leaky softplus of slope `alpha` (the authors' smooth leaky ReLU) between them and a
/// linear output. Errors on fewer than two widths, a zero width, or α outside (0, 1].
pub fn mlp(widths: &[usize], alpha: f64, rng: &mut OracleRng) -> Result<Network, NetworkError> {
    if widths.len() < 2 || widths.contains(&0) {
        return Err(NetworkError {
            message: format!("an MLP needs at least two positive widths, got {widths:?}"),
        });
    }
    let mut layers = Vec::new();
    for (k, pair) in widths.windows(2).enumerate() {
        if k > 0 {
            let act = LeakySoftplus::new(pair[0], alpha).map_err(|e| NetworkError {
                message: e.to_string(),
            })?;
            layers.push(Layer::Fixed(Step::LeakySoftplus(act)));
        }
        layers.push(Layer::Linear(linear(pair[0], pair[1], rng)));
    }
    Network::new(widths[0], layers)
}
