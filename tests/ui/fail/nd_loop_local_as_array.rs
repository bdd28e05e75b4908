// A local `Array2::zeros(..)` result is written and read by index in loops, not used whole.
use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn total(x: ArrayView2<f64>) -> f64 {
    let mut out = ndarray::Array2::zeros((x.nrows(), x.ncols()));
    for i in 0..x.nrows() {
        for j in 0..x.ncols() {
            out[[i, j]] = x[[i, j]] * 2.0;
        }
    }
    out.sum()
}

fn main() {}
