// A per-row loop writes one value per row: into a 1-D local, not an `Array2`.
use loopfuse::kernel;
use ndarray::{Array2, ArrayView2};

#[kernel]
fn row_sums(x: ArrayView2<f64>) -> Array2<f64> {
    let mut out = Array2::zeros((x.nrows(), 1));
    for (i, row) in x.outer_iter().enumerate() {
        out[i] = row.sum();
    }
    out
}

fn main() {}
