use loopfuse::kernel;
use ndarray::{ArrayView2, ArrayViewMut1};

#[kernel]
fn f(x: ArrayView2<f64>, out: ArrayViewMut1<f64>) {
    for (i, row) in x.outer_iter().enumerate() {
        out[i] = row.max();
    }
}

fn main() {}
