use loopfuse::kernel;
use ndarray::{Array1, ArrayView2, Axis};

#[kernel]
fn f(x: ArrayView2<f64>) -> Array1<f64> {
    x.sum(Axis(0))
}

#[kernel]
fn g(x: ArrayView2<f64>) -> Array1<f64> {
    x.min(Axis(1))
}

fn main() {}
