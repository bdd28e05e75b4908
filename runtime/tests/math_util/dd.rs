//! A small double-double (≈106-bit) reference for the f64 accuracy tests.
//! Straightforward, slow, independent of the implementation under test
//! (Taylor series, argument scaling, Newton steps). Relative accuracy ≈ 2^-100
//! on the ranges used, far below the 1 ULP (2^-52) bound being checked.
#![allow(dead_code)]

#[derive(Clone, Copy, Debug)]
pub struct DD {
    pub hi: f64,
    pub lo: f64,
}

fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

pub const fn dd(hi: f64, lo: f64) -> DD {
    DD { hi, lo }
}
pub fn d(x: f64) -> DD {
    DD { hi: x, lo: 0.0 }
}

impl DD {
    pub fn add(self, o: DD) -> DD {
        let (s, e) = two_sum(self.hi, o.hi);
        let (t, f) = two_sum(self.lo, o.lo);
        let (s, e) = fast_two_sum(s, e + t);
        let (s, e) = fast_two_sum(s, e + f);
        DD { hi: s, lo: e }
    }
    pub fn neg(self) -> DD {
        DD { hi: -self.hi, lo: -self.lo }
    }
    pub fn sub(self, o: DD) -> DD {
        self.add(o.neg())
    }
    pub fn mul(self, o: DD) -> DD {
        let p = self.hi * o.hi;
        let e = self.hi.mul_add(o.hi, -p);
        let e = e + (self.hi * o.lo + self.lo * o.hi);
        let (s, e) = fast_two_sum(p, e);
        DD { hi: s, lo: e }
    }
    pub fn div(self, o: DD) -> DD {
        let q1 = self.hi / o.hi;
        let r = self.sub(o.mul(d(q1)));
        let q2 = r.hi / o.hi;
        let r = r.sub(o.mul(d(q2)));
        let q3 = r.hi / o.hi;
        let (s, e) = fast_two_sum(q1, q2);
        DD { hi: s, lo: e }.add(d(q3))
    }
    pub fn mul_pow2(self, k: i32) -> DD {
        let (s1, s2) = (2f64.powi(k / 2), 2f64.powi(k - k / 2));
        DD { hi: self.hi * s1 * s2, lo: self.lo * s1 * s2 }
    }
    pub fn sqrt(self) -> DD {
        if self.hi == 0.0 {
            return d(0.0);
        }
        let s = self.hi.sqrt();
        let r = self.sub(d(s).mul(d(s)));
        d(s).add(d(r.hi / (2.0 * s)))
    }
    pub fn to_f64(self) -> f64 {
        self.hi + self.lo
    }
}

pub const LN2: DD = dd(std::f64::consts::LN_2, 2.3190468138462996e-17);
pub const INV_LN2: DD = dd(std::f64::consts::LOG2_E, 2.0355273740931033e-17);
pub const INV_LN10: DD = dd(std::f64::consts::LOG10_E, 1.098319650216765e-17);
pub const PI: DD = dd(std::f64::consts::PI, 1.2246467991473532e-16);

/// e^x for |x| < ~700 (no scaling of the result): returns (value, k) with
/// e^x = value * 2^k, value in [0.5, 2].
pub fn exp_dd(x: DD) -> (DD, i32) {
    let k = (x.hi / LN2.hi).round();
    let r = x.sub(LN2.mul(d(k)));
    // further scale by 2^-10 and square back 10 times
    let r = r.mul_pow2(-10);
    let mut sum = d(1.0);
    let mut term = d(1.0);
    for n in 1..=14 {
        term = term.mul(r).div(d(n as f64));
        sum = sum.add(term);
    }
    for _ in 0..10 {
        sum = sum.mul(sum);
    }
    (sum, k as i32)
}

/// e^x - 1 as (value, k): value * 2^k.
pub fn expm1_dd(x: f64) -> (DD, i32) {
    if x.abs() < 0.01 {
        let mut sum = d(0.0);
        let mut term = d(1.0);
        for n in 1..=16 {
            term = term.mul(d(x)).div(d(n as f64));
            sum = sum.add(term);
        }
        (sum, 0)
    } else if x < -40.0 {
        (dd(-1.0, x.exp()), 0)
    } else if x < 40.0 {
        let (v, k) = exp_dd(d(x));
        (v.mul_pow2(k).sub(d(1.0)), 0)
    } else {
        exp_dd(d(x))
    }
}

/// ln x for a positive finite dd `x`.
pub fn ln_dd(x: DD) -> DD {
    if (x.hi - 1.0).abs() < 0.01 {
        return ln1p_series(x.sub(d(1.0)));
    }
    // x = m 2^j with m in [1, 2)
    let j = x.hi.log2().floor() as i32;
    let m = x.mul_pow2(-j);
    let y = m.hi.ln();
    let (e, k) = exp_dd(d(-y));
    let t = m.mul(e.mul_pow2(k)).sub(d(1.0));
    // ln(1 + t) = t - t^2/2 + t^3/3 (t ~ 2^-52)
    let corr = t.sub(t.mul(t).mul(d(0.5)));
    LN2.mul(d(j as f64)).add(d(y)).add(corr)
}

/// ln(1 + x) by its Taylor series, |x| < 0.01.
fn ln1p_series(x: DD) -> DD {
    let mut sum = d(0.0);
    let mut pow = d(1.0);
    for n in 1..=24 {
        pow = pow.mul(x);
        let term = pow.div(d(n as f64));
        sum = if n % 2 == 1 { sum.add(term) } else { sum.sub(term) };
    }
    sum
}

pub fn ln1p_dd(x: f64) -> DD {
    if x.abs() < 0.01 {
        ln1p_series(d(x))
    } else {
        let (s, e) = two_sum(1.0, x);
        ln_dd(dd(s, e))
    }
}

/// sinh as (value, k).
pub fn sinh_dd(x: f64) -> (DD, i32) {
    let a = x.abs();
    let (v, k) = if a < 0.01 {
        let mut sum = d(0.0);
        let mut term = d(a);
        for n in 1..=10 {
            sum = sum.add(term);
            term = term.mul(d(a)).mul(d(a)).div(d(((2 * n) * (2 * n + 1)) as f64));
        }
        (sum, 0)
    } else if a < 40.0 {
        let (e, k) = exp_dd(d(a));
        let e = e.mul_pow2(k);
        (e.sub(d(1.0).div(e)).mul(d(0.5)), 0)
    } else {
        let (e, k) = exp_dd(d(a));
        (e, k - 1)
    };
    (if x < 0.0 { v.neg() } else { v }, k)
}

/// cosh as (value, k).
pub fn cosh_dd(x: f64) -> (DD, i32) {
    let a = x.abs();
    if a < 40.0 {
        let (e, k) = exp_dd(d(a));
        let e = e.mul_pow2(k);
        (e.add(d(1.0).div(e)).mul(d(0.5)), 0)
    } else {
        let (e, k) = exp_dd(d(a));
        (e, k - 1)
    }
}

/// tanh.
pub fn tanh_dd(x: f64) -> DD {
    let a = x.abs();
    let v = if a < 20.0 {
        let (m, k) = expm1_dd(2.0 * a);
        let m = m.mul_pow2(k);
        m.div(m.add(d(2.0)))
    } else {
        dd(1.0, -2.0 * (-2.0 * a).exp())
    };
    if x < 0.0 {
        v.neg()
    } else {
        v
    }
}

/// x = k pi/2 + r for |x| < 2^20: (k mod 4, r) with r in dd (pi/2 to 160 bits).
fn rem_pio2_dd(x: f64) -> (i64, DD) {
    let k = (x / std::f64::consts::FRAC_PI_2).round();
    let p = [std::f64::consts::FRAC_PI_2, 6.123233995736766e-17, -1.4973849048591698e-33];
    let mut r = d(x);
    for c in p {
        r = r.sub(d(k).mul(d(c)));
    }
    ((k as i64).rem_euclid(4), r)
}

fn sin_cos_series(r: DD) -> (DD, DD) {
    // Taylor, |r| <= pi/4 (+)
    let r2 = r.mul(r);
    let mut s = d(0.0);
    let mut c = d(0.0);
    let mut ts = r;
    let mut tc = d(1.0);
    for n in 0..14 {
        s = s.add(ts);
        c = c.add(tc);
        let a = (2 * n + 2) as f64;
        ts = ts.mul(r2).div(d(-(a * (a + 1.0))));
        tc = tc.mul(r2).div(d(-((a - 1.0) * a)));
    }
    (s, c)
}

/// sin, cos, tan for |x| < 2^20.
pub fn trig_dd(x: f64) -> (DD, DD, DD) {
    let (k, r) = rem_pio2_dd(x);
    let (s, c) = sin_cos_series(r);
    let (sn, cs) = match k {
        0 => (s, c),
        1 => (c, s.neg()),
        2 => (s.neg(), c.neg()),
        _ => (c.neg(), s),
    };
    (sn, cs, sn.div(cs))
}

/// atan of a dd.
pub fn atan_dd(x: DD) -> DD {
    if x.hi.abs() < 1e-150 {
        return x; // atan x = x - x^3/3, x^3 far below an ulp
    }
    let neg = x.hi < 0.0;
    let a = if neg { x.neg() } else { x };
    let (inv, a) = if a.hi > 1.0 { (true, d(1.0).div(a)) } else { (false, a) };
    // halve the angle 4 times: atan a = 2 atan(a / (1 + sqrt(1 + a^2)))
    let mut t = a;
    for _ in 0..4 {
        t = t.div(d(1.0).add(d(1.0).add(t.mul(t)).sqrt()));
    }
    let t2 = t.mul(t);
    let mut sum = d(0.0);
    let mut pow = t;
    for n in 0..24 {
        let term = pow.div(d((2 * n + 1) as f64));
        sum = if n % 2 == 0 { sum.add(term) } else { sum.sub(term) };
        pow = pow.mul(t2);
    }
    let mut r = sum.mul(d(16.0));
    if inv {
        r = PI.mul(d(0.5)).sub(r);
    }
    if neg {
        r.neg()
    } else {
        r
    }
}

/// atan2 of dd y, x (finite, not both zero).
pub fn atan2_dd(y: DD, x: DD) -> DD {
    if y.hi.abs().max(x.hi.abs()) < 1e-200 {
        // scale invariant: keep the dd arithmetic out of the subnormals
        return atan2_dd(y.mul_pow2(600), x.mul_pow2(600));
    }
    let half_pi = PI.mul(d(0.5));
    if y.hi.abs() > x.hi.abs() {
        // atan2 = sign(y) pi/2 - atan(x / y)
        let a = atan_dd(x.div(y));
        if y.hi > 0.0 {
            half_pi.sub(a)
        } else {
            half_pi.neg().sub(a)
        }
    } else {
        let a = atan_dd(y.div(x));
        if x.hi > 0.0 {
            a
        } else if y.hi.is_sign_negative() {
            a.sub(PI)
        } else {
            a.add(PI)
        }
    }
}

/// sqrt(1 - x^2) in dd.
pub fn sqrt_1mx2_dd(x: f64) -> DD {
    d(1.0).sub(d(x).mul(d(x))).sqrt()
}

/// cbrt of a positive finite normal-or-subnormal x: (value, k).
pub fn cbrt_dd(x: f64) -> (DD, i32) {
    // x = m 2^(3j), m in [1, 8)
    let j = (x.log2().floor() as i32).div_euclid(3);
    let m = d(x).mul_pow2(-3 * j);
    let m = if m.hi < 1.0 { m.mul_pow2(3) } else { m };
    let j = if d(x).mul_pow2(-3 * j).hi < 1.0 { j - 1 } else { j };
    let mut y = d(m.hi.cbrt());
    for _ in 0..2 {
        // y -= (y^3 - m) / (3 y^2)
        let y2 = y.mul(y);
        y = y.sub(y2.mul(y).sub(m).div(y2.mul(d(3.0))));
    }
    (y, j)
}

/// Error of `got` against the exact value `v * 2^k`, in ULPs of the exact value
/// (subnormal results measured in units of 2^-1074). Returns a fraction.
pub fn ulp_err(got: f64, v: DD, k: i32) -> f64 {
    if got.is_nan() {
        return f64::INFINITY;
    }
    // scale `got` into v's range exactly (powers of two; split to avoid overflow)
    let s = |x: f64, k: i32| {
        let k1 = k / 2;
        x * 2f64.powi(k1) * 2f64.powi(k - k1)
    };
    let true_mag = v.hi.abs();
    if true_mag == 0.0 {
        return if got == 0.0 { 0.0 } else { f64::INFINITY };
    }
    // exponent of the true value (in scaled units) -> ulp
    let e = true_mag.log2().floor() as i32 + k; // exponent of exact value
    let ulp_exp = (e - 52).max(-1074);
    let g = if got.is_infinite() {
        // correct iff the exact value rounds to inf: |v 2^k| >= 2^1024 (1 - 2^-54)
        let limit = s(1.0 - 2f64.powi(-54), 1024 - k);
        return if v.hi.abs() >= limit && got.signum() == v.hi.signum() { 0.0 } else { f64::INFINITY };
    } else {
        s(got, -k)
    };
    let diff = d(g).sub(v);
    (diff.hi / s(1.0, ulp_exp - k)).abs()
}
