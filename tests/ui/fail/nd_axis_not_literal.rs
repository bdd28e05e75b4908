use loopfuse::kernel;
use ndarray::{Array1, ArrayView2, Axis};

#[kernel]
fn f(x: ArrayView2<f64>, k: usize) -> Array1<f64> {
    x.sum_axis(Axis(k))
}

fn main() {}
