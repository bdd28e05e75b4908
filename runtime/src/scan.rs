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
//! A float scan is stepped in the loop body: the pass driver calls the body element by
//! element, in index order (`crate::pass`), and the body keeps the running value:
//! `acc = op.step(acc, x)`. Staging a float scan (its argument a chunk at a time into a
//! buffer, scanned there) measured slower (f64 cumsum 1.45 vs 0.87 ns/elem), and its order
//! is the contract.
//!
//! A scan of 8-, 16- or 32-bit integers is a stage ([`scan_stage`], `crate::stage`): the
//! pass computes its argument [`CHUNK`](crate::stage::CHUNK) elements at a time,
//! [`scan_slice_at`] scans the chunk from the running value of the chunks before, and the
//! body reads the results. At `v2`, `v3` and `v4` (x86-64) that is a log-step prefix in
//! vector registers (`scan/x86.rs`): each register's lanes are combined in `log2(lanes)`
//! shifted steps, then with the running value before them. Wrapping `+`, wrapping `*`,
//! `max` and `min` of integers are associative, so any grouping has the bits of the
//! sequential loop. Products of 8-bit lanes, and of 64-bit ones below `v4`, have no lane
//! multiply and run the scalar loop; so do `generic` and `neon`. `#[kernel]` steps 64-bit
//! integer scans in the body as floats: for them the stage's copies (256 bytes a chunk)
//! measured slower than the prefix saves (`macros/src/codegen/scan.rs`); `scan_slice_at`
//! itself runs them in registers.
//!
//! **Overflow** stays Rust's: in a build with debug assertions, integer `cumsum` and
//! `cumprod` run the scalar loop of checked `+` / `*` (an overflow panics, in the element
//! where the loop would), and only `cummax` / `cummin` use the registers; in a release build
//! the registers' sums and products wrap, as `+` and `*` do there. (The choice follows
//! `debug_assertions`, as `overflow-checks` does by default; a profile that turns
//! overflow checks on in release gets wrapping scans.)
//!
//! Either way a pass with a scan runs on one thread (a `parallel` kernel keeps it serial),
//! and the elementwise work of the pass runs in the same loop, as in a hand-written one.
//!
//! ```
//! use loopfuse_runtime::scan::{CumSum, ScanOp};
//! let mut acc = ScanOp::<f64>::start(CumSum);
//! let out: Vec<f64> = [1.0, 2.0, 3.0].iter().map(|&x| { acc = CumSum.step(acc, x); acc }).collect();
//! assert_eq!(out, [1.0, 3.0, 6.0]);
//! ```

use crate::level::Level;
use crate::stage::{stage, Stage};

#[cfg(all(target_arch = "x86_64", target_pointer_width = "64"))]
mod x86;

/// One running operation over elements of type `T`.
pub trait ScanOp<T: Copy>: Copy {
    /// The running value of no elements (the identity of [`ScanOp::step`]).
    fn start(self) -> T;
    /// The running value after `x`, from the running value `acc` of the elements before.
    fn step(self, acc: T, x: T) -> T;
    /// Scans `x` into `out` (of the same length) from the running value `carry` of the
    /// elements before, at level `L`; returns the running value after `x`. The bits of
    /// [`ScanOp::step`] element by element (see [`scan_slice_at`]).
    #[inline(always)]
    fn scan_slice<L: Level>(self, level: L, carry: T, x: &[T], out: &mut [T]) -> T {
        let _ = level;
        sequential(carry, x, out, |a, v| self.step(a, v))
    }
}

/// Running operation `O` on elements of this type: what [`ScanOp`] does, per element type
/// (the methods of [`ScanOp`], without the operation's value).
pub trait Running<O>: Copy {
    /// See [`ScanOp::start`].
    fn start() -> Self;
    /// See [`ScanOp::step`].
    fn step(acc: Self, x: Self) -> Self;
    /// See [`ScanOp::scan_slice`]: element by element, unless the type overrides it (the
    /// integers do, with vector registers).
    #[inline(always)]
    fn scan_slice<L: Level>(level: L, carry: Self, x: &[Self], out: &mut [Self]) -> Self {
        let _ = level;
        sequential(carry, x, out, Self::step)
    }
}

/// The scan of `x` into `out` from `acc`, one element after the other.
#[inline(always)]
fn sequential<T: Copy>(mut acc: T, x: &[T], out: &mut [T], step: impl Fn(T, T) -> T) -> T {
    for (o, &v) in out.iter_mut().zip(x) {
        acc = step(acc, v);
        *o = acc;
    }
    acc
}

/// Scans `x` into `out` with `op` at level `L`, from the running value `carry` of the
/// elements before `x` (`op.start()` for none), and returns the running value after the
/// last element: the chunk-at-a-time form of [`ScanOp::step`], with the same bits. Integers
/// run in vector registers where the level has them (see the module docs); inside a
/// kernel's clone `L` is the clone's level, chosen at compile time.
///
/// # Panics
///
/// If `x.len() != out.len()`; on an integer overflow in `cumsum` / `cumprod` in a build
/// with debug assertions (as `+` and `*`).
///
/// ```
/// use loopfuse_runtime::level::{Generic, Level, V4};
/// use loopfuse_runtime::scan::{scan_slice_at, CumMax, CumSum};
/// let g = Generic::try_new().unwrap();
/// let mut out = [0u32; 3];
/// let carry = scan_slice_at(g, CumSum, 10, &[1, 2, 3], &mut out);
/// assert_eq!((out, carry), ([11, 13, 16], 16));
/// if let Some(v4) = V4::try_new() {
///     let x: Vec<i16> = (0..100).map(|i| (i * 37 % 101) as i16).collect();
///     let (mut a, mut b) = (vec![0; 100], vec![0; 100]);
///     scan_slice_at(g, CumMax, i16::MIN, &x, &mut a);
///     scan_slice_at(v4, CumMax, i16::MIN, &x, &mut b); // AVX-512 registers
///     assert_eq!(a, b);
/// }
/// ```
#[inline(always)]
pub fn scan_slice_at<L: Level, T: Copy, O: ScanOp<T>>(level: L, op: O, carry: T, x: &[T], out: &mut [T]) -> T {
    assert_eq!(x.len(), out.len(), "loopfuse_runtime::scan::scan_slice_at: input and output lengths differ");
    op.scan_slice(level, carry, x, out)
}

/// A scan as a pass's stage (`crate::stage`): each chunk is scanned by [`scan_slice_at`]
/// from the running value the previous chunk left, which the stage keeps. What `#[kernel]`
/// emits for an integer scan; the pass must run in order, on one thread.
///
/// ```
/// use loopfuse_runtime::level::{Generic, Level};
/// use loopfuse_runtime::{pass::pass_staged, scan::{scan_stage, CumSum}};
/// let x: Vec<i64> = (1..=100).collect();
/// let mut out = vec![0i64; 100];
/// let g = Generic::try_new().unwrap();
/// let cells = std::cell::Cell::from_mut(&mut out[..]).as_slice_of_cells();
/// pass_staged(100, (&x[..],), (scan_stage(g, CumSum),), (), (cells,), |(x,)| (x,), |_, (c,)| ((), (c,)));
/// assert_eq!(out[99], 5050);
/// ```
#[inline(always)]
pub fn scan_stage<L: Level, T: Copy, O: ScanOp<T>>(level: L, op: O) -> Stage<T, impl FnMut(&[T], &mut [T]) + Clone> {
    let mut carry = op.start();
    stage(move |x: &[T], out: &mut [T]| carry = scan_slice_at(level, op, carry, x, out))
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
            fn scan_slice<L: Level>(self, level: L, carry: T, x: &[T], out: &mut [T]) -> T {
                T::scan_slice(level, carry, x, out)
            }
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
            #[inline(always)]
            fn scan_slice<L: Level>(level: L, carry: $t, x: &[$t], out: &mut [$t]) -> $t {
                int_scan::<L, $t, CumSum>(level, carry, x, out, OVERFLOW_CHECKED)
            }
        }
        impl Running<CumProd> for $t {
            #[inline(always)]
            fn start() -> $t { 1 }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc * x }
            #[inline(always)]
            fn scan_slice<L: Level>(level: L, carry: $t, x: &[$t], out: &mut [$t]) -> $t {
                int_scan::<L, $t, CumProd>(level, carry, x, out, OVERFLOW_CHECKED)
            }
        }
        impl Running<CumMax> for $t {
            #[inline(always)]
            fn start() -> $t { <$t>::MIN }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc.max(x) }
            #[inline(always)]
            fn scan_slice<L: Level>(level: L, carry: $t, x: &[$t], out: &mut [$t]) -> $t {
                int_scan::<L, $t, CumMax>(level, carry, x, out, false)
            }
        }
        impl Running<CumMin> for $t {
            #[inline(always)]
            fn start() -> $t { <$t>::MAX }
            #[inline(always)]
            fn step(acc: $t, x: $t) -> $t { acc.min(x) }
            #[inline(always)]
            fn scan_slice<L: Level>(level: L, carry: $t, x: &[$t], out: &mut [$t]) -> $t {
                int_scan::<L, $t, CumMin>(level, carry, x, out, false)
            }
        }
    )*};
}
int_scans!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

/// Whether `+` and `*` panic on overflow here: then sums and products are checked element
/// by element (the registers would wrap).
const OVERFLOW_CHECKED: bool = cfg!(debug_assertions);

/// An integer scan in level `L`'s vector registers if it has them and `checked` does not
/// ask for the scalar loop of checked operations, else element by element.
#[cfg(all(target_arch = "x86_64", target_pointer_width = "64"))]
#[inline(always)]
fn int_scan<L: Level, T, O>(level: L, carry: T, x: &[T], out: &mut [T], checked: bool) -> T
where
    T: x86::Vectorized + Running<O>,
    O: x86::VecOp<T, std::arch::x86_64::__m128i>
        + x86::VecOp<T, std::arch::x86_64::__m256i>
        + x86::VecOp<T, std::arch::x86_64::__m512i>,
{
    if !checked {
        if let Some(c) = x86::scan_at(level, carry, x, out) {
            return c;
        }
    }
    sequential(carry, x, out, T::step)
}

/// An integer scan element by element (no vector registers for scans on this target).
#[cfg(not(all(target_arch = "x86_64", target_pointer_width = "64")))]
#[inline(always)]
fn int_scan<L: Level, T: Running<O>, O>(level: L, carry: T, x: &[T], out: &mut [T], checked: bool) -> T {
    let _ = (level, checked);
    sequential(carry, x, out, T::step)
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
