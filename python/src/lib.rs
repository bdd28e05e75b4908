//! `loopfuse_demo`: the tour's kernels (`examples/tour.rs`) as a Python module.
//!
//! Each kernel is the tour's body; `#[kernel(python)]` exposes it to Python, where it takes
//! NumPy arrays of any layout without copying them. The generic ones (`T: Float`) run at
//! float32 or float64, whichever the array is. `python_module!` at the end declares the
//! module. Build it with `maturin develop --release` in this folder.

use loopfuse::{kernel, Float};
use ndarray::{Array2, ArrayView2, Axis};

/// Nine additions of 17 in one loop, one output allocation.
#[kernel(python)]
pub fn add_multiple<T: Float>(arr: &[T]) -> Vec<T> {
    let c = T::from_f64(17.0);
    let mut result = arr + c;
    result += c;
    result += c;
    result += c;
    result += c;
    result += c;
    result += c;
    result += c;
    result += c;
    result
}

/// The mean of the absolute values: one pass, no temporary.
#[kernel(python)]
pub fn mean_distance_from_zero<T: Float>(arr: &[T]) -> T {
    arr.abs().mean()
}

/// Variance, expression form: two passes (the mean is a barrier), no temporary.
#[kernel(python)]
pub fn myvar<T: Float>(arr: &[T]) -> T {
    let mean = arr.mean();
    let diff = arr - mean;
    (diff * diff).sum() / T::from_usize(arr.len())
}

/// Variance, Numba style: an explicit loop with a scalar accumulator.
#[kernel(python)]
pub fn myvar2<T: Float>(arr: &[T]) -> T {
    let mean = arr.mean();
    let mut sum = T::from_f64(0.0);
    for item in arr {
        sum += (*item - mean).powi(2);
    }
    sum / T::from_usize(arr.len())
}

/// The mean and the variance, as a tuple: two passes (the variance is taken around the
/// mean). The per-chunk partials of `examples/dask_cluster.py`.
#[kernel(python)]
pub fn mean_var<T: Float>(x: &[T]) -> (T, T) {
    (x.mean(), x.var())
}

/// Mean, then standard deviation, then the output: three passes, one allocation.
#[kernel(python)]
pub fn standardize<T: Float>(x: &[T]) -> Vec<T> {
    (x - x.mean()) / x.std()
}

/// Max, then the sum of exponentials, then the output.
#[kernel(python)]
pub fn softmax<T: Float>(x: &[T]) -> Vec<T> {
    let e = (x - x.max()).exp();
    e / e.sum()
}

/// `sqrt(x² + y²)` elementwise; `x` and `y` must have the same length.
#[kernel(python)]
pub fn hypot<T: Float>(x: &[T], y: &[T]) -> Vec<T> {
    (x * x + y * y).sqrt()
}

/// `y += a * x` in place on `y` (no allocation).
#[kernel(python)]
pub fn axpy<T: Float>(a: T, x: &[T], y: &mut [T]) {
    y += a * x;
}

/// The number of elements: a kernel that does no work, to measure the call overhead.
#[kernel(python)]
pub fn length(x: &[f64]) -> usize {
    x.len()
}

/// Each column to mean 0 and standard deviation 1, three passes, no `n x m` temporary.
#[kernel(python)]
pub fn standardize_cols(x: ArrayView2<f64>) -> Array2<f64> {
    (x - x.mean_axis(Axis(0))) / x.std_axis(Axis(0), 0.0)
}

/// Softmax over each row.
#[kernel(python)]
pub fn softmax_rows(x: ArrayView2<f64>) -> Array2<f64> {
    let e = (x - x.max_axis(Axis(1)).insert_axis(Axis(1))).exp();
    e / e.sum_axis(Axis(1)).insert_axis(Axis(1))
}

/// All pairwise distances between the rows of `x` and of `y`.
#[kernel(python)]
pub fn pairwise_dist(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Array2<f64> {
    (x.insert_axis(Axis(1)) - y.insert_axis(Axis(0))).powi(2).sum_axis(Axis(2)).sqrt()
}

loopfuse::python_module!(
    loopfuse_demo,
    [
        add_multiple,
        mean_distance_from_zero,
        myvar,
        myvar2,
        mean_var,
        standardize,
        softmax,
        hypot,
        axpy,
        length,
        standardize_cols,
        softmax_rows,
        pairwise_dist,
    ]
);
