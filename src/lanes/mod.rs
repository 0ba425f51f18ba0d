//! Lanes: blocks of [`LANES`] points or quadrature nodes, stored structure-of-arrays, for the
//! lane-blocked (vectorised) forms of the decoder steps and chains.
//!
//! | file | contents |
//! | --- | --- |
//! | `block.rs` | [`LANES`], [`Lanes`], [`Block`] (a vector per lane), [`MatBlock`] (a matrix per lane) |
//!
//! This is a leaf layer (it uses nothing else of the crate): the model layer implements every
//! decoder step and chain on blocks as well as on single points, and the two forms agree bit for
//! bit, lane by lane.

mod block;

pub use block::{Block, Lanes, MatBlock, LANES};
