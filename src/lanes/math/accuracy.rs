//! Measuring the kernels' error in ulps against [`super::reference`](mod@super::reference): the
//! error measure, the argument samples (edges and random), and the sweep that the tests and the
//! `ulp_sweep` example run.
//!
//! Method. The error of a computed double c against an exact value V is |c − V| / ulp(V), where
//! ulp(V) = 2^(max(E, −1022) − 52) for 2^E ≤ |V| < 2^(E+1) (the spacing of the doubles around V,
//! that of the subnormals below 2⁻¹⁰²², that of the top binade above f64::MAX). c − V is formed
//! in double-double after exact scaling by 2^−E, so it is exact to ~2⁻¹⁰⁰ relative.
//!
//! Special cases. An overflowed result (±∞) has error 0 if V rounds to ±∞
//! (|V| ≥ 2¹⁰²⁴ − 2⁹⁷⁰) and ∞ otherwise; a NaN where V is a number, or a number where V is NaN,
//! has error ∞; a [`Reference::Special`] must be matched exactly (zeros with their sign).
//!
//! Accuracy. The measure is exact up to the reference's error, ≲ 1e-13 ulp.

use super::dd::{pow2i, Dd};
use super::reference::{self, Reference};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The functions measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    /// [`exp`](fn@super::exp).
    Exp,
    /// [`expm1`](fn@super::expm1).
    Expm1,
    /// [`ln`](fn@super::ln).
    Ln,
    /// [`ln_1p`](fn@super::ln_1p).
    Ln1p,
    /// [`super::sigmoid_pair`], both outputs.
    Sigmoid,
}

impl Function {
    /// All five.
    pub const ALL: [Function; 5] = [
        Function::Exp,
        Function::Expm1,
        Function::Ln,
        Function::Ln1p,
        Function::Sigmoid,
    ];

    /// The name in the crate.
    pub fn name(self) -> &'static str {
        match self {
            Function::Exp => "exp",
            Function::Expm1 => "expm1",
            Function::Ln => "ln",
            Function::Ln1p => "ln_1p",
            Function::Sigmoid => "sigmoid_pair",
        }
    }

    /// The kernel's outputs at x (one, or two for the pair).
    pub fn eval(self, x: f64) -> Vec<f64> {
        match self {
            Function::Exp => vec![super::exp(x)],
            Function::Expm1 => vec![super::expm1(x)],
            Function::Ln => vec![super::ln(x)],
            Function::Ln1p => vec![super::ln_1p(x)],
            Function::Sigmoid => {
                let (a, b) = super::sigmoid_pair(x);
                vec![a, b]
            }
        }
    }

    /// The same function from the standard library (the platform libm), for comparison; the pair
    /// as `model::sigmoid` forms it from std's exp: (1/(1 + e), e/(1 + e)), e = e^{−|u|}.
    pub fn eval_std(self, x: f64) -> Vec<f64> {
        match self {
            Function::Exp => vec![x.exp()],
            Function::Expm1 => vec![x.exp_m1()],
            Function::Ln => vec![x.ln()],
            Function::Ln1p => vec![x.ln_1p()],
            Function::Sigmoid => {
                let e = (-x.abs()).exp();
                let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
                if x >= 0.0 {
                    vec![big, small]
                } else {
                    vec![small, big]
                }
            }
        }
    }

    /// The exact values at x, in the order of [`Function::eval`].
    pub fn reference(self, x: f64) -> Vec<Reference> {
        match self {
            Function::Exp => vec![reference::exp(x)],
            Function::Expm1 => vec![reference::expm1(x)],
            Function::Ln => vec![reference::ln(x)],
            Function::Ln1p => vec![reference::ln_1p(x)],
            Function::Sigmoid => {
                let (a, b) = reference::sigmoid_pair(x);
                vec![a, b]
            }
        }
    }
}

/// |c − V| / ulp(V) (see the module documentation).
pub fn ulp_error(c: f64, v: &Reference) -> f64 {
    let (m, e) = match *v {
        Reference::Special(s) => {
            let same = (s.is_nan() && c.is_nan())
                || (s == c && s.is_sign_negative() == c.is_sign_negative());
            return if same { 0.0 } else { f64::INFINITY };
        }
        Reference::Value(m, e) => (m, e),
    };
    if c.is_nan() {
        return f64::INFINITY;
    }
    let below_power = m.hi.abs() == 1.0 && m.lo != 0.0 && (m.lo < 0.0) != (m.hi < 0.0);
    let binade = if below_power { e - 1 } else { e };
    if c.is_infinite() {
        let top = m.hi.abs() > 2.0 - 2f64.powi(-53)
            || (m.hi.abs() == 2.0 - 2f64.powi(-53) && m.lo * m.hi >= 0.0);
        let rounds_to_inf = binade >= 1024 || (binade == 1023 && top);
        let same_sign = (c < 0.0) == (m.hi < 0.0);
        return if rounds_to_inf && same_sign {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let ulp_exp = binade.clamp(-1022, 1023) - 52;
    let diff = scaled(c, -e) - m;
    (diff.hi + diff.lo).abs() * pow2i(e - ulp_exp)
}

/// c·2ⁿ in double-double, exact for the |n| ≤ 2200 that occur (two exact steps).
fn scaled(c: f64, n: i32) -> Dd {
    let half = n / 2;
    let once = c * f64_pow2(half);
    Dd::from_f64(once * f64_pow2(n - half))
}

/// 2ⁿ for |n| ≤ 1100, possibly subnormal or infinite (only used on c, whose product with it is
/// then exact or meaningless).
fn f64_pow2(n: i32) -> f64 {
    if n > 1023 {
        f64::INFINITY
    } else if n >= -1022 {
        pow2i(n)
    } else {
        pow2i(n + 200) * pow2i(-200)
    }
}

/// The worst error found, and where.
#[derive(Clone, Copy, Debug)]
pub struct Worst {
    /// Maximum error in ulps.
    pub ulps: f64,
    /// An argument where it occurs.
    pub arg: f64,
    /// Arguments measured.
    pub count: usize,
}

/// The maximum ulp error of `f` over `args`, every output of the function counted.
pub fn measure(f: Function, args: &[f64]) -> Worst {
    measure_with(f, args, |x| f.eval(x))
}

/// The maximum ulp error of `eval` (an implementation of `f`) over `args`.
pub fn measure_with(f: Function, args: &[f64], eval: impl Fn(f64) -> Vec<f64>) -> Worst {
    let mut worst = Worst {
        ulps: 0.0,
        arg: f64::NAN,
        count: args.len(),
    };
    for &x in args {
        for (c, v) in eval(x).iter().zip(f.reference(x)) {
            let err = ulp_error(*c, &v);
            if err > worst.ulps || err.is_nan() {
                worst.ulps = err;
                worst.arg = x;
            }
        }
    }
    worst
}

/// The double after x (toward +∞), for finite x.
pub fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        f64::from_bits(1)
    } else if x > 0.0 {
        f64::from_bits(x.to_bits() + 1)
    } else {
        f64::from_bits(x.to_bits() - 1)
    }
}

/// The double before x (toward −∞), for finite x.
pub fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

/// x and its `n` neighbours on each side.
fn around(x: f64, n: usize, out: &mut Vec<f64>) {
    let (mut up, mut down) = (x, x);
    out.push(x);
    for _ in 0..n {
        up = next_up(up);
        down = next_down(down);
        out.push(up);
        out.push(down);
    }
}

/// The edge arguments of `f`: specials, subnormals, thresholds ± a few ulps, powers of two, and
/// the function's own boundaries (reduction switch points, cancellation regions).
pub fn edges(f: Function) -> Vec<f64> {
    let mut v = vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
    for x in [f64::MAX, f64::MIN_POSITIVE, f64::from_bits(1), 1.0] {
        around(x, 8, &mut v);
        around(-x, 8, &mut v);
    }
    for n in -1074..=1023 {
        let p = if n >= -1022 {
            pow2i(n)
        } else {
            f64::from_bits(1 << (n + 1074))
        };
        v.push(p);
        v.push(-p);
    }
    let ln2 = std::f64::consts::LN_2;
    match f {
        Function::Exp | Function::Expm1 => {
            for t in [
                709.782_712_893_384,
                -745.133_219_101_941_1,
                -708.396_418_532_264_1,
            ] {
                around(t, 40, &mut v);
            }
            around(-744.440_071_921_381_2, 40, &mut v); // e^x = 2⁻¹⁰⁷⁴, the smallest subnormal
            for n in -1080..=1025 {
                around((n as f64 + 0.5) * ln2, 2, &mut v); // where round(x/ln2) changes
            }
            for t in [56.0 * ln2, 20.0 * ln2, 38.0, 40.0, -37.4, -38.0, -39.0] {
                around(t, 4, &mut v);
                around(-t, 4, &mut v);
            }
        }
        Function::Ln | Function::Ln1p => {
            let s2 = std::f64::consts::SQRT_2;
            let shift = if f == Function::Ln1p { 1.0 } else { 0.0 };
            for t in [1.0, s2, 0.5 * s2, 2.0, 0.5, std::f64::consts::E] {
                around(t - shift, 200, &mut v);
            }
            for t in [1e-300, 2f64.powi(53), 2f64.powi(54), -0.5] {
                around(t, 8, &mut v);
            }
        }
        Function::Sigmoid => {
            for t in [
                36.0, 37.0, 38.0, 40.0, 708.0, 708.4, 709.0, 744.0, 745.0, 745.2, 746.0,
            ] {
                around(t, 4, &mut v);
                around(-t, 4, &mut v);
            }
        }
    }
    v
}

/// ±2^E·(1 + fraction) with E uniform on [lo, hi] (the biased exponent field, 0 = subnormal) and
/// random significand bits: magnitudes uniform in their logarithm.
fn log_uniform(rng: &mut ChaCha8Rng, lo: u64, hi: u64, signed: bool) -> f64 {
    let field = rng.random_range(lo..=hi);
    let bits = (field << 52) | (rng.random::<u64>() >> 12);
    let x = f64::from_bits(bits);
    if signed && rng.random::<bool>() {
        -x
    } else {
        x
    }
}

/// `n` random arguments for `f` from a seeded ChaCha8 stream: a mixture, per function, of uniform
/// arguments over the interesting range, log-uniform magnitudes over the whole range, and the
/// cancellation regions (near 1 for ln, near −1 and 0 for ln_1p, near 0 for expm1).
pub fn random_arguments(f: Function, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| random_argument(f, &mut rng)).collect()
}

fn random_argument(f: Function, rng: &mut ChaCha8Rng) -> f64 {
    let pick: f64 = rng.random();
    // Biased exponent fields: 1033 ↔ 2¹⁰ = 1024 (exp's range), 1023 ↔ 1, 0 ↔ subnormal.
    match f {
        Function::Exp => match pick {
            p if p < 0.4 => rng.random_range(-746.0..710.0),
            p if p < 0.8 => log_uniform(rng, 0, 1032, true).clamp(-746.0, 710.0),
            _ => rng.random_range(-746.0..-708.0),
        },
        Function::Expm1 => match pick {
            p if p < 0.4 => rng.random_range(-40.0..710.0),
            p if p < 0.8 => log_uniform(rng, 0, 1032, true).clamp(-746.0, 710.0),
            _ => rng.random_range(-2.0..2.0),
        },
        Function::Ln => match pick {
            p if p < 0.5 => log_uniform(rng, 0, 2046, false),
            p if p < 0.8 => 1.0 + log_uniform(rng, 970, 1021, true),
            _ => rng.random_range(0.5..2.0),
        },
        Function::Ln1p => match pick {
            p if p < 0.3 => log_uniform(rng, 0, 2046, false),
            p if p < 0.55 => -log_uniform(rng, 0, 1022, false),
            p if p < 0.8 => -1.0 + log_uniform(rng, 970, 1021, false),
            _ => rng.random_range(-0.5..1.0),
        },
        Function::Sigmoid => match pick {
            p if p < 0.4 => rng.random_range(-750.0..750.0),
            p if p < 0.8 => log_uniform(rng, 0, 1033, true),
            _ => rng.random_range(-40.0..40.0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(x: f64) -> Reference {
        normalised(Dd::from_f64(x), 0)
    }

    use super::super::reference::normalised;

    /// The measure on constructed cases: one spacing away is 1 ulp (in the normal range, below a
    /// power of two, among subnormals, at the top), half-way is ½, exact is 0; overflow and
    /// special values by the rules of the module documentation.
    #[test]
    fn measure_on_constructed_cases() {
        for x in [1.5, -3.0, 1e-300, 1e300, f64::MAX, 3.0 * f64::MIN_POSITIVE] {
            assert_eq!(ulp_error(x, &exact(x)), 0.0);
            assert_eq!(ulp_error(next_down(x.abs()), &exact(x.abs())), 1.0, "{x}");
        }
        // Below a power of two the spacing halves: 1 − 2⁻⁵³ is ½ ulp of 1 away from 1, and 1 is one
        // ulp (of the binade [½, 1)) away from 1 − 2⁻⁵³.
        assert_eq!(ulp_error(next_down(1.0), &exact(1.0)), 0.5);
        assert_eq!(ulp_error(1.0, &exact(next_down(1.0))), 1.0);
        // Half-way between 1 and its successor.
        let mid = normalised(Dd::new(1.0, f64::EPSILON / 2.0), 0);
        assert_eq!(ulp_error(1.0, &mid), 0.5);
        // Subnormals: spacing 2⁻¹⁰⁷⁴ throughout.
        let tiny = f64::from_bits(3);
        let v = normalised(Dd::from_f64(tiny * 2f64.powi(100)), -100);
        assert_eq!(ulp_error(f64::from_bits(5), &v), 2.0);
        assert_eq!(ulp_error(0.0, &v), 3.0);
        // Overflow: 2¹⁰²⁴ rounds to ∞; f64::MAX is then ½ ulp (2⁹⁷⁰) short… of 2¹⁰²⁴ − 2⁹⁷⁰.
        let two_1024 = Reference::Value(Dd::from_f64(1.0), 1024);
        assert_eq!(ulp_error(f64::INFINITY, &two_1024), 0.0);
        assert_eq!(ulp_error(f64::MAX, &two_1024), 1.0);
        assert_eq!(ulp_error(f64::INFINITY, &exact(f64::MAX)), f64::INFINITY);
        // Specials: exact match required, zeros by sign, NaN by NaN.
        assert_eq!(ulp_error(-0.0, &Reference::Special(-0.0)), 0.0);
        assert_eq!(ulp_error(0.0, &Reference::Special(-0.0)), f64::INFINITY);
        assert_eq!(ulp_error(f64::NAN, &Reference::Special(f64::NAN)), 0.0);
        assert_eq!(ulp_error(1.0, &Reference::Special(f64::NAN)), f64::INFINITY);
        assert_eq!(ulp_error(f64::NAN, &exact(1.0)), f64::INFINITY);
    }

    /// The samples are what they claim: seeded (same seed, same arguments), and covering the
    /// ranges (subnormal magnitudes and both signs where the function takes them).
    #[test]
    fn samples() {
        for f in Function::ALL {
            let a = random_arguments(f, 5000, 3);
            assert_eq!(a, random_arguments(f, 5000, 3));
            assert!(a.iter().any(|x| x.abs() < 1e-300) || f == Function::Ln1p);
            assert!(edges(f).iter().any(|x| x.is_nan()));
        }
        let ln1p = random_arguments(Function::Ln1p, 5000, 3);
        assert!(ln1p.iter().any(|&x| x > -1.0 && x < -1.0 + 1e-10));
        assert!(ln1p.iter().all(|&x| x >= -1.0));
    }

    /// The reference and the measure against the platform libm (independent code): every result
    /// within 2 ulps (libms are within 1; the margin only guards against a libm worse than
    /// documented), so a gross mistake in the reference or the error measure cannot hide behind
    /// the kernels' agreement with it.
    #[test]
    fn near_the_platform_libm() {
        for i in 0..2000 {
            let t = (i as f64 + 0.5) / 2000.0;
            let x = -740.0 + 1449.0 * t;
            assert!(ulp_error(x.exp(), &reference::exp(x)) < 2.0, "exp({x})");
            let y = (-700.0 + 1400.0 * t).exp();
            assert!(ulp_error(y.ln(), &reference::ln(y)) < 2.0, "ln({y})");
            let z = 2.0 * t - 1.0;
            assert!(
                ulp_error(z.exp_m1(), &reference::expm1(z)) < 2.0,
                "expm1({z})"
            );
            assert!(
                ulp_error(z.ln_1p(), &reference::ln_1p(z)) < 2.0,
                "ln_1p({z})"
            );
        }
    }
}
