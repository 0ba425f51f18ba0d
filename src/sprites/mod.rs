//! Sprites (paper §4.3, Fig. 5): images of one shape rendered from four factors — x-position,
//! y-position, size and colour (hue) — each drawn from a Beta law, as the authors' data (made with
//! spriteworld: one triangle, HSV colour with full saturation and value, anti-aliased by
//! supersampling, shape and rotation fixed). Written here, deterministic: the same factors give the
//! same bytes on every machine, and the same seed the same factors.
//!
//! | file | contents |
//! | --- | --- |
//! | `factors.rs` | [`SpriteLaw`]: the Beta laws of the factors; [`Factors`] and their seeded draws |
//! | `render.rs` | [`render`]: one image (H × W × 3, values in [0, 1]) from the factors; the triangle's geometry |
//! | `colour.rs` | [`hsv_to_rgb`], [`hue_of`] |

mod colour;
mod factors;
mod render;

pub use colour::{hsv_to_rgb, hue_of};
pub use factors::{Factors, SpriteLaw};
pub use render::{render, triangle, RenderOptions, Triangle};
