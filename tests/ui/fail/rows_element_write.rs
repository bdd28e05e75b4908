use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn f(x: ArrayView2<f64>) -> Vec<f64> {
    let mut out = vec![0.0; x.nrows()];
    for (i, row) in x.outer_iter().enumerate() {
        out[i] = row * 2.0;
    }
    out
}

fn main() {}
