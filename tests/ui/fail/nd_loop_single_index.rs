// An element of a 2-D array is `x[[i, j]]`; `x[i]` (a row in NumPy) is not one.
use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn first_col(x: ArrayView2<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.nrows() {
        s += x[i];
    }
    s
}

fn main() {}
