// Inside a loop that runs in order, an N-d array is used by element and by shape.
use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn share(x: ArrayView2<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.nrows() {
        s += x[[i, 0]] / x.sum();
    }
    s
}

fn main() {}
