// ndarray has `nrows()`/`ncols()` for 2-D arrays only.
use loopfuse::kernel;
use ndarray::ArrayView3;

#[kernel]
fn total(x: ArrayView3<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.nrows() {
        s += x[[i, 0, 0]];
    }
    s
}

fn main() {}
