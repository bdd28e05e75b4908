use loopfuse::kernel;
use ndarray::{Array1, Array3, ArrayView2, Axis};

#[kernel]
fn f(x: ArrayView2<f64>) -> Array1<f64> {
    x.sum_axis(Axis(2))
}

#[kernel]
fn g(x: ArrayView2<f64>) -> Array3<f64> {
    x.insert_axis(Axis(3)) * 2.0
}

fn main() {}
