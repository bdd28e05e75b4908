use loopfuse::kernel;
use ndarray::{Array2, ArrayView2};

#[kernel]
fn f(x: ArrayView2<f64>) -> Array2<f64> {
    x.cumsum()
}

fn main() {}
