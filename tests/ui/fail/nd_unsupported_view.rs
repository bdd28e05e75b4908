use loopfuse::kernel;
use ndarray::{Array2, ArrayView2};

#[kernel]
fn f(x: ArrayView2<f64>) -> Array2<f64> {
    x.permuted_axes([1, 0]) * 2.0
}

fn main() {}
