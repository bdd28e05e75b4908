// A 2-D array is indexed with two indices: three is a compile error, as for ndarray.
use loopfuse::kernel;
use ndarray::ArrayView2;

#[kernel]
fn trace(x: ArrayView2<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.nrows() {
        s += x[[i, i, 0]];
    }
    s
}

fn main() {}
