use loopfuse::kernel;
use ndarray::{Array2, ArrayView2};

#[kernel]
fn f(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    a.dot(&b)
}

fn main() {}
