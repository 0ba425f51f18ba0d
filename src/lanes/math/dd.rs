//! Double-double arithmetic: a value hi + lo with |lo| ≤ ½ ulp(hi), about 106 bits of precision.
//!
//! Method. The error-free transformations of Dekker and Knuth — `two_sum` (the exact rounding
//! error of a sum), Veltkamp's split and Dekker's `two_prod` (the exact rounding error of a
//! product, without a fused multiply-add) — and on them the "accurate" double-double operations of
//! Hida, Li and Bailey's QD library (add with two `two_sum`s, multiply, long division with three
//! quotient digits).
//!
//! Special cases. None handled: operands are finite, and magnitudes stay far from overflow and
//! underflow (|x| in [2⁻⁹⁰⁰, 2⁹⁰⁰], where Veltkamp's split and the partial products are exact).
//! The [`super::reference`](mod@super::reference) functions only call these on arguments scaled
//! into that range.
//!
//! Accuracy. `two_sum`, `two_prod`: exact. add: relative error ≤ 2·2⁻¹⁰⁶ (no cancellation
//! penalty beyond the exact one); mul: ≤ 4·2⁻¹⁰⁶; div: ≤ 8·2⁻¹⁰⁶ (QD's bounds, Hida–Li–Bailey
//! 2001, and Joldes–Muller–Popescu 2017 for the add/mul bounds). This module is the arithmetic
//! of the independent reference, never of the kernels; it also gives the cube route of the
//! marginal its base residual x − h(c).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// A double-double number hi + lo.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dd {
    /// The leading double, hi = fl(hi + lo).
    pub hi: f64,
    /// The trailing double, |lo| ≤ ½ ulp(hi).
    pub lo: f64,
}

/// (s, e) with s = fl(a + b) and a + b = s + e exactly (Knuth).
#[inline]
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// (s, e) with s = fl(a + b), a + b = s + e exactly, valid when |a| ≥ |b| (Dekker).
#[inline]
fn quick_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// Veltkamp's split: a = hi + lo with hi and lo of at most 26 significant bits each.
#[inline]
fn split(a: f64) -> (f64, f64) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

/// (p, e) with p = fl(a·b) and a·b = p + e exactly (Dekker), without a fused multiply-add.
#[inline]
pub fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

impl Dd {
    /// The double x, exactly.
    pub const fn from_f64(x: f64) -> Self {
        Dd { hi: x, lo: 0.0 }
    }
    /// hi + lo renormalised (|hi| ≥ |lo| required).
    pub fn new(hi: f64, lo: f64) -> Self {
        let (hi, lo) = quick_two_sum(hi, lo);
        Dd { hi, lo }
    }
    /// The exact sum a + b of two doubles.
    pub fn sum(a: f64, b: f64) -> Self {
        let (hi, lo) = two_sum(a, b);
        Dd { hi, lo }
    }
    /// The exact product a·b of two doubles.
    pub fn product(a: f64, b: f64) -> Self {
        let (hi, lo) = two_prod(a, b);
        Dd { hi, lo }
    }
    /// self·2ⁿ (|n| ≤ 2044, in two exact steps), exact while both parts stay normal.
    pub fn scale(self, n: i32) -> Self {
        let (a, b) = (pow2i(n / 2), pow2i(n - n / 2));
        Dd {
            hi: self.hi * a * b,
            lo: self.lo * a * b,
        }
    }
    /// The value rounded to a double (hi + lo, rounded once).
    pub fn to_f64(self) -> f64 {
        self.hi + self.lo
    }
}

/// 2ⁿ for n in [−1022, 1023], exactly.
pub fn pow2i(n: i32) -> f64 {
    assert!((-1022..=1023).contains(&n), "2^{n} is not a normal double");
    f64::from_bits(((n + 1023) as u64) << 52)
}

impl Add for Dd {
    type Output = Dd;
    fn add(self, b: Dd) -> Dd {
        let (s1, s2) = two_sum(self.hi, b.hi);
        let (t1, t2) = two_sum(self.lo, b.lo);
        let (s1, s2) = quick_two_sum(s1, s2 + t1);
        let (hi, lo) = quick_two_sum(s1, s2 + t2);
        Dd { hi, lo }
    }
}

impl Neg for Dd {
    type Output = Dd;
    fn neg(self) -> Dd {
        Dd {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
}

impl Sub for Dd {
    type Output = Dd;
    fn sub(self, b: Dd) -> Dd {
        self + (-b)
    }
}

impl Mul for Dd {
    type Output = Dd;
    fn mul(self, b: Dd) -> Dd {
        let (p1, p2) = two_prod(self.hi, b.hi);
        let p2 = p2 + (self.hi * b.lo + self.lo * b.hi);
        let (hi, lo) = quick_two_sum(p1, p2);
        Dd { hi, lo }
    }
}

impl Mul<f64> for Dd {
    type Output = Dd;
    fn mul(self, b: f64) -> Dd {
        let (p1, p2) = two_prod(self.hi, b);
        let (hi, lo) = quick_two_sum(p1, p2 + self.lo * b);
        Dd { hi, lo }
    }
}

impl Div for Dd {
    type Output = Dd;
    fn div(self, b: Dd) -> Dd {
        let q1 = self.hi / b.hi;
        let r = self - b * q1;
        let q2 = r.hi / b.hi;
        let r = r - b * q2;
        let q3 = r.hi / b.hi;
        Dd::new(q1, q2) + Dd::from_f64(q3)
    }
}

impl Div<f64> for Dd {
    type Output = Dd;
    fn div(self, b: f64) -> Dd {
        self / Dd::from_f64(b)
    }
}

impl Add<f64> for Dd {
    type Output = Dd;
    fn add(self, b: f64) -> Dd {
        self + Dd::from_f64(b)
    }
}

impl Sub<f64> for Dd {
    type Output = Dd;
    fn sub(self, b: f64) -> Dd {
        self - Dd::from_f64(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact identities checkable in integers: (2²⁷+1)² = 2⁵⁴ + 2²⁸ + 1 needs 55 bits, so its
    /// double rounds and two_prod must return the lost 1; 1/3·3 = 1 to 2⁻¹⁰⁵; (1 + 2⁻⁶⁰) − 1.
    #[test]
    fn exact_identities() {
        let a = 134_217_729.0;
        let (p, e) = two_prod(a, a);
        assert_eq!(p, 18_014_398_777_917_440.0); // 2^54 + 2^28
        assert_eq!(e, 1.0);
        let third = Dd::from_f64(1.0) / 3.0;
        let back = third * 3.0 - 1.0;
        assert!(back.to_f64().abs() < 2f64.powi(-104));
        let tiny = 2f64.powi(-60);
        assert_eq!((Dd::sum(1.0, tiny) - 1.0).to_f64(), tiny);
    }
}
