//! Files: NumPy `.npy` arrays and model folders — the boundary where outside data is parsed and
//! validated once: arrays of checked shape and finite entries, and [`crate::model::Model`]s whose
//! every step was validated when built (observations and encoders read from arrays still become
//! [`crate::Query`] and [`crate::Encoder`] before any computation).

pub mod model_file;
pub mod npy;
