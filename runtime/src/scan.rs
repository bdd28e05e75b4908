//! Scans: running sums, products and extrema (`x.cumsum()`, `x.cumprod()`, `x.cummax()`,
//! `x.cummin()` in a kernel), fused into the pass that reads them.
//!
//! # Order (the contract)
//! Element `i` of a scan is the running value of elements `0..=i`, combined left to right
//! as NumPy's `np.cumsum` / `np.cumprod` / `np.maximum.accumulate` / `np.minimum.accumulate`
//! define it: `out[0] = x[0]`, `out[i] = out[i - 1] op x[i]`, one element after the other,
//! for floats and integers: the same bits at every CPU level, and the bits of the naive
//! scalar loop. The running value starts at the identity of its operation: `-0.0` for a
//! float sum (so a first element `-0.0` is kept), `1` for a product, the lowest / highest
//! value for `cummax` / `cummin`. Integer `+` and `*` are Rust's (an overflow panics in
//! debug builds, wraps in release).
//!
//! **NaN** (`cummax`/`cummin`, as `np.maximum.accumulate`): a NaN propagates: from the
//! first NaN on, every running value is that NaN. The running value changes only for a
//! strictly greater (`cummax`) or smaller (`cummin`) element, so between equal zeros the
//! earlier one is kept (`[-0.0, 0.0]` gives `[-0.0, -0.0]`).
//!
//! # How a pass runs a scan
//! The pass driver calls the loop body element by element, in index order (`crate::pass`),
//! and the body keeps each scan's running value: `acc = op.step(acc, x)`. So a pass with a
//! scan runs on one thread (a `parallel` kernel keeps it serial), and the elementwise work
//! of the pass runs in the same loop, as in a hand-written one. Staging the argument a
//! chunk at a time and scanning the chunk in a buffer measured slower, also for integers
//! with a log-step prefix in registers (see `macros/src/codegen/mod.rs`).
//!
//! ```
//! use loopfuse_runtime::scan::{CumSum, ScanOp};
//! let mut acc = ScanOp::<f64>::start(CumSum);
//! let out: Vec<f64> = [1.0, 2.0, 3.0].iter().map(|&x| { acc = CumSum.step(acc, x); acc }).collect();
//! assert_eq!(out, [1.0, 3.0, 6.0]);
//! ```

/// One running operation over elements of type `T`.
pub trait ScanOp<T: Copy>: Copy {
    /// The running value of no elements (the identity of [`ScanOp::step`]).
    fn start(self) -> T;
    /// The running value after `x`, from the running value `acc` of the elements before.
    fn step(self, acc: T, x: T) -> T;
}

/// Running operation `O` on elements of this type: what [`ScanOp`] does, per element type
/// (the methods of [`ScanOp`], without the operation's value).
pub trait Running<O>: Copy {
    /// See [`ScanOp::start`].
    fn start() -> Self;
    /// See [`ScanOp::step`].
    fn step(acc: Self, x: Self) -> Self;
}

/// Every scan on a type: [`crate::Float`] requires it, so generic kernels scan.
pub trait Scan: Running<CumSum> + Running<CumProd> + Running<CumMax> + Running<CumMin> {}
impl<T: Running<CumSum> + Running<CumProd> + Running<CumMax> + Running<CumMin>> Scan for T {}

macro_rules! by_element {
    ($($op:ident)*) => {$(
        impl<T: Running<$op>> ScanOp<T> for $op {
            #[inline(always)]
            fn start(self) -> T { T::start() }
            #[inline(always)]
            fn step(self, acc: T, x: T) -> T { T::step(acc, x) }
        }
    )*};
}
by_element!(CumSum CumProd CumMax CumMin);

/// `x.cumsum()`.
#[derive(Clone, Copy, Debug)]
pub struct CumSum;
/// `x.cumprod()`.
#[derive(Clone, Copy, Debug)]
pub struct CumProd;
/// `x.cummax()`: NaN propagates (`np.maximum.accumulate`).
#[derive(Clone, Copy, Debug)]
pub struct CumMax;
/// `x.cummin()`: NaN propagates (`np.minimum.accumulate`).
#[derive(Clone, Copy, Debug)]
pub struct CumMin;

macro_rules! float_scans {
    ($($t:ty),*) => {$(
        impl Running<CumSum> for $t {
            #[inline(always)]
            fn start() -> $t { -0.0 }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc + x }
        }
        impl Running<CumProd> for $t {
            #[inline(always)]
            fn start() -> $t { 1.0 }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc * x }
        }
        impl Running<CumMax> for $t {
            #[inline(always)]
            fn start() -> $t { <$t>::NEG_INFINITY }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { if acc >= x || acc.is_nan() { acc } else { x } }
        }
        impl Running<CumMin> for $t {
            #[inline(always)]
            fn start() -> $t { <$t>::INFINITY }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { if acc <= x || acc.is_nan() { acc } else { x } }
        }
    )*};
}
float_scans!(f32, f64);

macro_rules! int_scans {
    ($($t:ty),*) => {$(
        impl Running<CumSum> for $t {
            #[inline(always)]
            fn start() -> $t { 0 }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc + x }
        }
        impl Running<CumProd> for $t {
            #[inline(always)]
            fn start() -> $t { 1 }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc * x }
        }
        impl Running<CumMax> for $t {
            #[inline(always)]
            fn start() -> $t { <$t>::MIN }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc.max(x) }
        }
        impl Running<CumMin> for $t {
            #[inline(always)]
            fn start() -> $t { <$t>::MAX }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc.min(x) }
        }
    )*};
}
int_scans!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

#[cfg(test)]
mod tests {
    use super::*;

    fn sequential<T: Copy>(x: &[T], start: T, op: impl Fn(T, T) -> T) -> Vec<T> {
        let mut acc = start;
        x.iter()
            .map(|&v| {
                acc = op(acc, v);
                acc
            })
            .collect()
    }

    #[test]
    fn float_extrema_propagate_nan_and_keep_the_earlier_zero() {
        let x = [-0.0f64, 0.0, 1.0, f64::NAN, 5.0];
        let m = sequential(&x, ScanOp::<f64>::start(CumMax), |a, b| CumMax.step(a, b));
        assert!(m[0] == 0.0 && m[0].is_sign_negative() && m[1].is_sign_negative());
        assert_eq!(m[2], 1.0);
        assert!(m[3].is_nan() && m[4].is_nan());
        let s = sequential(&[-0.0f64], ScanOp::<f64>::start(CumSum), |a, b| CumSum.step(a, b));
        assert!(s[0].is_sign_negative());
    }
}
