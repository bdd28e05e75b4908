// `x.shape()[k]` of a 2-D array: `k` is 0 or 1.
use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn depth(x: ArrayView2<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.shape()[2] {
        s += x[[i, 0]];
    }
    s
}

fn main() {}
