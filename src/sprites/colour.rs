//! HSV colours with full saturation and value: the six-sector formula (Smith 1978) that
//! `colorsys.hsv_to_rgb` and spriteworld's colour map use, and its inverse on such colours.

/// RGB in [0, 1]³ of the colour with hue h ∈ [0, 1) (taken mod 1), saturation 1, value 1:
/// sector i = ⌊6h⌋, f = 6h − i, and (r, g, b) = (1, f, 0), (1 − f, 1, 0), (0, 1, f), (0, 1 − f, 1),
/// (f, 0, 1), (1, 0, 1 − f) in sectors 0 … 5. Exact up to the rounding of 6h.
pub fn hsv_to_rgb(h: f64) -> [f64; 3] {
    let h = h.rem_euclid(1.0) * 6.0;
    let i = (h.floor() as usize).min(5);
    let f = h - i as f64;
    match i {
        0 => [1.0, f, 0.0],
        1 => [1.0 - f, 1.0, 0.0],
        2 => [0.0, 1.0, f],
        3 => [0.0, 1.0 - f, 1.0],
        4 => [f, 0.0, 1.0],
        _ => [1.0, 0.0, 1.0 - f],
    }
}

/// The hue in [0, 1) of a colour of saturation and value 1 scaled by c > 0 (an anti-aliased pixel
/// c·rgb): the inverse of [`hsv_to_rgb`] up to round-off. None for black.
pub fn hue_of(rgb: [f64; 3]) -> Option<f64> {
    let [r, g, b] = rgb;
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    if max <= 0.0 {
        return None;
    }
    let delta = max - min;
    if delta <= 0.0 {
        return Some(0.0);
    }
    let h = if max == r {
        ((g - b) / delta).rem_euclid(6.0)
    } else if max == g {
        (b - r) / delta + 2.0
    } else {
        (r - g) / delta + 4.0
    };
    Some((h / 6.0).rem_euclid(1.0))
}
