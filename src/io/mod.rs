//! Files: NumPy `.npy` arrays and model folders — the boundary where outside data is parsed and
//! validated once, into types the numerical core can trust.

pub mod model_file;
pub mod npy;
