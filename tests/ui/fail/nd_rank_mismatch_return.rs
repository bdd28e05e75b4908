use loopfuse::kernel;
use ndarray::{Array1, ArrayView2};

#[kernel]
fn f(x: ArrayView2<f64>) -> Array1<f64> {
    x * 2.0
}

fn main() {}
