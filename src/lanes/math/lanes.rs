//! `Lanes<N>`: N doubles operated on together, one loop over the lanes per operation.
//!
//! Method. Every arithmetic operation, comparison, select and bit operation is a `for` loop over
//! the N lanes of a fixed-size array. After inlining, each loop is a handful of identical scalar
//! operations on adjacent memory, which LLVM's SLP vectoriser turns into packed instructions
//! (`mulpd`, `cmppd`, `andpd`/`andnpd`/`orpd` for selects, `paddq`/`psllq` for bit patterns);
//! written instead as one scalar function mapped over the lanes, the same code is not vectorised
//! (too long a straight line for SLP to match, and the rare-path selects become branches).
//!
//! Special cases. None: each lane is exactly the scalar IEEE operation (no fused multiply-add, no
//! reassociation), so a kernel written once over `Lanes<N>` gives, lane by lane, bit for bit the
//! result of the same kernel at N = 1. NaN payloads are not specified (IEEE leaves them open).
//!
//! Accuracy. Exact: IEEE-754 operations, correctly rounded, in the order written.

use std::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Shl, Shr, Sub};

/// N doubles, one per lane.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lanes<const N: usize>(pub [f64; N]);

/// N bit patterns (u64), one per lane.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bits<const N: usize>(pub [u64; N]);

/// N lane conditions, each all-ones (true) or all-zeros (false), as a comparison leaves them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mask<const N: usize>(pub [u64; N]);

#[inline(always)]
fn lanewise<T: Copy, U: Copy + Default, const N: usize>(a: [T; N], f: impl Fn(T) -> U) -> [U; N] {
    let mut out = [U::default(); N];
    for i in 0..N {
        out[i] = f(a[i]);
    }
    out
}

#[inline(always)]
fn zip<T: Copy, U: Copy + Default, const N: usize>(
    a: [T; N],
    b: [T; N],
    f: impl Fn(T, T) -> U,
) -> [U; N] {
    let mut out = [U::default(); N];
    for i in 0..N {
        out[i] = f(a[i], b[i]);
    }
    out
}

impl<const N: usize> Lanes<N> {
    /// c in every lane.
    #[inline(always)]
    pub fn splat(c: f64) -> Self {
        Lanes([c; N])
    }
    /// |x| per lane.
    #[inline(always)]
    pub fn abs(self) -> Self {
        Lanes(lanewise(self.0, f64::abs))
    }
    /// x clamped to [lo, hi]; NaN stays NaN.
    #[inline(always)]
    pub fn clamp(self, lo: f64, hi: f64) -> Self {
        Lanes(lanewise(self.0, |x| x.clamp(lo, hi)))
    }
    /// The bit patterns.
    #[inline(always)]
    pub fn to_bits(self) -> Bits<N> {
        Bits(lanewise(self.0, f64::to_bits))
    }
    /// Lanes where x < c.
    #[inline(always)]
    pub fn lt(self, c: impl Into<Self>) -> Mask<N> {
        Mask(zip(self.0, c.into().0, |a, b| mask(a < b)))
    }
    /// Lanes where x ≤ c.
    #[inline(always)]
    pub fn le(self, c: impl Into<Self>) -> Mask<N> {
        Mask(zip(self.0, c.into().0, |a, b| mask(a <= b)))
    }
    /// Lanes where x ≥ c (false for NaN).
    #[inline(always)]
    pub fn ge(self, c: impl Into<Self>) -> Mask<N> {
        Mask(zip(self.0, c.into().0, |a, b| mask(a >= b)))
    }
    /// Lanes where x > c (false for NaN).
    #[inline(always)]
    pub fn gt(self, c: impl Into<Self>) -> Mask<N> {
        Mask(zip(self.0, c.into().0, |a, b| mask(a > b)))
    }
    /// Lanes whose sign bit is set (−0 and NaNs with the sign bit included): a mask built from
    /// the bits, which LLVM keeps branch-free even at N = 1.
    #[inline(always)]
    pub fn sign_mask(self) -> Mask<N> {
        Mask(lanewise(self.to_bits().0, |b| 0u64.wrapping_sub(b >> 63)))
    }
    /// Lanes where x = c.
    #[inline(always)]
    pub fn eq(self, c: impl Into<Self>) -> Mask<N> {
        Mask(zip(self.0, c.into().0, |a, b| mask(a == b)))
    }
}

#[inline(always)]
fn mask(c: bool) -> u64 {
    if c {
        u64::MAX
    } else {
        0
    }
}

impl<const N: usize> Mask<N> {
    /// Per lane: `then` where the mask is set, `otherwise` elsewhere (and/andnot/or on the bits).
    #[inline(always)]
    pub fn select(self, then: Lanes<N>, otherwise: Lanes<N>) -> Lanes<N> {
        let mut out = [0.0; N];
        for (i, o) in out.iter_mut().enumerate() {
            let m = self.0[i];
            *o = f64::from_bits((then.0[i].to_bits() & m) | (otherwise.0[i].to_bits() & !m));
        }
        Lanes(out)
    }
    /// The complement's bits (all-ones where the mask is clear).
    #[inline(always)]
    pub fn not_bits(self) -> Bits<N> {
        Bits(lanewise(self.0, |m| !m))
    }
    /// Lanes set in both masks.
    #[inline(always)]
    pub fn and(self, other: Self) -> Self {
        Mask(zip(self.0, other.0, |a, b| a & b))
    }
}

impl<const N: usize> Bits<N> {
    /// The doubles with these bit patterns.
    #[inline(always)]
    pub fn to_lanes(self) -> Lanes<N> {
        Lanes(lanewise(self.0, f64::from_bits))
    }
    /// c minus every lane, wrapping.
    #[inline(always)]
    pub fn subtracted_from(self, c: u64) -> Self {
        Bits(lanewise(self.0, |a| c.wrapping_sub(a)))
    }
    /// Adds c to every lane, wrapping.
    #[inline(always)]
    pub fn wrapping_add(self, c: u64) -> Self {
        Bits(lanewise(self.0, |a| a.wrapping_add(c)))
    }
}

impl<const N: usize> From<f64> for Lanes<N> {
    #[inline(always)]
    fn from(c: f64) -> Self {
        Lanes::splat(c)
    }
}

macro_rules! float_op {
    ($tr:ident, $f:ident, $op:tt) => {
        impl<const N: usize> $tr for Lanes<N> {
            type Output = Self;
            #[inline(always)]
            fn $f(self, b: Self) -> Self {
                Lanes(zip(self.0, b.0, |x, y| x $op y))
            }
        }
        impl<const N: usize> $tr<f64> for Lanes<N> {
            type Output = Self;
            #[inline(always)]
            fn $f(self, b: f64) -> Self {
                Lanes(lanewise(self.0, |x| x $op b))
            }
        }
        impl<const N: usize> $tr<Lanes<N>> for f64 {
            type Output = Lanes<N>;
            #[inline(always)]
            fn $f(self, b: Lanes<N>) -> Lanes<N> {
                Lanes(lanewise(b.0, |y| self $op y))
            }
        }
    };
}
float_op!(Add, add, +);
float_op!(Sub, sub, -);
float_op!(Mul, mul, *);
float_op!(Div, div, /);

impl<const N: usize> Neg for Lanes<N> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Lanes(lanewise(self.0, |x| -x))
    }
}

impl<const N: usize> BitAnd<u64> for Bits<N> {
    type Output = Self;
    #[inline(always)]
    fn bitand(self, c: u64) -> Self {
        Bits(lanewise(self.0, |a| a & c))
    }
}

impl<const N: usize> BitOr<u64> for Bits<N> {
    type Output = Self;
    #[inline(always)]
    fn bitor(self, c: u64) -> Self {
        Bits(lanewise(self.0, |a| a | c))
    }
}

impl<const N: usize> Shl<u32> for Bits<N> {
    type Output = Self;
    #[inline(always)]
    fn shl(self, s: u32) -> Self {
        Bits(lanewise(self.0, |a| a << s))
    }
}

impl<const N: usize> Shr<u32> for Bits<N> {
    type Output = Self;
    #[inline(always)]
    fn shr(self, s: u32) -> Self {
        Bits(lanewise(self.0, |a| a >> s))
    }
}
