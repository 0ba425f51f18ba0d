//! Rendering one sprite: an upright equilateral triangle (the authors' shape) of colour
//! hsv_to_rgb(hue) on black, anti-aliased by supersampling — each pixel's value is the colour times
//! the fraction of its A × A sample points (at the centres of an A × A grid of sub-pixels) that
//! lie inside the triangle (the authors: A = 5, then PIL's Lanczos downsampling; here a box filter).
//!
//! Geometry, in image units (the image is [0, 1]², rows pointing down), as the authors' spriteworld
//! fork (`rpatrik96/custom-dsprites`, `spriteworld/factor_distributions.py` `Beta.sample`,
//! `shapes.py`, `sprite.py`, `renderers/pil_renderer.py`): the centre is
//! (p₀ + (p₁ − p₀)·x, p₀ + (p₁ − p₀)·y) in mathematical coordinates (y up: PIL draws y down and the
//! renderer flips the image), i.e. row coordinate 1 − p₀ − (p₁ − p₀)·y, with (p₀, p₁) = (0.2, 0.75);
//! the spriteworld "scale" is s = 0.11 + 0.09·size, the triangle's area being s² (a regular polygon
//! of area 1, scaled by s), so its circumradius is R = s/√(3√3/4); vertices c + R(0, −1),
//! c + R(±√3/2, 1/2) on screen (a vertex up, spriteworld's θ₀ = π/2). The triangle's centroid is c
//! and its area (3√3/4) R². [`RenderOptions::y_up`] = false puts y downwards instead.
//!
//! Accuracy of the rendered mass against the area: a pixel crossed by one edge misclassifies at
//! most one sample per row or column of its A × A grid, an error of at most 1/A of a pixel; the
//! three corner pixels at most 1 each. Deterministic: the same factors give the same bits.

use super::{hsv_to_rgb, Factors};

/// Image size and anti-aliasing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderOptions {
    /// Width and height in pixels (32 by default; 64 as the authors).
    pub pixels: usize,
    /// Samples per pixel side A (5 as the authors).
    pub supersampling: usize,
    /// Circumradius of the smallest triangle (size 0), image units.
    pub r_min: f64,
    /// Circumradius of the largest triangle (size 1), image units.
    pub r_max: f64,
    /// The range (p₀, p₁) of the centre's coordinates: factor 0 ↦ p₀, 1 ↦ p₁.
    pub position: (f64, f64),
    /// Whether y counts upwards (the authors': spriteworld's mathematical coordinates).
    pub y_up: bool,
}

/// √(3√3/4): the circumradius of an equilateral triangle of area s² is s/this.
fn unit_area_radius() -> f64 {
    (0.75 * 3f64.sqrt()).sqrt()
}

impl Default for RenderOptions {
    /// The authors' geometry (module docs): centres in [0.2, 0.75]², y up, areas s² with
    /// s ∈ [0.11, 0.20], i.e. R ∈ [0.0965, 0.1755]; 32 pixels (the authors' 64 with `pixels`).
    fn default() -> Self {
        RenderOptions {
            pixels: 32,
            supersampling: 5,
            r_min: 0.11 / unit_area_radius(),
            r_max: 0.20 / unit_area_radius(),
            position: (0.2, 0.75),
            y_up: true,
        }
    }
}

/// A triangle in image units: its vertices and the centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Triangle {
    /// The three vertices (x, y), counter-clockwise on screen.
    pub vertices: [(f64, f64); 3],
    /// The centroid (= circumcentre).
    pub centre: (f64, f64),
    /// The circumradius.
    pub radius: f64,
}

impl Triangle {
    /// The area (3√3/4) R².
    pub fn area(&self) -> f64 {
        0.75 * 3f64.sqrt() * self.radius * self.radius
    }

    /// Whether (px, py) lies inside or on the triangle (edge functions of one sign).
    #[inline]
    pub fn contains(&self, px: f64, py: f64) -> bool {
        let v = self.vertices;
        let edge = |(ax, ay): (f64, f64), (bx, by): (f64, f64)| {
            (bx - ax) * (py - ay) - (by - ay) * (px - ax)
        };
        let (e0, e1, e2) = (edge(v[0], v[1]), edge(v[1], v[2]), edge(v[2], v[0]));
        (e0 >= 0.0 && e1 >= 0.0 && e2 >= 0.0) || (e0 <= 0.0 && e1 <= 0.0 && e2 <= 0.0)
    }
}

/// The triangle of `f` under `opts` (module docs).
pub fn triangle(f: &Factors, opts: &RenderOptions) -> Triangle {
    let (p0, p1) = opts.position;
    let cy = p0 + (p1 - p0) * f.y;
    let c = (p0 + (p1 - p0) * f.x, if opts.y_up { 1.0 - cy } else { cy });
    let r = opts.r_min + (opts.r_max - opts.r_min) * f.size;
    let h = 0.5 * 3f64.sqrt() * r;
    Triangle {
        vertices: [
            (c.0, c.1 - r),
            (c.0 - h, c.1 + 0.5 * r),
            (c.0 + h, c.1 + 0.5 * r),
        ],
        centre: c,
        radius: r,
    }
}

/// The image of `f`: pixels × pixels × 3 values in [0, 1], row-major (row = y, then x, then the
/// channel: numpy's HWC). Errors on factors outside [0, 1], fewer than 2 pixels or no samples.
pub fn render(f: &Factors, opts: &RenderOptions) -> Result<Vec<f64>, String> {
    for (name, v) in ["x", "y", "size", "hue"].iter().zip(f.to_array()) {
        if !(0.0..=1.0).contains(&v) {
            return Err(format!("sprite factor {name} = {v} is outside [0, 1]"));
        }
    }
    let (n, a) = (opts.pixels, opts.supersampling);
    let (p0, p1) = opts.position;
    let radii_ok = opts.r_min > 0.0 && opts.r_min <= opts.r_max;
    let inside = p0 <= p1 && p0 - opts.r_max >= 0.0 && p1 + opts.r_max <= 1.0;
    if n < 2 || a == 0 || !radii_ok || !inside {
        return Err(format!(
            "sprite rendering needs at least 2 pixels, 1 sample, 0 < r_min <= r_max and every \
             triangle inside the image (r_max <= p0 <= p1 <= 1 - r_max), got {opts:?}"
        ));
    }
    let t = triangle(f, opts);
    let rgb = hsv_to_rgb(f.hue);
    let mut img = vec![0.0; n * n * 3];
    let px = 1.0 / n as f64;
    let inv = 1.0 / (a * a) as f64;
    // Only pixels meeting the triangle's bounding box can be covered.
    let lo = |v: f64| ((v / px).floor().max(0.0) as usize).min(n - 1);
    let (xs, ys): (Vec<f64>, Vec<f64>) = t.vertices.iter().copied().unzip();
    let fold = |v: &[f64], f: fn(f64, f64) -> f64, s: f64| v.iter().copied().fold(s, f);
    let (x0, x1) = (lo(fold(&xs, f64::min, 1.0)), lo(fold(&xs, f64::max, 0.0)));
    let (y0, y1) = (lo(fold(&ys, f64::min, 1.0)), lo(fold(&ys, f64::max, 0.0)));
    for row in y0..=y1 {
        for col in x0..=x1 {
            let mut inside = 0usize;
            for sy in 0..a {
                let py = (row as f64 + (sy as f64 + 0.5) / a as f64) * px;
                for sx in 0..a {
                    let qx = (col as f64 + (sx as f64 + 0.5) / a as f64) * px;
                    inside += t.contains(qx, py) as usize;
                }
            }
            let cover = inside as f64 * inv;
            let at = (row * n + col) * 3;
            for ch in 0..3 {
                img[at + ch] = cover * rgb[ch];
            }
        }
    }
    Ok(img)
}
