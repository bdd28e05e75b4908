//! Small building blocks shared by the f64 and f32 kernels: fused multiply-add,
//! error-free transformations, powers of two and polynomial evaluation.
//!
//! Everything here is `#[inline(always)]` and branch-free so that LLVM can
//! vectorize the callers.

/// `a * b + c` with a single rounding (see the module docs for why this is used
/// everywhere).
#[inline(always)]
pub(crate) fn fma(a: f64, b: f64, c: f64) -> f64 {
    a.mul_add(b, c)
}

/// Error-free sum: `s + e == a + b` exactly, `s = fl(a + b)`.
#[inline(always)]
pub(crate) fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// Error-free sum when `|a| >= |b|` (or `a == 0`).
#[inline(always)]
pub(crate) fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let e = b - (s - a);
    (s, e)
}

/// Error-free product: `p + e == a * b` exactly (barring underflow).
#[inline(always)]
pub(crate) fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let e = fma(a, b, -p);
    (p, e)
}

/// `2^k` for `-1022 <= k <= 1023` (normal range only).
#[inline(always)]
pub(crate) fn pow2i(k: i64) -> f64 {
    f64::from_bits((k.wrapping_add(1023) as u64).wrapping_shl(52))
}

/// `p * 2^k` with a single rounding for `p` in `[0.5, 2)` and
/// `-2044 <= k <= 2046`: the scaling is split in two exact-or-final steps so
/// that overflow gives `inf` and underflow rounds once into the subnormals.
#[inline(always)]
pub(crate) fn scale2(p: f64, k: i64) -> f64 {
    let k1 = k >> 1;
    let k2 = k.wrapping_sub(k1);
    p * pow2i(k1) * pow2i(k2)
}

/// Integer value of a float produced by the `x + SHIFT` rounding trick.
pub(crate) const SHIFT: f64 = 6755399441055744.0; // 1.5 * 2^52

#[inline(always)]
pub(crate) fn shifted_to_int(t: f64) -> i64 {
    (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64)
}

/// Horner evaluation, coefficients highest degree first.
#[inline(always)]
pub(crate) fn horner<const N: usize>(x: f64, c: &[f64; N]) -> f64 {
    let mut acc = c[0];
    let mut i = 1;
    while i < N {
        acc = fma(acc, x, c[i]);
        i += 1;
    }
    acc
}

/// Branch-free select (LLVM turns this into a blend / masked move).
#[inline(always)]
pub(crate) fn sel(c: bool, a: f64, b: f64) -> f64 {
    if c {
        a
    } else {
        b
    }
}
