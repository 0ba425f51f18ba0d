//! The Sprites renderer: the rendered mass against the triangle's area and the rendered centroid
//! against its centre, within the supersampling bound; colours against the HSV definition and its
//! inverse; the factor laws' means; the same seed gives the same bytes; bad input is an error.

use ima_oracle::generate::rng;
use ima_oracle::sprites::{
    hsv_to_rgb, hue_of, render, triangle, Factors, RenderOptions, SpriteLaw,
};

/// Per pixel, the coverage: the largest channel (every colour of saturation and value 1 has one
/// channel equal to 1).
fn coverage(img: &[f64]) -> Vec<f64> {
    img.chunks(3).map(|p| p[0].max(p[1]).max(p[2])).collect()
}

/// The mass Σ coverage (pixels) is the area (3√3/4)R²·n² to within the bound of the module docs:
/// each edge of length √3 R crosses at most √3 R n + 2 pixels in each direction, each off by at
/// most 1/A, and 3 corner pixels by at most 1. The centroid is the centre to within that mass
/// error times the largest distance of a pixel from the centre (R n + 1 pixels), over the mass.
#[test]
fn mass_and_centroid_match_the_triangle() {
    let law = SpriteLaw::default();
    let factors = law.sample(40, &mut rng(9)).unwrap();
    for pixels in [32, 64] {
        for a in [5, 17] {
            let opts = RenderOptions {
                pixels,
                supersampling: a,
                ..RenderOptions::default()
            };
            for f in &factors {
                let t = triangle(f, &opts);
                let cov = coverage(&render(f, &opts).unwrap());
                let n = pixels as f64;
                let mass: f64 = cov.iter().sum();
                let crossings = 3.0 * 2.0 * (3f64.sqrt() * t.radius * n + 2.0);
                let bound = crossings / a as f64 + 3.0;
                let area = t.area() * n * n;
                assert!(
                    (mass - area).abs() <= bound,
                    "{f:?} {pixels} {a}: {mass} vs {area} (bound {bound})"
                );
                let (mut cx, mut cy) = (0.0, 0.0);
                for (k, w) in cov.iter().enumerate() {
                    cx += w * ((k % pixels) as f64 + 0.5);
                    cy += w * ((k / pixels) as f64 + 0.5);
                }
                let (cx, cy) = (cx / mass, cy / mass);
                let off = ((cx - t.centre.0 * n).powi(2) + (cy - t.centre.1 * n).powi(2)).sqrt();
                let cbound = 2.0 * bound * (t.radius * n + 1.0) / mass;
                assert!(
                    off <= cbound,
                    "{f:?}: centroid off by {off} px (bound {cbound})"
                );
            }
        }
    }
}

/// hsv_to_rgb against the six-sector definition at the primaries and secondaries (exact) and
/// `colorsys.hsv_to_rgb(0.1, 1, 1)` = (1, 0.6, 0) up to the rounding of 6h; hue_of inverts it to
/// round-off; a fully covered pixel has exactly the colour.
#[test]
fn colours() {
    let cases = [
        (0.0, [1.0, 0.0, 0.0]),
        (1.0 / 6.0, [1.0, 1.0, 0.0]),
        (1.0 / 3.0, [0.0, 1.0, 0.0]),
        (0.5, [0.0, 1.0, 1.0]),
        (2.0 / 3.0, [0.0, 0.0, 1.0]),
        (5.0 / 6.0, [1.0, 0.0, 1.0]),
    ];
    for (h, rgb) in cases {
        let got = hsv_to_rgb(h);
        for k in 0..3 {
            assert!((got[k] - rgb[k]).abs() < 1e-15, "h {h}: {got:?}");
        }
    }
    let c = hsv_to_rgb(0.1);
    assert!((c[1] - 0.6).abs() < 1e-15 && c[0] == 1.0 && c[2] == 0.0);
    for i in 0..1000 {
        let h = i as f64 / 1000.0;
        let back = hue_of(hsv_to_rgb(h).map(|t| 0.37 * t)).unwrap();
        // Round-off of 6h and of the ratio: a few ulps of 1; wrap-around at 1 ≡ 0.
        let d = (back - h).abs();
        assert!(d.min(1.0 - d) < 1e-14, "h {h}: {back}");
    }
    assert_eq!(hue_of([0.0; 3]), None);
    let f = Factors {
        x: 0.5,
        y: 0.5,
        size: 1.0,
        hue: 0.3,
    };
    let img = render(&f, &RenderOptions::default()).unwrap();
    let centre = (16 * 32 + 16) * 3;
    assert_eq!(&img[centre..centre + 3], &hsv_to_rgb(0.3));
}

/// The exact area of the triangle inside the pixel [x0, x1] × [y0, y1]: Sutherland–Hodgman clipping
/// against the four sides, then the shoelace formula.
fn exact_cover(t: &ima_oracle::sprites::Triangle, x0: f64, x1: f64, y0: f64, y1: f64) -> f64 {
    let mut poly: Vec<(f64, f64)> = t.vertices.to_vec();
    // Each side as (inside test, intersection of segment p–q with the side).
    type Side = (
        Box<dyn Fn((f64, f64)) -> bool>,
        Box<dyn Fn((f64, f64), (f64, f64)) -> (f64, f64)>,
    );
    let vertical = |c: f64| {
        move |p: (f64, f64), q: (f64, f64)| {
            let s = (c - p.0) / (q.0 - p.0);
            (c, p.1 + s * (q.1 - p.1))
        }
    };
    let horizontal = |c: f64| {
        move |p: (f64, f64), q: (f64, f64)| {
            let s = (c - p.1) / (q.1 - p.1);
            (p.0 + s * (q.0 - p.0), c)
        }
    };
    let sides: Vec<Side> = vec![
        (
            Box::new(move |p: (f64, f64)| p.0 >= x0),
            Box::new(vertical(x0)),
        ),
        (
            Box::new(move |p: (f64, f64)| p.0 <= x1),
            Box::new(vertical(x1)),
        ),
        (
            Box::new(move |p: (f64, f64)| p.1 >= y0),
            Box::new(horizontal(y0)),
        ),
        (
            Box::new(move |p: (f64, f64)| p.1 <= y1),
            Box::new(horizontal(y1)),
        ),
    ];
    for (inside, cut) in &sides {
        let mut out = Vec::new();
        for k in 0..poly.len() {
            let (p, q) = (poly[k], poly[(k + 1) % poly.len()]);
            match (inside(p), inside(q)) {
                (true, true) => out.push(q),
                (true, false) => out.push(cut(p, q)),
                (false, true) => {
                    out.push(cut(p, q));
                    out.push(q);
                }
                (false, false) => {}
            }
        }
        poly = out;
        if poly.is_empty() {
            return 0.0;
        }
    }
    let mut a = 0.0;
    for k in 0..poly.len() {
        let (p, q) = (poly[k], poly[(k + 1) % poly.len()]);
        a += p.0 * q.1 - q.0 * p.1;
    }
    0.5 * a.abs()
}

/// Pixel by pixel against the exact coverage (clipping): the exact coverages add up to the area
/// (1e-12 relative: round-off of ~100 clipped polygons), and each rendered coverage is within 2/A
/// of the exact one (one or two edges through the pixel, module docs), or 1 in the three pixels
/// holding a vertex.
#[test]
fn coverage_per_pixel_matches_exact_clipping() {
    let factors = SpriteLaw::default().sample(20, &mut rng(11)).unwrap();
    for a in [5, 16] {
        let opts = RenderOptions {
            pixels: 32,
            supersampling: a,
            ..RenderOptions::default()
        };
        let n = opts.pixels;
        let px = 1.0 / n as f64;
        for f in &factors {
            let t = triangle(f, &opts);
            let cov = coverage(&render(f, &opts).unwrap());
            let mut total = 0.0;
            for (k, &c) in cov.iter().enumerate() {
                let (col, row) = ((k % n) as f64, (k / n) as f64);
                let exact = exact_cover(&t, col * px, (col + 1.0) * px, row * px, (row + 1.0) * px)
                    / (px * px);
                total += exact;
                let holds_vertex = t
                    .vertices
                    .iter()
                    .any(|&(vx, vy)| (vx / px).floor() == col && (vy / px).floor() == row);
                let tol = if holds_vertex { 1.0 } else { 2.0 / a as f64 };
                assert!(
                    (c - exact).abs() <= tol,
                    "{f:?} A={a} pixel ({col}, {row}): {c} vs {exact}"
                );
            }
            let area = t.area() / (px * px);
            assert!((total - area).abs() <= 1e-12 * area, "{total} vs {area}");
        }
    }
}

/// Sample means of 20 000 draws against the Beta means a/(a + b), within 5 standard errors
/// (√(ab/((a+b)²(a+b+1))/N)); the same seed gives the same images bit for bit, another seed
/// others.
#[test]
fn factor_laws_and_determinism() {
    let law = SpriteLaw::default();
    let n = 20_000;
    let draws = law.sample(n, &mut rng(1)).unwrap();
    for (k, &(a, b)) in law.params.iter().enumerate() {
        let mean = draws.iter().map(|f| f.to_array()[k]).sum::<f64>() / n as f64;
        let se = (a * b / ((a + b).powi(2) * (a + b + 1.0)) / n as f64).sqrt();
        assert!((mean - a / (a + b)).abs() < 5.0 * se, "factor {k}: {mean}");
    }
    let opts = RenderOptions::default();
    let images = |seed| -> Vec<u64> {
        law.sample(5, &mut rng(seed))
            .unwrap()
            .iter()
            .flat_map(|f| render(f, &opts).unwrap())
            .map(f64::to_bits)
            .collect()
    };
    assert_eq!(images(4), images(4));
    assert_ne!(images(4), images(5));
}

#[test]
fn bad_input_is_an_error() {
    let f = Factors {
        x: 1.2,
        y: 0.5,
        size: 0.5,
        hue: 0.5,
    };
    assert!(render(&f, &RenderOptions::default())
        .unwrap_err()
        .contains("x = 1.2"));
    let ok = Factors { x: 0.5, ..f };
    let tiny = RenderOptions {
        pixels: 1,
        ..RenderOptions::default()
    };
    assert!(render(&ok, &tiny).is_err());
    let bad = SpriteLaw {
        params: [(1.0, 1.0), (0.0, 1.0), (1.0, 1.0), (1.0, 1.0)],
    };
    assert!(bad.sample(1, &mut rng(0)).unwrap_err().contains("factor y"));
}

/// MT19937 (Matsumoto & Nishimura 1998) seeded by `init_genrand(seed)` — numpy's legacy
/// `np.random.seed(int)` — and its 53-bit doubles (`random_sample`: (a >> 5, b >> 6) of two draws).
struct Mt19937 {
    mt: [u32; 624],
    i: usize,
}

impl Mt19937 {
    fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { mt, i: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        if self.i >= 624 {
            for k in 0..624 {
                let y = (self.mt[k] & 0x8000_0000) | (self.mt[(k + 1) % 624] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                self.mt[k] = self.mt[(k + 397) % 624] ^ (y >> 1) ^ mag;
            }
            self.i = 0;
        }
        let mut y = self.mt[self.i];
        self.i += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn next_f64(&mut self) -> f64 {
        let a = (self.next_u32() >> 5) as f64;
        let b = (self.next_u32() >> 6) as f64;
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }
}

/// The default law is the authors' (factors.rs): `np.random.seed(1)` then
/// `np.random.uniform(2, 15, 8)` viewed as (factor, (a, b)). Reference: MT19937 written above, whose
/// first double from seed 1 is numpy's well-known 0.417022004702574 (checked to the last bit);
/// 2 + 13u is one rounding, so the parameters agree to 1 ulp of 15.
#[test]
fn default_law_is_the_authors_numpy_seed_1() {
    let mut mt = Mt19937::new(1);
    let u: Vec<f64> = (0..8).map(|_| mt.next_f64()).collect();
    assert_eq!(u[0], 0.417_022_004_702_574);
    let law = SpriteLaw::default();
    for k in 0..4 {
        let (a, b) = law.params[k];
        for (got, want) in [(a, 2.0 + 13.0 * u[2 * k]), (b, 2.0 + 13.0 * u[2 * k + 1])] {
            assert!(
                (got - want).abs() <= 2.0 * f64::EPSILON * 15.0,
                "factor {k}: {got} vs {want}"
            );
        }
    }
}

/// The authors' geometry (render.rs): the centre at 0.2 + 0.55·(x, y) with y up (row coordinate
/// 1 − 0.2 − 0.55 y), the area s² with s = 0.11 + 0.09·size (spriteworld's polygon of area 1 scaled
/// by s), the apex up on screen; exact up to round-off (1e-15).
#[test]
fn authors_geometry() {
    let opts = RenderOptions::default();
    for (x, y, size) in [(0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (0.3, 0.8, 0.5)] {
        let f = Factors {
            x,
            y,
            size,
            hue: 0.5,
        };
        let t = triangle(&f, &opts);
        let s = 0.11 + 0.09 * size;
        assert!((t.area() - s * s).abs() < 1e-15, "{f:?}: area {}", t.area());
        assert!((t.centre.0 - (0.2 + 0.55 * x)).abs() < 1e-15);
        assert!((t.centre.1 - (0.8 - 0.55 * y)).abs() < 1e-15);
        let apex = t.vertices.iter().map(|v| v.1).fold(f64::INFINITY, f64::min);
        assert!((apex - (t.centre.1 - t.radius)).abs() < 1e-15);
        // Every triangle inside the image.
        for &(vx, vy) in &t.vertices {
            assert!((0.0..=1.0).contains(&vx) && (0.0..=1.0).contains(&vy));
        }
    }
    let down = RenderOptions {
        y_up: false,
        ..opts
    };
    let f = Factors {
        x: 0.5,
        y: 0.0,
        size: 0.5,
        hue: 0.5,
    };
    assert!((triangle(&f, &down).centre.1 - 0.2).abs() < 1e-15);
}
