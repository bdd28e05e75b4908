//! Scans: running sums, products and extrema (`x.cumsum()`, `x.cumprod()`, `x.cummax()`,
//! `x.cummin()` in a kernel), fused into the pass that reads them.
//!
//! # Order (the contract)
//! Element `i` of a scan is the running value of elements `0..=i`, combined left to right
//! as NumPy's `np.cumsum` / `np.cumprod` / `np.maximum.accumulate` / `np.minimum.accumulate`
//! define it: `out[0] = x[0]`, `out[i] = out[i - 1] op x[i]`.
//! - **Floats** are combined in exactly that order, one element after the other: the same
//!   bits at every CPU level, and the bits of the naive scalar loop. (The running value
//!   starts at `-0.0` for a sum, so a first element `-0.0` is kept, and at `1.0` for a product.)
//! - **Integers** in release builds: wrapping `+` and `*` (what Rust's `+` and `*` do
//!   there) and `max`/`min` are associative, so a chunk of [`CHUNK`] elements is scanned
//!   in registers (a log-step prefix over the chunk, vectorized by LLVM inside the clone)
//!   and the running value of the chunks before is added to it: the same values as the
//!   sequential loop. With debug assertions on, integer sums and products are stepped one
//!   by one with Rust's operators, so an overflow panics where the scalar loop's would.
//! - **NaN** (`cummax`/`cummin`, as `np.maximum.accumulate`): a NaN propagates: from the
//!   first NaN on, every running value is that NaN. The running value changes only for a
//!   strictly greater (`cummax`) or smaller (`cummin`) element, so between equal zeros the
//!   earlier one is kept (`[-0.0, 0.0]` gives `[-0.0, -0.0]`).
//!
//! A pass with a scan runs in order on one thread: a `parallel` kernel keeps it serial.
//!
//! # How a pass runs a scan
//! A scan whose argument needs no other scan is a stage ([`crate::stage`]): the pass driver
//! computes its argument for a chunk into a buffer (vectorized), the stage runs
//! [`ScanOp::chunk`] on it, and the loop body calls [`ScanOp::finish`] per element. An
//! integer scan does its work in `chunk` (the in-register prefix) and `finish` returns the
//! value; a float scan's `chunk` copies and `finish` steps the running value, so several
//! float scans of one pass run interleaved in the body, as in a hand-written loop, instead
//! of one whole chunk after the other. A scan of a scan is stepped in the body
//! ([`ScanOp::step`]).
//!
//! ```
//! use loopfuse_runtime::scan::{CumSum, ScanOp};
//! let mut acc = ScanOp::<f64>::start(CumSum);
//! let out: Vec<f64> = [1.0, 2.0, 3.0].iter().map(|&x| { acc = CumSum.step(acc, x); acc }).collect();
//! assert_eq!(out, [1.0, 3.0, 6.0]);
//! ```

use crate::stage::{stage, Stage, CHUNK};

/// One running operation over elements of type `T`.
pub trait ScanOp<T: Copy>: Copy {
    /// The running value of no elements (the identity of [`ScanOp::step`]).
    fn start(self) -> T;
    /// The running value after `x`, from the running value `acc` of the elements before.
    fn step(self, acc: T, x: T) -> T;
    /// A stage's work on one chunk: for integers the running values of `x` (after `carry`,
    /// which becomes the last of them), for floats `x` itself (module docs).
    fn chunk(self, carry: &mut T, x: &[T], out: &mut [T]);
    /// The body's work on one element, given the stage's value `v`: the running value.
    fn finish(self, carry: &mut T, v: T) -> T;
}

/// Running operation `O` on elements of this type: what [`ScanOp`] does, per element type
/// (the methods of [`ScanOp`], without the operation's value).
pub trait Running<O>: Copy {
    /// See [`ScanOp::start`].
    fn start() -> Self;
    /// See [`ScanOp::step`].
    fn step(acc: Self, x: Self) -> Self;
    /// See [`ScanOp::chunk`].
    fn chunk(carry: &mut Self, x: &[Self], out: &mut [Self]);
    /// See [`ScanOp::finish`].
    fn finish(carry: &mut Self, v: Self) -> Self;
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
            #[inline(always)]
            fn chunk(self, carry: &mut T, x: &[T], out: &mut [T]) { T::chunk(carry, x, out) }
            #[inline(always)]
            fn finish(self, carry: &mut T, v: T) -> T { T::finish(carry, v) }
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

/// Running values of one chunk in registers: a log-step (Hillis-Steele) prefix of `x` by
/// `op` (associative), then `carry` combined in front. `op`'s left operand is always the
/// earlier element, so only associativity is needed. A partial chunk (the pass's last) is
/// stepped one by one.
#[inline(always)]
pub fn prefix<T: Copy>(carry: &mut T, x: &[T], out: &mut [T], op: impl Fn(T, T) -> T) {
    if x.len() == CHUNK && out.len() == CHUNK {
        let mut a: [T; CHUNK] = std::array::from_fn(|j| x[j]);
        let mut s = 1;
        while s < CHUNK {
            let b = a;
            for j in s..CHUNK {
                a[j] = op(b[j - s], b[j]);
            }
            s *= 2;
        }
        let c = *carry;
        for j in 0..CHUNK {
            out[j] = op(c, a[j]);
        }
        *carry = out[CHUNK - 1];
    } else {
        for (o, &v) in out.iter_mut().zip(x) {
            *carry = op(*carry, v);
            *o = *carry;
        }
    }
}

macro_rules! float_scans {
    ($($t:ty),*) => {$(
        impl Running<CumSum> for $t {
            #[inline(always)]
            fn start() -> $t { -0.0 }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc + x }
            #[inline(always)]
            fn chunk(_: &mut $t, x: &[$t], out: &mut [$t]) { out.copy_from_slice(x) }
            #[inline(always)]
            fn finish(carry: &mut $t, v: $t) -> $t { *carry = <Self as Running<CumSum>>::step(*carry, v); *carry }
        }
        impl Running<CumProd> for $t {
            #[inline(always)]
            fn start() -> $t { 1.0 }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc * x }
            #[inline(always)]
            fn chunk(_: &mut $t, x: &[$t], out: &mut [$t]) { out.copy_from_slice(x) }
            #[inline(always)]
            fn finish(carry: &mut $t, v: $t) -> $t { *carry = <Self as Running<CumProd>>::step(*carry, v); *carry }
        }
        impl Running<CumMax> for $t {
            #[inline(always)]
            fn start() -> $t { <$t>::NEG_INFINITY }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { if acc >= x || acc.is_nan() { acc } else { x } }
            #[inline(always)]
            fn chunk(_: &mut $t, x: &[$t], out: &mut [$t]) { out.copy_from_slice(x) }
            #[inline(always)]
            fn finish(carry: &mut $t, v: $t) -> $t { *carry = <Self as Running<CumMax>>::step(*carry, v); *carry }
        }
        impl Running<CumMin> for $t {
            #[inline(always)]
            fn start() -> $t { <$t>::INFINITY }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { if acc <= x || acc.is_nan() { acc } else { x } }
            #[inline(always)]
            fn chunk(_: &mut $t, x: &[$t], out: &mut [$t]) { out.copy_from_slice(x) }
            #[inline(always)]
            fn finish(carry: &mut $t, v: $t) -> $t { *carry = <Self as Running<CumMin>>::step(*carry, v); *carry }
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
            #[inline(always)]
            fn chunk(carry: &mut $t, x: &[$t], out: &mut [$t]) {
                if cfg!(debug_assertions) { out.copy_from_slice(x) } else { prefix(carry, x, out, <$t>::wrapping_add) }
            }
            #[inline(always)]
            fn finish(carry: &mut $t, v: $t) -> $t {
                if cfg!(debug_assertions) { *carry = <Self as Running<CumSum>>::step(*carry, v); *carry } else { v }
            }
        }
        impl Running<CumProd> for $t {
            #[inline(always)]
            fn start() -> $t { 1 }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc * x }
            #[inline(always)]
            fn chunk(carry: &mut $t, x: &[$t], out: &mut [$t]) {
                if cfg!(debug_assertions) { out.copy_from_slice(x) } else { prefix(carry, x, out, <$t>::wrapping_mul) }
            }
            #[inline(always)]
            fn finish(carry: &mut $t, v: $t) -> $t {
                if cfg!(debug_assertions) { *carry = <Self as Running<CumProd>>::step(*carry, v); *carry } else { v }
            }
        }
        impl Running<CumMax> for $t {
            #[inline(always)]
            fn start() -> $t { <$t>::MIN }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc.max(x) }
            #[inline(always)]
            fn chunk(carry: &mut $t, x: &[$t], out: &mut [$t]) { prefix(carry, x, out, <$t>::max) }
            #[inline(always)]
            fn finish(_: &mut $t, v: $t) -> $t { v }
        }
        impl Running<CumMin> for $t {
            #[inline(always)]
            fn start() -> $t { <$t>::MAX }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc.min(x) }
            #[inline(always)]
            fn chunk(carry: &mut $t, x: &[$t], out: &mut [$t]) { prefix(carry, x, out, <$t>::min) }
            #[inline(always)]
            fn finish(_: &mut $t, v: $t) -> $t { v }
        }
    )*};
}
int_scans!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

/// The stage of a scan `op` in a pass (module docs): its own running value, the chunks in
/// order.
///
/// ```
/// use loopfuse_runtime::{pass::pass_staged, scan::{scan_stage, CumSum, ScanOp}, reduce::Sum};
/// let x: &[i64] = &[1, 2, 3, 4];
/// let mut out = loopfuse_runtime::output::OutBuf::new(4);
/// let mut c = ScanOp::<i64>::start(CumSum);
/// pass_staged(4, (x,), (scan_stage(CumSum),), (), (&mut out,), |(x,)| (x,), |_, (v,)| ((), (CumSum.finish(&mut c, v),)));
/// assert_eq!(out.into_vec(), [1, 3, 6, 10]);
/// ```
#[inline(always)]
pub fn scan_stage<T: Copy, O: ScanOp<T>>(op: O) -> Stage<T, impl FnMut(&[T], &mut [T]) + Clone> {
    let mut carry = op.start();
    stage(move |x: &[T], out: &mut [T]| op.chunk(&mut carry, x, out))
}

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

    /// Chunks of the in-register prefix, with a carry between them, against the sequential
    /// wrapping loop (the release-build integer path, which `cargo test` does not take).
    #[test]
    fn prefix_chunks_equal_the_sequential_loop() {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let x: Vec<i64> = (0..1000)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s as i64
            })
            .collect();
        type Op = fn(i64, i64) -> i64;
        let ops: [(Op, i64); 4] =
            [(i64::wrapping_add, 0), (i64::wrapping_mul, 1), (i64::max, i64::MIN), (i64::min, i64::MAX)];
        for (op, start) in ops {
            for n in [0, 1, 7, 31, 32, 33, 64, 65, 1000] {
                let mut carry = start;
                let mut out = vec![0; n];
                for (xc, oc) in x[..n].chunks(CHUNK).zip(out.chunks_mut(CHUNK)) {
                    prefix(&mut carry, xc, oc, op);
                }
                assert_eq!(out, sequential(&x[..n], start, op), "n = {n}");
            }
        }
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
