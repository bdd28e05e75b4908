//! # loopfuse: NumPy-style array code, fused into SIMD loops at compile time
//!
//! Put `#[kernel]` on a function written with whole-array expressions. The macro sees the
//! whole body and rewrites it into the fewest loops the data dependencies allow, with no
//! temporary arrays, compiles those loops once per CPU level (generic x86-64, SSE4.2, AVX2,
//! AVX-512; NEON on aarch64), and calls the best one for the CPU it runs on.
//!
//! ```
//! use loopfuse::kernel;
//!
//! /// Mean absolute value: one pass, no temporary.
//! #[kernel]
//! pub fn mean_distance_from_zero(arr: &[f64]) -> f64 {
//!     arr.abs().mean()
//! }
//!
//! /// Population variance: two passes (the mean is needed before the second).
//! #[kernel]
//! pub fn myvar(arr: &[f64]) -> f64 {
//!     let mean = arr.mean();
//!     let diff = arr - mean;
//!     (diff * diff).sum() / arr.len() as f64
//! }
//!
//! /// Nine statements, one loop, one output allocation.
//! #[kernel]
//! pub fn add_multiple(arr: &[f64]) -> Vec<f64> {
//!     let mut result = arr + 17.0;
//!     result += 17.0;
//!     result += 17.0;
//!     result
//! }
//!
//! let x = [1.0, -2.0, 3.0, -4.0];
//! assert_eq!(mean_distance_from_zero(&x), 2.5);
//! assert_eq!(myvar(&x), 7.25);
//! assert_eq!(add_multiple(&x), [52.0, 49.0, 54.0, 47.0]);
//! ```
//!
//! ## What a kernel means
//!
//! A kernel means exactly what the same code means with every array replaced by one of its
//! elements inside a plain scalar loop (Rust semantics for every operator and method), with
//! two stated exceptions:
//! - float reductions (`sum`, `mean`, `dot`, ...) add in a fixed lane-tree order (below),
//!   not left to right; `#[kernel(strict)]` restores the exact left-to-right order;
//! - elementwise `exp`, `ln`, `exp2`, `log2`, ... use loopfuse's vectorizable math
//!   ([`math`]), within 1 ULP of std.
//!
//! ## The kernel language
//!
//! - **Parameters**: scalars (`f64`, `f32`, integers, `bool`, or a type parameter
//!   `T: loopfuse::Float`) and 1-D arrays: `&[T]`, `&Vec<T>`, `&[T; N]`, ndarray
//!   `ArrayView1<T>` and `&Array1<T>` of any stride (a strided or reversed view is read
//!   where it lies, never copied). `&mut [T]`, `&mut Vec<T>`, `ArrayViewMut1<T>`,
//!   `&mut Array1<T>` are outputs written in place: `out[..] = expr;`, `y += a * x;`.
//! - **Results**: a scalar, `Vec<T>`, `Array1<T>`, a tuple of these (all from one pass
//!   where possible), `()`, or `Result<_, KernelError>` with the body ending in `Ok(..)`.
//! - **Statements**: `let` / `let mut`, `let (a, b) = (x.min(), x.max());`, shadowing,
//!   `+= -= *= /= %=` on arrays and scalars, blocks, a final expression or `return`, and an
//!   early `if c { return v; }` at the top level (`c`, `v` from parameters and lengths).
//! - **Slices and elements**: `&x[1..] - &x[..x.len() - 1]`, `x[a..b]`, `x.slice(s![1..])`
//!   of a 1-D input are views of it in the same loop (no copy), bounds checked once;
//!   `x[0]`, `x[x.len() - 1]` outside loops are checked scalars; `x[x > 0.0].mean()`,
//!   `x[mask].sum()`, `x[mask].len()` are masked reductions in the same pass, and a
//!   selection returned (`-> Vec<f64>`: `x[x > 0.0]`) is compacted into one allocation of
//!   its exact length (a pass counts the mask first).
//! - **Expressions**: `+ - * / %`, unary `-` and `!`, comparisons and `& | ^ && ||` on
//!   masks, any mix of arrays and scalars (a scalar broadcasts), `if mask { a } else { b }`
//!   (an elementwise select), `expr as T`, calls of your own scalar `fn`s on arrays
//!   (applied elementwise).
//! - **Elementwise methods**, with Rust std names: `abs sqrt cbrt exp exp2 exp_m1 ln log2
//!   log10 ln_1p powi powf sin cos tan tanh sinh cosh asin acos atan atan2 hypot floor ceil
//!   round trunc fract signum recip min max clamp mul_add copysign is_nan is_finite
//!   is_infinite is_sign_negative is_sign_positive to_degrees to_radians rem_euclid
//!   div_euclid pow abs_diff`, and the integer `wrapping_*` / `saturating_*` methods.
//! - **Reductions**: `sum prod mean var std min max argmin argmax any all count dot len`
//!   (`x.var(ddof)` / `x.std(ddof)` as ndarray spells them, `x.var()` is `ddof = 0`).
//!   `min`/`max` of an array propagate NaN (NumPy's `np.min`), unlike the elementwise
//!   `a.min(b)` (Rust's `f64::min`). `argmin`/`argmax` give the first index of the extreme,
//!   a NaN counting as the extreme.
//! - **Scans**: `cumsum cumprod cummax cummin` of a 1-D array give the running values
//!   (NumPy's `cumsum`, `cumprod`, `maximum.accumulate`, `minimum.accumulate`) as an array
//!   that fuses with the work before and after it (`(p * v).cumsum() / v.cumsum()` is one
//!   pass), in exact left-to-right order (the naive loop's bits at every level); the pass
//!   runs in order, on one thread. `cummax`/`cummin` propagate NaN.
//!
//! ```
//! use loopfuse::kernel;
//!
//! #[kernel]
//! fn vwap(price: &[f64], volume: &[f64]) -> Vec<f64> {
//!     (price * volume).cumsum() / volume.cumsum()
//! }
//! assert_eq!(vwap(&[1.0, 4.0], &[1.0, 1.0]), [1.0, 2.5]);
//! ```
//!
//! Anything else is a compile error on the offending token that says what is supported;
//! the function is still emitted so IDEs keep working.
//!
//! ## Options
//!
//! - `#[kernel(strict)]`: reductions in exact source order (equal to the naive loop).
//! - `#[kernel(targets(v3, v4))]`: clone only for these levels (plus the generic fallback).
//! - `#[kernel(python)]` (feature `python`): also a NumPy function, see "From Python".
//! - `#[kernel(parallel)]`: the 1-D passes run on rayon's pool (the global one, or the pool
//!   the caller `install`ed) from 131072 elements on, serially below, with the same bits as
//!   the serial kernel for every thread count (chunks of `2^k` blocks form subtrees of the
//!   serial reduction tree; the README's "Parallel" has the rules):
//!
//! ```
//! use loopfuse::kernel;
//!
//! #[kernel]
//! fn dot(x: &[f64], y: &[f64]) -> f64 {
//!     x.dot(y)
//! }
//!
//! #[kernel(parallel)]
//! fn dot_par(x: &[f64], y: &[f64]) -> f64 {
//!     x.dot(y)
//! }
//!
//! let x: Vec<f64> = (0..300_001).map(|i| (i as f64 * 0.37).sin()).collect();
//! let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
//! assert_eq!(pool.install(|| dot_par(&x, &x)).to_bits(), dot(&x, &x).to_bits());
//! ```
//!
//! ## Semantics you can count on
//!
//! - **Determinism**: the same bits on every CPU level. Clones never contract `a * b + c`
//!   into FMA on their own, and float reductions have one order defined by the length alone:
//!   32 lane accumulators per 2048-element block, blocks combined lane-wise by a pairwise
//!   binary-counter cascade (error grows like `log n`, as NumPy's pairwise sum), lanes
//!   combined by a fixed tree, the last `n % 32` elements added in order.
//! - **Empty input**: `sum` 0, `prod` 1, `mean`/`var`/`std` NaN (as NumPy); `min`, `max`,
//!   `argmin`, `argmax` panic (or return [`KernelError::Empty`] from a `Result` kernel).
//! - **Shapes**: arrays combined elementwise must have equal lengths; otherwise the kernel
//!   panics at the caller, naming the kernel and both operands (or returns
//!   [`KernelError::LengthMismatch`]):
//!
//! ```
//! use loopfuse::{kernel, KernelError};
//!
//! #[kernel]
//! fn dist(x: &[f64], y: &[f64]) -> Result<f64, KernelError> {
//!     Ok(((x - y) * (x - y)).sum().sqrt())
//! }
//!
//! let err = dist(&[1.0, 2.0], &[1.0]).unwrap_err();
//! assert_eq!(err.to_string(), "kernel `dist`: `x` has 2 elements but `y` has 1");
//! ```
//!
//! ## CPU levels
//!
//! The level is detected once and cached. `LOOPFUSE_TARGET=generic|v2|v3|v4|neon` caps it
//! for the whole process (an unknown or unsupported value panics at the first kernel call,
//! never an illegal instruction). [`with_target`] runs a closure at a chosen level on the
//! current thread, which is how the tests compare every level in one process:
//!
//! ```
//! use loopfuse::{kernel, supported_targets, with_target};
//!
//! #[kernel]
//! fn total(x: &[f64]) -> f64 {
//!     x.sum()
//! }
//!
//! let x: Vec<f64> = (0..1000).map(|i| 1.0 / (i as f64 + 1.0)).collect();
//! let lowest = supported_targets()[0]; // `generic`, unless built with `-C target-cpu=..`
//! let at_lowest = with_target(lowest, || total(&x));
//! for t in supported_targets() {
//!     assert_eq!(with_target(t, || total(&x)).to_bits(), at_lowest.to_bits());
//! }
//! ```
//!
//! A build with target features of its own (`RUSTFLAGS="-C target-cpu=native"`, or any
//! `-C target-feature`) requires the level they cover, [`static_baseline`]: every clone is
//! compiled with at least those features, so no lower level can really run. Then
//! [`supported_targets`] starts at that level, `LOOPFUSE_TARGET` and [`with_target`] refuse
//! levels below it (a clear panic, as for a level the CPU lacks), and a kernel whose best
//! clone the build covers calls that clone directly, with no level check. The levels are
//! also values: [`level`]'s zero-sized tokens, which a clone holds and passes on.
//!
//! ## From Python
//!
//! With the `python` feature, `#[kernel(python)]` also makes the kernel a NumPy function
//! and [`python_module!`] declares the extension module (PyO3 + rust-numpy, built with
//! maturin); see the README's "From Python" and the `python/` crate of the repository.
//!
//! ## What it compiles to
//!
//! Each kernel's rustdoc ends with its fusion plan (loops, allocations, which reductions
//! each loop computes). `cargo expand` shows the code: the conversions and shape checks,
//! then one `__lf::clones! { .. }` with the fused loops, which the runtime writes into one
//! `#[target_feature]` function per level (each binding its level token, so every closure
//! is compiled with the level's features) followed by the call of the best clone.

pub use loopfuse_macros::{kernel, python_module};
pub use loopfuse_runtime::{
    level, math, static_baseline, supported_targets, target, with_target, Float, KernelError, Level, Target,
};

#[doc(hidden)]
pub use loopfuse_runtime::__private;

/// The ndarray crate kernels take (0.16): `use loopfuse::ndarray::ArrayView1;` matches the
/// version of the kernels' parameter types, whatever version the rest of your crate uses.
#[cfg(feature = "ndarray")]
pub use ndarray;

#[doc(hidden)]
pub use loopfuse_macros::__vocab_check;
