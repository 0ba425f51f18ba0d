//! The factors of a sprite and their laws. Each factor lives in [0, 1] and is drawn from its own
//! Beta(a, b) law, independently. The authors draw a, b ~ U(2, 15) once per factor with numpy's
//! legacy generator seeded 1 (`rpatrik96/custom-dsprites`, `spriteworld/gen_sprites_dataset.py`:
//! `np.random.seed(seed)`, `np.random.uniform(lower=2, upper=15, 8)` viewed as (factor, (a, b));
//! the data seed is 1 in `rpatrik96/ima-vae`, `configs/image/dsprites.yaml`); those values are
//! [`SpriteLaw::default`] (computed with MT19937 seeded 1: 2 + 13·u for its first eight doubles).

use crate::model::generate::OracleRng;
use rand_distr::{Beta, Distribution};

/// The four factors, each in [0, 1]: position x (left → right), position y (bottom → top by
/// default, [`crate::sprites::RenderOptions::y_up`]), size (smallest → largest triangle,
/// [`crate::sprites::RenderOptions`]) and hue.
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
    /// The authors' laws (module docs): x ~ Beta(7.4213, 11.3642), y ~ Beta(2.0015, 5.9303),
    /// size ~ Beta(3.9078, 3.2004), hue ~ Beta(4.4214, 6.4923).
    fn default() -> Self {
        SpriteLaw {
            params: [
                (7.421_286_061_133_462, 11.364_218_414_748_056),
                (2.001_486_872_625_484, 5.930_323_444_213_917),
                (3.907_826_580_622_47, 3.200_401_731_994_371),
                (4.421_382_747_909_721, 6.492_289_451_559_62),
            ],
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
