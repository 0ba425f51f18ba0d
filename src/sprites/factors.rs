//! The factors of a sprite and their laws. Each factor lives in [0, 1] and is drawn from its own
//! Beta(a, b) law, independently (the authors draw a, b ∈ U(2, 15) once per factor; here they are
//! fixed and documented, [`SpriteLaw::default`], and can be set).

use crate::model::generate::OracleRng;
use rand_distr::{Beta, Distribution};

/// The four factors, each in [0, 1]: position x (left → right), position y (top → bottom), size
/// (smallest → largest triangle, [`crate::sprites::RenderOptions`]) and hue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Factors {
    /// Horizontal position.
    pub x: f64,
    /// Vertical position.
    pub y: f64,
    /// Size.
    pub size: f64,
    /// Hue (HSV, saturation and value 1).
    pub hue: f64,
}

impl Factors {
    /// As an array (x, y, size, hue).
    pub fn to_array(&self) -> [f64; 4] {
        [self.x, self.y, self.size, self.hue]
    }
}

/// The Beta(a, b) parameters of the four factors, in the order x, y, size, hue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpriteLaw {
    /// (a, b) per factor.
    pub params: [(f64, f64); 4],
}

impl Default for SpriteLaw {
    /// x, y ~ Beta(5, 5) (centred, away from the edges), size ~ Beta(3, 4), hue ~ Beta(4, 4): fixed
    /// values inside the authors' range U(2, 15) for a and b.
    fn default() -> Self {
        SpriteLaw {
            params: [(5.0, 5.0), (5.0, 5.0), (3.0, 4.0), (4.0, 4.0)],
        }
    }
}

impl SpriteLaw {
    /// Checks that every parameter is finite and positive; the error names the factor.
    pub fn check(&self) -> Result<(), String> {
        for (k, (a, b)) in self.params.iter().enumerate() {
            if !(a.is_finite() && b.is_finite() && *a > 0.0 && *b > 0.0) {
                return Err(format!(
                    "sprite factor {}: Beta({a}, {b}) needs finite positive parameters",
                    ["x", "y", "size", "hue"][k]
                ));
            }
        }
        Ok(())
    }

    /// `n` factor draws from `rng`, factor by factor within each sprite (x, y, size, hue).
    pub fn sample(&self, n: usize, rng: &mut OracleRng) -> Result<Vec<Factors>, String> {
        self.check()?;
        let laws: Vec<Beta<f64>> = self
            .params
            .iter()
            .map(|&(a, b)| Beta::new(a, b).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        Ok((0..n)
            .map(|_| {
                let v: Vec<f64> = laws.iter().map(|l| l.sample(rng)).collect();
                Factors {
                    x: v[0],
                    y: v[1],
                    size: v[2],
                    hue: v[3],
                }
            })
            .collect())
    }
}
