//! Second-order forward-mode derivatives ("jets"): a value with its gradient and Hessian in n
//! variables, carried through the arithmetic of an integrand so that differentiating under the
//! integral sign is exact for the discretised integral.
//!
//! | operation | value | gradient | Hessian |
//! | --- | --- | --- | --- |
//! | a + b | a + b | ∇a + ∇b | ∇²a + ∇²b |
//! | a b | a b | a ∇b + b ∇a | a ∇²b + b ∇²a + ∇a ∇bᵀ + ∇b ∇aᵀ |
//! | φ(a) | φ(a) | φ'(a) ∇a | φ'(a) ∇²a + φ''(a) ∇a ∇aᵀ |
//!
//! A jet carries only what its order asks for: `g` is empty for values only, `h` (n × n,
//! column-major, symmetric) is empty unless the Hessian is wanted. Each operation is exact up to
//! the rounding of its few flops (a few ulps relative to the size of each term).

/// A value with (optionally) its gradient and Hessian.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Jet {
    /// The value.
    pub v: f64,
    /// ∇ (length n, or empty).
    pub g: Vec<f64>,
    /// ∇² (n × n column-major, or empty).
    pub h: Vec<f64>,
}

/// How many variables, and which derivatives, jets carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JetShape {
    /// Number of variables.
    pub n: usize,
    /// Whether the gradient is carried.
    pub grad: bool,
    /// Whether the Hessian is carried (implies the gradient).
    pub hess: bool,
}

impl JetShape {
    /// A constant.
    pub fn constant(&self, v: f64) -> Jet {
        Jet {
            v,
            g: vec![0.0; if self.grad { self.n } else { 0 }],
            h: vec![0.0; if self.hess { self.n * self.n } else { 0 }],
        }
    }

    /// The variable number i, at value v.
    pub fn var(&self, v: f64, i: usize) -> Jet {
        let mut j = self.constant(v);
        if self.grad {
            j.g[i] = 1.0;
        }
        j
    }
}

impl Jet {
    /// a + b.
    pub fn add(&self, b: &Jet) -> Jet {
        Jet {
            v: self.v + b.v,
            g: self.g.iter().zip(&b.g).map(|(x, y)| x + y).collect(),
            h: self.h.iter().zip(&b.h).map(|(x, y)| x + y).collect(),
        }
    }

    /// a − b.
    pub fn sub(&self, b: &Jet) -> Jet {
        Jet {
            v: self.v - b.v,
            g: self.g.iter().zip(&b.g).map(|(x, y)| x - y).collect(),
            h: self.h.iter().zip(&b.h).map(|(x, y)| x - y).collect(),
        }
    }

    /// c a for a constant c.
    pub fn scale(&self, c: f64) -> Jet {
        Jet {
            v: c * self.v,
            g: self.g.iter().map(|x| c * x).collect(),
            h: self.h.iter().map(|x| c * x).collect(),
        }
    }

    /// a + c for a constant c.
    pub fn add_const(&self, c: f64) -> Jet {
        Jet {
            v: self.v + c,
            ..self.clone()
        }
    }

    /// self += c b (the accumulation of a sum).
    pub fn add_scaled(&mut self, c: f64, b: &Jet) {
        self.v += c * b.v;
        for (x, y) in self.g.iter_mut().zip(&b.g) {
            *x += c * y;
        }
        for (x, y) in self.h.iter_mut().zip(&b.h) {
            *x += c * y;
        }
    }

    /// a b.
    pub fn mul(&self, b: &Jet) -> Jet {
        let n = self.g.len();
        let mut h = Vec::with_capacity(self.h.len());
        if !self.h.is_empty() {
            for c in 0..n {
                for r in 0..n {
                    let k = c * n + r;
                    h.push(
                        self.v * b.h[k] + b.v * self.h[k] + self.g[r] * b.g[c] + b.g[r] * self.g[c],
                    );
                }
            }
        }
        Jet {
            v: self.v * b.v,
            g: self
                .g
                .iter()
                .zip(&b.g)
                .map(|(ga, gb)| self.v * gb + b.v * ga)
                .collect(),
            h,
        }
    }

    /// φ(a) from φ(a), φ'(a), φ''(a) (the chain rule of the module table).
    pub fn chain(&self, f0: f64, f1: f64, f2: f64) -> Jet {
        let n = self.g.len();
        let mut h = Vec::with_capacity(self.h.len());
        if !self.h.is_empty() {
            for c in 0..n {
                for r in 0..n {
                    h.push(f1 * self.h[c * n + r] + f2 * self.g[r] * self.g[c]);
                }
            }
        }
        Jet {
            v: f0,
            g: self.g.iter().map(|x| f1 * x).collect(),
            h,
        }
    }

    /// e^a.
    pub fn exp(&self) -> Jet {
        let e = self.v.exp();
        self.chain(e, e, e)
    }

    /// e^a − 1, accurate for small a.
    pub fn exp_m1(&self) -> Jet {
        let e = self.v.exp();
        self.chain(self.v.exp_m1(), e, e)
    }

    /// log(1 + a), accurate for small a.
    pub fn ln_1p(&self) -> Jet {
        let r = 1.0 / (1.0 + self.v);
        self.chain(self.v.ln_1p(), r, -r * r)
    }

    /// 1/a.
    pub fn recip(&self) -> Jet {
        let r = 1.0 / self.v;
        self.chain(r, -r * r, 2.0 * r * r * r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{assert_within, Tol};

    /// f(x, y) = exp(x y) / (1 + log1p(x²)) + expm1(y): the jet's gradient and Hessian against the
    /// derivatives written out by hand (sympy-free: the quotient rule by hand below). Both are a
    /// few dozen flops on O(1) numbers: 1e-14 relative to max(1, |entry|).
    #[test]
    fn jets_match_hand_derivatives() {
        let sh = JetShape {
            n: 2,
            grad: true,
            hess: true,
        };
        let (x0, y0) = (0.7, -0.4);
        let (x, y) = (sh.var(x0, 0), sh.var(y0, 1));
        let num = x.mul(&y).exp();
        let den = x.mul(&x).ln_1p().add_const(1.0);
        let f = num.mul(&den.recip()).add(&y.exp_m1());
        // By hand: N = e^{xy}, Dn = 1 + L, L = log(1 + x²), L' = 2x/(1+x²), L'' = 2(1−x²)/(1+x²)².
        let n = (x0 * y0).exp();
        let l = (x0 * x0).ln_1p();
        let dn = 1.0 + l;
        let lx = 2.0 * x0 / (1.0 + x0 * x0);
        let lxx = 2.0 * (1.0 - x0 * x0) / (1.0 + x0 * x0).powi(2);
        let q = n / dn;
        // ∂x q = q (y − L'/Dn); ∂y q = q x.
        let qx = q * (y0 - lx / dn);
        let qy = q * x0;
        let qxx = qx * (y0 - lx / dn) + q * (-(lxx * dn - lx * lx) / (dn * dn));
        let qxy = qy * (y0 - lx / dn) + q;
        let qyy = q * x0 * x0;
        let want_g = [qx, qy + y0.exp()];
        let want_h = [qxx, qxy, qxy, qyy + y0.exp()];
        assert_within("value", &[f.v], &[q + y0.exp_m1()], Tol::Mixed(1e-14));
        assert_within("gradient", &f.g, &want_g, Tol::Mixed(1e-14));
        assert_within("hessian", &f.h, &want_h, Tol::Mixed(1e-14));
    }
}
