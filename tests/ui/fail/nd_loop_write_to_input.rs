// An input is read-only: write a `&mut` output or a local one.
use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn clear(x: ArrayView2<f64>) -> f64 {
    for i in 0..x.nrows() {
        x[[i, 0]] = 0.0;
    }
    0.0
}

fn main() {}
