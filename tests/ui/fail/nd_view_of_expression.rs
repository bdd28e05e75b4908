use loopfuse::kernel;
use ndarray::{Array3, ArrayView2, Axis};

#[kernel]
fn f(x: ArrayView2<f64>) -> Array3<f64> {
    (x * 2.0).insert_axis(Axis(1))
}

fn main() {}
