// An element of a local `Array2` is `out[[i, j]]`, also in a loop that would vectorize.
use loopfuse::kernel;
use ndarray::{Array2, ArrayView1};

#[kernel]
fn spread(x: ArrayView1<f64>) -> Array2<f64> {
    let mut out = Array2::zeros((x.len(), 2));
    for i in 0..x.len() {
        out[i] = x[i];
    }
    out
}

fn main() {}
