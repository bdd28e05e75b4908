//! The N-d kernels of `tests/nd_elementwise.rs`, `tests/nd_reductions.rs` and `benches/nd.rs`,
//! written as users write them; each of those files includes this one as `mod kernels`.
#![allow(dead_code)]

use loopfuse::kernel;
use ndarray::{Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, ArrayView3, ArrayViewD, Axis};

#[kernel]
pub fn standardize_cols(x: ArrayView2<f64>) -> Array2<f64> {
    (x - x.mean_axis(Axis(0))) / x.std_axis(Axis(0), 0.0)
}

#[kernel]
pub fn softmax_rows(x: ArrayView2<f64>) -> Array2<f64> {
    let e = (x - x.max_axis(Axis(1)).insert_axis(Axis(1))).exp();
    e / e.sum_axis(Axis(1)).insert_axis(Axis(1))
}

#[kernel]
pub fn normalize_rows(x: ArrayView2<f64>) -> Array2<f64> {
    x / (x * x).sum_axis(Axis(1)).sqrt().insert_axis(Axis(1))
}

#[kernel]
pub fn pairwise_dist(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Array2<f64> {
    (x.insert_axis(Axis(1)) - y.insert_axis(Axis(0))).powi(2).sum_axis(Axis(2)).sqrt()
}

#[kernel]
pub fn matvec(a: ArrayView2<f64>, v: ArrayView1<f64>) -> Array1<f64> {
    (a * v).sum_axis(Axis(1))
}

#[kernel]
pub fn brighten(img: ArrayView3<u8>, gain: f32, bias: f32) -> Array3<u8> {
    (img as f32 * gain + bias).clamp(0.0, 255.0) as u8
}

// elementwise and broadcasting

#[kernel]
pub fn add_bcast(x: ArrayView2<f64>, w: ArrayView1<f64>) -> Array2<f64> {
    x * 2.0 + w
}

#[kernel]
pub fn select2(x: ArrayView2<f64>, y: ArrayView2<f64>) -> Array2<f64> {
    if x > y {
        x - y
    } else {
        (x * y).abs().sqrt()
    }
}

#[kernel]
pub fn dyn_exp(x: ArrayViewD<f32>) -> ArrayD<f32> {
    (x * 0.5).exp() - 1.0
}

// whole reductions on N-d

#[kernel]
pub fn sum2(x: ArrayView2<f64>) -> f64 {
    x.sum()
}

#[kernel]
pub fn stats2(x: ArrayView2<f64>) -> (f64, f64, f64, f64) {
    (x.mean(), x.std(), x.min(), x.max())
}

#[kernel]
pub fn count_pos(x: ArrayView3<f64>) -> usize {
    (x > 0.0).count()
}

// axis reductions

#[kernel]
pub fn sums(x: ArrayView2<f64>) -> (Array1<f64>, Array1<f64>) {
    (x.sum_axis(Axis(0)), x.sum_axis(Axis(1)))
}

#[kernel]
pub fn var_cols(x: ArrayView2<f64>) -> Array1<f64> {
    x.var_axis(Axis(0), 1.0)
}

/// A chain of row blocks over a broadcast (`w` along every row).
#[kernel]
pub fn centered_norms(x: ArrayView2<f64>, w: ArrayView1<f64>) -> Array2<f64> {
    let d = x - w;
    d / (d * d).sum_axis(Axis(1)).sqrt().insert_axis(Axis(1))
}

/// An epilogue: the map of the results runs in the axis pass (no buffer).
#[kernel]
pub fn std_cols_scaled(x: ArrayView2<f64>) -> Array1<f64> {
    x.var_axis(Axis(0), 1.0).sqrt() * 2.0
}

/// An epilogue along the rows, two results.
#[kernel]
pub fn row_norms(x: ArrayView2<f64>) -> (Array1<f64>, Array1<f64>) {
    let s = (x * x).sum_axis(Axis(1));
    (s.sqrt(), s * 0.5)
}

#[kernel]
pub fn argmax_rows(x: ArrayView2<f64>) -> Array1<usize> {
    x.argmax_axis(Axis(1))
}

#[kernel]
pub fn minmax3(x: ArrayView3<f32>) -> (Array2<f32>, Array2<f32>) {
    (x.min_axis(Axis(1)), x.max_axis(Axis(2)))
}

// in place

#[kernel]
pub fn axpy2(a: f64, x: ArrayView2<f64>, y: ndarray::ArrayViewMut2<f64>) {
    y += a * x;
}
