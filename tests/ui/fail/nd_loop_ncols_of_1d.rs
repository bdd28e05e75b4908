// A 1-D array has no columns (ndarray's rule).
use loopfuse::kernel;
use ndarray::ArrayView1;

#[kernel]
fn total(x: ArrayView1<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.ncols() {
        s += x[i];
    }
    s
}

fn main() {}
