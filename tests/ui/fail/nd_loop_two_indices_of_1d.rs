// A 1-D array takes one index (`a[i]` or `a[[i]]`).
use loopfuse::kernel;
use ndarray::ArrayView1;

#[kernel]
fn total(a: ArrayView1<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        s += a[[i, 0]];
    }
    s
}

fn main() {}
