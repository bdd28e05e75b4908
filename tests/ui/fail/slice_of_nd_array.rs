use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn rows(x: ArrayView2<f64>) -> f64 {
    x[1..].sum()
}

fn main() {}
