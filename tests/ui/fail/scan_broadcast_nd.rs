use loopfuse::kernel;
use ndarray::{Array2, ArrayView1, ArrayView2};

#[kernel]
fn f(v: ArrayView1<f64>, a: ArrayView2<f64>) -> Array2<f64> {
    a * v.cumsum()
}

fn main() {}
