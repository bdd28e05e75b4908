use loopfuse::kernel;
use ndarray::ArrayView1;

#[kernel]
fn f(x: ArrayView1<f64>) -> f64 {
    let mut t = 0.0;
    for row in x.outer_iter() {
        t += row.sum();
    }
    t
}

fn main() {}
